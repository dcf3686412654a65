"""Summary statistics of repeated measurements, and when to stop repeating.

Percentiles use numpy's default linear interpolation (``numpy.percentile(..., method="linear")``),
as vLLM's serving benchmark and optimum-benchmark do, so figures compare. The 95 % confidence
interval of the median is distribution-free: the order statistics whose ranks the binomial
distribution puts around the median (no resampling, so it is cheap enough to check after every
iteration). A measurement is *stable* when that interval lies within ±``rel_ci`` of the median.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: The percentile method, named in every record.
PERCENTILE_METHOD = "numpy linear interpolation"
#: The default stopping rule: the median's 95 % interval within ±5 % of the median.
DEFAULT_REL_CI = 0.05


@dataclass(frozen=True)
class Summary:
    """Statistics of one sample (seconds, tokens/s ... — the unit is the caller's).

    Attributes:
        n: how many values.
        mean, median, p90, p99, std, min, max: the usual (std with ``ddof=1``; 0 for one value).
        ci_low, ci_high: 95 % confidence interval of the median (None with fewer than 6 values:
            the order-statistic interval needs them).
    """

    n: int
    mean: float
    median: float
    p90: float
    p99: float
    std: float
    min: float
    max: float
    ci_low: float | None
    ci_high: float | None

    @property
    def rel_ci_halfwidth(self) -> float | None:
        """Half the confidence interval's width relative to the median (None when unknown)."""
        if self.ci_low is None or self.ci_high is None or self.median == 0:
            return None
        return (self.ci_high - self.ci_low) / 2 / abs(self.median)

    def stable(self, rel_ci: float = DEFAULT_REL_CI) -> bool:
        """Whether the median's interval lies within ±``rel_ci`` of the median."""
        if self.ci_low is None or self.ci_high is None:
            return False
        low, high = self.median * (1 - rel_ci), self.median * (1 + rel_ci)
        return low <= self.ci_low and self.ci_high <= high

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary."""
        return asdict(self)


def median_ci_ranks(n: int, confidence: float = 0.95) -> tuple[int, int] | None:
    """0-based ranks ``(lo, hi)`` of the sorted sample that bound the median with ``confidence``.

    ``[x(lo), x(n-1-lo)]`` misses the median when at most ``lo`` values fall below it, or at most
    ``lo`` above: coverage ``1 - 2 P(X <= lo)`` for ``X ~ Binomial(n, 1/2)``. The narrowest
    interval with enough coverage is returned; None when even ``[min, max]`` has too little
    (n < 6 at 95 %).
    """
    from scipy.stats import binom

    lo = int(binom.ppf((1 - confidence) / 2, n, 0.5)) if n > 0 else 0
    while lo >= 0 and 1 - 2 * binom.cdf(lo, n, 0.5) < confidence:
        lo -= 1
    if lo < 0 or n < 2:
        return None
    return lo, n - 1 - lo


def summarize(values: Sequence[float]) -> Summary:
    """Summary statistics of ``values`` (at least one).

    Raises:
        ValueError: an empty sample (a programming error, never a user's).
    """
    import numpy as np

    if len(values) == 0:
        raise ValueError("summarize() needs at least one value")
    data = np.asarray(values, dtype=np.float64)
    ranks = median_ci_ranks(len(data))
    ordered = np.sort(data)
    return Summary(
        n=len(data),
        mean=float(data.mean()),
        median=float(np.percentile(data, 50, method="linear")),
        p90=float(np.percentile(data, 90, method="linear")),
        p99=float(np.percentile(data, 99, method="linear")),
        std=float(data.std(ddof=1)) if len(data) > 1 else 0.0,
        min=float(ordered[0]),
        max=float(ordered[-1]),
        ci_low=float(ordered[ranks[0]]) if ranks else None,
        ci_high=float(ordered[ranks[1]]) if ranks else None,
    )
