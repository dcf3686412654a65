"""CapabilityRegistry: the seed's API, its fixed fallback order, requirement and memory-fit checks."""

from __future__ import annotations

import logging

import pytest

from hfbench.core.errors import RecommendationError, UnsupportedCapabilityError
from hfbench.registry import (
    CapabilityRegistry,
    ModelRecommendation,
    hardware_profile,
    recommendations_for,
)
from hfbench.registry.tiers import SIZE_TIERS, tiers_up_to

FLASH = {"supports_flash_attention": True}
TIER_PARAMS = {"tiny": 1.0, "small": 3.0, "medium": 13.0, "large": 30.0, "xlarge": 70.0}


def chat_model(tier: str, **kwargs: object) -> ModelRecommendation:
    return ModelRecommendation(f"chat-{tier}", TIER_PARAMS[tier], ["chat"], **kwargs)  # type: ignore[arg-type]


def ladder(needs_flash_up_to: str | None = None) -> CapabilityRegistry:
    """A chat model at every tier; tiers up to ``needs_flash_up_to`` require flash-attention.

    No minimum speed: these tests pin the walk, requirements and memory (speed has its own tests).
    """
    needy = set(tiers_up_to(needs_flash_up_to)) if needs_flash_up_to else set()
    registry = CapabilityRegistry(defaults=False, min_tokens_per_s=0)
    registry.update_recommendations(
        {"chat": {t: chat_model(t, requirements=FLASH if t in needy else None) for t in SIZE_TIERS}}
    )
    return registry


# ---------------------------------------------------------------- the seed's API
def test_default_registry_answers_like_the_seed_without_hardware() -> None:
    registry = CapabilityRegistry()
    rec = registry.get_recommendation("text-generation")  # default tier: medium
    assert rec is not None and rec.model_name == "Qwen/Qwen3-14B"
    assert registry.get_recommendation("text-generation", "small").model_name == "HuggingFaceTB/SmolLM3-3B"
    assert CapabilityRegistry.SIZE_TIERS is SIZE_TIERS


def test_capability_aliases_are_accepted() -> None:
    registry = CapabilityRegistry()
    assert registry.get_recommendation("summarize", "tiny") == registry.get_recommendation(
        "summarization", "tiny"
    )


def test_unknown_capability_raises_with_did_you_mean() -> None:
    with pytest.raises(UnsupportedCapabilityError, match="Did you mean 'summarization'"):
        CapabilityRegistry().get_recommendation("sumarization")


def test_unknown_tier_raises_with_did_you_mean() -> None:
    with pytest.raises(RecommendationError, match="Did you mean 'medium'"):
        CapabilityRegistry().get_recommendation("chat", "meduim")


def test_seed_usage_example_runs() -> None:
    registry = CapabilityRegistry()
    registry.update_model(
        "text-generation",
        "medium",
        ModelRecommendation(
            model_name="mistral-7b",
            params_b=7.0,
            capabilities=["text-generation", "chat"],
            tags=["function-calling"],
        ),
    )
    registry.update_recommendations(
        {"text-generation": {"small": ModelRecommendation("phi-2", 2.7, ["text-generation"])}}, merge=True
    )
    assert registry.get_recommendation("text-generation", "medium").model_name == "mistral-7b"
    assert registry.remove_recommendation("text-generation", "small") is True
    assert registry.remove_recommendation("summarization") is True
    assert "summarization" not in registry.capabilities()


# ---------------------------------------------------------------- fallback order
def test_small_never_jumps_to_a_larger_tier(fake_system) -> None:
    no_flash = fake_system(gpu_gb=(80,))
    registry = ladder(needs_flash_up_to="small")
    explanation = registry.explain_recommendation("chat", "small", no_flash)
    assert explanation.chosen is None  # the seed's tiers[current_idx-1::-1] returned chat-xlarge here
    assert [c.tier for c in explanation.candidates] == ["small", "tiny"]
    assert registry.get_recommendation("chat", "small", no_flash) is None


@pytest.mark.parametrize("tier", list(SIZE_TIERS))
def test_fallback_only_walks_down_from_every_tier(fake_system, tier: str) -> None:
    explanation = ladder(needs_flash_up_to=tier).explain_recommendation(
        "chat", tier, fake_system(gpu_gb=(160,))
    )
    assert explanation.chosen is None
    assert [c.tier for c in explanation.candidates] == tiers_up_to(tier)


@pytest.mark.parametrize("tier", list(SIZE_TIERS)[1:])
def test_a_rejected_tier_falls_back_to_the_next_smaller_one(fake_system, tier: str) -> None:
    registry = ladder()
    registry.update_model("chat", tier, chat_model(tier, requirements=FLASH))
    chosen = registry.get_recommendation("chat", tier, fake_system(gpu_gb=(160,)))
    assert chosen is not None and chosen.model_name == f"chat-{tiers_up_to(tier)[1]}"


def test_same_tier_lent_model_comes_before_smaller_tiers(fake_system) -> None:
    registry = ladder()
    registry.update_model("chat", "medium", chat_model("medium", requirements=FLASH))
    registry.update_model(
        "summarization", "medium", ModelRecommendation("sum-medium", 8.0, ["summarization", "chat"])
    )
    registry.update_model("translation", "medium", ModelRecommendation("mt-medium", 8.0, ["translation"]))
    explanation = registry.explain_recommendation("chat", "medium", fake_system(gpu_gb=(80,)))
    assert explanation.chosen.model_name == "sum-medium" and explanation.chosen_tier == "medium"
    assert [(c.slot, c.accepted) for c in explanation.candidates] == [
        ("chat", False),
        ("summarization", True),
    ]
    assert explanation.fell_back


def test_missing_slot_walks_down_and_says_so() -> None:
    registry = CapabilityRegistry()
    explanation = registry.explain_recommendation("fill-mask", "xlarge")
    assert explanation.chosen.model_name == "FacebookAI/roberta-large" and explanation.chosen_tier == "small"
    assert any("no 'xlarge' recommendation" in note for note in explanation.notes)


# ---------------------------------------------------------------- requirements
def test_resources_are_thresholds_through_the_registry(fake_system) -> None:
    registry = CapabilityRegistry(defaults=False)
    registry.update_model(
        "chat", "tiny", ModelRecommendation("needs-16", 0.5, ["chat"], {"min_gpu_memory_gb": 16})
    )
    assert registry.get_recommendation("chat", "tiny", fake_system(gpu_gb=(24,))).model_name == "needs-16"
    explanation = registry.explain_recommendation("chat", "tiny", fake_system(gpu_gb=(12,)))
    assert explanation.chosen is None and "gpu_memory_gb >= 16" in explanation.rejected[0].reasons[0]


def test_seed_style_dict_system_info(fake_system) -> None:
    registry = CapabilityRegistry(defaults=False)
    rec = ModelRecommendation("seedy", 3.0, ["chat"], {"gpu_memory": 16, "platform": "linux"})
    registry.update_model("chat", "small", rec)
    seed_info = {"supports_flash_attention": False, "platform": "linux", "gpu_memory": 24}
    assert registry.get_recommendation("chat", "small", seed_info) == rec  # the seed compared 24 == 16
    explanation = registry.explain_recommendation("chat", "small", {"platform": "windows", "gpu_memory": 2})
    reasons = explanation.rejected[0].reasons
    assert any("platform" in r for r in reasons) and any("gpu_memory_gb >= 16" in r for r in reasons)
    assert any("GiB available" in r for r in reasons)  # 3B fits 2 GiB at none of bf16, int8, nf4 either
    with pytest.raises(RecommendationError, match="SystemInfo or a dict"):
        registry.get_recommendation("chat", "small", ["linux"])  # type: ignore[arg-type]


def test_dict_without_memory_skips_the_fit_check() -> None:
    registry = CapabilityRegistry(defaults=False)
    registry.update_model("chat", "xlarge", chat_model("xlarge"))
    assert registry.get_recommendation("chat", "xlarge", {"platform": "linux"}).model_name == "chat-xlarge"


def test_gated_models_can_be_excluded() -> None:
    registry = CapabilityRegistry(allow_gated=False)
    explanation = registry.explain_recommendation("chat", "xlarge", hardware_profile("datacenter-gpu-80gb"))
    assert "meta-llama/Llama-3.3-70B-Instruct" in [c.recommendation.model_name for c in explanation.rejected]
    assert "gated" in explanation.rejected[0].reasons[0]
    assert explanation.chosen is not None and not explanation.chosen.gated


# ---------------------------------------------------------------- memory fit
def test_memory_fit_tries_smaller_precisions_then_smaller_models(fake_system) -> None:
    small_gpu = fake_system(gpu_gb=(2,))
    explanation = ladder().explain_recommendation("chat", "medium", small_gpu)
    assert explanation.chosen.model_name == "chat-tiny"
    assert [c.tier for c in explanation.rejected] == ["medium", "small"]
    assert all("GiB available" in c.reasons[-1] for c in explanation.rejected)
    assert all(c.failed_checks == ("memory",) for c in explanation.rejected)
    assert [r.recipe.name for r in explanation.rejected[0].recipes] == ["bf16", "int8", "nf4"]
    chosen = explanation.candidates[-1]
    assert chosen.accepted and chosen.memory is not None and chosen.memory.total_gb <= 2
    assert chosen.memory.dtype == "int8"  # bf16 needs 3 GiB; 8-bit is the first precision that fits
    assert explanation.chosen.fit is chosen.chosen_recipe and explanation.chosen.run_config() == {
        "dtype": "auto",
        "quantization": "8bit",
    }


def test_a_gpu_with_room_keeps_16_bit_weights(fake_system) -> None:
    explanation = ladder().explain_recommendation("chat", "medium", fake_system(gpu_gb=(40,)))
    assert explanation.chosen.model_name == "chat-medium" and explanation.chosen.fit.recipe.name == "bf16"


def test_cpu_machines_size_models_in_fp32(fake_system) -> None:
    cpu = fake_system(ram_gb=16.0, ram_available_gb=12.0)
    explanation = ladder().explain_recommendation("chat", "small", cpu)
    assert explanation.candidates[0].memory.dtype == "fp32"
    assert explanation.chosen.model_name == "chat-tiny"  # 3B in fp32 needs ~14 GiB; no int8/int4 on CPU
    assert [r.recipe.name for r in explanation.candidates[0].recipes] == ["fp32", "bf16"]
    assert explanation.candidates[0].recipes[1].skipped == "not measured faster than fp32 on this machine"


def test_a_longer_context_needs_more_memory(fake_system) -> None:
    registry = CapabilityRegistry(defaults=False, context_tokens=131072)
    rec = ModelRecommendation(
        "long",
        7.0,
        ["chat"],
        architecture="decoder_only",
        context_length=131072,
        shape={"num_layers": 32, "hidden_size": 4096, "num_attention_heads": 32},
    )
    registry.update_model("chat", "medium", rec)
    explanation = registry.explain_recommendation("chat", "medium", fake_system(gpu_gb=(40,)))
    assert explanation.chosen is None and explanation.rejected[0].memory.kv_cache_gb == pytest.approx(64.0)
    short = CapabilityRegistry(defaults=False)
    short.update_model("chat", "medium", rec)
    assert short.get_recommendation("chat", "medium", fake_system(gpu_gb=(40,))) == rec


def test_default_registry_on_a_small_gpu_chooses_something_that_fits(fake_system) -> None:
    info = fake_system(gpu_gb=(8,))
    for capability in ("chat", "summarization", "visual-question-answering", "speech-recognition"):
        explanation = CapabilityRegistry().explain_recommendation(capability, "xlarge", info)
        assert explanation.chosen is not None, explanation.describe()
        assert explanation.candidates[-1].memory.total_gb <= 8


# ---------------------------------------------------------------- auto
def test_auto_picks_the_largest_model_that_fits_each_preset() -> None:
    registry = CapabilityRegistry()
    pick = {
        name: registry.get_recommendation("chat", "auto", hardware_profile(name)).model_name
        for name in ("consumer-gpu-24gb", "datacenter-gpu-80gb", "laptop-16gb")
    }
    assert pick == {
        "consumer-gpu-24gb": "Qwen/Qwen3-30B-A3B-Instruct-2507",  # 4-bit; a mixture of experts decodes fast
        "datacenter-gpu-80gb": "meta-llama/Llama-3.3-70B-Instruct",  # 4-bit on one 80 GB card
        "laptop-16gb": "google/gemma-3-1b-it",  # Qwen3-1.7B fits 12 GiB in fp32 but decodes below 5 tok/s
    }


def test_auto_uses_this_machine_when_no_system_info_is_given(fake_system, monkeypatch) -> None:
    import hfbench.core.hardware as hardware

    monkeypatch.setattr(hardware, "system_info", lambda refresh=False: fake_system(gpu_gb=(2,)))
    assert ladder().get_recommendation("chat", "auto").model_name == "chat-tiny"


def test_auto_needs_to_know_the_memory() -> None:
    with pytest.raises(RecommendationError, match="needs to know the memory"):
        ladder().get_recommendation("chat", "auto", {"platform": "linux"})


# ---------------------------------------------------------------- explanations and logging
def test_explanation_text_lists_rejections_and_the_choice(fake_system) -> None:
    text = str(
        ladder(needs_flash_up_to="medium").explain_recommendation("chat", "medium", fake_system(gpu_gb=(80,)))
    )
    assert "rejected medium  chat-medium [chat]: requires supports_flash_attention = True" in text
    assert "-> nothing suitable" in text
    ok = str(ladder().explain_recommendation("chat", "small", fake_system(gpu_gb=(80,))))
    assert "chosen   small   chat-small" in ok and "-> chat-small (tier small)" in ok
    assert "not checked" in str(ladder().explain_recommendation("chat", "small"))


def test_a_fallback_is_logged(fake_system, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="hfbench.registry.capability_registry"):
        ladder().get_recommendation("chat", "medium", fake_system(gpu_gb=(6,)))
    assert "rejected medium" in caplog.text


# ---------------------------------------------------------------- changing the registry
def test_update_model_validates_everything() -> None:
    registry = CapabilityRegistry(defaults=False)
    with pytest.raises(UnsupportedCapabilityError):
        registry.update_model("chatt", "small", chat_model("small"))
    with pytest.raises(RecommendationError, match="valid tiers"):
        registry.update_model("chat", "big", chat_model("small"))
    with pytest.raises(RecommendationError, match="more than the 'small' tier admits"):
        registry.update_model("chat", "small", chat_model("xlarge"))
    with pytest.raises(RecommendationError, match="Did you mean"):
        registry.update_model("chat", "small", "microsoft/Phi-4-mini-instructt")
    registry.update_model("chat", "small", "microsoft/Phi-4-mini-instruct")  # a catalog name
    registry.update_model("qa", "tiny", {"model_name": "my/qa", "params_b": 0.1, "capabilities": ["qa"]})
    assert registry.get_recommendation("question-answering", "tiny").model_name == "my/qa"
    assert registry.source_of("chat", "small") == "update_model"
    with pytest.raises(RecommendationError, match=r"'updates\.chat\.tiny\.params_b'"):
        registry.update_model("chat", "tiny", {"model_name": "x", "params_b": "1B"})


def test_update_recommendations_is_all_or_nothing_and_can_replace() -> None:
    registry = CapabilityRegistry()
    before = registry.recommendations
    with pytest.raises(RecommendationError):
        registry.update_recommendations({"chat": {"tiny": chat_model("tiny"), "small": chat_model("xlarge")}})
    assert registry.recommendations == before
    registry.update_recommendations({"chat": {"tiny": chat_model("tiny")}}, merge=False)
    assert registry.capabilities() == ["chat"] and len(registry) == 1


def test_remove_recommendation_by_tier_and_whole_capability() -> None:
    registry = ladder()
    assert registry.remove_recommendation("chat", "xlarge") is True
    assert registry.remove_recommendation("chat", "xlarge") is False
    assert registry.get_recommendation("chat", "xlarge").model_name == "chat-large"
    with pytest.raises(RecommendationError):
        registry.remove_recommendation("chat", "xxl")
    assert registry.remove_recommendation("conversational") is True
    assert registry.get_recommendation("chat", "xlarge") is None and len(registry) == 0


def test_copies_are_independent_and_equality_is_by_content() -> None:
    registry = ladder()
    clone = registry.copy()
    assert clone == registry and clone is not registry
    clone.remove_recommendation("chat", "tiny")
    assert clone != registry and registry.get_recommendation("chat", "tiny") is not None


# ---------------------------------------------------------------- offline set and tables
def test_offline_defaults_hold_only_embedded_models() -> None:
    offline = CapabilityRegistry.offline_defaults()
    assert {rec.model_name.split(":")[0] for _, _, rec in offline} == {"embedded"}
    assert offline.get_recommendation("chat", "small").model_name == "embedded:smollm2-135m-instruct"
    summary = offline.explain_recommendation("summarization")  # lent by the chat model
    assert summary.chosen.model_name == "embedded:smollm2-135m-instruct" and summary.chosen_tier == "tiny"
    assert offline.get_recommendation("speech-recognition", "tiny").model_name == "embedded:whisper-base"
    assert offline.get_recommendation("image-captioning", "tiny") is None


def test_recommendations_for_gives_printable_rows_per_capability_and_tier() -> None:
    rows = recommendations_for(hardware_profile("consumer-gpu-24gb"))
    assert {tuple(row) for row in rows} == {
        (
            "capability",
            "tier",
            "model",
            "params_b",
            "needs_gb",
            "fits",
            "use",
            "recipe",
            "tokens_per_s",
            "speed",
            "why",
        )
    }
    by_slot = {(r["capability"], r["tier"]): r for r in rows}
    llama = by_slot[("chat", "xlarge")]
    assert (
        llama["fits"] == "no"
        and "GiB available" in llama["why"]
        and llama["use"] == "Qwen/Qwen3-30B-A3B-Instruct-2507"
    )
    tiny = by_slot[("embeddings", "tiny")]
    assert tiny["fits"] == "yes" and tiny["why"] == "" and tiny["use"] == tiny["model"]
    assert {r["capability"] for r in rows} >= {"chat", "speech-recognition", "general"}


def test_recommendations_for_covers_capabilities_without_own_models() -> None:
    offline = CapabilityRegistry.offline_defaults()
    offline.remove_recommendation("summarization")  # the chat model still lists it
    rows = offline.recommendations_for(
        hardware_profile("laptop-16gb"), capabilities=["summarization", "image-captioning"]
    )
    assert rows[0]["tier"] == "-" and rows[0]["use"].startswith("embedded:")  # lent by another slot
    assert rows[1]["use"] == "nothing fits"


def test_the_registry_works_without_importing_torch_or_transformers() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from hfbench.registry import CapabilityRegistry, hardware_profile, recommendations_for\n"
        "info = hardware_profile('consumer-gpu-24gb')\n"
        "CapabilityRegistry().explain_recommendation('chat', 'auto', info)\n"
        "recommendations_for(info)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'accelerate') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_split_modules_keep_the_old_import_paths() -> None:
    import hfbench.registry as registry
    from hfbench.registry import capability_registry, explanation, hardware, tables

    for name in ("HardwareFacts", "hardware_facts"):
        assert getattr(capability_registry, name) is getattr(hardware, name) is getattr(registry, name)
    for name in ("CandidateCheck", "RecommendationExplanation", "LayerInfo"):
        assert getattr(capability_registry, name) is getattr(explanation, name) is getattr(registry, name)
    assert capability_registry.recommendations_for is registry.recommendations_for
    assert callable(tables.recommendation_rows)  # the rows; the registry module builds the default


def test_dtype_names_come_from_the_one_core_table(fake_system) -> None:
    from hfbench.core.dtypes import DTYPE_NAMES, bytes_per_param
    from hfbench.registry.hardware import hardware_facts
    from hfbench.registry.tiers import BYTES_PER_PARAM

    assert {name: bytes_per_param(name) for name in DTYPE_NAMES} == BYTES_PER_PARAM
    assert hardware_facts({"gpu_memory": 16, "dtype": "half"}).dtype == "fp16"
    assert ModelRecommendation("m", 1.0, default_dtype="nf4").default_dtype == "int4"
    with pytest.raises(RecommendationError, match=r"system_info\['dtype'\].*Did you mean 'bf16'"):
        hardware_facts({"dtype": "bf61"})
