"""Memory: peak process RSS sampled by a separate monitor process, and CUDA's own peak counters.

The monitor is a child process (psutil, one sample every ``period_s`` ≤ 10 ms) watching the
measured process, as optimum-benchmark's memory tracker does: a thread in the measured process
would be starved while the model computes. The measured process marks phases (load, inference)
by resetting the monitor; each phase's peak is the largest RSS sampled during it, and at least
the RSS at its start and end (read directly), so a phase shorter than one period still counts.
On CUDA, ``torch.cuda.reset_peak_memory_stats`` / ``max_memory_allocated`` / ``max_memory_reserved``
give the device's peaks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

MIB = 1024**2

#: Sampling period of the RSS monitor (the brief asks for ≤ 10 ms).
DEFAULT_PERIOD_S = 0.005


@dataclass(frozen=True)
class MemoryPeak:
    """Peaks of one phase, in MiB (None where not measured).

    Attributes:
        peak_rss_mb: largest resident set size of the process during the phase.
        start_rss_mb: RSS when the phase started (peak - start is what the phase added).
        samples: how many monitor samples fell in the phase.
        cuda_max_allocated_mb, cuda_max_reserved_mb: torch's CUDA peaks (GPU runs only).
    """

    peak_rss_mb: float
    start_rss_mb: float
    samples: int
    cuda_max_allocated_mb: float | None = None
    cuda_max_reserved_mb: float | None = None

    @property
    def added_rss_mb(self) -> float:
        """How much the phase raised RSS above where it started."""
        return max(self.peak_rss_mb - self.start_rss_mb, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, with ``added_rss_mb``."""
        return {**asdict(self), "added_rss_mb": self.added_rss_mb}


def current_rss_mb() -> float:
    """This process's resident set size now, in MiB."""
    import psutil

    return float(psutil.Process(os.getpid()).memory_info().rss) / MIB


class MemoryMonitor:
    """A monitor process watching this process's RSS; ``phase()`` measures one phase's peak.

    The monitor is ``python -m hfbench.bench.trackers.rss_monitor``: a plain child process
    (not ``multiprocessing``), so it starts the same way from a script, a notebook or a cell
    process, and imports nothing but psutil.

    Example:
        >>> with MemoryMonitor() as monitor:          # doctest: +SKIP
        ...     with monitor.phase() as load:
        ...         model = load_model()
        ...     load.result.peak_rss_mb
    """

    def __init__(self, period_s: float = DEFAULT_PERIOD_S) -> None:
        if not 0 < period_s <= 0.01:
            raise ValueError(f"period_s must be in (0, 0.01] seconds, got {period_s!r}")
        self.period_s = period_s
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> MemoryMonitor:
        command = [
            sys.executable,
            "-m",
            "hfbench.bench.trackers.rss_monitor",
            str(os.getpid()),
            str(self.period_s),
        ]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self._read()  # "ready": the first sample was taken
        return self

    def __exit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck monitor must not outlive us
            process.kill()

    def _ask(self, command: str) -> str:
        if self._process is None or self._process.stdin is None:
            raise RuntimeError("the memory monitor is not running; use it as a context manager")
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        return self._read()

    def _read(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the memory monitor process ended unexpectedly")
        return line.strip()

    @contextmanager
    def phase(self) -> Iterator[PhaseHandle]:
        """Measure the peak RSS (and CUDA peaks) of the code inside the ``with``."""
        handle = PhaseHandle()
        cuda = _cuda_available()
        if cuda:
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = current_rss_mb()
        self._ask("reset")
        try:
            yield handle
        finally:
            end = current_rss_mb()
            if cuda:
                import torch

                torch.cuda.synchronize()
            peak_bytes, count = self._ask("peak").split()
            handle.result = MemoryPeak(
                peak_rss_mb=max(float(peak_bytes) / MIB, start, end),
                start_rss_mb=start,
                samples=int(count),
                cuda_max_allocated_mb=_cuda_peak("max_memory_allocated") if cuda else None,
                cuda_max_reserved_mb=_cuda_peak("max_memory_reserved") if cuda else None,
            )


@dataclass
class PhaseHandle:
    """Filled with the phase's ``MemoryPeak`` when its ``with`` block ends."""

    result: MemoryPeak | None = None


def _cuda_available() -> bool:
    """CUDA is there (checked only when torch is already imported: a monitor never imports it)."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_available())


def _cuda_peak(name: str) -> float:
    import torch

    return float(getattr(torch.cuda, name)()) / MIB
