"""Load generation: one concurrency level, a closed loop of asyncio workers.

``concurrency`` workers each send a request, wait for its whole answer, and send the next, so
exactly that many requests are in flight until the level's requests are used up (vLLM's
``--max-concurrency`` with every request ready at once). Bounded twice: at most ``requests``
requests, and no new request after ``max_duration_s`` (requests in flight finish; the record says
the level was cut short).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from hfbench.bench.serving.metrics import RequestTiming
from hfbench.bench.serving.prompts import Prompt

Send = Callable[[Prompt, int, float], Awaitable[RequestTiming]]
"""Sends prompt number ``index`` of a level that started at ``level_start`` (``perf_counter``)."""


@dataclass(frozen=True)
class LevelRun:
    """What one level sent and got back.

    Attributes:
        concurrency: requests in flight at once.
        requests: every request's timing, in send order.
        duration_s: from the level's start to its last answer.
        planned: the requests the level was to send.
        cut_short: True when ``max_duration_s`` stopped it before all were sent.
    """

    concurrency: int
    requests: tuple[RequestTiming, ...]
    duration_s: float
    planned: int
    cut_short: bool


async def run_level(
    send: Send, prompts: Sequence[Prompt], *, concurrency: int, max_duration_s: float
) -> LevelRun:
    """Send ``prompts`` (one request each) with ``concurrency`` in flight; see the module's docstring."""
    start = time.perf_counter()
    deadline = start + max_duration_s
    timings: list[RequestTiming] = []
    next_index = 0
    cut_short = False

    async def worker() -> None:
        nonlocal next_index, cut_short
        while next_index < len(prompts):
            if time.perf_counter() >= deadline:
                cut_short = True
                return
            index = next_index
            next_index += 1
            timings.append(await send(prompts[index], index, start))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    duration = time.perf_counter() - start  # vLLM's benchmark duration: until every answer is in
    ordered = tuple(sorted(timings, key=lambda t: t.index))
    return LevelRun(concurrency, ordered, duration, len(prompts), cut_short)
