"""Run a suite: skip what is already measured, run the rest with an executor, append every record.

``run(suite)`` is the notebook's entry (``hfbench run`` the command line's): cells already in the
store for this machine are skipped (so a killed run resumes; for a Ray cluster, cells with a record
from any of its machines: ``finished_cells``), the others run through the chosen
executor (each in its own process by default), and the driver — this function, alone — appends
each record to the store as it arrives. A tqdm bar shows cells, and the phase of the current one.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfbench.bench.executors import executor_class
from hfbench.bench.executors.base import DEFAULT_RUNNER, CellRunner, Executor
from hfbench.bench.store import ResultStore
from hfbench.bench.suites import Cell, Suite

#: Where results go unless told otherwise (the project's ``results/`` folder).
DEFAULT_RESULTS = "results"


@dataclass
class RunSummary:
    """What a run did.

    Attributes:
        suite: the suite's name.
        results: the results folder.
        cells: cells in the suite.
        skipped: cells already measured on this machine (resume).
        records: the records written by this run, in the order they arrived.
        wall_s: seconds the run took.
    """

    suite: str
    results: Path
    cells: int
    skipped: int
    records: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def statuses(self) -> Counter[str]:
        """How many records of each status this run wrote."""
        return Counter(str(r.get("status")) for r in self.records)

    @property
    def failed(self) -> int:
        """Records that measured nothing (crash, error, timeout); ``oom`` and ``too_slow`` are
        measured outcomes, not failures."""
        return sum(1 for r in self.records if r.get("status") in ("failed", "timeout"))

    @property
    def exit_code(self) -> int:
        """0 when every cell has a measured outcome, else 1 (scripts can trust it)."""
        return 1 if self.failed else 0

    def describe(self) -> str:
        """One line: how many cells, skipped, statuses, time."""
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items())) or "nothing to run"
        return (
            f"{self.suite}: {self.cells} cells, {self.skipped} already measured, {len(self.records)} run "
            f"({statuses}) in {self.wall_s:.0f} s; results in {self.results}"
        )


def run(
    suite: Suite | str,
    *,
    results: str | os.PathLike[str] = DEFAULT_RESULTS,
    executor: str = "local",
    force: bool = False,
    retry_failed: bool = False,
    cell_timeout_s: float | None = None,
    retries: int = 0,
    runner: CellRunner = DEFAULT_RUNNER,
    progress: bool = True,
    executor_options: dict[str, Any] | None = None,
) -> RunSummary:
    """Measure a suite's cells on this machine and append their records to ``results``.

    Args:
        suite: a ``Suite``, a built-in suite name or a suite file.
        results: the results folder (``records.jsonl`` inside).
        executor: ``local`` (a process per cell), ``inline`` (no isolation) or ``ray`` (a Ray task
            per cell, on a cluster); see ``executor_names()``.
        force: measure cells again even if the machines that run them have records for them.
        retry_failed: run again the cells whose latest record failed (crash, error, timeout).
        cell_timeout_s: end a cell after this long (recorded as ``timeout``).
        retries: re-run a cell whose process died this many times.
        runner: the cell function (``module:function``).
        progress: show a tqdm progress bar.
        executor_options: more options for the executor (e.g. Ray's ``address``).

    Returns:
        A ``RunSummary`` (``exit_code`` is what ``hfbench run`` exits with).
    """
    suite = suite if isinstance(suite, Suite) else Suite.load(suite)
    started = time.perf_counter()
    store = ResultStore(results)
    cells = suite.cells()
    runner_cls = executor_class(executor)
    engine = runner_cls(
        cell_timeout_s=cell_timeout_s, runner=runner, retries=retries, **(executor_options or {})
    )
    done = set() if force else finished_cells(store, engine, retry_failed=retry_failed)
    todo = [cell for cell in cells if cell.cell_id not in done]
    summary = RunSummary(suite.name, Path(results), len(cells), len(cells) - len(todo))
    bar = _bar(len(todo), suite.name) if progress and todo else None

    def phase(cell: Cell, name: str) -> None:
        if bar is not None:
            bar.set_postfix_str(f"{cell.label()}: {name}", refresh=True)

    try:
        for record in engine.run(todo, phase):
            store.append(record)
            summary.records.append(record)
            if bar is not None:
                bar.update(1)
    finally:
        engine.close()
        if bar is not None:
            bar.close()
        summary.wall_s = time.perf_counter() - started
    return summary


def _bar(total: int, name: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"hfbench {name}", unit="cell")


def finished_cells(store: ResultStore, engine: Executor, *, retry_failed: bool = False) -> set[str]:
    """Cell ids a run with ``engine`` skips: those with a record from a machine it runs cells on.

    That is this machine, or, for an executor that runs cells on other machines (Ray), every
    machine ``engine.hardware_ids()`` names (a cluster's nodes): a cell measured on any of them
    counts as done.
    """
    machines = engine.hardware_ids()
    return set().union(*(store.finished(h, retry_failed=retry_failed) for h in machines))


def pending_cells(
    suite: Suite,
    results: str | os.PathLike[str],
    *,
    force: bool = False,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
) -> Sequence[Cell]:
    """The cells ``run`` would measure now with ``executor`` (not yet measured on the machines it
    runs cells on, unless ``force``)."""
    if force:
        return suite.cells()
    engine = executor_class(executor)(**(executor_options or {}))
    try:
        done = finished_cells(ResultStore(results), engine)
    finally:
        engine.close()
    return [cell for cell in suite.cells() if cell.cell_id not in done]
