"""The machine a record was measured on: its fingerprint, and its memory bandwidth.

Every record carries ``fingerprint()``: CPU model, cores/threads, RAM, GPUs with their memory,
OS, Python/torch/transformers/hfbench versions, the stable ``hardware_id`` (hardware only: it
names recommendation files and survives library upgrades) and ``fingerprint`` (hardware and
software). Free memory is left out: it changes from minute to minute.

``memory_bandwidth_gbps()`` measures how fast this machine copies memory (a large array copy,
best of several), cached per ``hardware_id``: the ceiling a memory-bound decode cannot beat (each
generated token reads every weight once), used to flag impossible speeds.
"""

from __future__ import annotations

import json
import time
from typing import Any

from hfbench.core.hardware import SystemInfo, system_info

#: Bytes copied per bandwidth trial (large enough to leave the CPU caches).
BANDWIDTH_BYTES = 256 * 1024**2
BANDWIDTH_TRIALS = 5


def fingerprint(info: SystemInfo | None = None) -> dict[str, Any]:
    """The record's hardware block (no free-memory figures)."""
    import hfbench

    info = info or system_info()
    data = info.to_dict()
    for volatile in ("ram_available_gb", "extra"):
        data.pop(volatile, None)
    for gpu in data.get("cuda_devices", []):
        gpu.pop("free_memory_gb", None)
    data.pop("gpu_memory_gb", None)
    data["hardware_id"] = info.hardware_id()
    data["fingerprint"] = info.fingerprint()
    data["hfbench_version"] = hfbench.__version__
    return data


def memory_bandwidth_gbps(info: SystemInfo | None = None, *, refresh: bool = False) -> float:
    """This machine's memory copy bandwidth in GB/s (1e9 bytes), measured once per hardware id.

    A copy reads and writes each byte: the figure counts both (bytes moved / seconds), the way
    STREAM's copy does. Cached in ``<hfbench cache>/hardware/<hardware_id>.json``. Other work on
    the machine can only slow a copy down, so ``refresh=True`` measures again and keeps the best
    figure measured so far (``hfbench run`` refreshes it once per run): one measurement taken
    while the cores were busy does not stay the machine's figure.
    """
    from hfbench.registry.speed import measured_bandwidth_file

    info = info or system_info()
    path = measured_bandwidth_file(info.hardware_id())
    cached: dict[str, Any] = {}
    if path.is_file():
        try:
            cached = dict(json.loads(path.read_text(encoding="utf-8")))
            known = float(cached["memory_bandwidth_gbps"])
        except (OSError, ValueError, KeyError, TypeError):
            cached = {}
        else:
            if not refresh:
                return known
    measured = _measure_copy_bandwidth(info)
    value = max(measured, float(cached.get("memory_bandwidth_gbps", 0.0)))
    record = {
        "memory_bandwidth_gbps": value,
        "method": _method(info),
        "measurements": int(cached.get("measurements", 1 if cached else 0)) + 1,
        "last_measured_gbps": measured,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return value


def _method(info: SystemInfo) -> str:
    where = "cuda:0" if info.cuda_devices else "cpu, torch's threads"
    return f"best of {BANDWIDTH_TRIALS} torch copies of {BANDWIDTH_BYTES // 1024**2} MiB on {where}"


def _measure_copy_bandwidth(info: SystemInfo) -> float:
    """Bytes read + written per second by the fastest of a few large tensor copies."""
    import torch

    device = "cuda" if info.cuda_devices else "cpu"
    src = torch.ones(BANDWIDTH_BYTES // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    best = float("inf")
    for _ in range(BANDWIDTH_TRIALS):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        dst.copy_(src)
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * BANDWIDTH_BYTES / best / 1e9
