"""System info, and a light ``import hfbench``."""

from __future__ import annotations

import subprocess
import sys

from hfbench.core.hardware import GpuInfo, SystemInfo, system_info


def fake_info(**overrides: object) -> SystemInfo:
    values: dict = dict(
        platform="linux",
        machine="x86_64",
        python_version="3.11",
        cpu_model="cpu",
        cpu_cores=2,
        cpu_threads=2,
        ram_total_gb=24.0,
        ram_available_gb=20.0,
    )
    values.update(overrides)
    return SystemInfo(**values)


def test_system_info_reads_this_machine_and_is_cached() -> None:
    info = system_info()
    assert info.cpu_threads >= 1 and info.ram_total_gb > 0
    assert 0 < info.ram_available_gb <= info.ram_total_gb
    assert info.torch_version and info.transformers_version
    assert system_info() is info
    assert system_info(refresh=True) is not info


def test_accelerator_and_model_memory_follow_the_devices() -> None:
    cpu = fake_info()
    assert cpu.accelerator == "cpu" and cpu.model_memory_gb == 20.0 and cpu.gpu_memory_gb == 0
    gpu = fake_info(
        cuda_devices=(GpuInfo(0, "H100", 80.0, 79.0, "9.0"), GpuInfo(1, "H100", 80.0, 70.0, "9.0"))
    )
    assert gpu.accelerator == "cuda" and gpu.gpu_memory_gb == 79.0 and gpu.model_memory_gb == 149.0
    view = gpu.as_requirements_view()
    assert view["gpu_memory"] == 79.0 and view["cuda"] is True
    assert fake_info(mps_available=True).accelerator == "mps"


def test_fingerprint_ignores_free_memory_but_not_hardware() -> None:
    assert fake_info().fingerprint() == fake_info(ram_available_gb=3.0).fingerprint()
    assert fake_info().fingerprint() != fake_info(cpu_threads=64).fingerprint()


def test_summary_mentions_the_main_facts() -> None:
    text = fake_info(cuda_devices=(GpuInfo(0, "RTX 4090", 24.0, 23.0, "8.9"),)).summary()
    assert "RTX 4090" in text and "accelerator   cuda" in text


def test_import_hfbench_stays_light() -> None:
    code = (
        "import sys, hfbench as hb; hb.ModelConfig; hb.ModelCapabilities; hb.detect_architecture; "
        "import hfbench.cli; "
        "print(any(m in sys.modules for m in ('torch', 'transformers')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
