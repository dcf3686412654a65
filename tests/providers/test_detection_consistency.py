"""Capability detection answers the same before and after loading, and follows the documented rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.providers.huggingface import HuggingFaceProvider
from hfbench.providers.model_cache import ModelCache
from hfbench.sources.tokenizer_files import tokenizer_facts

ARTICLE = "The council met on Monday to discuss the new bridge. Members agreed to fund a study."


@pytest.mark.parametrize(
    ("prompt", "capability"),
    [
        ("Can you give me a summary of this?", "summarization"),
        (ARTICLE + "\nTL;DR:", "summarization"),
        ("Summarize: " + ARTICLE, "summarization"),
        ("What is the capital of France?", "chat"),
        ("Translate this into German: good morning", "translation"),
    ],
)
def test_detection_is_the_same_before_and_after_loading(
    tiny_llama: Path, prompt: str, capability: str
) -> None:
    llm = HuggingFaceProvider({"model": str(tiny_llama), "max_tokens": 2}, model_cache=ModelCache())
    before = llm.detect_capability(prompt)
    llm.generate("hi")  # loads the model
    after = llm.detect_capability(prompt)
    assert before.capability == after.capability == capability
    assert before.reason == after.reason


def test_tokenizer_facts_come_from_the_files(tiny_llama: Path, tiny_gpt2: Path, tiny_bert: Path) -> None:
    assert tokenizer_facts(str(tiny_llama)).chat_template
    assert not tokenizer_facts(str(tiny_gpt2)).chat_template
    assert tokenizer_facts(str(tiny_bert)).mask_token == "[MASK]"
    assert not tokenizer_facts("no-such/model-here").known


def test_a_mask_token_is_detected_before_loading(tiny_bert: Path) -> None:
    llm = HuggingFaceProvider({"model": str(tiny_bert)}, model_cache=ModelCache())
    assert llm.detect_capability("Paris is the [MASK] of France.").capability == "fill-mask"


@pytest.mark.parametrize("kind", ["bert", "bert-classifier", "llama", "gpt2"])
def test_capabilities_are_the_checkpoints_before_and_after_loading(tiny_model, kind: str) -> None:  # type: ignore[no-untyped-def]
    llm = HuggingFaceProvider({"model": str(tiny_model(kind))}, model_cache=ModelCache())
    before = llm.get_capabilities()
    llm.pipeline  # noqa: B018 - loads the model
    assert llm.get_capabilities().keys() == before.keys()
    if kind == "bert":  # a masked LM: no classification or QA head to claim
        assert set(before) == {"fill-mask", "embeddings"}
