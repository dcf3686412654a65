"""How fast a model decodes on a machine: the estimate, its inputs, and the minimum a job needs.

Decode at batch size 1 is memory-bound: each new token reads every (active) weight once. So::

    seconds per token = bytes read per token / (efficiency x bandwidth) + overhead
    tokens per second = 1 / seconds per token

- **bytes read per token**: the active parameters (``active_params_b`` for a mixture of experts,
  else ``params_b``) at the recipe's dtype;
- **bandwidth**: measured on this machine's CPU (``hfbench.bench.fingerprint`` copies large
  tensors once per hardware id and caches the figure, which this module reads), a what-if
  profile's ``memory_bandwidth_gbps``, the GPU table in ``data/speed.toml``, else an assumed
  figure per accelerator — the estimate always says which;
- **efficiency** and **overhead** (Python, kernel launches per token): assumed per accelerator
  (``data/speed.toml``) until ``calibrate_speed`` fits them to the harness's measured decode
  speeds on the machine (``registry.calibration``); a recipe's ``speed_factor`` scales the
  efficiency for quantized kernels.

Where a tuned file measured the model, the measurement replaces the estimate
(``SpeedEstimate.kind == "measured"``). Nothing here imports torch or transformers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

from hfbench.core.capability import canonical_capability, capability_entries
from hfbench.core.datafiles import read_package_toml
from hfbench.core.errors import RecommendationError
from hfbench.core.hardware import SystemInfo
from hfbench.core.validation import Field, Problem, at_least, check_table, greater_than, problems_message

__all__ = [
    "ACCELERATORS",
    "Bandwidth",
    "HardwareSpeed",
    "SpeedEstimate",
    "SpeedModel",
    "SpeedTable",
    "default_min_tokens_per_s",
    "gpu_bandwidth",
    "machine_bandwidth",
    "measured_bandwidth_file",
    "speed_table",
]

SPEED_FILE = "speed.toml"
ACCELERATORS = ("cpu", "cuda", "mps")

BandwidthKind = Literal["measured", "profile", "table", "given", "assumed"]
SpeedKind = Literal["estimated", "measured"]


# --------------------------------------------------------------------------- the data file
@dataclass(frozen=True)
class SpeedModel:
    """The factors of the estimate for one accelerator (and dtype, once calibrated).

    Attributes:
        efficiency: the fraction of the memory bandwidth a decode step reaches.
        overhead_ms: fixed milliseconds per token (Python, kernel launches).
        source: where the factors come from (``assumed: …`` or ``calibrated on …``).
    """

    efficiency: float
    overhead_ms: float
    source: str


@dataclass(frozen=True)
class GpuBandwidth:
    """One row of the GPU table: every substring in ``match`` is in the GPU's name."""

    match: tuple[str, ...]
    bandwidth_gbps: float
    source: str


@dataclass(frozen=True)
class SpeedTable:
    """``data/speed.toml``, validated: per-accelerator assumptions, minimum speeds, known GPUs."""

    accelerators: Mapping[str, tuple[SpeedModel, float]]
    min_tokens_per_s: Mapping[str, float]
    gpus: tuple[GpuBandwidth, ...]

    def default_model(self, accelerator: str) -> SpeedModel:
        """The uncalibrated factors for an accelerator (``cpu`` for an unknown one)."""
        return self.accelerators.get(accelerator, self.accelerators["cpu"])[0]

    def assumed_bandwidth(self, accelerator: str) -> float:
        """The bandwidth assumed for an accelerator when nothing better is known, GB/s."""
        return self.accelerators.get(accelerator, self.accelerators["cpu"])[1]


_ACCELERATOR_FIELDS: dict[str, Field] = {
    "efficiency": Field((float,), "fraction of the bandwidth reached", required=True, check=greater_than(0)),
    "overhead_ms": Field((float,), "fixed milliseconds per token", required=True, check=at_least(0)),
    "bandwidth_gbps": Field((float,), "assumed bandwidth, GB/s", required=True, check=greater_than(0)),
    "source": Field((str,), "why these figures", required=True),
}
_GPU_FIELDS: dict[str, Field] = {
    "match": Field((list,), "substrings of the GPU's name", required=True),
    "bandwidth_gbps": Field((float,), "memory bandwidth, GB/s", required=True, check=greater_than(0)),
    "source": Field((str,), "the data sheet", required=True),
}
_TOP_FIELDS: dict[str, Field] = {
    "version": Field((int,), "format version", required=True, choices=(1,)),
    "accelerators": Field((dict,), "per accelerator: efficiency, overhead_ms, bandwidth_gbps", required=True),
    "min_tokens_per_s": Field((dict,), "capability -> minimum decode tokens/s", required=True),
    "gpus": Field((list,), "known GPUs' memory bandwidth", required=True),
}


def parse_speed_table(data: Mapping[str, Any], *, file: str = SPEED_FILE) -> SpeedTable:
    """Validate the speed data (every problem reported at once, with its key path).

    Raises:
        RecommendationError: unknown keys, wrong types, unknown accelerators or capabilities.
    """
    top, problems = check_table(data, _TOP_FIELDS)
    accelerators: dict[str, tuple[SpeedModel, float]] = {}
    for name, table in top.get("accelerators", {}).items():
        path = f"accelerators.{name}"
        if name not in ACCELERATORS:
            problems.append(Problem(path, f"unknown accelerator {name!r}; valid: {', '.join(ACCELERATORS)}"))
            continue
        row, found = check_table(table, _ACCELERATOR_FIELDS, key_path=path)
        problems += found
        if not found:
            model = SpeedModel(row["efficiency"], row["overhead_ms"], row["source"])
            accelerators[name] = (model, row["bandwidth_gbps"])
    if "cpu" not in accelerators and not problems:
        problems.append(Problem("accelerators", "needs a 'cpu' table (the fallback for any accelerator)"))
    minimums: dict[str, float] = {}
    for _, capability, path, value in capability_entries(
        top.get("min_tokens_per_s", {}), "min_tokens_per_s", problems
    ):
        number, found = check_table({"value": value}, {"value": Field((float,), check=at_least(0))})
        problems += [Problem(path, p.message) for p in found]
        if not found:
            minimums[capability] = number["value"]
    gpus: list[GpuBandwidth] = []
    for index, entry in enumerate(top.get("gpus", [])):
        row, found = check_table(entry, _GPU_FIELDS, key_path=f"gpus[{index}]")
        if not found and not all(isinstance(m, str) and m for m in row["match"]):
            found = [Problem(f"gpus[{index}].match", "expected a list of non-empty strings")]
        problems += found
        if not found:
            gpus.append(GpuBandwidth(tuple(row["match"]), row["bandwidth_gbps"], row["source"]))
    if problems:
        raise RecommendationError(problems_message(problems, what="speed data", file=file))
    return SpeedTable(accelerators, minimums, tuple(gpus))


@lru_cache(maxsize=1)
def speed_table() -> SpeedTable:
    """hfbench's speed data (``registry/data/speed.toml``), validated on first use."""
    data = read_package_toml(SPEED_FILE, package="hfbench.registry")
    return parse_speed_table(data, file=f"hfbench/registry/data/{SPEED_FILE}")


def default_min_tokens_per_s(capability: str) -> float | None:
    """The default minimum decode speed for a capability (None: no token stream, no minimum)."""
    return speed_table().min_tokens_per_s.get(canonical_capability(capability))


# --------------------------------------------------------------------------- bandwidth
@dataclass(frozen=True)
class Bandwidth:
    """A machine's memory bandwidth and where the figure came from.

    Attributes:
        gbps: GB/s (1e9 bytes per second).
        kind: ``measured`` (this machine, cached per hardware id), ``profile`` (a what-if
            profile's figure), ``table`` (a known GPU's data sheet), ``given`` (a dict's
            ``memory_bandwidth_gbps``) or ``assumed`` (per accelerator, ``data/speed.toml``).
        source: one line for people.
    """

    gbps: float
    kind: BandwidthKind
    source: str

    def describe(self) -> str:
        """``34.9 GB/s (measured: …)``."""
        return f"{self.gbps:.4g} GB/s ({self.kind}: {self.source})"


def gpu_bandwidth(name: str) -> GpuBandwidth | None:
    """The table's row for a GPU name (``NVIDIA GeForce RTX 4090`` -> 1008 GB/s), or None."""
    for row in speed_table().gpus:
        if all(part.lower() in name.lower() for part in row.match):
            return row
    return None


def measured_bandwidth_file(hardware_id: str) -> Path:
    """Where ``hfbench.bench.fingerprint.memory_bandwidth_gbps`` caches a machine's measurement."""
    from hfbench.sources.cache import cache_dir

    return cache_dir() / "hardware" / f"{hardware_id}.json"


def _measured_bandwidth(hardware_id: str) -> Bandwidth | None:
    path = measured_bandwidth_file(hardware_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        gbps = float(data["memory_bandwidth_gbps"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if gbps <= 0:
        return None
    method = str(data.get("method", "tensor copies"))
    return Bandwidth(gbps, "measured", f"{method}, hardware {hardware_id}")


def machine_bandwidth(info: SystemInfo) -> Bandwidth:
    """The memory bandwidth the estimate uses for a machine (real or what-if).

    In order: a profile's ``memory_bandwidth_gbps``; on CUDA, the first GPU in the table; on a
    CPU, this hardware id's cached measurement; else the accelerator's assumed figure.
    """
    given = info.extra.get("memory_bandwidth_gbps") if isinstance(info.extra, Mapping) else None
    if isinstance(given, (int, float)) and not isinstance(given, bool) and given > 0:
        return Bandwidth(float(given), "profile", f"given by {info.name}")
    table = speed_table()
    accelerator = info.accelerator
    if info.cuda_devices:
        row = gpu_bandwidth(info.cuda_devices[0].name)
        if row is not None:
            return Bandwidth(row.bandwidth_gbps, "table", row.source)
    elif accelerator == "cpu":
        measured = _measured_bandwidth(info.hardware_id())
        if measured is not None:
            return measured
    gbps = table.assumed_bandwidth(accelerator)
    return Bandwidth(
        gbps, "assumed", f"typical {accelerator}; measure with `hfbench run` or give memory_bandwidth_gbps"
    )


# --------------------------------------------------------------------------- the estimate
@dataclass(frozen=True)
class SpeedEstimate:
    """A recommendation's decode speed on a machine, estimated or measured.

    Attributes:
        tokens_per_s: decode tokens per second at batch size 1.
        kind: ``estimated`` (from bandwidth, efficiency and overhead) or ``measured`` (a tuned
            file's figure for this model on this hardware).
        basis: how the figure was obtained, for people (the inputs of an estimate, the cell of
            a measurement).
        bytes_per_token: weight bytes read per token (estimates only).
        bandwidth: the bandwidth used (estimates only).
        efficiency: the effective efficiency, the recipe's speed factor included (estimates only).
        overhead_ms: the fixed milliseconds per token (estimates only).
    """

    tokens_per_s: float
    kind: SpeedKind
    basis: str
    bytes_per_token: float | None = None
    bandwidth: Bandwidth | None = None
    efficiency: float | None = None
    overhead_ms: float | None = None

    @property
    def estimated(self) -> bool:
        """True for an estimate, False for a measurement."""
        return self.kind == "estimated"

    def describe(self) -> str:
        """``11.2 tok/s estimated (7.4 GB per token at 1008 GB/s x 0.104 + 15 ms/token; …)``."""
        return f"{self.tokens_per_s:.3g} tok/s {self.kind} ({self.basis})"


class Calibration(Protocol):
    """What the estimate asks of a machine's calibration (``registry.calibration.SpeedCalibration``)."""

    @property
    def bandwidth_gbps(self) -> float:
        """The bandwidth the fit was made against."""
        ...

    def model_for(self, dtype: str) -> SpeedModel | None:
        """The fitted factors for weights in ``dtype`` (None: not fitted)."""
        ...

    def faster(self, dtype: str, than: str) -> bool:
        """``dtype`` was measured to decode faster than ``than``."""
        ...

    def describe(self) -> str:
        """One line for explanations."""
        ...


@dataclass(frozen=True)
class HardwareSpeed:
    """What the estimate knows of a machine: its accelerator, bandwidth and calibration.

    Attributes:
        accelerator: ``cpu``, ``cuda`` or ``mps``.
        bandwidth: the memory bandwidth and its source.
        hardware_id: the machine's hardware id (calibrations and tuned files match on it).
        calibration: this machine's fitted factors (None: the assumptions of ``data/speed.toml``).
    """

    accelerator: str
    bandwidth: Bandwidth
    hardware_id: str | None = None
    calibration: Calibration | None = None

    def model_for(self, dtype: str) -> SpeedModel:
        """The factors for weights in ``dtype``: calibrated ones if any, else the assumptions."""
        if self.calibration is not None:
            fitted = self.calibration.model_for(dtype)
            if fitted is not None:
                # The fit's efficiency is relative to the bandwidth it was made against.
                scale = self.calibration.bandwidth_gbps / self.bandwidth.gbps
                return SpeedModel(fitted.efficiency * scale, fitted.overhead_ms, fitted.source)
        return speed_table().default_model(self.accelerator)

    def measured_faster(self, dtype: str, than: str) -> bool:
        """True when this machine's calibration measured ``dtype`` and it decodes faster than ``than``
        (same model size, both fitted) — how a CPU bf16 recipe earns its place."""
        if self.calibration is None:
            return False
        return self.calibration.faster(dtype, than)

    def estimate(
        self, bytes_per_token: float, dtype: str, *, speed_factor: float = 1.0, label: str = ""
    ) -> SpeedEstimate:
        """Decode tokens/s for ``bytes_per_token`` bytes of weights read per token.

        Args:
            bytes_per_token: active parameters x bytes per parameter.
            dtype: the weights' dtype (picks the calibrated factors).
            speed_factor: the recipe's kernel factor on the efficiency (1 for plain 16/32-bit).
            label: the recipe's name, for the basis text.
        """
        model = self.model_for(dtype)
        efficiency = model.efficiency * speed_factor
        seconds = bytes_per_token / (efficiency * self.bandwidth.gbps * 1e9) + model.overhead_ms / 1000
        factor = f" x {speed_factor:g} ({label})" if speed_factor != 1 else ""
        basis = (
            f"{bytes_per_token / 1e9:.3g} GB per token at {self.bandwidth.gbps:.4g} GB/s "
            f"({self.bandwidth.kind}) x efficiency {model.efficiency:.3g}{factor} + "
            f"{model.overhead_ms:.3g} ms/token; {model.source}"
        )
        return SpeedEstimate(
            1.0 / seconds, "estimated", basis, bytes_per_token, self.bandwidth, efficiency, model.overhead_ms
        )

    def describe(self) -> str:
        """One line: the bandwidth and whether the factors are calibrated."""
        calibrated = (
            f"calibrated ({self.calibration.describe()})"
            if self.calibration is not None
            else "not calibrated"
        )
        return f"{self.accelerator}, {self.bandwidth.describe()}, {calibrated}"


def measured_speed(
    measured: Mapping[str, Mapping[str, Any]] | None,
    capability: str,
    *,
    dtype: str | None,
    recipe_dtype: str | None,
) -> SpeedEstimate | None:
    """A tuned recommendation's measured decode speed for ``capability`` (or, failing that, for
    another capability of the same model: decode speed hardly depends on the job), when the
    recipe tried is the one it was measured with.

    Args:
        measured: the recommendation's ``measured`` table.
        capability: the job.
        dtype: the dtype of the recipe being checked (short name).
        recipe_dtype: the dtype the model was measured in (short name; None: unknown).
    """
    if not measured or (recipe_dtype is not None and dtype != recipe_dtype):
        return None
    ordered = [capability, *(c for c in measured if c != capability)]
    for name in ordered:
        figures = measured.get(name) or {}
        value = figures.get("decode_tokens_per_s")
        if isinstance(value, (int, float)) and value > 0:
            cell = figures.get("cell_id")
            where = f"cell {cell}, " if cell else ""
            job = "" if name == capability else f" when serving {name}"
            return SpeedEstimate(
                float(value), "measured", f"{where}{recipe_dtype or 'as tuned'}{job}, from the tuned file"
            )
    return None
