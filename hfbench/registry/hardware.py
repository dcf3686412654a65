"""The registry's view of a machine: a ``SystemInfo`` or a seed-style dict, normalised.

``hardware_facts`` turns either into ``HardwareFacts``: the flat facts requirements are checked
against, the memory a model may use, and the dtype models load in there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hfbench.core.errors import RecommendationError
from hfbench.core.hardware import SystemInfo
from hfbench.registry.requirements import RESOURCE_ALIASES, parse_compute_capability
from hfbench.registry.tiers import default_dtype, registry_dtype

SystemInfoLike = SystemInfo | Mapping[str, Any]


@dataclass(frozen=True)
class HardwareFacts:
    """What the registry needs to know about a machine (real, what-if, or a seed-style dict).

    Attributes:
        label: how explanations name the machine.
        facts: the flat view requirements are checked against.
        model_memory_gb: memory a model may use (None: unknown, so fit is not checked).
        dtype: the dtype models load in there (its short name: ``bf16``, ``fp32`` …).
    """

    label: str
    facts: dict[str, Any]
    model_memory_gb: float | None
    dtype: str

    def describe(self) -> str:
        """``consumer-gpu-24gb (cuda, 23.5 GiB for models, bf16)``."""
        memory = (
            f"{self.model_memory_gb:.1f} GiB for models"
            if self.model_memory_gb is not None
            else "memory unknown"
        )
        accelerator = self.facts.get("accelerator")
        return f"{self.label} ({f'{accelerator}, ' if accelerator else ''}{memory}, {self.dtype})"


def hardware_facts(system_info: SystemInfoLike) -> HardwareFacts:
    """Normalise a ``SystemInfo`` or a seed-style dict (``{"gpu_memory": 16, "platform": "linux"}``).

    In a dict, ``gpu_memory``/``ram``… are read as their ``_gb`` names; the memory for models is
    ``model_memory_gb``, else ``gpu_memory_gb`` (when > 0), else ``ram_gb``; the dtype is ``dtype``,
    else bf16/fp16 with a GPU, fp16 on MPS, fp32 otherwise.

    Raises:
        RecommendationError: not a ``SystemInfo`` or a mapping, or an unknown ``dtype``.
    """
    if isinstance(system_info, SystemInfo):
        return _system_info_facts(system_info)
    if not isinstance(system_info, Mapping):
        raise RecommendationError(
            f"system_info must be a SystemInfo or a dict, got {type(system_info).__name__}; "
            "use hfbench.system_info() or hfbench.registry.hardware_profile(...)."
        )
    facts = {RESOURCE_ALIASES.get(str(k), str(k)): v for k, v in system_info.items()}
    gpu = _number(facts.get("gpu_memory_gb"))
    memory = _number(facts.get("model_memory_gb"))
    if memory is None:
        memory = gpu if gpu else _number(facts.get("ram_gb"))
    dtype = facts.get("dtype")
    if dtype is None:
        if gpu or facts.get("cuda") or facts.get("accelerator") == "cuda":
            dtype = "fp16" if facts.get("supports_bf16") is False else "bf16"
        elif facts.get("mps") or facts.get("accelerator") == "mps":
            dtype = "fp16"
        else:
            dtype = "fp32"
    try:
        short = registry_dtype(dtype).short
    except RecommendationError as exc:
        raise RecommendationError(f"system_info['dtype']: {exc}") from None
    return HardwareFacts(str(facts.get("name", "the given system")), facts, memory, short)


def _system_info_facts(info: SystemInfo) -> HardwareFacts:
    facts = {**info.extra, **info.as_requirements_view()}
    sms = [d.compute_capability for d in info.cuda_devices if d.compute_capability]
    facts.update(
        gpu_total_memory_gb=info.gpu_total_memory_gb,
        gpu_count=len(info.cuda_devices),
        compute_capability=max(sms, key=parse_compute_capability) if sms else None,
        machine=info.machine,
    )
    return HardwareFacts(info.name, facts, info.model_memory_gb, default_dtype(info))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
