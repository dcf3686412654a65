"""Counting a served model's tokens with its own tokenizer, not the server's word.

``token_counter(tokenizer, served_model)`` loads ``transformers.AutoTokenizer`` from the folder or
Hub id the user gives, else from the served model's id when that is a local folder (what
``transformers serve FOLDER`` reports); without one, output tokens are the server's
``usage.completion_tokens``, else the number of streamed text chunks. ``TokenCounter.method`` says
which, and every record carries it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfbench.bench.serving.metrics import RequestTiming
from hfbench.core.errors import BenchmarkError

logger = logging.getLogger(__name__)


@dataclass
class TokenCounter:
    """Counts tokens with a tokenizer (None: no tokenizer, the server's usage is used).

    Attributes:
        tokenizer: a ``transformers`` tokenizer, or None.
        name: where it came from (a folder or Hub id), or None.
    """

    tokenizer: Any = None
    name: str | None = None

    @property
    def method(self) -> str:
        """How output tokens are counted."""
        if self.tokenizer is not None:
            return f"tokenizer ({self.name})"
        return "server usage.completion_tokens (no tokenizer given)"

    def count(self, text: str) -> int:
        """Tokens in ``text`` without special tokens (vLLM's count of generated text)."""
        assert self.tokenizer is not None
        return len(self.tokenizer(text, add_special_tokens=False).input_ids)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens."""
        assert self.tokenizer is not None
        return list(self.tokenizer(text, add_special_tokens=False).input_ids)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids."""
        assert self.tokenizer is not None
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    def count_outputs(self, requests: Sequence[RequestTiming]) -> dict[str, Any]:
        """Set each successful request's ``output_tokens``; returns how they were counted.

        Returns:
            ``{"method": ..., "usage_agreement": fraction of requests where the tokenizer's count
            equals the server's usage (None without both)}``.
        """
        agree = both = 0
        chunks_used = False
        for request in requests:
            if not request.ok:
                continue
            usage = request.usage_completion_tokens
            if self.tokenizer is not None:
                request.output_tokens = self.count(request.text)
                if usage is not None:
                    both += 1
                    agree += int(usage == request.output_tokens)
            elif usage is not None:
                request.output_tokens = int(usage)
            else:
                request.output_tokens = len(request.itl_s) + 1
                chunks_used = True
        method = self.method
        if self.tokenizer is None and chunks_used:
            method = "streamed text chunks (no tokenizer, and the server reported no usage)"
        return {"method": method, "usage_agreement": agree / both if both else None}


def token_counter(tokenizer: str | None, served_model: str | None) -> TokenCounter:
    """The counter for a run: ``tokenizer`` (a folder or Hub id), else the served model's id when
    it is a local folder, else none (the server's usage).

    Raises:
        BenchmarkError: a tokenizer that was asked for and cannot be loaded.
    """
    name = tokenizer
    if name is None and served_model and Path(served_model).is_dir():
        name = served_model
    if name is None:
        return TokenCounter()
    try:
        from transformers import AutoTokenizer

        loaded = AutoTokenizer.from_pretrained(name)
    except Exception as exc:
        if tokenizer is None:  # a guess from the model's name: fall back to the server's usage
            logger.info("Cannot load a tokenizer from %s (%s); using the server's usage.", name, exc)
            return TokenCounter()
        raise BenchmarkError(
            f"Cannot load the tokenizer {name!r} to count tokens: {exc}. Give the served model's folder "
            "or Hub id (offline: one in the Hugging Face cache), or leave it out to use the server's "
            "usage.completion_tokens."
        ) from exc
    return TokenCounter(loaded, str(name))
