"""Bootstrap confidence intervals for a metric over items, and paired comparisons of two models.

Method (named ``CI_METHOD`` in every result): a percentile bootstrap over *items*. Item indices
are resampled with replacement (``numpy.random.default_rng(seed).integers``), the metric's
corpus value is recomputed on each resample — BLEU, chrF, WER, macro-F1, Spearman and
perplexity from the resampled predictions and references, not by averaging per-item scores —
and the interval is the (2.5, 97.5) percentiles of the resampled values (numpy's linear
interpolation). Metrics that are by definition a mean of item scores (ROUGE-L, SQuAD) average
their resampled item scores, which is the same computation done faster.

The paired bootstrap (Koehn, 2004) applies the *same* resampled indices to two models'
predictions on the same items and takes the percentile interval of the differences
``metric(A) - metric(B)``: when it contains 0 the difference is not significant (a tie).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hfbench.bench.quality.metrics import Metric, get_metric

#: Resamples per interval.
DEFAULT_RESAMPLES = 1000
#: The confidence level of every interval.
DEFAULT_LEVEL = 0.95
#: How the intervals are computed, in one line (stored with each result).
CI_METHOD = (
    "percentile bootstrap over items: indices resampled with replacement "
    "(numpy default_rng(seed)), corpus metric recomputed per resample"
)


def _resampled_values(
    metric: Metric,
    predictions: list[Any],
    references: list[Any],
    indices: np.ndarray,
) -> np.ndarray:
    """The metric on each row of resampled ``indices`` (predictions/references already prepared)."""
    if metric.mean_of_items:
        scores = metric.item_scores(predictions, references)
        values: np.ndarray = scores[indices].mean(axis=1)
        return values
    return np.array(
        [metric.corpus([predictions[i] for i in row], [references[i] for i in row]) for row in indices],
        dtype=float,
    )


def _indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(
    metric: str | Metric,
    predictions: Sequence[Any],
    references: Sequence[Any],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a metric over items.

    Args:
        metric: a registered name or a ``Metric``.
        predictions, references: one per item, in the same order.
        n_resamples: how many resamples.
        level: the confidence level (0.95: a 95 % interval).
        seed: the resampling seed.

    Returns:
        ``(low, high)``; ``(value, value)`` for a single item.

    Raises:
        ConfigError: an unknown metric.
        ValueError: no items, or different numbers of predictions and references.
    """
    found = get_metric(metric)
    if len(predictions) != len(references) or not predictions:
        raise ValueError(
            f"bootstrap_ci needs matching, non-empty predictions and references for {found.name}."
        )
    preds, refs = found.prepare(predictions, references)
    values = _resampled_values(found, preds, refs, _indices(len(preds), n_resamples, seed))
    return _interval(values, level)


@dataclass(frozen=True)
class PairedComparison:
    """Model A against model B on the same items.

    Attributes:
        metric: the metric's name.
        value_a, value_b: each model's metric on all the items.
        difference: ``value_a - value_b`` (in the metric's units; its sign is not "better").
        ci_low, ci_high: the paired bootstrap interval of the difference.
        n: the number of items.
        significant: False when the interval contains 0 (a tie).
        better: ``a`` or ``b`` when significant (by the metric's direction), else None.
        method: how the interval was computed.
    """

    metric: str
    value_a: float
    value_b: float
    difference: float
    ci_low: float
    ci_high: float
    n: int
    significant: bool
    better: str | None
    method: str = "paired " + CI_METHOD

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary."""
        return asdict(self)


def paired_bootstrap(
    metric: str | Metric,
    predictions_a: Sequence[Any],
    predictions_b: Sequence[Any],
    references: Sequence[Any],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> PairedComparison:
    """Compare two models' predictions on the same items with a paired bootstrap.

    Args:
        metric: a registered name or a ``Metric``.
        predictions_a, predictions_b: each model's prediction per item (same items, same order).
        references: one per item.
        n_resamples, level, seed: as in ``bootstrap_ci``.

    Returns:
        The difference A - B, its interval, and which model is better if any.

    Raises:
        ConfigError: an unknown metric.
        ValueError: the three sequences differ in length, or are empty.
    """
    found = get_metric(metric)
    n = len(references)
    if not n or len(predictions_a) != n or len(predictions_b) != n:
        raise ValueError(
            f"paired_bootstrap needs one prediction per item from each model, got {len(predictions_a)}, "
            f"{len(predictions_b)} for {n} references."
        )
    preds_a, refs = found.prepare(predictions_a, references)
    preds_b, _ = found.prepare(predictions_b, references)
    indices = _indices(n, n_resamples, seed)
    differences = _resampled_values(found, preds_a, refs, indices) - _resampled_values(
        found, preds_b, refs, indices
    )
    low, high = _interval(differences, level)
    value_a, value_b = found.corpus(preds_a, refs), found.corpus(preds_b, refs)
    significant = bool(low > 0 or high < 0)
    better = None
    if significant:
        a_higher = value_a > value_b
        better = "a" if a_higher == found.higher_is_better else "b"
    return PairedComparison(
        metric=found.name,
        value_a=value_a,
        value_b=value_b,
        difference=value_a - value_b,
        ci_low=low,
        ci_high=high,
        n=n,
        significant=significant,
        better=better,
    )
