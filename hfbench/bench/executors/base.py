"""The executor interface and its registry."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from hfbench.bench.suites import Cell
from hfbench.core.errors import BenchmarkError, did_you_mean

CellRunner = str
"""A cell function as ``module:function`` (default ``hfbench.bench.cell:run_cell``): what a cell
process runs. Tests and plugins name their own."""

DEFAULT_RUNNER: CellRunner = "hfbench.bench.cell:run_cell"

ProgressCallback = Callable[[Cell, str], None]
"""Called with a cell and the phase it has reached (``load``, ``speed``, ``quality``)."""


class Executor:
    """Runs cells and yields their records as they finish (in any order).

    Args:
        cell_timeout_s: end a cell that runs longer (recorded as ``timeout``); None: no limit.
        runner: the cell function, ``module:function``.
        retries: run a cell again this many times when its process dies (not when the model
            fails: that is a measured outcome).
    """

    name = ""

    def __init__(
        self, *, cell_timeout_s: float | None = None, runner: CellRunner = DEFAULT_RUNNER, retries: int = 0
    ) -> None:
        self.cell_timeout_s = cell_timeout_s
        self.runner = runner
        self.retries = retries

    def run(
        self, cells: Sequence[Cell], progress: ProgressCallback | None = None
    ) -> Iterator[dict[str, Any]]:
        """Measure every cell; yield one record per cell."""
        raise NotImplementedError

    def hardware_ids(self) -> set[str]:
        """The ``hardware_id`` of every machine this executor runs cells on (what resume counts
        as done): this machine, unless an executor runs cells elsewhere (Ray: the cluster's nodes)."""
        from hfbench.core.hardware import system_info

        return {system_info().hardware_id()}

    def close(self) -> None:
        """Release what the executor holds (a cluster connection); nothing by default."""


_EXECUTORS: dict[str, type[Executor]] = {}
_BUILTIN = {
    "local": "hfbench.bench.executors.local",
    "inline": "hfbench.bench.executors.inline",
    "ray": "hfbench.bench.executors.ray",
}
E = TypeVar("E", bound=type[Executor])


def register_executor(name: str) -> Callable[[E], E]:
    """Class decorator: an executor ``hfbench run --executor NAME`` can use."""

    def decorate(cls: E) -> E:
        cls.name = name
        _EXECUTORS[name] = cls
        return cls

    return decorate


def executor_names() -> list[str]:
    """Executors by name (built-in and registered)."""
    return sorted({*_EXECUTORS, *_BUILTIN})


def executor_class(name: str) -> type[Executor]:
    """The executor class registered under ``name``.

    Raises:
        BenchmarkError: an unknown name (with a did-you-mean).
    """
    if name not in _EXECUTORS and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    if name not in _EXECUTORS:
        raise BenchmarkError(
            f"Unknown executor {name!r}; available: {', '.join(executor_names())}."
            + did_you_mean(name, executor_names())
        )
    return _EXECUTORS[name]


def load_runner(runner: CellRunner) -> Callable[..., dict[str, Any]]:
    """Import ``module:function``.

    Raises:
        BenchmarkError: not ``module:function``, or nothing by that name.
    """
    module, sep, function = runner.partition(":")
    if not sep or not module or not function:
        raise BenchmarkError(f"A cell runner is 'module:function', got {runner!r}.")
    try:
        found = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        raise BenchmarkError(f"Cannot import the cell runner {runner!r}: {exc}") from exc
    if not callable(found):
        raise BenchmarkError(f"The cell runner {runner!r} is not callable.")
    return found
