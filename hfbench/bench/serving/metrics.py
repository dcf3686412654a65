"""Per-request timings of a served model and the figures of one concurrency level.

Definitions (vLLM's serving benchmark, ``vllm/benchmarks/serve.py`` ``calculate_metrics`` and
``lib/endpoint_request_func.py``, so the numbers compare; where hfbench differs, it says why):

* **TTFT** — from sending the request to the first streamed chunk that carries text. (vLLM takes
  the first chunk with any choice; ``transformers serve`` sends a role-only chunk before it has
  generated anything, which would make TTFT the time to that empty chunk.)
* **ITL** — every gap between consecutive chunks that carry text, pooled over the level's
  requests (a chunk holding several tokens is one gap, as in vLLM).
* **E2E latency** — from sending to the last chunk that carries a choice (text or the finish
  reason), as vLLM's ``latency``.
* **TPOT** — per request, ``(latency - TTFT) / (output tokens - 1)``, for requests with more than
  one output token (never mixed with TTFT).
* **output tokens** — counted with the model's own tokenizer on the streamed text
  (``add_special_tokens=False``), else the server's ``usage.completion_tokens``, else the number
  of text chunks; ``token_count`` says which.
* **output tokens/s per request** — the request's output tokens / its E2E latency.
* **aggregate** — output tokens/s = all output tokens / the level's duration; request throughput =
  completed requests / duration; goodput = requests meeting every SLO / duration; the duration runs
  from the level's first send to its last answer.
* **percentiles** — numpy's linear interpolation (``hfbench.bench.stats.summarize``): ``median`` is
  p50, with ``p90`` and ``p99``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hfbench.bench.serving.slo import SLO
from hfbench.bench.stats import summarize


@dataclass
class RequestTiming:
    """One request of a level, as the client saw it.

    Attributes:
        index: the request's number in its level.
        prompt_id: the prompt's id (its source passages).
        start_s: when it was sent, seconds after the level started.
        ttft_s: send → first chunk with text (None when none came).
        latency_s: send → last chunk with a choice (None on failure).
        itl_s: the gaps between consecutive chunks with text.
        text: the streamed text (kept for counting, not written into records).
        output_tokens: tokens generated (see ``token_count`` of the level).
        usage_completion_tokens, usage_prompt_tokens: what the server's ``usage`` reported.
        input_tokens: the prompt's tokens by the client's count.
        error: why it failed ("" when it did not).
        status: the HTTP status of a refused request (0: no answer, e.g. a refused connection).
    """

    index: int
    prompt_id: str = ""
    start_s: float = 0.0
    ttft_s: float | None = None
    latency_s: float | None = None
    itl_s: list[float] = field(default_factory=list)
    text: str = ""
    output_tokens: int = 0
    usage_completion_tokens: int | None = None
    usage_prompt_tokens: int | None = None
    input_tokens: int | None = None
    error: str = ""
    status: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the request succeeded (an answer with at least one text chunk)."""
        return not self.error and self.ttft_s is not None and self.latency_s is not None

    @property
    def tpot_s(self) -> float | None:
        """``(latency - TTFT) / (output tokens - 1)``; None for failures and one-token answers."""
        if not self.ok or self.output_tokens < 2:
            return None
        assert self.latency_s is not None and self.ttft_s is not None
        return (self.latency_s - self.ttft_s) / (self.output_tokens - 1)

    @property
    def max_itl_s(self) -> float | None:
        """The request's longest gap between text chunks (None with fewer than two chunks)."""
        return max(self.itl_s) if self.itl_s else None

    @property
    def output_tokens_per_s(self) -> float | None:
        """Output tokens / end-to-end latency."""
        if not self.ok or not self.latency_s:
            return None
        return self.output_tokens / self.latency_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for the level's record (without the text)."""
        data = asdict(self)
        data.pop("text")
        data["tpot_s"] = self.tpot_s
        data["output_chars"] = len(self.text)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestTiming:
        """The inverse of ``to_dict`` (text left empty)."""
        known: dict[str, Any] = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "text"}
        known["itl_s"] = list(known.get("itl_s") or [])
        known["error"] = known.get("error") or ""
        return cls(**known)


@dataclass(frozen=True)
class LevelMetrics:
    """The figures of one concurrency level (times in seconds; see the module's definitions).

    Attributes:
        concurrency: requests in flight at once.
        completed, failed: requests that succeeded / failed.
        duration_s: the level's first send to its last answer.
        output_tokens, input_tokens: totals over completed requests.
        request_throughput_per_s, output_tokens_per_s, total_tokens_per_s: aggregates per second.
        good_requests, goodput_per_s: requests meeting the SLO, and per second.
        ttft_s, itl_s, tpot_s, e2el_s, request_output_tokens_per_s: ``Summary.to_dict()`` of each
            (``n``, ``mean``, ``median`` = p50, ``p90``, ``p99``, ``std``, ``min``, ``max``, median
            interval), None when nothing was measured.
    """

    concurrency: int
    completed: int
    failed: int
    duration_s: float
    output_tokens: int
    input_tokens: int
    request_throughput_per_s: float
    output_tokens_per_s: float
    total_tokens_per_s: float
    good_requests: int
    goodput_per_s: float
    slo: dict[str, float]
    ttft_s: dict[str, Any] | None
    itl_s: dict[str, Any] | None
    tpot_s: dict[str, Any] | None
    e2el_s: dict[str, Any] | None
    request_output_tokens_per_s: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return asdict(self)


def _summary(values: Sequence[float]) -> dict[str, Any] | None:
    return summarize(values).to_dict() if values else None


def level_metrics(
    requests: Sequence[RequestTiming], *, concurrency: int, duration_s: float, slo: SLO
) -> LevelMetrics:
    """The level's figures from its requests (output tokens already counted)."""
    done = [r for r in requests if r.ok]
    output = sum(r.output_tokens for r in done)
    inputs = sum((r.usage_prompt_tokens or r.input_tokens or 0) for r in done)
    per_s = 1.0 / duration_s if duration_s > 0 else 0.0
    good = slo.good(requests)
    return LevelMetrics(
        concurrency=concurrency,
        completed=len(done),
        failed=len(requests) - len(done),
        duration_s=duration_s,
        output_tokens=output,
        input_tokens=inputs,
        request_throughput_per_s=len(done) * per_s,
        output_tokens_per_s=output * per_s,
        total_tokens_per_s=(output + inputs) * per_s,
        good_requests=good,
        goodput_per_s=good * per_s,
        slo=slo.to_dict(),
        ttft_s=_summary([r.ttft_s for r in done if r.ttft_s is not None]),
        itl_s=_summary([gap for r in done for gap in r.itl_s]),
        tpot_s=_summary([t for r in done if (t := r.tpot_s) is not None]),
        e2el_s=_summary([r.latency_s for r in done if r.latency_s is not None]),
        request_output_tokens_per_s=_summary([v for r in done if (v := r.output_tokens_per_s) is not None]),
    )
