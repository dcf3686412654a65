"""The memory bandwidth measurement: cached per hardware id, the best figure kept on refresh."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hfbench.core.hardware import system_info
from hfbench.registry.speed import machine_bandwidth, measured_bandwidth_file

# the module (``hfbench.bench.fingerprint`` the attribute is its function of the same name)
fingerprint = importlib.import_module("hfbench.bench.fingerprint")


def test_a_refresh_keeps_the_best_copy_bandwidth_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path))
    figures: Iterator[float] = iter([10.0, 30.0, 20.0])
    monkeypatch.setattr(fingerprint, "_measure_copy_bandwidth", lambda info: next(figures))
    info = system_info()
    assert fingerprint.memory_bandwidth_gbps(info) == 10.0
    assert fingerprint.memory_bandwidth_gbps(info) == 10.0  # cached: not measured again
    assert fingerprint.memory_bandwidth_gbps(info, refresh=True) == 30.0
    assert fingerprint.memory_bandwidth_gbps(info, refresh=True) == 30.0  # a busy 20 does not replace it
    saved = json.loads(measured_bandwidth_file(info.hardware_id()).read_text())
    assert saved["measurements"] == 3 and saved["last_measured_gbps"] == 20.0
    assert machine_bandwidth(info).gbps == 30.0 and machine_bandwidth(info).kind == "measured"
