"""Fixtures for the registry tests: fake machines (no hardware probing, no models)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hfbench.core.hardware import GpuInfo, SystemInfo

FakeSystem = Callable[..., SystemInfo]


def _make_system(
    *,
    gpu_gb: tuple[float, ...] = (),
    compute_capability: str = "8.9",
    ram_gb: float = 64.0,
    ram_available_gb: float | None = None,
    flash: bool = False,
    bf16: bool = True,
    platform: str = "linux",
    mps: bool = False,
    name: str = "fake machine",
    cpu_threads: int = 8,
) -> SystemInfo:
    gpus = tuple(GpuInfo(i, "Fake GPU", gb, gb, compute_capability) for i, gb in enumerate(gpu_gb))
    return SystemInfo(
        platform=platform,
        machine="x86_64",
        python_version="3.11",
        cpu_model="fake cpu",
        cpu_cores=4,
        cpu_threads=cpu_threads,
        ram_total_gb=ram_gb,
        ram_available_gb=ram_gb if ram_available_gb is None else ram_available_gb,
        cuda_devices=gpus,
        mps_available=mps,
        supports_bf16=bf16,
        supports_flash_attention=flash,
        name=name,
    )


@pytest.fixture
def fake_system() -> FakeSystem:
    """Factory for a ``SystemInfo`` of made-up hardware (``gpu_gb=(24,)`` gives one 24 GiB GPU)."""
    return _make_system
