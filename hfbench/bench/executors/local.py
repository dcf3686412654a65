"""The ``local`` executor: each cell in its own child process, as optimum-benchmark's process
launcher does, so one cell's crash, out-of-memory kill or timeout is that cell's record and the
run goes on.

The child is ``python -m hfbench.bench.executors.child`` (a fresh interpreter: no state leaks
between cells, and a model's memory is returned to the system when its cell ends). The cell goes
in on stdin as JSON; the record comes back in a temporary file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hfbench.bench.executors.base import Executor, ProgressCallback, register_executor
from hfbench.bench.executors.child import PHASE_PREFIX
from hfbench.bench.suites import Cell


@register_executor("local")
class LocalExecutor(Executor):
    """Each cell in a child process, one at a time (a cell uses every core it is given)."""

    def run(
        self, cells: Sequence[Cell], progress: ProgressCallback | None = None
    ) -> Iterator[dict[str, Any]]:
        """Measure cells one by one in child processes, yielding each record."""
        for cell in cells:
            for attempt in range(self.retries + 1):
                record = self.run_one(cell, progress)
                died = (
                    record.get("status") == "failed" and (record.get("error") or {}).get("phase") == "process"
                )
                if not died or attempt == self.retries:
                    record["attempts"] = attempt + 1
                    yield record
                    break

    def run_one(self, cell: Cell, progress: ProgressCallback | None = None) -> dict[str, Any]:
        """Run one cell in a child process; a record even when the process dies or times out."""
        with tempfile.TemporaryDirectory(prefix="hfbench-cell-") as folder:
            result = Path(folder) / "record.json"
            command = [sys.executable, "-m", "hfbench.bench.executors.child", "--runner", self.runner]
            command += ["--result", str(result)]
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own process group: a timeout ends its children too
            )
            stderr: list[str] = []
            readers = [
                threading.Thread(target=_phases, args=(process.stdout, cell, progress), daemon=True),
                threading.Thread(target=_tail, args=(process.stderr, stderr), daemon=True),
            ]
            for reader in readers:
                reader.start()
            assert process.stdin is not None
            process.stdin.write(json.dumps(cell.to_dict()))
            process.stdin.close()
            try:
                code = process.wait(timeout=self.cell_timeout_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                _kill(process)
                code, timed_out = process.wait(), True
            for reader in readers:
                reader.join(5)
            if not timed_out and code == 0 and result.is_file():
                record: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
                return record
            return _lost(cell, code, timed_out, self.cell_timeout_s, stderr)


def _phases(stream: Any, cell: Cell, progress: ProgressCallback | None) -> None:
    for line in stream:
        if line.startswith(PHASE_PREFIX) and progress is not None:
            progress(cell, line[len(PHASE_PREFIX) :].strip())


def _tail(stream: Any, into: list[str], keep: int = 40) -> None:
    for line in stream:
        into.append(line.rstrip())
        del into[:-keep]


def _kill(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):  # not POSIX, or already gone
        process.kill()


def _lost(cell: Cell, code: int, timed_out: bool, timeout: float | None, stderr: list[str]) -> dict[str, Any]:
    """The record of a cell whose process ended without one: timeout, crash or kill."""
    from hfbench.bench.cell import base_record, failure
    from hfbench.bench.fingerprint import fingerprint

    record = base_record(cell, fingerprint())
    if timed_out:
        return failure(record, "timeout", f"the cell ran longer than its timeout of {timeout:g} s", "process")
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        reason = f"the cell process was killed by {name} ({code})"
        if name == "SIGKILL":
            reason += ": often the system's out-of-memory killer"
    else:
        reason = f"the cell process exited with code {code} without a record"
    detail = "\n".join(stderr[-12:])
    failure(record, "failed", reason, "process")
    record["error"]["detail"] = detail
    return record
