"""What-if hardware: a small TOML/JSON profile (or a named preset) turned into a ``SystemInfo``.

Example profile (``workstation.toml``)::

    name = "workstation"            # default: the file's stem
    extends = "consumer-gpu-24gb"   # optional: start from a preset, override below
    ram_gb = 128
    gpus = [{ name = "NVIDIA RTX A6000", memory_gb = 48, compute_capability = "8.6", count = 2 }]

Keys: ``name``, ``description``, ``extends``, ``platform`` (linux/darwin/windows),
``machine``, ``cpu_model``, ``cpu_cores``, ``cpu_threads``, ``ram_gb`` (total, GiB),
``ram_available_gb`` (default: ``ram_gb``), ``mps``, ``supports_bf16`` (default: every GPU
is sm 8.0+, else true), ``supports_flash_attention`` (default false), ``torch_version``,
``transformers_version``, ``memory_bandwidth_gbps`` (GB/s, for the speed estimate; default: the
GPU table, else an assumed figure per accelerator), ``gpus`` (a list of ``name``, ``memory_gb``,
``free_memory_gb`` (default: ``memory_gb``), ``compute_capability``, ``count``).

Keys and types are checked with ``hfbench.core.validation`` and every problem is reported at
once, naming the file and the key path; impossible combinations (free > total, MPS on Linux,
flash-attention without a GPU) are checked after merging with the preset a profile extends.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from hfbench.core.datafiles import DATA_SUFFIXES, read_data_file, read_package_toml
from hfbench.core.errors import RecommendationError, did_you_mean
from hfbench.core.hardware import GpuInfo, SystemInfo
from hfbench.core.validation import Field, Problem, check_table, greater_than, problems_message
from hfbench.registry.requirements import parse_compute_capability

PROFILES_FILE = "hardware_profiles.toml"
PROFILE_VERSION = 1

_PLATFORMS = ("linux", "darwin", "windows")
_POSITIVE = greater_than(0)


def _is_version(value: int) -> str | None:
    return None if value == PROFILE_VERSION else f"version must be {PROFILE_VERSION}"


def _is_compute_capability(value: str) -> str | None:
    major, dot, minor = value.partition(".")
    return None if major.isdigit() and dot and minor.isdigit() else "a compute capability looks like '8.9'"


_GPU_FIELDS: dict[str, Field] = {
    "name": Field((str,), "the GPU's name"),
    "memory_gb": Field((float,), "total memory of the GPU, GiB", required=True, check=_POSITIVE),
    "free_memory_gb": Field((float,), "free memory, GiB (default: memory_gb)", check=_POSITIVE),
    "compute_capability": Field((str,), "CUDA compute capability, e.g. '8.9'", check=_is_compute_capability),
    "count": Field((int,), "how many of this GPU", check=_POSITIVE),
}


@lru_cache(maxsize=1)
def _profile_fields() -> dict[str, Field]:
    """The keys of a profile (``extends`` may name only the presets, so this reads them)."""
    return {
        "version": Field((int,), "profile format version", check=_is_version),
        "name": Field((str,), "the machine's name (default: the file's stem)"),
        "description": Field((str,), "one line about the machine"),
        "extends": Field((str,), "a preset to start from", choices=tuple(_preset_tables())),
        "platform": Field((str,), "linux, darwin or windows"),
        "machine": Field((str,), "CPU architecture, e.g. x86_64"),
        "cpu_model": Field((str,), "the CPU's name"),
        "cpu_cores": Field((int,), "physical cores", check=_POSITIVE),
        "cpu_threads": Field((int,), "logical cores", check=_POSITIVE),
        "ram_gb": Field((float,), "total RAM, GiB", check=_POSITIVE),
        "ram_available_gb": Field((float,), "free RAM, GiB (default: ram_gb)", check=_POSITIVE),
        "mps": Field((bool,), "Apple GPU"),
        "supports_bf16": Field((bool,), "default: every GPU is sm 8.0+"),
        "supports_flash_attention": Field((bool,), "default false"),
        "memory_bandwidth_gbps": Field(
            (float,),
            "memory bandwidth for the speed estimate, GB/s (default: GPU table or assumed)",
            check=_POSITIVE,
        ),
        "torch_version": Field((str,), "torch version"),
        "transformers_version": Field((str,), "transformers version"),
        "gpus": Field((list,), "CUDA GPUs: tables of " + ", ".join(_GPU_FIELDS)),
    }


def _error(problems: list[Problem], file: str | None) -> RecommendationError:
    return RecommendationError(problems_message(problems, what="hardware profile", file=file))


@lru_cache(maxsize=1)
def _preset_tables() -> dict[str, dict[str, Any]]:
    data = read_package_toml(PROFILES_FILE, package="hfbench.registry")
    return {name: dict(table) for name, table in data["profiles"].items()}


def hardware_presets() -> dict[str, str]:
    """Preset names and their one-line descriptions."""
    return {name: table.get("description", "") for name, table in _preset_tables().items()}


def hardware_profile(profile: str | os.PathLike[str] | Mapping[str, Any]) -> SystemInfo:
    """A ``SystemInfo`` for a preset name, a profile file (``.toml``/``.json``) or a dictionary.

    Example:
        >>> hardware_profile("consumer-gpu-24gb").gpu_memory_gb
        23.5

    Raises:
        RecommendationError: an unknown preset (with did-you-mean), a missing or malformed file,
            or bad keys or values (naming the file and every key).
    """
    if isinstance(profile, Mapping):
        return profile_from_dict(profile)
    presets = _preset_tables()
    text = os.fspath(profile)
    if isinstance(profile, str) and text in presets:
        return profile_from_dict(presets[text], name=text, file=f"preset {text!r}")
    path = Path(text).expanduser()
    if path.suffix.lower() in DATA_SUFFIXES or path.exists():
        data = read_data_file(path, what="hardware profile", error=RecommendationError)
        return profile_from_dict(data, name=path.stem, file=str(path))
    raise RecommendationError(
        f"Unknown hardware profile {text!r}: not a preset and not a .toml/.json file. "
        f"Presets: {', '.join(presets)}." + did_you_mean(text, presets)
    )


def profile_from_dict(
    data: Mapping[str, Any], *, name: str | None = None, file: str | None = None
) -> SystemInfo:
    """Build a ``SystemInfo`` from a profile's keys (see the module docstring).

    Raises:
        RecommendationError: every unknown key (with did-you-mean), wrong type or impossible value.
    """
    checked, problems = check_table(data, _profile_fields())
    for index, entry in enumerate(checked.get("gpus", [])):
        problems += check_table(entry, _GPU_FIELDS, key_path=f"gpus[{index}]")[1]
    if problems:
        raise _error(problems, file)
    merged: dict[str, Any] = {}
    if "extends" in checked:
        merged.update(_preset_tables()[checked["extends"]])
        if "ram_gb" in checked and "ram_available_gb" not in checked:
            merged.pop("ram_available_gb", None)
    merged.update(checked)
    for key in ("extends", "version"):  # a preset file's tables carry no version; a profile file may
        merged.pop(key, None)
    return _build(merged, name, file)


def _build(data: dict[str, Any], name: str | None, file: str | None) -> SystemInfo:
    problems: list[Problem] = []
    platform = str(data.get("platform", "linux")).lower()
    if platform not in _PLATFORMS:
        message = f"unknown platform {platform!r}; valid: {', '.join(_PLATFORMS)}." + did_you_mean(
            platform, _PLATFORMS
        )
        problems.append(Problem("platform", message))
    gpus = _gpus(data.get("gpus", []), problems)
    ram_gb = float(data.get("ram_gb", 16))
    ram_available = float(data.get("ram_available_gb", ram_gb))
    if ram_available > ram_gb:
        message = f"ram_available_gb ({ram_available:g}) is more than ram_gb ({ram_gb:g})"
        problems.append(Problem("ram_available_gb", message))
    mps = bool(data.get("mps", False))
    if mps and (gpus or platform != "darwin"):
        problems.append(Problem("mps", "mps (Apple GPU) needs platform = 'darwin' and no CUDA gpus"))
    flash = bool(data.get("supports_flash_attention", False))
    if flash and not gpus:
        message = "flash-attention needs a CUDA GPU; add 'gpus' or set it false"
        problems.append(Problem("supports_flash_attention", message))
    if problems:
        raise _error(problems, file)
    bf16_default = all(parse_compute_capability(g.compute_capability) >= (8, 0) for g in gpus)
    cores = int(data.get("cpu_cores", 4))
    return SystemInfo(
        platform=platform,
        machine=str(data.get("machine", "arm64" if platform == "darwin" else "x86_64")),
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        cpu_model=str(data.get("cpu_model", "unknown CPU")),
        cpu_cores=cores,
        cpu_threads=int(data.get("cpu_threads", cores)),
        ram_total_gb=ram_gb,
        ram_available_gb=ram_available,
        cuda_devices=tuple(gpus),
        mps_available=mps,
        supports_bf16=bool(data.get("supports_bf16", bf16_default)),
        supports_flash_attention=flash,
        torch_version=str(data.get("torch_version", "")),
        transformers_version=str(data.get("transformers_version", "")),
        name=str(data.get("name") or name or "what-if profile"),
        extra={
            "profile": True,
            "description": str(data.get("description", "")),
            **(
                {"memory_bandwidth_gbps": data["memory_bandwidth_gbps"]}
                if "memory_bandwidth_gbps" in data
                else {}
            ),
        },
    )


def _gpus(entries: list[Mapping[str, Any]], problems: list[Problem]) -> list[GpuInfo]:
    """``GpuInfo`` s for checked ``gpus`` entries; a free memory above the total is a problem."""
    gpus: list[GpuInfo] = []
    for index, entry in enumerate(entries):
        total = float(entry["memory_gb"])
        free = float(entry.get("free_memory_gb", total))
        if free > total:
            message = f"free_memory_gb ({free:g}) is more than memory_gb ({total:g})"
            problems.append(Problem(f"gpus[{index}].free_memory_gb", message))
        gpu_name = str(entry.get("name", "CUDA GPU"))
        compute_capability = str(entry.get("compute_capability", "8.0"))
        for _ in range(int(entry.get("count", 1))):
            gpus.append(GpuInfo(len(gpus), gpu_name, total, free, compute_capability))
    return gpus
