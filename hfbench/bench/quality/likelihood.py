"""A passage's negative log-likelihood under a causal language model, for perplexity.

The passage is tokenised as the model's tokenizer does by default (with its start token, if it
adds one) and cut to ``max_tokens``; one forward pass gives the logits, and the NLL is the sum
of the cross-entropies (natural log) of every token given the ones before it, so the first
token is not scored. Perplexity over passages is ``exp(sum NLL / sum scored tokens)``.
"""

from __future__ import annotations

from typing import Any

from hfbench.core.errors import BenchmarkError


def passage_nll(loaded: Any, text: str, *, max_tokens: int | None = 128) -> tuple[float, int]:
    """Sum of the token negative log-likelihoods (nats) of ``text`` and how many tokens were scored.

    Args:
        loaded: a ``LoadedModel`` (``pipeline.loaded``) with a causal LM head and a tokenizer.
        text: the passage.
        max_tokens: keep at most this many tokens (None: the whole passage).

    Returns:
        ``(nll, tokens)``.

    Raises:
        BenchmarkError: the model has no tokenizer or gives no next-token logits, or the passage
            has fewer than two tokens.
    """
    import torch

    tokenizer, model = loaded.tokenizer, loaded.model
    if tokenizer is None:
        raise BenchmarkError(f"{loaded.model_name} has no tokenizer; perplexity needs one.")
    encoded = tokenizer(text, return_tensors="pt", truncation=max_tokens is not None, max_length=max_tokens)
    input_ids = encoded["input_ids"].to(loaded.device)
    if input_ids.shape[1] < 2:
        raise BenchmarkError(f"Perplexity needs at least two tokens; {text[:40]!r} has {input_ids.shape[1]}.")
    with torch.inference_mode():
        output = model(input_ids=input_ids, attention_mask=encoded["attention_mask"].to(loaded.device))
    logits = getattr(output, "logits", None)
    if logits is None or logits.shape[1] != input_ids.shape[1]:
        raise BenchmarkError(
            f"{loaded.model_name} ({type(model).__name__}) gives no next-token logits; perplexity needs "
            "a causal language model (text-generation)."
        )
    nll = torch.nn.functional.cross_entropy(logits[0, :-1].float(), input_ids[0, 1:], reduction="sum")
    return float(nll), int(input_ids.shape[1] - 1)
