"""Measured confidence: a metric's value mapped to [0, 1] by a documented, monotone rule.

Each metric names the value that counts as no confidence (``confidence_worst``) and the value
that counts as full confidence (``confidence_best``); the confidence is the value's position
between them, clipped to [0, 1]::

    confidence = clip((f(value) - f(worst)) / (f(best) - f(worst)), 0, 1)

with ``f`` the identity, or ``log`` for metrics with ``confidence_log`` (perplexity). The rule
is non-decreasing in the value for higher-is-better metrics and non-increasing for
lower-is-better ones (their worst is above their best). The defaults:

=================  =====  ======  ==============================================================
metric             worst  best    so that
=================  =====  ======  ==============================================================
accuracy, macro-f1 0      1       the value as it is
rouge-l            0      0.5     ROUGE-L 0.5 is full (the best published XSum systems: ~0.4)
squad-*            0      100     the value / 100
chrf               0      70      chrF 70 (a strong system on formal text) is full
bleu               0      50      BLEU 50 is full
spearman           0      1       max(rho, 0): an inverse ranking earns nothing
wer                1      0       1 - min(WER, 1)
perplexity         1000   1 (log) 1 - ln(PPL) / ln(1000): PPL 1000 (roughly a unigram model) is 0
=================  =====  ======  ==============================================================
"""

from __future__ import annotations

import math

from hfbench.bench.quality.metrics import Metric, get_metric


def confidence_from_metric(metric: str | Metric, value: float) -> float:
    """A metric's value as a confidence in [0, 1] (see the module's table).

    Args:
        metric: a registered metric name (or alias), or a ``Metric``.
        value: the metric's value, in the metric's own units (chrF 0-100, accuracy 0-1 ...).

    Returns:
        The confidence; 0 for a NaN value.

    Raises:
        ConfigError: an unknown metric name.

    Example:
        >>> confidence_from_metric("wer", 0.25)
        0.75
    """
    found = get_metric(metric)
    if math.isnan(value):
        return 0.0

    def scale(x: float) -> float:
        return math.log(max(x, 1e-12)) if found.confidence_log else x

    if math.isinf(value):
        good_end = (value > 0) == (found.confidence_best > found.confidence_worst)
        return 1.0 if good_end else 0.0
    worst, best = scale(found.confidence_worst), scale(found.confidence_best)
    position = (scale(value) - worst) / (best - worst)
    return min(1.0, max(0.0, position))
