"""Provider overhead: ``provider.generate`` against calling ``model.generate`` directly.

Same tiny model, same prompt, same greedy settings, same number of new tokens; the difference
is what the provider adds (detection, config merge and validation, cache lookup, result typing).

    pytest benchmarks/test_provider_overhead.py --benchmark-only
"""

from __future__ import annotations

from typing import Any

import pytest

from hfbench.providers.huggingface import HuggingFaceProvider
from hfbench.providers.model_cache import ModelCache
from hfbench.testing import tiny_model_path

PROMPT = "The quick brown fox jumps over the lazy dog and"
NEW_TOKENS = 16
# Same rounds and warm-up for both, so neither pays for the other's warm-up.
ROUNDS: dict[str, int] = {"rounds": 40, "warmup_rounds": 5, "iterations": 1}


@pytest.fixture(scope="module")
def provider() -> HuggingFaceProvider:
    llm = HuggingFaceProvider(
        {"model": str(tiny_model_path("llama")), "temperature": 0.0, "max_tokens": NEW_TOKENS},
        model_cache=ModelCache(),
    )
    llm.generate(PROMPT, capability="text-generation")  # load once, outside the timings
    return llm


def test_provider_generate(benchmark: Any, provider: HuggingFaceProvider) -> None:
    response = benchmark.pedantic(
        provider.generate, args=(PROMPT,), kwargs={"capability": "text-generation"}, **ROUNDS
    )
    assert response.output_tokens > 0


def test_direct_model_generate(benchmark: Any, provider: HuggingFaceProvider) -> None:
    import torch

    loaded = provider.pipeline.loaded
    model, tokenizer = loaded.model, loaded.tokenizer
    inputs = tokenizer(PROMPT, return_tensors="pt")

    def run() -> Any:
        with torch.inference_mode():
            return model.generate(
                **inputs, max_new_tokens=NEW_TOKENS, do_sample=False, pad_token_id=tokenizer.eos_token_id
            )

    output = benchmark.pedantic(run, **ROUNDS)
    assert output.shape[1] > inputs["input_ids"].shape[1]
