"""What-if hardware: presets and profile files become SystemInfo objects, with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfbench.core.errors import RecommendationError
from hfbench.core.hardware import SystemInfo
from hfbench.registry import CapabilityRegistry, hardware_presets, hardware_profile
from hfbench.registry.tiers import default_dtype

PRESETS = ["consumer-gpu-24gb", "datacenter-gpu-80gb", "laptop-16gb", "cpu-server-64gb", "apple-m-32gb"]


@pytest.mark.parametrize("name", list(hardware_presets()))
def test_every_preset_builds_and_can_be_asked_for_a_model(name: str) -> None:
    info = hardware_profile(name)
    assert isinstance(info, SystemInfo) and info.name == name and info.model_memory_gb > 0
    assert CapabilityRegistry().get_recommendation("embeddings", "auto", system_info=info) is not None


def test_the_named_presets_exist_with_their_hardware() -> None:
    assert set(PRESETS) <= set(hardware_presets())
    gpu = hardware_profile("consumer-gpu-24gb")
    assert gpu.accelerator == "cuda" and gpu.gpu_memory_gb == 23.5 and default_dtype(gpu) == "bf16"
    assert hardware_profile("datacenter-gpu-80gb").cuda_devices[0].compute_capability == "9.0"
    laptop = hardware_profile("laptop-16gb")
    assert laptop.accelerator == "cpu" and laptop.model_memory_gb == 12 and default_dtype(laptop) == "fp32"
    mac = hardware_profile("apple-m-32gb")
    assert mac.accelerator == "mps" and mac.platform == "darwin" and default_dtype(mac) == "fp16"
    assert default_dtype(hardware_profile("cloud-t4-16gb")) == "fp16"
    assert len({hardware_profile(p).fingerprint() for p in PRESETS}) == len(PRESETS)


def test_a_toml_profile_file_extending_a_preset(tmp_path: Path) -> None:
    path = tmp_path / "workstation.toml"
    path.write_text(
        'extends = "consumer-gpu-24gb"\nram_gb = 128\n'
        'gpus = [{ name = "RTX A6000", memory_gb = 48, compute_capability = "8.6", count = 2 }]\n'
    )
    info = hardware_profile(path)
    assert info.name == "workstation" and len(info.cuda_devices) == 2
    assert info.model_memory_gb == 96 and info.ram_available_gb == 128  # available follows the new total
    assert info.supports_flash_attention  # inherited from the preset
    rec = CapabilityRegistry().get_recommendation("chat", "auto", system_info=info)
    assert rec is not None and rec.model_name == "Qwen/Qwen3-30B-A3B-Instruct-2507" and rec.fit is not None


def test_a_json_profile_file_and_a_dict(tmp_path: Path) -> None:
    data = {"name": "edge box", "platform": "linux", "ram_gb": 8, "ram_available_gb": 6, "cpu_cores": 4}
    path = tmp_path / "edge.json"
    path.write_text(json.dumps(data))
    info = hardware_profile(path)
    assert info.name == "edge box" and info.accelerator == "cpu" and info.model_memory_gb == 6
    assert hardware_profile(data) == info
    old_gpu = hardware_profile({"gpus": [{"memory_gb": 16, "compute_capability": "7.0"}]})
    assert old_gpu.supports_bf16 is False  # Volta: fp16


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("ram_gbs = 8\n", r"at 'ram_gbs': unknown key 'ram_gbs'; valid keys: .* Did you mean 'ram_gb'"),
        ('ram_gb = "8"\n', r"at 'ram_gb': expected a number"),
        ("cpu_cores = 4.5\n", r"at 'cpu_cores': expected a whole number"),
        ("ram_gb = -1\n", r"at 'ram_gb': must be > 0"),
        ("ram_gb = 8\nram_available_gb = 9\n", "more than ram_gb"),
        ('platform = "linx"\n', "Did you mean 'linux'"),
        ("mps = true\n", "darwin"),
        ("supports_flash_attention = true\n", "needs a CUDA GPU"),
        ('extends = "laptop-32gb"\n', "Did you mean 'laptop-16gb'"),
        ('gpus = [{ name = "x" }]\n', r"at 'gpus\[0\]\.memory_gb': missing required key 'memory_gb'"),
        ("gpus = [{ memory_gb = 8, free_memory_gb = 9 }]\n", r"gpus\[0\]\.free_memory_gb"),
        ('gpus = [{ memory_gb = 8, compute_capability = "ampere" }]\n', "compute capability"),
        ("gpus = [{ memory_gb = 8, vram = 8 }]\n", r"gpus\[0\]\.vram"),
        ("version = 3\n", "version must be 1"),
        ("ram_gb = \n", "not valid TOML"),
    ],
)
def test_bad_profiles_name_the_file_and_key(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(RecommendationError, match=match) as err:
        hardware_profile(path)
    assert str(path) in str(err.value)


def test_unknown_preset_missing_file_and_bad_suffix(tmp_path: Path) -> None:
    with pytest.raises(RecommendationError, match="Did you mean 'consumer-gpu-24gb'"):
        hardware_profile("consumer-gpu-24")
    with pytest.raises(RecommendationError, match="does not exist"):
        hardware_profile(tmp_path / "missing.toml")
    other = tmp_path / "profile.yaml"
    other.write_text("ram_gb: 8")
    with pytest.raises(RecommendationError, match=r"\.json or \.toml"):
        hardware_profile(other)


def test_every_problem_in_a_profile_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many.toml"
    path.write_text('ram_gbs = 8\ncpu_cores = 0\ngpus = [{ memory_gb = "8" }, { vram = 8 }]\n')
    with pytest.raises(RecommendationError) as err:
        hardware_profile(path)
    message = str(err.value)
    assert message.startswith(f"Invalid hardware profile {path}: 5 problems:")
    for key_path in ("ram_gbs", "cpu_cores", "gpus[0].memory_gb", "gpus[1].vram", "gpus[1].memory_gb"):
        assert f"at '{key_path}'" in message
    path.write_text("ram_gb = 8\nram_available_gb = 9\nmps = true\n")  # impossible combinations, together
    with pytest.raises(RecommendationError, match="2 problems") as err:
        hardware_profile(path)
    assert "at 'ram_available_gb'" in str(err.value) and "at 'mps'" in str(err.value)
