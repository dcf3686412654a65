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
``transformers_version``, ``gpus`` (a list of ``name``, ``memory_gb``, ``free_memory_gb``
(default: ``memory_gb``), ``compute_capability``, ``count``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from hfbench.core.errors import RecommendationError, did_you_mean
from hfbench.core.hardware import GpuInfo, SystemInfo
from hfbench.registry.files import SUFFIXES, read_data_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROFILES_FILE = "hardware_profiles.toml"

_NUMBER = (int, float)
_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "description": (str,),
    "extends": (str,),
    "platform": (str,),
    "machine": (str,),
    "cpu_model": (str,),
    "cpu_cores": (int,),
    "cpu_threads": (int,),
    "ram_gb": _NUMBER,
    "ram_available_gb": _NUMBER,
    "mps": (bool,),
    "supports_bf16": (bool,),
    "supports_flash_attention": (bool,),
    "torch_version": (str,),
    "transformers_version": (str,),
    "gpus": (list,),
}
_GPU_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "memory_gb": _NUMBER,
    "free_memory_gb": _NUMBER,
    "compute_capability": (str,),
    "count": (int,),
}
_PLATFORMS = ("linux", "darwin", "windows")


def _error(message: str, key_path: str, file: str | None) -> RecommendationError:
    where = f"Invalid hardware profile {file}" if file else "Invalid hardware profile"
    return RecommendationError(f"{where}{f' at {key_path!r}' if key_path else ''}: {message}")


@lru_cache(maxsize=1)
def _preset_tables() -> dict[str, dict[str, Any]]:
    text = resources.files("hfbench.registry").joinpath("data", PROFILES_FILE).read_text(encoding="utf-8")
    return {name: dict(table) for name, table in tomllib.loads(text)["profiles"].items()}


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
            or a bad key or value (naming the file and the key).
    """
    if isinstance(profile, Mapping):
        return profile_from_dict(profile)
    presets = _preset_tables()
    text = os.fspath(profile)
    if isinstance(profile, str) and text in presets:
        return profile_from_dict(presets[text], name=text, file=f"preset {text!r}")
    path = Path(text).expanduser()
    if path.suffix.lower() in SUFFIXES or path.exists():
        data = read_data_file(path, what="hardware profile")
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
        RecommendationError: an unknown key (with did-you-mean), a wrong type or an impossible value.
    """
    if not isinstance(data, Mapping):
        raise _error(f"expected a table, got {type(data).__name__}", "", file)
    _check_keys(data, _KEYS, "", file)
    merged: dict[str, Any] = {}
    if "extends" in data:
        base = data["extends"]
        presets = _preset_tables()
        if base not in presets:
            raise _error(
                f"unknown preset {base!r}; presets: {', '.join(presets)}." + did_you_mean(base, presets),
                "extends",
                file,
            )
        merged.update(presets[base])
        if "ram_gb" in data and "ram_available_gb" not in data:
            merged.pop("ram_available_gb", None)
    merged.update({k: v for k, v in data.items() if k != "extends"})
    if "version" in merged:  # a preset file's tables carry no version; a profile file may
        merged.pop("version")
    return _build(merged, name, file)


def _check_keys(
    data: Mapping[str, Any], spec: dict[str, tuple[type, ...]], prefix: str, file: str | None
) -> None:
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key == "version" and not prefix:
            if value != 1:
                raise _error(f"version must be 1, got {value!r}", path, file)
            continue
        if key not in spec:
            raise _error(
                f"unknown key {key!r}.{did_you_mean(str(key), spec)} Valid keys: {', '.join(spec)}.",
                path,
                file,
            )
        types = spec[key]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            names = {str: "a string", int: "a whole number", bool: "true/false", list: "a list"}
            expected = "a number" if float in types else names[types[0]]
            raise _error(f"expected {expected}, got {value!r}", path, file)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
            raise _error(f"must be > 0, got {value!r}", path, file)


def _build(data: dict[str, Any], name: str | None, file: str | None) -> SystemInfo:
    platform = str(data.get("platform", "linux")).lower()
    if platform not in _PLATFORMS:
        raise _error(
            f"unknown platform {platform!r}; valid: {', '.join(_PLATFORMS)}."
            + did_you_mean(platform, _PLATFORMS),
            "platform",
            file,
        )
    gpus = _gpus(data.get("gpus", []), file)
    ram_gb = float(data.get("ram_gb", 16))
    ram_available = float(data.get("ram_available_gb", ram_gb))
    if ram_available > ram_gb:
        raise _error(
            f"ram_available_gb ({ram_available:g}) is more than ram_gb ({ram_gb:g})", "ram_available_gb", file
        )
    mps = bool(data.get("mps", False))
    if mps and (gpus or platform != "darwin"):
        raise _error("mps (Apple GPU) needs platform = 'darwin' and no CUDA gpus", "mps", file)
    flash = bool(data.get("supports_flash_attention", False))
    if flash and not gpus:
        raise _error(
            "flash-attention needs a CUDA GPU; add 'gpus' or set it false", "supports_flash_attention", file
        )
    bf16_default = all(_sm(g.compute_capability) >= (8, 0) for g in gpus) if gpus else True
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
        extra={"profile": True, "description": str(data.get("description", ""))},
    )


def _sm(value: str) -> tuple[int, int]:
    major, _, minor = value.partition(".")
    return int(major), int(minor or 0)


def _gpus(entries: list[Any], file: str | None) -> list[GpuInfo]:
    gpus: list[GpuInfo] = []
    for i, entry in enumerate(entries):
        prefix = f"gpus[{i}]."
        if not isinstance(entry, Mapping):
            raise _error(f"expected a table, got {entry!r}", f"gpus[{i}]", file)
        _check_keys(entry, _GPU_KEYS, prefix, file)
        if "memory_gb" not in entry:
            raise _error("missing 'memory_gb' (total memory of the GPU, GiB)", f"gpus[{i}]", file)
        total = float(entry["memory_gb"])
        free = float(entry.get("free_memory_gb", total))
        if free > total:
            raise _error(
                f"free_memory_gb ({free:g}) is more than memory_gb ({total:g})",
                prefix + "free_memory_gb",
                file,
            )
        cc = str(entry.get("compute_capability", "8.0"))
        major, _, minor = cc.partition(".")
        if not major.isdigit() or not minor.isdigit():
            raise _error(
                f"a compute capability looks like '8.9', got {cc!r}", prefix + "compute_capability", file
            )
        for _ in range(int(entry.get("count", 1))):
            gpus.append(GpuInfo(len(gpus), str(entry.get("name", "CUDA GPU")), total, free, cc))
    return gpus
