"""The ``inline`` executor (``--no-isolation``): cells run one after another in this process.

For debugging (breakpoints, tracebacks); a crash or an out-of-memory kill ends the whole run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from hfbench.bench.executors.base import Executor, ProgressCallback, load_runner, register_executor
from hfbench.bench.suites import Cell


@register_executor("inline")
class InlineExecutor(Executor):
    """Each cell in the driver's own process (no timeout, no isolation)."""

    def run(
        self, cells: Sequence[Cell], progress: ProgressCallback | None = None
    ) -> Iterator[dict[str, Any]]:
        """Measure cells one by one, yielding each record."""
        run_cell = load_runner(self.runner)
        for cell in cells:

            def say(phase: str, cell: Cell = cell) -> None:
                if progress is not None:
                    progress(cell, phase)

            yield run_cell(cell, say)
