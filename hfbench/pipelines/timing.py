"""The measurement seam: per-token timings of the real generation path, recorded on request.

The benchmark harness measures hfbench's own code path rather than re-implementing it: it runs a
pipeline inside ``record_timings()``, and every ``model.generate`` call made meanwhile gets a
``TokenTimer`` logits processor, which notes the time each step's logits are ready (after a
``torch.cuda.synchronize()`` on CUDA, so the time is the GPU's, not the launch's). Outside
``record_timings()`` nothing is added, so ordinary calls pay nothing.

From one ``generate`` call (``GenerationTiming``):

- time to first token (TTFT) = first logits - start (the prefill);
- inter-token latencies = gaps between consecutive logits (one per token after the first);
- decode time = end - first logits, and decode tokens/s = tokens after the first / decode time
  (optimum-benchmark's definition);
- prefill tokens/s = prompt tokens / TTFT.

The list of token times belongs to one call, never to a session, so iterations do not mix.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GenerationTiming:
    """When one ``generate`` call started, produced each step's logits, and returned.

    Attributes:
        start: ``time.perf_counter()`` just before ``generate``.
        token_times: ``perf_counter`` at each step's logits (one per generated token and row
            of the batch; all rows share a step).
        end: ``perf_counter`` when ``generate`` returned.
        prompt_tokens: prompt tokens of all rows, without padding.
        batch_size: rows generated together.
    """

    start: float
    token_times: list[float] = field(default_factory=list)
    end: float = 0.0
    prompt_tokens: int = 0
    batch_size: int = 1

    @property
    def steps(self) -> int:
        """Generation steps (tokens generated per row, for the longest row)."""
        return len(self.token_times)

    @property
    def ttft_s(self) -> float | None:
        """Time to the first token's logits (the prefill), in seconds."""
        return self.token_times[0] - self.start if self.token_times else None

    @property
    def decode_s(self) -> float | None:
        """From the first token to the end of ``generate``, in seconds."""
        return self.end - self.token_times[0] if self.token_times and self.end else None

    @property
    def e2e_s(self) -> float:
        """The whole ``generate`` call, in seconds."""
        return self.end - self.start

    @property
    def inter_token_s(self) -> list[float]:
        """Gaps between consecutive tokens (steps), in seconds."""
        return [b - a for a, b in zip(self.token_times, self.token_times[1:], strict=False)]

    @property
    def decode_tokens_per_s(self) -> float | None:
        """Tokens after the first, per second of decode time, for one row (optimum-benchmark's)."""
        decode = self.decode_s
        if decode is None or decode <= 0 or self.steps < 2:
            return None
        return (self.steps - 1) / decode

    @property
    def prefill_tokens_per_s(self) -> float | None:
        """Prompt tokens per second of prefill."""
        ttft = self.ttft_s
        return self.prompt_tokens / ttft if ttft and ttft > 0 and self.prompt_tokens else None

    def to_dict(self) -> dict[str, Any]:
        """The derived figures, JSON-able."""
        return {
            "ttft_s": self.ttft_s,
            "decode_s": self.decode_s,
            "e2e_s": self.e2e_s,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "prompt_tokens": self.prompt_tokens,
            "decode_tokens_per_s": self.decode_tokens_per_s,
            "prefill_tokens_per_s": self.prefill_tokens_per_s,
        }


@dataclass
class TimingRecorder:
    """Collects the ``GenerationTiming`` of every ``generate`` call made while it is active."""

    calls: list[GenerationTiming] = field(default_factory=list)

    def clear(self) -> None:
        """Forget what was recorded (e.g. after warm-up)."""
        self.calls.clear()


_current: contextvars.ContextVar[TimingRecorder | None] = contextvars.ContextVar(
    "hfbench_timing_recorder", default=None
)


@contextmanager
def record_timings() -> Iterator[TimingRecorder]:
    """Record per-token timings of every ``generate`` call in this context (see the module doc)."""
    recorder = TimingRecorder()
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)


def recording() -> bool:
    """Whether a ``record_timings()`` context is active."""
    return _current.get() is not None


def current_recorder() -> TimingRecorder | None:
    """The active recorder (None outside ``record_timings()``): for generators that are not
    ``model.generate`` (llama.cpp in ``hfbench compare-speed``) to add their own timings."""
    return _current.get()


@contextmanager
def timed_generate(
    model: Any, kwargs: dict[str, Any], *, prompt_tokens: int, batch_size: int
) -> Iterator[GenerationTiming | None]:
    """Wrap one ``model.generate`` call: adds a ``TokenTimer`` to ``kwargs["logits_processor"]``
    when recording (else does nothing and yields None); the caller calls ``generate`` inside.

    Example:
        >>> with timed_generate(model, kwargs, prompt_tokens=n, batch_size=1):  # doctest: +SKIP
        ...     output = model.generate(**inputs, **kwargs)
    """
    recorder = _current.get()
    if recorder is None:
        yield None
        return
    timing = GenerationTiming(start=0.0, prompt_tokens=prompt_tokens, batch_size=batch_size)
    device = getattr(model, "device", None)
    timer = token_timer(timing.token_times, cuda=getattr(device, "type", "cpu") == "cuda")
    processors = list(kwargs.get("logits_processor") or [])
    kwargs["logits_processor"] = _processor_list([*processors, timer])
    synchronize_device(device)
    timing.start = time.perf_counter()
    try:
        yield timing
    finally:
        synchronize_device(device)
        timing.end = time.perf_counter()
        recorder.calls.append(timing)


def token_timer(times: list[float], *, cuda: bool = False) -> Any:
    """A transformers ``LogitsProcessor`` that appends ``perf_counter()`` to ``times`` per step."""
    from transformers import LogitsProcessor

    class TokenTimer(LogitsProcessor):
        """Notes when each step's logits are ready; leaves the scores unchanged."""

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if cuda:
                import torch

                torch.cuda.synchronize()
            times.append(time.perf_counter())
            return scores

    return TokenTimer()


def _processor_list(processors: list[Any]) -> Any:
    from transformers import LogitsProcessorList

    return LogitsProcessorList(processors)


def synchronize_device(device: Any) -> None:
    """Wait for the work queued on ``device`` (CUDA only; elsewhere a call returns at once)."""
    if getattr(device, "type", "cpu") == "cuda":
        import torch

        torch.cuda.synchronize(device)
