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
from hfbench.registry.speed import Bandwidth, HardwareSpeed, machine_bandwidth
from hfbench.registry.tiers import default_dtype, registry_dtype

SystemInfoLike = SystemInfo | Mapping[str, Any]


@dataclass(frozen=True)
class HardwareFacts:
    """What the registry needs to know about a machine (real, what-if, or a seed-style dict).

    Attributes:
        label: how explanations name the machine.
        facts: the flat view requirements are checked against.
        model_memory_gb: memory a model may use (None: unknown, so fit is not checked).
        dtype: the dtype models load in there by default (its short name: ``bf16``, ``fp32`` …).
        accelerator: ``cuda``, ``mps`` or ``cpu`` (which recipes apply).
        speed: bandwidth and calibration for the speed estimate (None: speed is not checked —
            a dict that gives no ``memory_bandwidth_gbps``).
        dtype_fixed: the machine's description names the dtype (a dict's ``dtype``), so only
            that recipe is tried.
        hardware_id: ``SystemInfo.hardware_id()`` (None for a dict without one).
    """

    label: str
    facts: dict[str, Any]
    model_memory_gb: float | None
    dtype: str
    accelerator: str = "cpu"
    speed: HardwareSpeed | None = None
    dtype_fixed: bool = False
    hardware_id: str | None = None

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
    ``model_memory_gb``, else ``gpu_memory_gb`` (when > 0), else ``ram_gb``; the dtype is ``dtype``
    (then the only recipe tried), else bf16/fp16 with a GPU, fp16 on MPS, fp32 otherwise; speed
    is checked only when it gives ``memory_bandwidth_gbps`` (GB/s). A ``SystemInfo`` always gets a
    speed: its bandwidth measured, from its profile, from the GPU table or assumed, and this
    hardware id's calibration if one was cached (``registry.speed``, ``registry.calibration``).

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
    if gpu or facts.get("cuda") or facts.get("accelerator") == "cuda":
        accelerator = "cuda"
    elif facts.get("mps") or facts.get("accelerator") == "mps":
        accelerator = "mps"
    else:
        accelerator = "cpu"
    dtype = facts.get("dtype")
    fixed = dtype is not None
    if dtype is None:
        defaults = {"cuda": "fp16" if facts.get("supports_bf16") is False else "bf16", "mps": "fp16"}
        dtype = defaults.get(accelerator, "fp32")
    try:
        short = registry_dtype(dtype).short
    except RecommendationError as exc:
        raise RecommendationError(f"system_info['dtype']: {exc}") from None
    speed = None
    bandwidth = _number(facts.get("memory_bandwidth_gbps"))
    hardware_id = facts.get("hardware_id") if isinstance(facts.get("hardware_id"), str) else None
    if bandwidth:
        from hfbench.registry.calibration import load_calibration

        given = Bandwidth(bandwidth, "given", "the system_info's memory_bandwidth_gbps")
        speed = HardwareSpeed(accelerator, given, hardware_id, load_calibration(hardware_id))
    label = str(facts.get("name", "the given system"))
    return HardwareFacts(label, facts, memory, short, accelerator, speed, fixed, hardware_id)


def _system_info_facts(info: SystemInfo) -> HardwareFacts:
    facts = {**info.extra, **info.as_requirements_view()}
    sms = [d.compute_capability for d in info.cuda_devices if d.compute_capability]
    facts.update(
        gpu_total_memory_gb=info.gpu_total_memory_gb,
        gpu_count=len(info.cuda_devices),
        compute_capability=max(sms, key=parse_compute_capability) if sms else None,
        machine=info.machine,
    )
    from hfbench.registry.calibration import load_calibration

    hardware_id = info.hardware_id()
    speed = HardwareSpeed(
        info.accelerator, machine_bandwidth(info), hardware_id, load_calibration(hardware_id)
    )
    return HardwareFacts(
        info.name,
        facts,
        info.model_memory_gb,
        default_dtype(info),
        info.accelerator,
        speed,
        False,
        hardware_id,
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
