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


CACHE = ModelCache()


def _config() -> dict[str, Any]:
    return {"model": str(tiny_model_path("llama")), "temperature": 0.0, "max_tokens": NEW_TOKENS}


@pytest.fixture(scope="module")
def provider() -> HuggingFaceProvider:
    llm = HuggingFaceProvider(_config(), model_cache=CACHE)
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


def test_reaching_a_warm_cached_model(benchmark: Any, provider: HuggingFaceProvider) -> None:
    """A new provider for a model the cache holds: config tree, cache key, lookup (no load).

    The issue's bar is 1 ms; the median is in the benchmark's table (and ``extra_info``)."""

    def reach() -> Any:
        return HuggingFaceProvider(_config(), model_cache=CACHE).pipeline

    pipeline = benchmark.pedantic(reach, rounds=200, warmup_rounds=10, iterations=1)
    assert pipeline is provider.pipeline  # the cached copy, not a new load
    benchmark.extra_info["median_ms"] = benchmark.stats.stats.median * 1000
