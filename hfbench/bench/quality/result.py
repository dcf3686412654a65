"""``QualityResult``: one quality measurement — metric, interval, confidence, items and provenance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ItemRecord:
    """One item's outcome: enough to rescore it or to compare two models on it.

    Attributes:
        id: the item's id in its eval set.
        prediction: what the model produced (text, label, similarity, ``{"nll", "tokens"}``).
        reference: the expected output.
        score: the item's own score, for metrics that are a mean of item scores (else None).
    """

    id: str
    prediction: Any
    reference: Any
    score: float | None = None


@dataclass(frozen=True)
class MetricValue:
    """A metric's value on a set of items with its bootstrap interval."""

    value: float
    ci_low: float
    ci_high: float


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN or infinity: they become null."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class QualityResult:
    """The quality of one model on one capability, measured on an eval set through its pipeline.

    Attributes:
        model: the model's name (as loaded), when known.
        capability: the capability measured.
        eval_set: the eval set's name.
        metric: the primary metric's name; ``value``, ``ci_low``, ``ci_high`` are its value and
            bootstrap 95 % interval; ``higher_is_better`` its direction.
        n: how many items were scored.
        confidence: ``confidence_from_metric(metric, value)``, in [0, 1].
        seconds: wall time of the predictions (the model's work) and the scoring.
        ci_method: how the interval was computed.
        other_metrics: further metrics on the same predictions, by name.
        records: one per item, in eval set order.
        provenance: the eval set's provenance (``Provenance.to_dict()``).
        options, overrides: the task options and per-call config used.
    """

    capability: str
    eval_set: str
    metric: str
    higher_is_better: bool
    value: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float
    seconds: float
    ci_method: str
    records: tuple[ItemRecord, ...]
    provenance: dict[str, Any]
    other_metrics: dict[str, MetricValue] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    model: str | None = None

    @property
    def hand_made(self) -> bool:
        """Whether the eval set was written by hand (not an established data set)."""
        return bool(self.provenance.get("hand_made", False))

    @property
    def predictions(self) -> list[Any]:
        """The predictions, in item order."""
        return [r.prediction for r in self.records]

    @property
    def references(self) -> list[Any]:
        """The references, in item order."""
        return [r.reference for r in self.records]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary (non-finite numbers become null)."""
        data = asdict(self)
        for key in ("value", "ci_low", "ci_high"):
            data[key] = _finite_or_none(data[key])
        data["records"] = [asdict(r) for r in self.records]
        data["other_metrics"] = {
            name: {k: _finite_or_none(v) for k, v in asdict(m).items()}
            for name, m in self.other_metrics.items()
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityResult:
        """The result written by ``to_dict`` (null numbers come back as NaN)."""
        values = dict(data)

        def number(x: Any) -> float:
            return float("nan") if x is None else float(x)

        for key in ("value", "ci_low", "ci_high"):
            values[key] = number(values[key])
        values["records"] = tuple(ItemRecord(**r) for r in values.get("records", ()))
        values["other_metrics"] = {
            name: MetricValue(**{k: number(v) for k, v in m.items()})
            for name, m in values.get("other_metrics", {}).items()
        }
        return cls(**values)
