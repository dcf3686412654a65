"""Cell functions the executor tests run in cell processes (``--runner tests.bench.cells_for_tests:...``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from hfbench.bench.cell import base_record
from hfbench.bench.fingerprint import fingerprint
from hfbench.bench.suites import Cell


def quick_ok(cell: Cell, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """A cell that 'measures' instantly (sleeps ``settings['eval_n']`` tenths of a second)."""
    if progress:
        progress("speed")
    time.sleep(float(cell.settings.get("eval_n", 0)) / 10)
    record = base_record(cell, fingerprint())
    record["status"] = "ok"
    return record


def crash_on_b(cell: Cell, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Aborts the process (a segfault-like death) for models whose name ends in 'b'."""
    if cell.model.endswith("b"):
        os.abort()
    return quick_ok(cell, progress)


def hang(cell: Cell, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Never returns (for the timeout test)."""
    time.sleep(3600)
    return quick_ok(cell, progress)


def hang_on_b(cell: Cell, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Never returns for models whose name ends in 'b' (a timeout beside cells that finish)."""
    if cell.model.endswith("b"):
        return hang(cell, progress)
    return quick_ok(cell, progress)


def raise_on_b(cell: Cell, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Raises (a runner's own error, not a process death) for models whose name ends in 'b'."""
    if cell.model.endswith("b"):
        raise ValueError(f"no measurement for {cell.model}")
    return quick_ok(cell, progress)
