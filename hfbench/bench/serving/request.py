"""One streamed request to a served model, timed as the client sees it (``metrics`` defines the
figures). The clock is ``time.perf_counter``; a chunk is timed when the client has parsed it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from hfbench.bench.serving.metrics import RequestTiming
from hfbench.providers.openai_apis import ServedAPI
from hfbench.providers.openai_errors import CallContext, server_error

#: Asks the server for a last chunk with ``usage`` (OpenAI's ``stream_options``).
STREAM_OPTIONS = {"include_usage": True}
NO_TEXT = "the stream carried no text: nothing to time the first token by"


async def timed_request(
    client: Any,
    api: ServedAPI,
    body: Mapping[str, Any],
    *,
    index: int,
    prompt_id: str,
    level_start: float,
    context: CallContext,
) -> RequestTiming:
    """Send one streamed request and time it; a failure is recorded in the timing, never raised.

    Args:
        client: an ``openai.AsyncOpenAI`` client (no retries: a retried request's timing would mix
            two attempts).
        api: the endpoint (``openai_apis.SERVED_APIS``).
        body: the request body (model, input, fields, ``extra_body``), without ``stream``.
        index: the request's number in its level.
        prompt_id: the prompt's id.
        level_start: the level's start (``perf_counter``), for ``start_s``.
        context: for error messages.
    """
    import openai

    timing = RequestTiming(index=index, prompt_id=prompt_id)
    pieces: list[str] = []
    last_choice: float | None = None
    previous = 0.0
    sent = time.perf_counter()
    timing.start_s = sent - level_start
    try:
        stream = await api.resource(client).create(**body, stream=True, stream_options=STREAM_OPTIONS)
        async with stream:
            async for chunk in stream:
                now = time.perf_counter()
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    timing.usage_completion_tokens = getattr(usage, "completion_tokens", None)
                    timing.usage_prompt_tokens = getattr(usage, "prompt_tokens", None)
                if not chunk.choices:
                    continue
                last_choice = now
                piece = api.piece(chunk)
                if not piece:
                    continue
                if timing.ttft_s is None:
                    timing.ttft_s = now - sent
                else:
                    timing.itl_s.append(now - previous)
                previous = now
                pieces.append(piece)
    except openai.APIStatusError as exc:
        timing.status = int(exc.status_code)
        timing.error = str(server_error(exc, context))
    except openai.OpenAIError as exc:
        timing.status = 0
        timing.error = str(server_error(exc, context))
    timing.text = "".join(pieces)
    if not timing.error and timing.ttft_s is None:
        timing.error = NO_TEXT
    if not timing.error and last_choice is not None:
        timing.latency_s = last_choice - sent
    return timing
