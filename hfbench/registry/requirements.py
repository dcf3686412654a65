"""Hardware requirements a recommendation may state, and checking them against a machine.

Requirements come in two kinds:

- *resources* are thresholds: ``min_gpu_memory_gb = 24`` is met by 24 GiB or more,
  ``max_…`` by at most that much. A bare resource name (the seed's ``gpu_memory: 24``) means
  ``min_`` and is stored as such.
- *flags* compare by equality: ``supports_flash_attention = true``, ``platform = "linux"``;
  a list means "any of" (``platform = ["linux", "darwin"]``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hfbench.core.errors import did_you_mean
from hfbench.core.validation import Problem, join_path

# Numeric resources a machine has; requirements on them are thresholds.
RESOURCE_REQUIREMENTS: dict[str, str] = {
    "gpu_memory_gb": "free memory of the largest CUDA device, GiB",
    "gpu_total_memory_gb": "total memory of all CUDA devices, GiB",
    "gpu_count": "number of CUDA devices",
    "model_memory_gb": "memory available for a model where it runs (free VRAM on CUDA, else free RAM), GiB",
    "ram_gb": "free RAM, GiB",
    "ram_total_gb": "total RAM, GiB",
    "cpu_cores": "physical CPU cores",
    "compute_capability": "CUDA compute capability of the best device, e.g. '8.0'",
}
RESOURCE_ALIASES: dict[str, str] = {
    "gpu_memory": "gpu_memory_gb",
    "vram_gb": "gpu_memory_gb",
    "ram": "ram_gb",
    "ram_available_gb": "ram_gb",
}
# Properties compared by equality, and the type of their values.
FLAG_REQUIREMENTS: dict[str, type] = {
    "platform": str,
    "accelerator": str,
    "machine": str,
    "supports_flash_attention": bool,
    "supports_bf16": bool,
    "cuda": bool,
    "mps": bool,
}
_REQUIREMENT_KEYS = [
    *FLAG_REQUIREMENTS,
    *(f"{p}_{r}" for r in RESOURCE_REQUIREMENTS for p in ("min", "max")),
]


def parse_compute_capability(value: Any) -> tuple[int, int]:
    """``"8.9"`` (or ``8``, ``"10.0"``) -> ``(8, 9)``: a CUDA compute capability as a comparable version.

    Raises:
        ValueError: not a version of one or two whole numbers.
    """
    text = str(value).strip()
    major, _, minor = text.partition(".")
    if not major.isdigit() or (minor and not minor.isdigit()):
        raise ValueError(f"a compute capability looks like '8.0', got {value!r}")
    return int(major), int(minor or 0)


def normalise_requirements(
    requirements: Mapping[str, Any] | None, key_path: str = "requirements"
) -> tuple[dict[str, Any], list[Problem]]:
    """Validate requirement keys and values; bare resource names become ``min_<name>``.

    Returns:
        The normalised requirements and every problem found (an unknown key with did-you-mean,
        a value of the wrong type, a key repeated through an alias), each with its key path.
    """
    if requirements is None:
        return {}, []
    if not isinstance(requirements, Mapping):
        return {}, [Problem(key_path, f"expected a table, got {type(requirements).__name__}")]
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in requirements.items():
        where = join_path(key_path, key)
        name = str(key)
        try:
            if name in FLAG_REQUIREMENTS:
                out[name] = _flag_value(name, value)
                continue
            prefix = "min"
            if name.startswith(("min_", "max_")):
                prefix, name = name[:3], name[4:]
            resource = RESOURCE_ALIASES.get(name, name)
            if resource not in RESOURCE_REQUIREMENTS:
                raise ValueError(
                    f"unknown requirement {key!r}. Resources (thresholds, min_/max_): "
                    f"{', '.join(RESOURCE_REQUIREMENTS)}; flags (equality): {', '.join(FLAG_REQUIREMENTS)}."
                    + did_you_mean(str(key), _REQUIREMENT_KEYS)
                )
            canonical_key = f"{prefix}_{resource}"
            if canonical_key in out:
                raise ValueError(f"{key!r} repeats {canonical_key!r}")
            out[canonical_key] = _resource_value(resource, value)
        except ValueError as exc:
            problems.append(Problem(where, str(exc)))
    return out, problems


def _flag_value(name: str, value: Any) -> Any:
    kind = FLAG_REQUIREMENTS[name]
    items = list(value) if isinstance(value, (list, tuple)) and kind is str else [value]
    if not items or not all(isinstance(v, kind) for v in items):
        expected = "true/false" if kind is bool else "a string or a list of strings"
        raise ValueError(f"expected {expected}, got {value!r}")
    if kind is str:
        items = [v.lower() for v in items]
        return items[0] if len(items) == 1 and not isinstance(value, (list, tuple)) else tuple(items)
    return value


def _resource_value(resource: str, value: Any) -> Any:
    if resource == "compute_capability":
        major, minor = parse_compute_capability(value)
        return f"{major}.{minor}"
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"expected a number >= 0, got {value!r}")
    return value


def _order(resource: str, value: Any) -> tuple[float, ...]:
    """A comparable key: (major, minor) for compute capabilities, else the number."""
    if resource == "compute_capability":
        return tuple(float(p) for p in parse_compute_capability(value))
    return (float(value),)


def unmet_requirements(requirements: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    """Reasons why ``facts`` (a flat system view) do not meet normalised ``requirements``.

    Resources compare as thresholds, flags by equality (a tuple means any of); a fact the system
    does not report fails its requirement, saying so.
    """
    reasons = []
    for key, needed in requirements.items():
        if key in FLAG_REQUIREMENTS:
            have = facts.get(key)
            allowed = needed if isinstance(needed, tuple) else (needed,)
            have_cmp = have.lower() if isinstance(have, str) else have
            if have is None:
                reasons.append(f"requires {key} = {needed!r}, but the system info does not say")
            elif have_cmp not in allowed:
                wanted = " or ".join(repr(v) for v in allowed)
                reasons.append(f"requires {key} = {wanted}, the system has {have!r}")
            continue
        bound, resource = key[:3], key[4:]
        have = facts.get(resource)
        sign = ">=" if bound == "min" else "<="
        if have is None or have == "":
            reasons.append(f"requires {resource} {sign} {needed}, but the system info does not say")
            continue
        try:
            have_key, needed_key = _order(resource, have), _order(resource, needed)
            ok = have_key >= needed_key if bound == "min" else have_key <= needed_key
        except (TypeError, ValueError):
            reasons.append(f"requires {resource} {sign} {needed}, the system reports {have!r}")
            continue
        if not ok:
            shown = f"{have:.1f}" if isinstance(have, float) else str(have)
            reasons.append(f"requires {resource} {sign} {needed}, the system has {shown}")
    return reasons
