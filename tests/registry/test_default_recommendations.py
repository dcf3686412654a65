"""hfbench's package recommendations: they validate, cover every capability, and describe real models."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.core.errors import RecommendationError
from hfbench.registry import CapabilityRegistry, model_catalog
from hfbench.registry.files import default_recommendation_file, parse_recommendation_data
from hfbench.registry.recommendation import is_generative
from hfbench.registry.tiers import SIZE_TIERS, tier_limit_b

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
EMBEDDED = {
    "embedded:all-minilm-l6-v2": 0.0227,
    "embedded:smollm2-135m-instruct": 0.135,
    "embedded:gemma-3-270m": 0.268,
    "embedded:whisper-tiny.en": 0.0378,
    "embedded:whisper-base": 0.0726,
}


def raw_defaults() -> dict:
    text = resources.files("hfbench.registry").joinpath("data", "default_recommendations.json").read_text()
    return json.loads(text)


def all_slots() -> list[tuple[str, str, object]]:
    data = default_recommendation_file()
    return [
        (cap, tier, rec)
        for section in (data.recommendations, data.offline_recommendations)
        for cap, tiers in section.items()
        for tier, rec in tiers.items()
    ]


def test_package_data_validates_and_has_a_version() -> None:
    parsed = parse_recommendation_data(raw_defaults(), file="defaults", allow_offline=True)
    assert parsed.version == 1 and parsed.recommendations and parsed.offline_recommendations
    with pytest.raises(RecommendationError, match="offline_recommendations"):
        parse_recommendation_data(raw_defaults(), file="defaults")  # only the package data may carry it


@pytest.mark.parametrize("capability", [c.value for c in Capability])
def test_every_capability_has_a_default_recommendation(capability: str) -> None:
    slots = CapabilityRegistry().recommendations.get(capability, {})
    assert slots, f"no default recommendation for {capability}"


@pytest.mark.parametrize(
    ("capability", "tier", "rec"), all_slots(), ids=lambda v: getattr(v, "model_name", v)
)
def test_every_default_recommendation_is_complete(capability: str, tier: str, rec) -> None:
    assert rec.serves(capability)
    assert rec.params_b <= tier_limit_b(tier)
    assert rec.license and isinstance(rec.architecture, ModelArchitecture)
    assert HUB_ID.match(rec.model_name) or rec.model_name in EMBEDDED
    if rec.generates_for(capability) and rec.architecture is not ModelArchitecture.VISION_ENCODER:
        assert rec.context_length and rec.model_shape is not None, "KV cache would be guessed"


def test_gated_models_are_marked_gated() -> None:
    for name, rec in model_catalog().items():
        expected = name.startswith(("meta-llama/", "google/gemma-", "google/embeddinggemma-"))
        assert rec.gated is expected, name


def test_tiers_grow_within_each_capability() -> None:
    for capability, tiers in CapabilityRegistry().recommendations.items():
        sizes = [tiers[t].params_b for t in SIZE_TIERS if t in tiers]
        assert sizes == sorted(sizes), capability


def test_the_seed_models_stay_in_the_catalog_with_real_ids() -> None:
    catalog = model_catalog()
    for name in ("microsoft/Phi-4-mini-instruct", "microsoft/phi-4", "Qwen/QwQ-32B"):
        assert name in catalog  # files naming them still load
    assert catalog["Qwen/QwQ-32B"].tags == ("function-calling", "reasoning")
    assert CapabilityRegistry().recommendations["text-generation"]["xlarge"].license == "llama3.3"


def test_the_text_slots_hold_late_2026_families() -> None:
    slots = CapabilityRegistry().recommendations
    assert {t: r.model_name for t, r in slots["chat"].items()} == {
        "tiny": "Qwen/Qwen3-1.7B",
        "small": "Qwen/Qwen3-4B-Instruct-2507",
        "medium": "Qwen/Qwen3-14B",
        "large": "Qwen/Qwen3-30B-A3B-Instruct-2507",
        "xlarge": "meta-llama/Llama-3.3-70B-Instruct",
    }
    assert slots["text-generation"]["small"].model_name == "HuggingFaceTB/SmolLM3-3B"
    assert slots["embeddings"]["tiny"].model_name == "Qwen/Qwen3-Embedding-0.6B"


def test_no_reasoning_only_model_holds_a_slot() -> None:
    for capability, tier, rec in CapabilityRegistry():
        assert "reasoning" not in rec.tags, f"{capability}/{tier}: {rec.model_name}"


def test_every_model_of_the_refresh_names_its_source() -> None:
    """Each model added or changed in the late-2026 refresh says where its facts were confirmed."""
    catalog = model_catalog()
    refreshed = [name for name in catalog if name.startswith(("Qwen/Qwen3", "HuggingFaceTB/SmolLM3"))]
    refreshed += ["openai/gpt-oss-20b", "google/gemma-3-1b-it", "google/embeddinggemma-300m"]
    refreshed += ["HuggingFaceTB/SmolLM2-360M-Instruct"]
    assert len(refreshed) >= 14
    for name in refreshed:
        rec = catalog[name]
        assert "https://" in rec.source and rec.license and rec.context_length, name
    for _, _, rec in CapabilityRegistry():
        if rec.model_name.startswith(("Qwen/Qwen3", "HuggingFaceTB/SmolLM3")):
            assert rec.source, rec.model_name


def test_mixture_of_experts_models_read_only_their_active_parameters() -> None:
    catalog = model_catalog()
    moe = catalog["Qwen/Qwen3-30B-A3B-Instruct-2507"]
    assert moe.active_params_b == 3.3 and moe.bytes_per_token("bf16") == pytest.approx(6.6e9)
    assert catalog["Qwen/Qwen3-14B"].bytes_per_token("int4") == pytest.approx(7.4e9)


def test_the_catalog_describes_the_embedded_models_and_alternatives() -> None:
    catalog = model_catalog()
    for name, params_b in EMBEDDED.items():
        assert catalog[name].params_b == params_b
    for name in (
        "llava-hf/llava-1.5-7b-hf",
        "openai/whisper-tiny",
        "facebook/dinov2-small",
        "google/flan-t5-large",
        "Helsinki-NLP/opus-mt-en-fr",
        "distilbert/distilbert-base-cased-distilled-squad",
    ):
        assert name in catalog


def test_offline_recommendations_are_all_embedded() -> None:
    offline = default_recommendation_file().offline_recommendations
    names = {rec.model_name for tiers in offline.values() for rec in tiers.values()}
    assert names and names <= set(EMBEDDED)
    assert {"chat", "embeddings", "speech-recognition", "text-generation"} <= set(offline)


def test_generative_capabilities_are_the_token_by_token_ones() -> None:
    assert is_generative("summarization") and is_generative("chat")
    assert not is_generative("embeddings") and not is_generative("zero-shot-classification")


def test_embedded_entries_agree_with_the_embedded_catalog() -> None:
    embedded = pytest.importorskip("hfbench.sources.embedded.catalog")
    catalog = model_catalog()
    for model in embedded.embedded_catalog():
        rec = catalog[model.source_id]
        assert rec.params_b == pytest.approx(model.params / 1e9, rel=0.01), model.name
        assert rec.architecture is model.architecture, model.name
        assert set(model.capabilities) <= set(rec.capabilities), model.name
    assert {m.source_id for m in embedded.embedded_catalog()} == set(EMBEDDED)
