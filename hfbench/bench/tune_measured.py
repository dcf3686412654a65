"""Measured confidences and figures from harness records, in the registry's shapes.

* ``measured_capabilities(results, model)`` — capability -> (confidence, evidence) for
  ``ModelCapabilities.apply_measured``, from records, a results folder or a ``load_results`` frame;
* ``measured_figures(record)`` — one capability's entry of a tuned recommendation's ``measured``
  (confidence, evidence, latency, throughput, memory);
* ``recommendation_recipe(record)`` — a tuned recommendation's ``recipe``.

Evidence keys: ``metric``, ``value``, ``ci_low``, ``ci_high``, ``n``, ``eval_set``,
``hardware_id``, ``hand_made`` (and ``higher_is_better``), the same in both places.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hfbench.bench.results import load_results, record_row
from hfbench.core.capability import canonical_capability
from hfbench.registry.recommendation import RECIPE_FIELDS

if TYPE_CHECKING:
    import pandas as pd

MeasuredCapabilities = dict[str, tuple[float, dict[str, Any]]]
"""capability -> (confidence, evidence): the arguments of ``ModelCapabilities.apply_measured``."""

#: Figures copied from a record's tidy row into a tuned recommendation's ``measured`` entry.
FIGURE_COLUMNS = (
    "latency_median_s",
    "ttft_median_s",
    "decode_tokens_per_s",
    "samples_per_s",
    "real_time_factor",
    "model_mb",
    "weights_mb",
    "cell_id",
)


def clean(value: Any) -> Any:
    """A table cell as a plain Python value: NaN, NA and NaT become None, numpy scalars Python's."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return value


def finite_number(value: Any) -> float | None:
    """A table cell as a finite float, else None (missing, NaN, infinite, not a number, a bool)."""
    value = clean(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def evidence_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence behind a row's measured confidence (a ``load_results`` row or ``record_row``)."""
    n = clean(row.get("quality_n"))
    hand_made = clean(row.get("hand_made"))
    higher = clean(row.get("higher_is_better"))
    value = clean(row.get("quality_value"))
    low, high = clean(row.get("quality_ci_low")), clean(row.get("quality_ci_high"))
    return {
        "metric": str(clean(row.get("quality_metric")) or ""),
        "value": None if value is None else float(value),
        "ci_low": None if low is None else float(low),
        "ci_high": None if high is None else float(high),
        "n": None if n is None else int(n),
        "eval_set": clean(row.get("eval_set")),
        "hardware_id": clean(row.get("hardware_id")),
        "hand_made": None if hand_made is None else bool(hand_made),
        "higher_is_better": None if higher is None else bool(higher),
    }


def measured_figures(record: Mapping[str, Any]) -> dict[str, Any]:
    """One capability's ``measured`` entry for a tuned recommendation, from an ``ok`` record with
    quality: confidence, evidence, speed and memory figures (Nones left out)."""
    row = record_row(record)
    figures: dict[str, Any] = {
        "confidence": float(row["confidence"]),
        "evidence": {k: v for k, v in evidence_from_row(row).items() if v is not None},
        "measured_at": row.get("finished_at"),
    }
    for column in FIGURE_COLUMNS:
        figures[column] = clean(row.get(column))
    return {k: v for k, v in figures.items() if v is not None}


def recommendation_recipe(record: Mapping[str, Any]) -> dict[str, Any]:
    """A tuned recommendation's ``recipe``: the record's runtime recipe (the keys the registry
    validates) plus the cell's settings; ``batch_size`` is the inputs per speed call when the
    config did not set a number (none, or ``"auto"``, which the settings keep)."""
    recipe = {k: v for k, v in (record.get("recipe") or {}).items() if k in RECIPE_FIELDS and v is not None}
    if not isinstance(recipe.get("batch_size"), int):
        recipe.pop("batch_size", None)
        inputs = (record.get("speed_workload") or {}).get("inputs")
        if isinstance(inputs, int) and inputs >= 1:
            recipe["batch_size"] = inputs
    recipe["settings"] = dict(record.get("settings") or {})
    return recipe


def results_frame(
    results: pd.DataFrame | Iterable[Mapping[str, Any]] | str | os.PathLike[str],
) -> pd.DataFrame:
    """A ``load_results``-shaped frame from a frame, harness records or a results folder."""
    import pandas as pd

    from hfbench.bench.results import RESULT_COLUMNS

    if isinstance(results, pd.DataFrame):
        return results
    if isinstance(results, (str, os.PathLike)):
        return load_results(results)
    return pd.DataFrame([record_row(r) for r in results], columns=list(RESULT_COLUMNS))


def measured_capabilities(
    results: pd.DataFrame | Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    model: str,
    hardware_id: str | None = None,
) -> MeasuredCapabilities:
    """A model's measured confidences, per capability, with their evidence.

    Uses the ``ok`` rows with a measured confidence; where a capability was measured in several
    cells (a sweep, or several machines), the most recently finished one counts.

    Args:
        results: harness records, a results folder, or a ``load_results`` DataFrame.
        model: the model's name as recorded (``embedded:smollm2-135m-instruct``, a Hub id or a
            folder); when no row has it exactly, rows whose short name (last part) equals it.
        hardware_id: only records made on this machine (None: any machine).

    Returns:
        capability -> (confidence, evidence); pass each to ``ModelCapabilities.apply_measured``.
        Evidence: metric, value, ci_low, ci_high, n, eval_set, hardware_id, hand_made,
        higher_is_better.

    Example:
        >>> caps = hfbench.ModelCapabilities("decoder_only")                    # doctest: +SKIP
        >>> for name, (conf, evidence) in measured_capabilities("results", "gpt2").items():
        ...     caps.apply_measured(name, conf, evidence)                          # doctest: +SKIP
    """
    frame = results_frame(results)
    rows = frame[frame["model"] == model]
    if rows.empty:
        rows = frame[frame["short_model"] == model]
    rows = rows[(rows["status"] == "ok") & rows["confidence"].notna()]
    if hardware_id is not None:
        rows = rows[rows["hardware_id"] == hardware_id]
    rows = rows.sort_values("finished_at", kind="stable", na_position="first")
    out: MeasuredCapabilities = {}
    for row in rows.to_dict("records"):
        capability = canonical_capability(str(row["capability"]))
        out[capability] = (float(row["confidence"]), evidence_from_row(row))
    return out
