"""When nothing fits: require_recommendation's error says what was tried, why, and what would work."""

from __future__ import annotations

import pytest

from hfbench.core.errors import NoSuitableModelError, RecommendationError, UnsupportedCapabilityError
from hfbench.registry import (
    CapabilityRegistry,
    ModelRecommendation,
    RecommendationExplanation,
    hardware_profile,
)

TINY_BOX = {"name": "tiny box", "ram_gb": 0.5}  # a CPU machine with 512 MiB: no chat model fits


def test_require_recommendation_returns_what_get_recommendation_finds() -> None:
    registry = CapabilityRegistry()
    laptop = hardware_profile("laptop-16gb")
    rec = registry.require_recommendation("chat", "medium", laptop)
    assert rec == registry.get_recommendation("chat", "medium", laptop)
    # Fell back to tiny, which is allowed by default: Qwen3-1.7B fits in fp32 but decodes below
    # 5 tok/s at the laptop's 50 GB/s, so the tier's largest fast-enough alternative is taken.
    assert rec.model_name == "google/gemma-3-1b-it" and rec.speed_source == "estimated"
    assert rec.speed is not None and rec.speed.tokens_per_s >= 5


def test_a_tier_nothing_fits_names_every_rejection_and_what_would_work() -> None:
    with pytest.raises(NoSuitableModelError) as err:
        CapabilityRegistry().require_recommendation("chat", "small", hardware_profile(TINY_BOX))
    message = str(err.value)
    assert message.startswith("No suitable model for chat at tier 'small' or any smaller tier on tiny box")
    assert "rejected small   Qwen/Qwen3-4B-Instruct-2507 [chat]" in message
    assert "rejected tiny    Qwen/Qwen3-1.7B [chat]" in message
    assert "rejected tiny    HuggingFaceTB/SmolLM2-360M-Instruct [alternative]" in message
    rejected = len(err.value.explanation.rejected)
    assert (
        "more than the 0.5 GiB available" in message
        and f"Rejected: {rejected} too large for the memory." in message
    )
    assert "no smaller tier" in message
    # The smallest preset that serves 'small' itself: a 16 GB T4 runs Qwen3-4B-Instruct in fp16.
    assert "hardware_profile('cloud-t4-16gb') gets Qwen/Qwen3-4B-Instruct-2507 at tier 'small'" in message
    explanation = err.value.explanation
    assert isinstance(explanation, RecommendationExplanation) and explanation.chosen is None
    assert explanation.what_if and explanation.what_if[0].profile == "cloud-t4-16gb"
    assert all(c.failed_checks == ("memory",) for c in explanation.rejected)
    assert isinstance(err.value, RecommendationError) and isinstance(err.value, UnsupportedCapabilityError)


def test_a_strict_tier_names_the_largest_smaller_tier_that_fits() -> None:
    laptop = hardware_profile("laptop-16gb")
    with pytest.raises(NoSuitableModelError) as err:
        CapabilityRegistry().require_recommendation("chat", "medium", laptop, allow_smaller=False)
    message = str(err.value)
    assert "No suitable model for chat at tier 'medium' on laptop-16gb" in message
    assert "a smaller tier: 'tiny' has google/gemma-3-1b-it, which fits this hardware" in message
    what_if = err.value.explanation.what_if
    assert what_if and what_if[0].tier == "medium"
    assert f"hardware_profile({what_if[0].profile!r}) gets {what_if[0].recommendation.model_name}" in message


def test_a_capability_no_model_serves_says_to_add_one() -> None:
    offline = CapabilityRegistry.offline_defaults()
    with pytest.raises(NoSuitableModelError) as err:
        offline.require_recommendation("image-captioning", "small", hardware_profile("laptop-16gb"))
    message = str(err.value)
    assert "no model in this registry serves it" in message and "update_model" in message
    assert "Tried" not in message and err.value.explanation.candidates == ()
    assert err.value.explanation.what_if is None  # no preset can help a registry without a model


def test_gated_rejections_are_counted_and_explained(fake_system) -> None:
    registry = CapabilityRegistry(defaults=False, allow_gated=False)
    registry.update_model("chat", "tiny", ModelRecommendation("org/gated", 1.0, ["chat"], gated=True))
    with pytest.raises(NoSuitableModelError) as err:
        registry.require_recommendation("chat", "tiny", fake_system(gpu_gb=(24,)))
    assert "Rejected: 1 gated (allow_gated=False)." in str(err.value)
    assert "allow_gated=True admits gated models" in str(err.value)
    assert err.value.explanation.rejected[0].failed_checks == ("gated",)


def test_explain_recommendation_with_what_if_gives_the_same_advice() -> None:
    registry = CapabilityRegistry()
    info = hardware_profile(TINY_BOX)
    explanation = registry.explain_recommendation("chat", "small", info, what_if=True)
    assert [w.profile for w in explanation.what_if][:1] == ["cloud-t4-16gb"]
    with pytest.raises(NoSuitableModelError) as err:
        registry.require_recommendation("chat", "small", info)
    assert explanation.advice() == str(err.value)
    assert registry.explain_recommendation("chat", "small", info).what_if is None  # only when asked


def test_failed_checks_name_each_kind(fake_system) -> None:
    registry = CapabilityRegistry(defaults=False, allow_gated=False)
    needy = ModelRecommendation("needy", 3.0, ["chat"], {"supports_flash_attention": True}, gated=True)
    registry.update_model("chat", "small", needy)
    check = registry.explain_recommendation("chat", "small", fake_system(gpu_gb=(1,))).candidates[0]
    assert check.failed_checks == ("gated", "requirements", "memory") and len(check.reasons) == 3
    slow = CapabilityRegistry(defaults=False, min_tokens_per_s=1000)
    slow.update_model("chat", "small", ModelRecommendation("fits", 3.0, ["chat"]))
    check = slow.explain_recommendation("chat", "small", fake_system(gpu_gb=(24,))).candidates[0]
    assert check.failed_checks == ("speed",) and "below the 1000 tok/s minimum" in check.reasons[0]
