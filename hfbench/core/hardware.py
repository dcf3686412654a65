"""What this machine has: CPU, memory, accelerators, library versions (``hfbench info``)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

GIB = 1024**3


@dataclass(frozen=True)
class GpuInfo:
    """One CUDA device."""

    index: int
    name: str
    total_memory_gb: float
    free_memory_gb: float
    compute_capability: str = ""


@dataclass(frozen=True)
class SystemInfo:
    """A snapshot of the machine, as the registry and the benchmark records see it.

    ``SystemInfo`` can also describe hardware you do not have (a what-if profile): build one
    by hand or with the registry's hardware profiles.
    """

    platform: str
    machine: str
    python_version: str
    cpu_model: str
    cpu_cores: int
    cpu_threads: int
    ram_total_gb: float
    ram_available_gb: float
    cuda_devices: tuple[GpuInfo, ...] = ()
    mps_available: bool = False
    supports_bf16: bool = False
    supports_flash_attention: bool = False
    torch_version: str = ""
    transformers_version: str = ""
    name: str = "this machine"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def accelerator(self) -> str:
        """``cuda``, ``mps`` or ``cpu``: where models run by default."""
        if self.cuda_devices:
            return "cuda"
        return "mps" if self.mps_available else "cpu"

    @property
    def gpu_memory_gb(self) -> float:
        """Free memory of the largest CUDA device (0 without one)."""
        return max((d.free_memory_gb for d in self.cuda_devices), default=0.0)

    @property
    def gpu_total_memory_gb(self) -> float:
        """Total memory of all CUDA devices together (what ``device_map='auto'`` can spread over)."""
        return sum(d.total_memory_gb for d in self.cuda_devices)

    @property
    def model_memory_gb(self) -> float:
        """Memory available to hold a model where it would run: free VRAM on CUDA, else free RAM."""
        if self.cuda_devices:
            return sum(d.free_memory_gb for d in self.cuda_devices)
        return self.ram_available_gb

    def as_requirements_view(self) -> dict[str, Any]:
        """The flat dictionary the registry's requirement checks compare against."""
        return {
            "platform": self.platform,
            "accelerator": self.accelerator,
            "supports_flash_attention": self.supports_flash_attention,
            "supports_bf16": self.supports_bf16,
            "gpu_memory": self.gpu_memory_gb,
            "gpu_memory_gb": self.gpu_memory_gb,
            "ram_gb": self.ram_available_gb,
            "ram_available_gb": self.ram_available_gb,
            "ram_total_gb": self.ram_total_gb,
            "model_memory_gb": self.model_memory_gb,
            "cpu_cores": self.cpu_cores,
            "cuda": bool(self.cuda_devices),
            "mps": self.mps_available,
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary (with the derived fields)."""
        data = asdict(self)
        data["accelerator"] = self.accelerator
        data["gpu_memory_gb"] = self.gpu_memory_gb
        return data

    def hardware_facts(self) -> dict[str, Any]:
        """The machine's stable hardware facts (no free memory, no software versions)."""
        return {
            "platform": self.platform,
            "machine": self.machine,
            "cpu_model": self.cpu_model,
            "cpu_threads": self.cpu_threads,
            "ram_total_gb": round(self.ram_total_gb),
            "gpus": [(d.name, round(d.total_memory_gb)) for d in self.cuda_devices],
            "mps": self.mps_available,
        }

    def hardware_id(self) -> str:
        """A short, stable id of the hardware alone: what names a machine's recommendation files.

        The same machine keeps its id across torch/transformers upgrades (``fingerprint`` does not).
        """
        return _short_hash(self.hardware_facts())

    def fingerprint(self) -> str:
        """A short, stable id of the hardware and software recipe (not of free memory)."""
        return _short_hash(
            {**self.hardware_facts(), "torch": self.torch_version, "transformers": self.transformers_version}
        )

    def summary(self) -> str:
        """A few human-readable lines (what ``hfbench info`` prints)."""
        lines = [
            f"platform      {self.platform} ({self.machine}), Python {self.python_version}",
            f"cpu           {self.cpu_model} — {self.cpu_cores} cores / {self.cpu_threads} threads",
            f"ram           {self.ram_available_gb:.1f} GiB free of {self.ram_total_gb:.1f} GiB",
        ]
        if self.cuda_devices:
            for d in self.cuda_devices:
                lines.append(
                    f"cuda:{d.index}        {d.name} — {d.free_memory_gb:.1f} GiB free of "
                    f"{d.total_memory_gb:.1f} GiB (sm {d.compute_capability})"
                )
        else:
            lines.append("cuda          none")
        lines += [
            f"mps           {'yes' if self.mps_available else 'no'}",
            f"bf16          {'yes' if self.supports_bf16 else 'no'}",
            f"flash-attn 2  {'yes' if self.supports_flash_attention else 'no'}",
            f"accelerator   {self.accelerator}",
            f"torch         {self.torch_version or 'not installed'}",
            f"transformers  {self.transformers_version or 'not installed'}",
            f"hardware id   {self.hardware_id()}",
            f"fingerprint   {self.fingerprint()}",
        ]
        return "\n".join(lines)


def _short_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _torch_facts() -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        return {}
    facts: dict[str, Any] = {"torch_version": torch.__version__, "cuda_devices": ()}
    devices = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            props = torch.cuda.get_device_properties(index)
            devices.append(
                GpuInfo(
                    index=index,
                    name=props.name,
                    total_memory_gb=total / GIB,
                    free_memory_gb=free / GIB,
                    compute_capability=f"{props.major}.{props.minor}",
                )
            )
        facts["supports_bf16"] = bool(torch.cuda.is_bf16_supported())
    else:
        # CPUs run bf16 matmuls in torch; whether they are fast depends on AVX512-BF16/AMX.
        facts["supports_bf16"] = True
    facts["cuda_devices"] = tuple(devices)
    mps = getattr(torch.backends, "mps", None)
    facts["mps_available"] = bool(mps is not None and mps.is_available())
    return facts


def _transformers_facts(has_cuda: bool) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        facts: dict[str, Any] = {"transformers_version": version("transformers")}
    except PackageNotFoundError:
        return {}
    # flash-attention only runs on CUDA: skip importing transformers (seconds) when there is none.
    if has_cuda:
        from transformers.utils import is_flash_attn_2_available

        facts["supports_flash_attention"] = bool(is_flash_attn_2_available())
    return facts


def collect_system_info() -> SystemInfo:
    """Read the machine now (imports torch and transformers if installed)."""
    import psutil

    memory = psutil.virtual_memory()
    facts: dict[str, Any] = {
        "platform": platform.system().lower(),
        "machine": platform.machine(),
        "python_version": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_cores": psutil.cpu_count(logical=False) or os.cpu_count() or 1,
        "cpu_threads": psutil.cpu_count(logical=True) or os.cpu_count() or 1,
        "ram_total_gb": memory.total / GIB,
        "ram_available_gb": memory.available / GIB,
    }
    facts.update(_torch_facts())
    facts.update(_transformers_facts(bool(facts.get("cuda_devices"))))
    return SystemInfo(**facts)


@lru_cache(maxsize=1)
def _cached_system_info() -> SystemInfo:
    return collect_system_info()


def system_info(refresh: bool = False) -> SystemInfo:
    """This machine's ``SystemInfo``, cached after the first call (``refresh=True`` re-reads it)."""
    if refresh:
        _cached_system_info.cache_clear()
    return _cached_system_info()


def usable_cpu_cores() -> int:
    """Physical cores this process may actually run on: the fewest of the physical cores, the CPUs
    in its affinity mask and its cgroup CPU quota (a container limited to 2 CPUs of a 64-core host
    sees 64 cores; threads beyond its quota only wait for each other)."""
    import math

    import psutil

    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        allowed = os.cpu_count() or 1
    limits = [physical, allowed]
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
        if quota != "max":
            limits.append(math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):  # no cgroup v2 quota: nothing more to respect
        pass
    return max(1, min(limits))
