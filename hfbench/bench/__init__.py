"""The benchmark harness: measure latency, memory and quality per capability on this machine.

Example:
    >>> import hfbench as hb
    >>> summary = hb.bench.run(hb.bench.Suite.quick())       # doctest: +SKIP
    >>> df = hb.bench.load_results("results/")                # doctest: +SKIP

Units (one concern each): ``suites`` (cells as data), ``executors`` (where a cell runs),
``cell`` (one cell's measurement), ``trackers.latency`` / ``trackers.memory``, ``quality``
(eval data, metrics, intervals), ``store`` (append-only records), ``results`` (the tidy
table), ``fingerprint`` (the machine), ``tune`` (recommendation files), ``report``.
Importing this package imports neither torch nor transformers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Cell": "hfbench.bench.suites",
    "Suite": "hfbench.bench.suites",
    "parse_sweeps": "hfbench.bench.suites",
    "run": "hfbench.bench.runner",
    "RunSummary": "hfbench.bench.runner",
    "run_cell": "hfbench.bench.cell",
    "ResultStore": "hfbench.bench.store",
    "load_results": "hfbench.bench.results",
    "RESULT_COLUMNS": "hfbench.bench.results",
    "fingerprint": "hfbench.bench.fingerprint",
    "memory_bandwidth_gbps": "hfbench.bench.fingerprint",
    "tune": "hfbench.bench.tune",
    "tune_all": "hfbench.bench.tune",
    "TuneResult": "hfbench.bench.tune",
    "report": "hfbench.bench.report",
    "Report": "hfbench.bench.report",
    "measured_capabilities": "hfbench.bench.tune_measured",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hfbench.bench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from hfbench.bench.cell import run_cell
    from hfbench.bench.fingerprint import fingerprint, memory_bandwidth_gbps
    from hfbench.bench.report import Report, report
    from hfbench.bench.results import RESULT_COLUMNS, load_results
    from hfbench.bench.runner import RunSummary, run
    from hfbench.bench.store import ResultStore
    from hfbench.bench.suites import Cell, Suite, parse_sweeps
    from hfbench.bench.tune import TuneResult, tune, tune_all
    from hfbench.bench.tune_measured import measured_capabilities
