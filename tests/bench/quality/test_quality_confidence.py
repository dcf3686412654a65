"""The measured-confidence mapping: in [0, 1] and monotone in the metric's direction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hfbench.bench.quality import confidence_from_metric, get_metric, metric_names


@pytest.mark.parametrize("name", metric_names())
def test_confidence_is_in_range_and_monotone(name: str) -> None:
    metric = get_metric(name)
    low, high = metric.value_range
    grid = np.linspace(-1.0 if low is None else low, 3000.0 if high is None else high, 400)
    confidences = [confidence_from_metric(name, float(v)) for v in grid]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    steps = np.diff(confidences)
    if metric.higher_is_better:
        assert (steps >= 0).all()
    else:
        assert (steps <= 0).all()
    assert max(confidences) - min(confidences) > 0.5  # the scale covers the metric's useful range


def test_documented_anchor_points() -> None:
    assert confidence_from_metric("accuracy", 0.8) == pytest.approx(0.8)
    assert confidence_from_metric("squad-f1", 80.0) == pytest.approx(0.8)
    assert confidence_from_metric("wer", 0.25) == pytest.approx(0.75)
    assert confidence_from_metric("wer", 3.0) == 0.0
    assert confidence_from_metric("spearman", -0.4) == 0.0
    assert confidence_from_metric("spearman", 0.6) == pytest.approx(0.6)
    assert confidence_from_metric("perplexity", 1.0) == 1.0
    assert confidence_from_metric("perplexity", 1000.0) == pytest.approx(0.0)
    assert confidence_from_metric("perplexity", math.sqrt(1000)) == pytest.approx(0.5)
    assert confidence_from_metric("perplexity", math.inf) == 0.0
    assert confidence_from_metric("accuracy", math.nan) == 0.0
