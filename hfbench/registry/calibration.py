"""Calibrating the speed estimate: fit its factors to measured decode speeds, per hardware id.

The estimate (``registry.speed``) says ``seconds per token = bytes / (efficiency x bandwidth) +
overhead``. Given the harness's measured decode speeds on one machine (rows of
``hfbench.bench.load_results()``, or a tuned file's measured figures), ``fit_speed`` finds the
``efficiency`` and the per-token ``overhead`` that best explain them — least squares on the
*relative* error of the time per token, per weights dtype — and ``calibrate_speed`` caches the
result in ``<hfbench cache>/hardware/<hardware_id>-speed.json``, where every later estimate on
that machine finds it.

With one model size in a dtype the two factors cannot both be fitted: the overhead keeps its
assumed value and only the efficiency is fitted.

Example:
    >>> import hfbench as hb
    >>> from hfbench.registry import calibrate_speed
    >>> calibration = calibrate_speed(hb.bench.load_results("results/"))  # doctest: +SKIP
    >>> print(calibration.describe())                                    # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hfbench.core.dtypes import bytes_per_param, is_dtype, short_dtype
from hfbench.core.errors import RecommendationError
from hfbench.core.hardware import SystemInfo
from hfbench.core.validation import Field, Problem, at_least, check_table, greater_than, problems_message
from hfbench.registry.speed import SpeedModel, machine_bandwidth, speed_table

__all__ = [
    "DtypeFit",
    "SpeedCalibration",
    "SpeedPoint",
    "calibrate_speed",
    "calibration_path",
    "fit_speed",
    "load_calibration",
    "speed_points",
]

logger = logging.getLogger(__name__)

CALIBRATION_VERSION = 1
MIB = 1024**2


@dataclass(frozen=True)
class SpeedPoint:
    """One measured decode speed: a model's weights in one dtype, and its tokens per second.

    Attributes:
        model: the model measured.
        dtype: the weights' dtype (short name).
        weights_bytes: the bytes of its weights (read once per token).
        decode_tokens_per_s: the measured decode speed.
        capability: the job it served, cell_id: the benchmark cell (for people).
    """

    model: str
    dtype: str
    weights_bytes: float
    decode_tokens_per_s: float
    capability: str = ""
    cell_id: str = ""


@dataclass(frozen=True)
class DtypeFit:
    """The fitted factors for weights in one dtype.

    Attributes:
        dtype: the short dtype name (``fp32``, ``bf16`` …).
        efficiency: the fraction of the bandwidth a decode step reaches.
        overhead_ms: fixed milliseconds per token.
        points: how many measurements the fit used.
        models: the models measured.
        method: ``efficiency and overhead`` (two or more model sizes) or ``efficiency only``.
    """

    dtype: str
    efficiency: float
    overhead_ms: float
    points: int
    models: tuple[str, ...]
    method: str


@dataclass(frozen=True)
class SpeedCalibration:
    """This machine's speed factors, fitted to its measurements.

    Attributes:
        hardware_id: the machine (``SystemInfo.hardware_id()``).
        accelerator: where the measurements ran (``cpu``, ``cuda``, ``mps``).
        bandwidth_gbps: the bandwidth the fit was made against (the estimate uses the same).
        fits: per dtype, the fitted factors.
        points: the measurements.
        fitted_at: when (UTC, ISO 8601).
    """

    hardware_id: str
    accelerator: str
    bandwidth_gbps: float
    fits: Mapping[str, DtypeFit]
    points: tuple[SpeedPoint, ...] = ()
    fitted_at: str = ""
    source: str = field(default="", compare=False)

    def model_for(self, dtype: str) -> SpeedModel | None:
        """The factors for ``dtype``: its own fit, else the fit with the most measurements
        (a quantized recipe's speed factor then scales it), else None."""
        short = short_dtype(dtype) if is_dtype(dtype) else dtype
        fit = self.fits.get(short)
        note = ""
        if fit is None and self.fits:
            fit = max(self.fits.values(), key=lambda f: (f.points, f.dtype))
            note = f", measured in {fit.dtype}"
        if fit is None:
            return None
        where = f"calibrated on {self.hardware_id} from {fit.points} measurement(s){note}"
        return SpeedModel(fit.efficiency, fit.overhead_ms, where)

    def predict(self, weights_bytes: float, dtype: str) -> float | None:
        """Predicted decode tokens/s for ``weights_bytes`` read per token in ``dtype`` (None: no fit)."""
        model = self.model_for(dtype)
        if model is None:
            return None
        seconds = weights_bytes / (model.efficiency * self.bandwidth_gbps * 1e9) + model.overhead_ms / 1000
        return 1.0 / seconds

    def faster(self, dtype: str, than: str) -> bool:
        """True when this machine measured ``dtype`` decoding faster than ``than``: for every model
        measured in both, its median speed; with no model measured in both, the two fits compared
        at the median size measured in ``than``."""
        first, second = short_dtype(dtype), short_dtype(than)
        if first not in self.fits or second not in self.fits:
            return False
        common = {p.model for p in self.points if p.dtype == first} & {
            p.model for p in self.points if p.dtype == second
        }
        if common:
            return all(self._median(model, first) > self._median(model, second) for model in common)
        sizes = sorted(p.weights_bytes / bytes_per_param(second) for p in self.points if p.dtype == second)
        params = sizes[len(sizes) // 2]
        fast = self.predict(params * bytes_per_param(first), first)
        slow = self.predict(params * bytes_per_param(second), second)
        return fast is not None and slow is not None and fast > slow

    def _median(self, model: str, dtype: str) -> float:
        speeds = sorted(p.decode_tokens_per_s for p in self.points if p.model == model and p.dtype == dtype)
        return speeds[len(speeds) // 2]

    def errors(self) -> list[tuple[SpeedPoint, float, float]]:
        """Per measurement: (point, predicted tokens/s, relative error (predicted - measured) / measured)."""
        out = []
        for point in self.points:
            predicted = self.predict(point.weights_bytes, point.dtype)
            if predicted is not None:
                error = (predicted - point.decode_tokens_per_s) / point.decode_tokens_per_s
                out.append((point, predicted, error))
        return out

    def describe(self) -> str:
        """``b73fa977f7fa at 34.9 GB/s: fp32 efficiency 0.39 + 3.1 ms/token (5 points)``."""
        fits = "; ".join(
            f"{f.dtype} efficiency {f.efficiency:.3g} + {f.overhead_ms:.3g} ms/token ({f.points} points, "
            f"{f.method})"
            for f in self.fits.values()
        )
        return f"{self.hardware_id} at {self.bandwidth_gbps:.4g} GB/s: {fits or 'no fit'}"

    def to_dict(self) -> dict[str, Any]:
        """The cache file's content (JSON)."""
        return {
            "version": CALIBRATION_VERSION,
            "hardware_id": self.hardware_id,
            "accelerator": self.accelerator,
            "bandwidth_gbps": self.bandwidth_gbps,
            "fitted_at": self.fitted_at,
            "fits": {
                name: {
                    "efficiency": f.efficiency,
                    "overhead_ms": f.overhead_ms,
                    "points": f.points,
                    "models": list(f.models),
                    "method": f.method,
                }
                for name, f in self.fits.items()
            },
            "points": [
                {
                    "model": p.model,
                    "dtype": p.dtype,
                    "weights_bytes": p.weights_bytes,
                    "decode_tokens_per_s": p.decode_tokens_per_s,
                    "capability": p.capability,
                    "cell_id": p.cell_id,
                }
                for p in self.points
            ],
        }


_POSITIVE = greater_than(0)
_FILE_FIELDS: dict[str, Field] = {
    "version": Field((int,), "format version", required=True, choices=(CALIBRATION_VERSION,)),
    "hardware_id": Field((str,), "the machine", required=True),
    "accelerator": Field((str,), "cpu, cuda or mps", required=True),
    "bandwidth_gbps": Field((float,), "bandwidth fitted against, GB/s", required=True, check=_POSITIVE),
    "fitted_at": Field((str,), "when"),
    "fits": Field((dict,), "dtype -> fitted factors", required=True),
    "points": Field((list,), "the measurements"),
}
_FIT_FIELDS: dict[str, Field] = {
    "efficiency": Field((float,), "fraction of the bandwidth", required=True, check=_POSITIVE),
    "overhead_ms": Field((float,), "milliseconds per token", required=True, check=at_least(0)),
    "points": Field((int,), "measurements", required=True, check=at_least(1)),
    "models": Field((list,), "models measured"),
    "method": Field((str,), "what was fitted"),
}
_POINT_FIELDS: dict[str, Field] = {
    "model": Field((str,), "the model", required=True),
    "dtype": Field((str,), "short dtype", required=True),
    "weights_bytes": Field((float,), "bytes of weights", required=True, check=_POSITIVE),
    "decode_tokens_per_s": Field((float,), "measured", required=True, check=_POSITIVE),
    "capability": Field((str,), "the job"),
    "cell_id": Field((str,), "the benchmark cell"),
}


def parse_calibration(data: Any, *, file: str = "calibration") -> SpeedCalibration:
    """A ``SpeedCalibration`` from a cache file's content, validated.

    Raises:
        RecommendationError: every problem, with its key path.
    """
    top, problems = check_table(data, _FILE_FIELDS)
    fits: dict[str, DtypeFit] = {}
    for name, table in top.get("fits", {}).items():
        row, found = check_table(table, _FIT_FIELDS, key_path=f"fits.{name}")
        problems += found
        if not found:
            models = tuple(str(m) for m in row.get("models", []))
            fits[str(name)] = DtypeFit(
                str(name), row["efficiency"], row["overhead_ms"], row["points"], models, row.get("method", "")
            )
    points: list[SpeedPoint] = []
    for index, entry in enumerate(top.get("points", [])):
        row, found = check_table(entry, _POINT_FIELDS, key_path=f"points[{index}]")
        problems += found
        if not found:
            points.append(SpeedPoint(**row))
    if top.get("accelerator") not in (None, "cpu", "cuda", "mps"):
        problems.append(Problem("accelerator", f"unknown accelerator {top['accelerator']!r}"))
    if problems:
        raise RecommendationError(problems_message(problems, what="speed calibration", file=file))
    return SpeedCalibration(
        top["hardware_id"],
        top["accelerator"],
        top["bandwidth_gbps"],
        fits,
        tuple(points),
        top.get("fitted_at", ""),
        source=file,
    )


# --------------------------------------------------------------------------- fitting
def _fit_group(points: list[SpeedPoint], bandwidth_gbps: float, prior: SpeedModel) -> DtypeFit:
    """Weighted least squares of seconds per token = a x bytes + b, weights 1 / t**2 (relative error)."""
    xs = [p.weights_bytes for p in points]
    ts = [1.0 / p.decode_tokens_per_s for p in points]
    ws = [1.0 / t**2 for t in ts]
    sxx = sum(w * x * x for w, x in zip(ws, xs, strict=True))
    sx = sum(w * x for w, x in zip(ws, xs, strict=True))
    s1 = sum(ws)
    sxt = sum(w * x * t for w, x, t in zip(ws, xs, ts, strict=True))
    st = sum(w * t for w, t in zip(ws, ts, strict=True))
    det = sxx * s1 - sx * sx
    distinct = len({round(x) for x in xs}) >= 2
    a = b = math.nan
    if distinct and det > 0:
        a = (sxt * s1 - sx * st) / det
        b = (sxx * st - sx * sxt) / det
    method = "efficiency and overhead"
    if not (distinct and a > 0 and b >= 0):
        # One model size (or an unphysical fit): keep the assumed overhead, fit the efficiency.
        b = prior.overhead_ms / 1000
        a = sum(w * x * (t - b) for w, x, t in zip(ws, xs, ts, strict=True)) / sxx
        method = "efficiency only (overhead assumed)"
        if a <= 0:
            b, a = 0.0, sxt / sxx
            method = "efficiency only (no overhead)"
    efficiency = 1.0 / (a * bandwidth_gbps * 1e9)
    models = tuple(dict.fromkeys(p.model for p in points))
    return DtypeFit(points[0].dtype, efficiency, b * 1000, len(points), models, method)


def fit_speed(
    points: Iterable[SpeedPoint],
    *,
    bandwidth_gbps: float,
    hardware_id: str,
    accelerator: str = "cpu",
) -> SpeedCalibration:
    """Fit the estimate's efficiency and per-token overhead to measured decode speeds, per dtype.

    Args:
        points: measurements made on one machine.
        bandwidth_gbps: the machine's bandwidth (the one the estimate will use).
        hardware_id: the machine.
        accelerator: where the measurements ran (its assumed overhead is the prior).

    Raises:
        RecommendationError: no usable measurement, or a non-positive bandwidth.
    """
    if not bandwidth_gbps > 0:
        raise RecommendationError(f"bandwidth_gbps must be > 0, got {bandwidth_gbps!r}.")
    usable = [p for p in points if p.weights_bytes > 0 and p.decode_tokens_per_s > 0]
    if not usable:
        raise RecommendationError(
            "No decode speed to calibrate with: run `hfbench run --suite quick` (its chat, "
            "summarization and text-generation cells measure decode tokens/s) and pass its results."
        )
    prior = speed_table().default_model(accelerator)
    groups: dict[str, list[SpeedPoint]] = {}
    for point in usable:
        groups.setdefault(point.dtype, []).append(point)
    fits = {dtype: _fit_group(group, bandwidth_gbps, prior) for dtype, group in sorted(groups.items())}
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return SpeedCalibration(hardware_id, accelerator, bandwidth_gbps, fits, tuple(usable), now)


# --------------------------------------------------------------------------- measurements
def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number > 0 else None


def _rows(results: Any) -> list[Mapping[str, Any]]:
    """Rows of a ``load_results`` DataFrame, or an iterable of row dictionaries."""
    to_dict = getattr(results, "to_dict", None)
    if callable(to_dict) and not isinstance(results, Mapping):
        return list(to_dict(orient="records"))
    if isinstance(results, (str, Path)):
        raise RecommendationError(
            f"calibrate_speed takes the rows of hfbench.bench.load_results({str(results)!r}), not a "
            "folder: the registry does not read result stores itself."
        )
    return [row for row in results if isinstance(row, Mapping)]


def speed_points(
    results: Any, *, hardware_id: str | None = None, accelerator: str | None = None
) -> list[SpeedPoint]:
    """The decode measurements in harness results: ``ok`` rows of decoders generating text, with
    decode tokens/s and weights (encoder-decoders and speech are left out: they read only part
    of their weights per token).

    Args:
        results: a ``hfbench.bench.load_results()`` DataFrame, or its rows as dictionaries
            (``model``, ``status``, ``dtype``, ``device``, ``decode_tokens_per_s``,
            ``weights_mb``, ``hardware_id``, ``capability``, ``cell_id``).
        hardware_id: keep only this machine's rows.
        accelerator: keep only rows that ran there (``cpu`` keeps ``device == "cpu"``).
    """
    points = []
    for row in _rows(results):
        if row.get("status", "ok") != "ok" or not _reads_all_weights_per_token(row):
            continue
        if hardware_id is not None and row.get("hardware_id") not in (None, hardware_id):
            continue
        device = str(row.get("device") or "")
        if accelerator is not None and device and device.split(":")[0] != accelerator:
            continue
        speed = _number(row.get("decode_tokens_per_s"))
        weights = _number(row.get("weights_mb"))
        dtype = row.get("dtype")
        if speed is None or weights is None or not is_dtype(dtype):
            continue
        points.append(
            SpeedPoint(
                str(row.get("model", "")),
                short_dtype(str(dtype)),
                weights * MIB,
                speed,
                str(row.get("capability") or ""),
                str(row.get("cell_id") or ""),
            )
        )
    return points


def _reads_all_weights_per_token(row: Mapping[str, Any]) -> bool:
    """Whether a row's decode speed fits the estimate's model (every weight read per token): a
    decoder generating text. An encoder-decoder (Whisper, BART) reads only its decoder per token,
    so its speed would bias the fit; hfbench's catalog says which models are which."""
    from hfbench.core.architecture import ModelArchitecture
    from hfbench.registry.files import package_catalog

    if row.get("capability") == "speech-recognition":
        return False
    known = package_catalog().get(str(row.get("model", "")))
    if known is None or known.architecture is None:
        return True
    return known.architecture in (ModelArchitecture.DECODER_ONLY, ModelArchitecture.MULTIMODAL)


def calibration_path(hardware_id: str) -> Path:
    """``<hfbench cache>/hardware/<hardware_id>-speed.json``."""
    from hfbench.sources.cache import cache_dir

    return cache_dir() / "hardware" / f"{hardware_id}-speed.json"


def load_calibration(hardware_id: str | None) -> SpeedCalibration | None:
    """This hardware id's cached calibration, if any (an unreadable file is logged and ignored)."""
    if not hardware_id:
        return None
    path = calibration_path(hardware_id)
    if not path.is_file():
        return None
    from hfbench.core.datafiles import read_data_file

    try:
        data = read_data_file(path, what="speed calibration", error=RecommendationError)
        return parse_calibration(data, file=str(path))
    except RecommendationError as exc:
        logger.warning("Ignoring the speed calibration %s: %s", path, exc)
        return None


def calibrate_speed(
    results: Any, *, system_info: SystemInfo | None = None, save: bool = True
) -> SpeedCalibration:
    """Fit the speed estimate to this machine's measured decode speeds, and cache it.

    Args:
        results: ``hfbench.bench.load_results(folder)`` (or its rows); only this machine's
            ``ok`` rows with a decode speed are used.
        system_info: the machine (default: this one); its hardware id selects the rows and names
            the cache file, its bandwidth (measured, from a profile, a GPU table or assumed) is
            the one the estimate uses.
        save: write ``<hfbench cache>/hardware/<hardware_id>-speed.json``, which every later
            estimate on this machine uses.

    Returns:
        The calibration (``describe()``, ``errors()`` per measurement).

    Raises:
        RecommendationError: no decode measurement of this machine in ``results``.
    """
    from hfbench.core.datafiles import write_data_file

    if system_info is None:
        from hfbench.core.hardware import system_info as current

        system_info = current()
    hardware_id = system_info.hardware_id()
    points = speed_points(results, hardware_id=hardware_id, accelerator=system_info.accelerator)
    if not points:
        raise RecommendationError(
            f"No decode measurement of this machine (hardware id {hardware_id}) in the results: "
            "run `hfbench run --suite quick` here and pass hfbench.bench.load_results(<its folder>)."
        )
    bandwidth = machine_bandwidth(system_info)
    calibration = fit_speed(
        points, bandwidth_gbps=bandwidth.gbps, hardware_id=hardware_id, accelerator=system_info.accelerator
    )
    if save:
        path = write_data_file(calibration_path(hardware_id), calibration.to_dict())
        logger.info("Speed calibration for %s written to %s: %s", hardware_id, path, calibration.describe())
    return calibration
