"""From the tree config's generation keys to ``model.generate`` arguments, and streaming."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any


def generation_kwargs(
    config: Mapping[str, Any], tokenizer: Any = None, *, max_new_tokens_key: str = "max_tokens"
) -> dict[str, Any]:
    """Map ``max_tokens/temperature/top_p/top_k/...`` to ``generate()`` keyword arguments.

    Temperature 0 (or ``do_sample=False``) means greedy decoding, and then the sampling knobs
    are left out so transformers does not warn about unused ones. ``stop`` becomes
    ``stop_strings`` (which needs the tokenizer passed to ``generate``).

    Args:
        max_new_tokens_key: which config key bounds the output (``max_length`` for summaries
            and translations, ``max_tokens`` otherwise); ``max_tokens``, when set, caps it too.
    """
    kwargs: dict[str, Any] = {}
    # max_tokens bounds every generation; max_length (summaries, translations) may only lower it,
    # so a per-call max_tokens=80 shortens a summary whose default max_length is 128.
    limits = [config.get(key) for key in {max_new_tokens_key, "max_tokens"}]
    present = [int(v) for v in limits if v is not None]
    if present:
        kwargs["max_new_tokens"] = min(present)
    if config.get("min_length") and max_new_tokens_key == "max_length":
        kwargs["min_new_tokens"] = min(int(config["min_length"]), kwargs.get("max_new_tokens", 10**9))
    if config.get("ignore_eos") and "max_new_tokens" in kwargs:
        # A fixed decode length, so tokens/s compare across models: end-of-sequence is suppressed
        # until max_new_tokens (vLLM's ignore_eos; stop strings still end a row).
        kwargs["min_new_tokens"] = kwargs["max_new_tokens"]
    temperature = float(config.get("temperature", 0.0))
    sample = config.get("do_sample", temperature > 0)
    kwargs["do_sample"] = bool(sample)
    if sample:
        kwargs["temperature"] = temperature if temperature > 0 else 1.0
        if "top_p" in config:
            kwargs["top_p"] = float(config["top_p"])
        if "top_k" in config:
            kwargs["top_k"] = int(config["top_k"])
    else:
        # Neutralise sampling values a checkpoint's generation_config may carry.
        kwargs.update(temperature=None, top_p=None, top_k=None)
    if config.get("repetition_penalty") is not None:
        kwargs["repetition_penalty"] = float(config["repetition_penalty"])
    if config.get("no_repeat_ngram_size"):
        kwargs["no_repeat_ngram_size"] = int(config["no_repeat_ngram_size"])
    if config.get("num_beams") is not None:
        kwargs["num_beams"] = int(config["num_beams"])
    stop = config.get("stop")
    if stop and tokenizer is not None:
        kwargs["stop_strings"] = [stop] if isinstance(stop, str) else list(stop)
        kwargs["tokenizer"] = tokenizer
    if tokenizer is not None:
        pad = getattr(tokenizer, "pad_token_id", None)
        eos = getattr(tokenizer, "eos_token_id", None)
        if pad is None and eos is not None:
            kwargs["pad_token_id"] = eos
    return kwargs


def paragraph_end_criteria(tokenizer: Any) -> Any:
    """A ``StoppingCriteriaList`` that ends each row at its first blank line after some text.

    For single-paragraph answers of base models, which go on with a new paragraph when the
    answer is done. A fresh one is needed per ``generate`` call (it notes the prompt's width on
    its first step).
    """
    import re

    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    ended = re.compile(r"\S\s*\n\s*\n")

    class ParagraphEnd(StoppingCriteria):
        def __init__(self) -> None:
            self.start: int | None = None

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            if self.start is None:
                self.start = int(input_ids.shape[1]) - 1
            texts = tokenizer.batch_decode(input_ids[:, self.start :], skip_special_tokens=True)
            return torch.tensor([bool(ended.search(t)) for t in texts], device=input_ids.device)

    return StoppingCriteriaList([ParagraphEnd()])


def seed_if_asked(config: Mapping[str, Any]) -> None:
    """Seed torch when the config has a ``seed`` (reproducible sampling)."""
    if config.get("seed") is not None:
        import torch

        torch.manual_seed(int(config["seed"]))


def cut_at_stop(text: str, stop: str | list[str] | None) -> str:
    """Cut text at the first stop sequence (generate's ``stop_strings`` keeps the stop itself)."""
    if not stop:
        return text
    cut = len(text)
    for s in [stop] if isinstance(stop, str) else stop:
        at = text.find(s)
        if at != -1:
            cut = min(cut, at)
    return text[:cut]


def stream_generate(
    model: Any, tokenizer: Any, inputs: Mapping[str, Any], gen_kwargs: Mapping[str, Any]
) -> Iterator[str]:
    """Run ``model.generate`` in a thread and yield decoded text as it arrives.

    Uses transformers' ``TextIteratorStreamer`` (prompt and special tokens skipped).
    """
    import torch
    from transformers import TextIteratorStreamer

    decoder = getattr(tokenizer, "tokenizer", tokenizer)  # a multimodal processor's tokenizer
    streamer = TextIteratorStreamer(decoder, skip_prompt=True, skip_special_tokens=True)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with torch.inference_mode():
                model.generate(**inputs, **gen_kwargs, streamer=streamer)
        except BaseException as exc:  # re-raised in the consumer thread below
            errors.append(exc)
            streamer.end()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield from streamer
    thread.join()
    if errors:
        raise errors[0]
