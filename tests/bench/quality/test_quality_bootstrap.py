"""Bootstrap intervals narrow with more items; paired comparisons call ties and winners."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from hfbench.bench.quality import bootstrap_ci, paired_bootstrap
from hfbench.bench.quality.metrics import Accuracy


def synthetic(n: int, right: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` labels and predictions of which a share ``right`` are correct."""
    rng = np.random.default_rng(seed)
    refs = [str(x) for x in rng.integers(0, 2, size=n)]
    correct = rng.random(n) < right
    preds = [r if ok else ("1" if r == "0" else "0") for r, ok in zip(refs, correct, strict=True)]
    return preds, refs


def test_an_interval_narrows_with_more_items() -> None:
    small = bootstrap_ci("accuracy", *synthetic(20, 0.7))
    large = bootstrap_ci("accuracy", *synthetic(200, 0.7))
    assert large[1] - large[0] < (small[1] - small[0]) * 0.6


def test_an_interval_holds_the_value_and_is_reproducible() -> None:
    preds, refs = synthetic(100, 0.8)
    low, high = bootstrap_ci("accuracy", preds, refs, seed=7)
    assert low <= Accuracy().value(preds, refs) <= high
    assert (low, high) == bootstrap_ci("accuracy", preds, refs, seed=7)


class CountingAccuracy(Accuracy):
    """Accuracy that counts how often its corpus value is computed."""

    calls = 0

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        type(self).calls += 1
        return super().corpus(predictions, references)


def test_corpus_metrics_are_recomputed_on_every_resample() -> None:
    bootstrap_ci(CountingAccuracy(), *synthetic(30, 0.5), n_resamples=200)
    assert CountingAccuracy.calls == 200


def test_wer_interval_resamples_the_corpus() -> None:
    refs = ["one two three four", "five", "six seven"]
    preds = ["one two three four", "nine", "six seven"]
    low, high = bootstrap_ci("wer", preds, refs)
    # a resample without the wrong item has WER 0; one made only of it has WER 1
    assert low == 0.0 and 0.1 < high <= 1.0


def test_identical_predictions_are_a_tie_with_zero_difference() -> None:
    preds, refs = synthetic(50, 0.6)
    comparison = paired_bootstrap("accuracy", preds, list(preds), refs)
    assert comparison.difference == 0.0
    assert comparison.ci_low == comparison.ci_high == 0.0
    assert not comparison.significant and comparison.better is None


def test_a_clearly_better_model_wins_the_paired_comparison() -> None:
    preds_good, refs = synthetic(100, 0.95)
    preds_bad, _ = synthetic(100, 0.40, seed=0)
    comparison = paired_bootstrap("accuracy", preds_good, preds_bad, refs)
    assert comparison.significant and comparison.better == "a"
    assert comparison.ci_low > 0


def test_lower_is_better_metrics_pick_the_lower_value() -> None:
    refs = ["the cat sat on the mat"] * 30
    comparison = paired_bootstrap("wer", ["the cat sat on the hat"] * 30, refs, refs)
    assert comparison.difference > 0 and comparison.significant and comparison.better == "b"


def test_close_models_are_a_tie() -> None:
    preds_a, refs = synthetic(40, 0.70, seed=1)
    preds_b = list(preds_a)
    preds_b[0] = "1" if preds_b[0] == "0" else "0"  # one item differs
    comparison = paired_bootstrap("accuracy", preds_a, preds_b, refs)
    assert comparison.ci_low <= 0 <= comparison.ci_high and not comparison.significant


def test_paired_bootstrap_needs_the_same_items() -> None:
    with pytest.raises(ValueError, match="one prediction per item"):
        paired_bootstrap("accuracy", ["a"], ["a", "b"], ["a"])
