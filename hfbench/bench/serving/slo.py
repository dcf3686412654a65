"""Service-level objectives of a served model, and goodput: requests per second that meet them.

An SLO is a limit in milliseconds per request on one of ``SLO_METRICS`` (``--slo
ttft_ms=500,itl_ms=50``). A request is *good* when it succeeded and meets every limit given; the
goodput of a concurrency level is its good requests divided by the level's duration (vLLM's
``request_goodput``). The per-request figures, as ``metrics`` defines them:

* ``ttft_ms`` — time to first token;
* ``tpot_ms`` — time per output token after the first, ``(latency - TTFT) / (tokens - 1)`` (0 for a
  one-token answer, as vLLM counts it for goodput);
* ``itl_ms`` — every inter-token gap of the request, i.e. its longest gap (a stall the user sees;
  ``tpot_ms`` is the average instead);
* ``e2el_ms`` — end-to-end latency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hfbench.core.errors import BenchmarkError, did_you_mean

#: SLO name -> (the request's figure it limits, what it means).
SLO_METRICS: dict[str, tuple[str, str]] = {
    "ttft_ms": ("ttft_s", "time to first token"),
    "tpot_ms": ("tpot_s", "time per output token after the first (the request's average)"),
    "itl_ms": ("max_itl_s", "every inter-token gap (the request's longest)"),
    "e2el_ms": ("latency_s", "end-to-end latency"),
}


class Timed(Protocol):
    """What an SLO reads off a request (``metrics.RequestTiming``)."""

    @property
    def ok(self) -> bool: ...

    @property
    def ttft_s(self) -> float | None: ...

    @property
    def tpot_s(self) -> float | None: ...

    @property
    def max_itl_s(self) -> float | None: ...

    @property
    def latency_s(self) -> float | None: ...


@dataclass(frozen=True)
class SLO:
    """Limits per request, in milliseconds (an empty SLO: every successful request is good).

    Example:
        >>> slo = parse_slo("ttft_ms=500,itl_ms=50")
        >>> slo.limits_ms
        {'ttft_ms': 500.0, 'itl_ms': 50.0}
    """

    limits_ms: Mapping[str, float] = field(default_factory=dict)

    def met_by(self, request: Timed) -> bool:
        """Whether a request succeeded and meets every limit."""
        if not request.ok:
            return False
        for name, limit in self.limits_ms.items():
            value = getattr(request, SLO_METRICS[name][0])
            if value is None:
                value = 0.0  # a one-token answer has no TPOT and no gap: nothing to exceed
            if value * 1000.0 > limit:
                return False
        return True

    def good(self, requests: Iterable[Timed]) -> int:
        """How many requests meet the SLO."""
        return sum(1 for r in requests if self.met_by(r))

    def to_dict(self) -> dict[str, float]:
        """``{"ttft_ms": 500.0, ...}``."""
        return dict(self.limits_ms)

    def describe(self) -> str:
        """``ttft_ms<=500, itl_ms<=50`` (or ``none``)."""
        return ", ".join(f"{k}<={v:g}" for k, v in self.limits_ms.items()) or "none"

    def __bool__(self) -> bool:
        return bool(self.limits_ms)


def parse_slo(value: str | Mapping[str, Any] | SLO | None) -> SLO:
    """An SLO from ``"ttft_ms=500,itl_ms=50"``, a mapping, or None (no limits).

    Raises:
        BenchmarkError: an unknown metric (did-you-mean) or a limit that is not a positive number.
    """
    if value is None:
        return SLO()
    if isinstance(value, SLO):
        return value
    if isinstance(value, str):
        pairs: list[tuple[str, Any]] = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            name, sep, limit = part.partition("=")
            if not sep:
                raise BenchmarkError(f"An SLO is name=milliseconds (e.g. ttft_ms=500), got {part!r}.")
            pairs.append((name.strip(), limit.strip()))
    elif isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        raise BenchmarkError(f"An SLO is 'ttft_ms=500,itl_ms=50' or a table, got {value!r}.")
    limits: dict[str, float] = {}
    for name, limit in pairs:
        if name not in SLO_METRICS:
            raise BenchmarkError(
                f"Unknown SLO metric {name!r}; valid: {', '.join(SLO_METRICS)} (milliseconds)."
                + did_you_mean(name, SLO_METRICS)
            )
        try:
            number = float(limit)
        except (TypeError, ValueError):
            number = -1.0
        if not number > 0:
            raise BenchmarkError(f"The SLO {name} must be a number of milliseconds > 0, got {limit!r}.")
        limits[name] = number
    return SLO(limits)
