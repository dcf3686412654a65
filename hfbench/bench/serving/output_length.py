"""A fixed output length on a server, by whatever means that server has — found by trying.

Tokens/s and TPOT compare across servers only when every answer has the same length, but the
OpenAI API has no such field: ``max_tokens`` is a cap, and a model may stop earlier. Servers add
their own:

* ``ignore_eos`` — ``"ignore_eos": true`` (vLLM, SGLang, llama.cpp's server);
* ``generation_config`` — ``transformers serve``'s request field: a JSON string of generation
  arguments, here ``min_new_tokens`` = ``max_new_tokens`` = N (it rejects ``ignore_eos`` with
  HTTP 422);
* ``max_tokens`` — the cap alone: lengths may vary, and the record says so.

``choose_output_length`` sends a warm-up request with each in turn (``OUTPUT_LENGTH_ORDER``) and
keeps the first the server accepts *and* honours (the answer has exactly N tokens); a server that
accepts a field but ignores it is tried with the next, and when none is honoured the last accepted
(the plain cap) is used. What was tried and what was used go into every record of the run.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hfbench.bench.serving.metrics import RequestTiming
from hfbench.core.errors import BenchmarkError, did_you_mean


@dataclass(frozen=True)
class OutputLength:
    """One way of asking a server for exactly N new tokens.

    Attributes:
        name: ``ignore_eos``, ``generation_config`` or ``max_tokens``.
        servers: which servers take it.
        fields: N -> the extra request fields (besides ``max_tokens``, always sent).
    """

    name: str
    servers: str
    fields: Callable[[int], dict[str, Any]]


def _generation_config(tokens: int) -> dict[str, Any]:
    return {"generation_config": json.dumps({"min_new_tokens": tokens, "max_new_tokens": tokens})}


#: The ways, by name.
OUTPUT_LENGTH_METHODS: dict[str, OutputLength] = {
    method.name: method
    for method in (
        OutputLength("ignore_eos", "vLLM, SGLang, llama.cpp's server", lambda n: {"ignore_eos": True}),
        OutputLength("generation_config", "transformers serve", _generation_config),
        OutputLength("max_tokens", "any (a cap: answers may be shorter)", lambda n: {}),
    )
}
#: The order ``auto`` tries them in.
OUTPUT_LENGTH_ORDER = ("ignore_eos", "generation_config", "max_tokens")
#: HTTP statuses that mean "this server does not take that field".
REFUSED_FIELD_STATUSES = frozenset({400, 404, 422})

Send = Callable[[dict[str, Any]], Awaitable[RequestTiming]]
"""Sends one warm-up request with these extra fields; returns its timing, output tokens counted."""


@dataclass(frozen=True)
class OutputLengthChoice:
    """What ``choose_output_length`` settled on.

    Attributes:
        method: the way used for every measured request.
        tokens: the length asked for.
        honoured: whether the warm-up answer had exactly that many tokens.
        tried: each way tried, with what happened.
    """

    method: OutputLength
    tokens: int
    honoured: bool
    tried: tuple[dict[str, Any], ...]

    def fields(self) -> dict[str, Any]:
        """The extra request fields of every measured request."""
        return self.method.fields(self.tokens)

    def to_dict(self) -> dict[str, Any]:
        """For records."""
        return {
            "method": self.method.name,
            "servers": self.method.servers,
            "requested_tokens": self.tokens,
            "honoured_in_warmup": self.honoured,
            "tried": list(self.tried),
        }


def output_length_candidates(wanted: str) -> tuple[str, ...]:
    """The ways to try: all of them in order for ``auto``, else just the one named.

    Raises:
        BenchmarkError: an unknown name (did-you-mean).
    """
    if wanted == "auto":
        return OUTPUT_LENGTH_ORDER
    if wanted not in OUTPUT_LENGTH_METHODS:
        valid = ["auto", *OUTPUT_LENGTH_METHODS]
        raise BenchmarkError(
            f"Unknown fixed-output method {wanted!r}; valid: {', '.join(valid)}."
            + did_you_mean(wanted, valid)
        )
    return (wanted,)


async def choose_output_length(send: Send, tokens: int, wanted: str = "auto") -> OutputLengthChoice:
    """Find how this server gives exactly ``tokens`` new tokens (see the module's docstring).

    Raises:
        BenchmarkError: the server failed the warm-up for another reason than a refused field
            (unreachable, wrong model …), or refused every way (the message lists the answers).
    """
    tried: list[dict[str, Any]] = []
    accepted: OutputLength | None = None
    for name in output_length_candidates(wanted):
        method = OUTPUT_LENGTH_METHODS[name]
        timing = await send(method.fields(tokens))
        if timing.ok:
            count = timing.usage_completion_tokens or timing.output_tokens
            honoured = count == tokens
            tried.append(
                {"method": name, "result": f"{count} tokens" + ("" if honoured else " (not honoured)")}
            )
            if honoured:
                return OutputLengthChoice(method, tokens, True, tuple(tried))
            accepted = method  # the last accepted: the plain cap when no field was honoured
            continue
        tried.append({"method": name, "result": f"refused: {timing.error}"})
        if timing.status not in REFUSED_FIELD_STATUSES:
            raise BenchmarkError(f"The warm-up request failed: {timing.error}")
    if accepted is None:
        answers = "; ".join(f"{t['method']}: {t['result']}" for t in tried)
        raise BenchmarkError(f"The server refused every warm-up request ({answers}).")
    return OutputLengthChoice(accepted, tokens, False, tuple(tried))
