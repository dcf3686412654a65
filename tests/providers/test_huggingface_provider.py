"""HuggingFaceProvider on tiny zoo models: generation, overrides, streaming, async, cache, errors."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest

from hfbench.core.errors import ConfigError, ProviderError, UnsupportedCapabilityError
from hfbench.pipelines import MediaInput
from hfbench.providers import GenerationResponse, create_provider
from hfbench.providers.huggingface import HuggingFaceProvider
from hfbench.providers.model_cache import ModelCache
from hfbench.testing import synthetic_image


@pytest.fixture
def cache() -> ModelCache:
    return ModelCache(max_models=2)


@pytest.fixture
def llm(tiny_llama: Path, cache: ModelCache) -> HuggingFaceProvider:
    return HuggingFaceProvider(
        {"model": str(tiny_llama), "temperature": 0.0, "max_tokens": 8}, model_cache=cache
    )


def test_create_provider_by_name_and_alias(tiny_llama: Path) -> None:
    assert isinstance(create_provider("huggingface", {"model": str(tiny_llama)}), HuggingFaceProvider)
    assert isinstance(create_provider("hf", {"model": str(tiny_llama)}), HuggingFaceProvider)


def test_unknown_provider_name_has_did_you_mean() -> None:
    with pytest.raises(ProviderError, match="Did you mean 'huggingface'"):
        create_provider("hugginface")


def test_unknown_config_key_and_bad_value_fail_at_configuration(tiny_llama: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'temperature'"):
        HuggingFaceProvider({"model": str(tiny_llama), "temprature": 0.5})
    with pytest.raises(ConfigError, match=r"base\.top_p"):
        HuggingFaceProvider({"model": str(tiny_llama), "top_p": 2})


def test_generate_detects_chat_and_returns_a_typed_response(llm: HuggingFaceProvider) -> None:
    response = llm.generate("What is the capital of France?")
    assert isinstance(response, GenerationResponse)
    assert response.capability == "chat" and "chat template" in response.detection_reason
    assert 0 < response.output_tokens <= 8 and response.input_tokens > 0
    assert response.latency_s > 0 and str(response) == response.text


def test_per_call_override_wins(llm: HuggingFaceProvider) -> None:
    short = llm.generate("Tell me a story", capability="text-generation", max_tokens=2)
    assert short.output_tokens <= 2
    with pytest.raises(ConfigError, match=r"call\.temperature"):
        llm.generate("Hi", temperature=-1)


def test_streaming_equals_non_streaming_under_greedy(llm: HuggingFaceProvider) -> None:
    full = llm.generate("Once upon a time", capability="text-generation")
    pieces = list(llm.generate("Once upon a time", capability="text-generation", stream=True))
    assert "".join(pieces) == full.text


def test_generate_async_and_async_streaming(llm: HuggingFaceProvider) -> None:
    sync = llm.generate("Hello", capability="text-generation")

    async def run() -> tuple[str, str]:
        response = await llm.generate_async("Hello", capability="text-generation")
        stream = await llm.generate_async("Hello", capability="text-generation", stream=True)
        pieces = [piece async for piece in stream]  # type: ignore[union-attr]
        return str(response), "".join(pieces)

    text, streamed = asyncio.run(run())
    assert text == sync.text == streamed


def test_second_generate_hits_the_cache(
    llm: HuggingFaceProvider, cache: ModelCache, tiny_llama: Path
) -> None:
    llm.generate("a")
    llm.generate("b")
    other = HuggingFaceProvider({"model": str(tiny_llama), "max_tokens": 4}, model_cache=cache)
    other.generate("c")
    assert cache.stats.loads == 1 and cache.stats.hits == 1  # the first provider keeps its handle


def test_a_different_dtype_is_a_different_cache_entry(tiny_llama: Path, cache: ModelCache) -> None:
    HuggingFaceProvider({"model": str(tiny_llama), "max_tokens": 2}, model_cache=cache).generate("a")
    HuggingFaceProvider(
        {"model": str(tiny_llama), "max_tokens": 2, "dtype": "bfloat16"}, model_cache=cache
    ).generate("a")
    assert cache.stats.loads == 2


def test_lru_eviction_frees_the_model(tiny_model: Callable[[str], Path]) -> None:
    cache = ModelCache(max_models=1)
    first = HuggingFaceProvider({"model": str(tiny_model("llama")), "max_tokens": 2}, model_cache=cache)
    first.generate("a")
    model_ref = weakref.ref(first.pipeline.loaded.model)
    first._pipeline = None  # the provider would drop its handle too on its next call
    HuggingFaceProvider({"model": str(tiny_model("gpt2")), "max_tokens": 2}, model_cache=cache).generate("a")
    gc.collect()
    assert model_ref() is None and cache.stats.evictions == 1


def test_get_capabilities_has_confidences(llm: HuggingFaceProvider) -> None:
    caps = llm.get_capabilities()
    assert caps["text-generation"]["confidence"] > 0 and caps["chat"]["source"] == "prior"


def test_detect_capability_is_public_and_explains(llm: HuggingFaceProvider) -> None:
    found = llm.detect_capability("Summarize: the meeting went well.")
    assert found.capability == "summarization" and "summary" in found.reason
    assert llm.detect_capability("hi", src_lang="en", tgt_lang="de").capability == "translation"


def test_image_to_a_text_only_model_names_capabilities_and_a_model_that_can(llm: HuggingFaceProvider) -> None:
    with pytest.raises(UnsupportedCapabilityError) as info:
        llm.generate("What is this?", media=MediaInput.image(synthetic_image()))
    message = str(info.value)
    assert "visual-question-answering" in message and "it serves:" in message
    assert "A model that serves it at the" in message and "cannot take image input" in message


def test_summarization_runs_through_general_prompting(llm: HuggingFaceProvider) -> None:
    response = llm.generate("Summarize: the cat sat on the mat all day long.", max_length=5)
    assert response.capability == "summarization" and response.output_tokens <= 5


def test_size_tier_and_recommendations(tiny_llama: Path) -> None:
    llm = HuggingFaceProvider({"model": str(tiny_llama), "size_tier": "small"})
    assert llm.get_model_for_capability("translation")
    llm.update_model_recommendations(
        {
            "translation": {
                "small": {
                    "model_name": "Helsinki-NLP/opus-mt-en-fr",
                    "params_b": 0.075,
                    "capabilities": ["translation"],
                }
            }
        }
    )
    assert llm.get_model_for_capability("translation") == "Helsinki-NLP/opus-mt-en-fr"
    auto = HuggingFaceProvider({"model": str(tiny_llama), "size_tier": "auto"})
    assert auto.size_tier in ("tiny", "small", "medium", "large", "xlarge")


def test_model_recommendations_in_config_as_in_the_seed(tiny_llama: Path) -> None:
    llm = HuggingFaceProvider(
        {
            "model": str(tiny_llama),
            "size_tier": "small",
            "model_recommendations": {
                "summarization": {
                    "small": {
                        "model_name": "my-org/my-summarizer",
                        "params_b": 1.0,
                        "capabilities": ["summarization"],
                    }
                }
            },
        }
    )
    assert llm.get_model_for_capability("summarize") == "my-org/my-summarizer"


def test_changing_the_model_drops_the_pipeline(llm: HuggingFaceProvider, tiny_gpt2: Path) -> None:
    llm.generate("a")
    llm.set_config("model", str(tiny_gpt2))
    assert llm.architecture.value == "decoder_only"
    assert llm.generate("a", capability="text-generation").model == str(tiny_gpt2)


def test_recommendation_files_layer_tuned_then_overlay(tiny_llama: Path, tmp_path: Path) -> None:
    from hfbench.core.hardware import system_info
    from hfbench.registry import CapabilityRegistry, ModelRecommendation

    tuned = CapabilityRegistry(defaults=False)
    tuned.update_model("translation", "small", ModelRecommendation("tuned/translator", 0.5, ["translation"]))
    tuned.update_model(
        "summarization", "small", ModelRecommendation("tuned/summarizer", 0.5, ["summarization"])
    )
    tuned_file = tuned.save(tmp_path / "tuned.json", hardware=system_info())
    overlay = CapabilityRegistry(defaults=False)
    overlay.update_model("translation", "small", ModelRecommendation("my/fine-tune", 0.3, ["translation"]))
    overlay_file = overlay.save(tmp_path / "mine.toml")

    llm = HuggingFaceProvider(
        {
            "model": str(tiny_llama),
            "size_tier": "small",
            "tuned_recommendations": str(tuned_file),
            "recommendations_file": str(overlay_file),
        }
    )
    assert llm.get_model_for_capability("translation") == "my/fine-tune"  # overlay over tuned
    assert llm.get_model_for_capability("summarization") == "tuned/summarizer"  # tuned over defaults
    llm.registry.remove_recommendation("translation", "small")
    assert llm.get_model_for_capability("translation") != "my/fine-tune"


def test_per_call_max_tokens_bounds_a_summary(llm: HuggingFaceProvider) -> None:
    response = llm.generate("The cat sat on the mat all day long.", capability="summarization", max_tokens=3)
    assert response.capability == "summarization" and response.output_tokens <= 3
