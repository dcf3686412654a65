"""Latency: time a call repeatedly until its median is known well enough, warm-up not counted.

``measure_latency(call, rule)`` runs ``rule.warmup`` calls that are not counted, then timed calls
until the 95 % interval of the median lies within ±``rule.rel_ci`` of it (``stats.Summary.stable``)
— at least ``rule.min_iterations`` and ``rule.min_duration_s``, at most ``rule.max_iterations`` or
``rule.max_duration_s`` (the record says which ended it). Each timed call runs inside
``pipelines.timing.record_timings()``, so generation calls also give per-token timings
(``GenerationLatency``: TTFT, inter-token latency, TPOT, decode and prefill tokens/s, each
summarised over iterations; definitions in ``pipelines/timing.py`` and docs/benchmarks.md). On
CUDA every call is bracketed by ``torch.cuda.synchronize()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from hfbench.bench.stats import DEFAULT_REL_CI, PERCENTILE_METHOD, Summary, summarize
from hfbench.pipelines.timing import GenerationTiming, record_timings

T = TypeVar("T")

StopReason = Literal["stable", "time cap", "iteration cap"]


@dataclass(frozen=True)
class StopRule:
    """When to stop timing.

    Attributes:
        warmup: calls run first and not counted (compilation, caches, lazy initialisation).
        min_iterations, max_iterations: bounds on counted calls.
        min_duration_s: keep going at least this long (seconds of counted calls).
        max_duration_s: stop after this long even if not stable (the record says so).
        rel_ci: stop when the median's 95 % interval is within ±this fraction of the median.
    """

    warmup: int = 1
    min_iterations: int = 6
    max_iterations: int = 200
    min_duration_s: float = 0.0
    max_duration_s: float = 30.0
    rel_ci: float = DEFAULT_REL_CI

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return dict(vars(self))


@dataclass
class Measured(Generic[T]):
    """What ``measure_latency`` found: the per-call summary, why it stopped, and the outputs."""

    e2e: Summary
    values_s: list[float]
    stop_reason: StopReason
    rule: StopRule
    warmup_s: list[float]
    generation: list[GenerationTiming] = field(default_factory=list)
    outputs: list[T] = field(default_factory=list, repr=False)

    @property
    def stable(self) -> bool:
        """Whether the stopping rule's precision was reached."""
        return self.stop_reason == "stable"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (outputs left out; per-token timings summarised by ``GenerationLatency``)."""
        out: dict[str, Any] = {
            "unit": "s",
            "e2e": self.e2e.to_dict(),
            "iterations": self.e2e.n,
            "stop_reason": self.stop_reason,
            "stable": self.stable,
            "rule": self.rule.to_dict(),
            "warmup_s": self.warmup_s,
            "values_s": self.values_s,
            "percentile_method": PERCENTILE_METHOD,
        }
        if self.generation:
            out["generation"] = GenerationLatency.from_timings(self.generation).to_dict()
        return out


def _synchronize() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def measure_latency(call: Callable[[], T], rule: StopRule | None = None) -> Measured[T]:
    """Time ``call`` per the stopping rule (see the module docstring).

    Returns:
        The summary of counted calls (seconds), why timing stopped, the warm-up times, the
        per-token timings of every ``generate`` inside counted calls, and each call's output.
    """
    rule = rule or StopRule()
    warmup_s: list[float] = []
    for _ in range(rule.warmup):
        _synchronize()
        start = time.perf_counter()
        call()
        _synchronize()
        warmup_s.append(time.perf_counter() - start)
    values: list[float] = []
    outputs: list[T] = []
    generation: list[GenerationTiming] = []
    reason: StopReason = "iteration cap"
    while len(values) < rule.max_iterations:
        with record_timings() as recorder:
            _synchronize()
            start = time.perf_counter()
            outputs.append(call())
            _synchronize()
            values.append(time.perf_counter() - start)
        generation.extend(recorder.calls)
        spent = sum(values)
        enough = len(values) >= rule.min_iterations and spent >= rule.min_duration_s
        if enough and summarize(values).stable(rule.rel_ci):
            reason = "stable"
            break
        if spent >= rule.max_duration_s:
            reason = "time cap"
            break
    return Measured(summarize(values), values, reason, rule, warmup_s, generation, outputs)


@dataclass(frozen=True)
class GenerationLatency:
    """Per-token figures over the timed ``generate`` calls (vLLM's and optimum-benchmark's names).

    Attributes:
        ttft_s: time to first token per call.
        itl_s: inter-token latencies, every gap of every call pooled (vLLM's ITL).
        tpot_s: time per output token after the first, per call: decode time / (tokens - 1).
        decode_tokens_per_s: tokens after the first / decode time, per call (per row of a batch).
        prefill_tokens_per_s: prompt tokens / TTFT, per call.
        output_tokens: generation steps per call (tokens per row).
    """

    ttft_s: Summary | None
    itl_s: Summary | None
    tpot_s: Summary | None
    decode_tokens_per_s: Summary | None
    prefill_tokens_per_s: Summary | None
    output_tokens: Summary | None

    @classmethod
    def from_timings(cls, timings: list[GenerationTiming]) -> GenerationLatency:
        """Summarise the timings of several ``generate`` calls."""

        def maybe(values: list[float | None]) -> Summary | None:
            present = [v for v in values if v is not None]
            return summarize(present) if present else None

        tpot = [
            t.decode_s / (t.steps - 1) if t.decode_s is not None and t.steps > 1 else None for t in timings
        ]
        return cls(
            ttft_s=maybe([t.ttft_s for t in timings]),
            itl_s=maybe([gap for t in timings for gap in t.inter_token_s]),
            tpot_s=maybe(tpot),
            decode_tokens_per_s=maybe([t.decode_tokens_per_s for t in timings]),
            prefill_tokens_per_s=maybe([t.prefill_tokens_per_s for t in timings]),
            output_tokens=maybe([float(t.steps) for t in timings]),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: each figure's summary (or None)."""
        return {name: (value.to_dict() if value is not None else None) for name, value in vars(self).items()}
