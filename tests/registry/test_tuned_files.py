"""Tuned recommendation files: measured figures and recipes in recommendations, the ``tuning``
section, and matching a file to a machine by hardware id (software differences warn)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from hfbench.core.capability import ModelCapabilities
from hfbench.core.errors import RecommendationError
from hfbench.registry import CapabilityRegistry, ModelRecommendation
from hfbench.registry.files import load_recommendation_file, save_recommendation_file

EVIDENCE = {
    "metric": "perplexity",
    "value": 21.5,
    "ci_low": 19.0,
    "ci_high": 24.0,
    "n": 20,
    "eval_set": "brown-passages",
    "hardware_id": "abc123",
    "hand_made": False,
}
RECIPE = {
    "dtype": "float32",
    "device": "cpu",
    "attn_implementation": "sdpa",
    "batch_size": 1,
    "threads": 2,
    "chat_template": True,
    "context_length": 8192,
    "max_tokens": 256,
    "config": {},
    "settings": {"speed_tokens": 32},
    "versions": {"torch": "2.5.0", "transformers": "4.50.0"},
}


def measured_rec(
    name: str = "tuned/gen", capability: str = "text-generation", **figures: Any
) -> ModelRecommendation:
    measured = {
        capability: {"confidence": 0.55, "evidence": dict(EVIDENCE), "latency_median_s": 0.8, **figures}
    }
    return ModelRecommendation(name, 0.5, [capability], recipe=RECIPE, measured=measured)


def test_recipe_and_measured_figures_round_trip_through_dicts() -> None:
    rec = measured_rec(decode_tokens_per_s=24.0, model_mb=900.0)
    again = ModelRecommendation.from_dict(rec.to_dict())
    assert again == rec and again.recipe == RECIPE
    assert again.measured["text-generation"]["decode_tokens_per_s"] == 24.0  # type: ignore[index]


def test_measured_capability_names_are_made_canonical() -> None:
    rec = ModelRecommendation(
        "m", 0.5, ["chat"], measured={"generate": {"confidence": 0.4, "evidence": EVIDENCE}}
    )
    assert set(rec.measured or {}) == {"text-generation"}
    assert rec.measured_capabilities() == {"text-generation": (0.4, EVIDENCE)}


def test_unmeasured_recommendations_write_neither_field() -> None:
    data = ModelRecommendation("m", 0.5, ["chat"]).to_dict()
    assert "recipe" not in data and "measured" not in data


def test_bad_measured_figures_and_recipes_are_all_reported_with_key_paths() -> None:
    with pytest.raises(RecommendationError) as err:
        ModelRecommendation(
            "m",
            0.5,
            recipe={"dtype": "float32", "bach_size": 4, "versions": {"torch": 2}},
            measured={
                "chat": {"confidence": 1.5, "evidence": {"value": 1.0}},
                "summarise-ish": {"confidence": 0.1, "evidence": EVIDENCE},
                "summarization": {"confidence": 0.3},
            },
        )
    message = str(err.value)
    for key_path in (
        "recipe.bach_size",
        "recipe.versions",
        "measured.chat.confidence",
        "measured.chat.evidence.metric",
        "measured.summarise-ish",
        "measured.summarization.evidence",
    ):
        assert f"at '{key_path}'" in message, key_path
    assert "Did you mean 'batch_size'" in message


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_a_tuned_file_keeps_recipes_measured_figures_and_its_tuning_account(
    tmp_path: Path, suffix: str
) -> None:
    recs = {"text-generation": {"tiny": measured_rec(ttft_median_s=None)}}
    tuning = {
        "rules": ["a rule"],
        "slots": {"text-generation": {"tiny": {"why": "only one", "chosen": "tuned/gen"}}},
    }
    path = save_recommendation_file(
        tmp_path / f"tuned{suffix}",
        recs,
        hardware={"hardware_id": "abc123", "fingerprint": "abc123-sw", "name": "box"},
        tuning=tuning,
    )
    loaded = load_recommendation_file(path)
    assert loaded.recommendations == recs
    assert loaded.hardware_id == "abc123" and loaded.fingerprint == "abc123-sw"
    assert loaded.tuning == tuning


def test_from_file_loads_a_tuned_file_as_it_is(tmp_path: Path) -> None:
    path = save_recommendation_file(
        tmp_path / "tuned.json",
        {"text-generation": {"tiny": measured_rec()}},
        hardware={"hardware_id": "elsewhere", "fingerprint": "x"},
    )
    registry = CapabilityRegistry.from_file(path)
    assert registry.measured_capabilities("tuned/gen") == {"text-generation": (0.55, EVIDENCE)}
    assert registry.get_recommendation("text-generation", "tiny").recipe == RECIPE  # type: ignore[union-attr]


def test_measured_capabilities_gather_every_slot_of_a_model() -> None:
    registry = CapabilityRegistry(defaults=False)
    registry.update_model("text-generation", "tiny", measured_rec("tuned/m", "text-generation"))
    registry.update_model("summarization", "tiny", measured_rec("tuned/m", "summarization"))
    registry.update_model("chat", "tiny", ModelRecommendation("tuned/m", 0.5, ["chat"]))
    assert set(registry.measured_capabilities("tuned/m")) == {"text-generation", "summarization"}
    assert registry.measured_capabilities("unknown/model") == {}
    assert CapabilityRegistry().measured_capabilities("Qwen/Qwen2.5-7B-Instruct") == {}


def test_measured_confidences_apply_to_model_capabilities() -> None:
    caps = ModelCapabilities("decoder_only")
    for name, (confidence, evidence) in measured_rec().measured_capabilities().items():
        caps.apply_measured(name, confidence, evidence)
    measured = caps.get("text-generation")
    assert (measured.source, measured.confidence, measured.evidence["n"]) == ("measured", 0.55, 20)


# --------------------------------------------------------------------------- matching a machine
def tuned_for(tmp_path: Path, info: Any) -> Path:
    registry = CapabilityRegistry(defaults=False)
    registry.update_model("chat", "small", ModelRecommendation("tuned/chat", 3.0, ["chat"]))
    return registry.save(tmp_path / "tuned.json", hardware=info)


def test_a_tuned_file_records_the_hardware_id(tmp_path: Path, fake_system) -> None:
    info = fake_system()
    assert load_recommendation_file(tuned_for(tmp_path, info)).hardware_id == info.hardware_id()


def test_a_library_upgrade_keeps_a_tuned_file_applied_with_a_warning(
    tmp_path: Path, fake_system, caplog: pytest.LogCaptureFixture
) -> None:
    measured_on = fake_system()
    upgraded = dataclasses.replace(measured_on, torch_version="9.9", transformers_version="9.9")
    assert (
        upgraded.hardware_id() == measured_on.hardware_id()
        and upgraded.fingerprint() != measured_on.fingerprint()
    )
    path = tuned_for(tmp_path, measured_on)
    with caplog.at_level(logging.WARNING):
        registry = CapabilityRegistry(tuned=path, system_info=upgraded)
    assert registry.get_recommendation("chat", "small").model_name == "tuned/chat"  # type: ignore[union-attr]
    assert registry.layers[-1].applied and "software differs" in registry.layers[-1].reason
    assert "other library versions" in caplog.text and str(path) in caplog.text


def test_a_tuned_file_from_other_hardware_is_ignored_by_hardware_id(
    tmp_path: Path, fake_system, caplog: pytest.LogCaptureFixture
) -> None:
    path = tuned_for(tmp_path, fake_system(cpu_threads=64, name="the big box"))
    with caplog.at_level(logging.WARNING):
        registry = CapabilityRegistry(tuned=path, system_info=fake_system(cpu_threads=8))
    assert registry == CapabilityRegistry()
    layer = registry.layers[-1]
    assert not layer.applied and "the big box" in layer.reason and "hardware id" in layer.reason


def test_the_same_machine_applies_quietly(
    tmp_path: Path, fake_system, caplog: pytest.LogCaptureFixture
) -> None:
    info = fake_system()
    with caplog.at_level(logging.WARNING):
        registry = CapabilityRegistry(tuned=tuned_for(tmp_path, info), system_info=info)
    assert (
        registry.layers[-1].applied
        and registry.layers[-1].reason == f"hardware id {info.hardware_id()} matches"
    )
    assert not caplog.records


def test_a_dict_machine_matches_by_hardware_id(tmp_path: Path, fake_system) -> None:
    info = fake_system()
    path = tuned_for(tmp_path, info)
    applied = CapabilityRegistry(tuned=path, system_info={"hardware_id": info.hardware_id()})
    assert applied.layers[-1].applied
    ignored = CapabilityRegistry(tuned=path, system_info={"hardware_id": "other"})
    assert not ignored.layers[-1].applied


def test_an_old_file_without_a_hardware_id_still_needs_the_full_fingerprint(
    tmp_path: Path, fake_system
) -> None:
    info = fake_system()
    registry = CapabilityRegistry(defaults=False)
    registry.update_model("chat", "small", ModelRecommendation("tuned/chat", 3.0, ["chat"]))
    path = registry.save(tmp_path / "old.json", hardware={"fingerprint": info.fingerprint()})
    assert CapabilityRegistry(tuned=path, system_info=info).layers[-1].applied
    upgraded = dataclasses.replace(info, torch_version="9.9")
    assert not CapabilityRegistry(tuned=path, system_info=upgraded).layers[-1].applied
