"""Recommendation files: round trips, validation errors with file and key path, layering."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hfbench.core.errors import RecommendationError
from hfbench.registry import CapabilityRegistry, ModelRecommendation, load_recommendation_file
from hfbench.registry.files import save_recommendation_file

CUSTOM = ModelRecommendation(
    "my-org/phi-4-ft",
    14.7,
    ["chat", "summarization"],
    {"min_gpu_memory_gb": 24, "platform": ["linux", "darwin"]},
    license="mit",
    architecture="decoder_only",
    notes="our fine-tune",
    default_dtype="int4",
    context_length=16384,
    shape={"num_layers": 40, "hidden_size": 5120, "num_attention_heads": 40, "num_key_value_heads": 10},
    tags=["function-calling"],
)


def write(path: Path, data: dict) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        import tomli_w

        path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def overlay_data(**extra: object) -> dict:
    data: dict = {
        "version": 1,
        "models": {"my-org/phi-4-ft": CUSTOM.to_dict(include_name=False)},
        "recommendations": {
            "chat": {"medium": "my-org/phi-4-ft"},
            "summarization": {"large": "Qwen/QwQ-32B"},
        },
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_save_then_load_gives_an_equal_registry(tmp_path: Path, suffix: str) -> None:
    registry = CapabilityRegistry()
    registry.update_model("chat", "medium", CUSTOM)
    registry.update_model("fill-mask", "tiny", ModelRecommendation("my/bert", 0.11, ["fill-mask"]))
    path = registry.save(tmp_path / f"recs{suffix}", description="round trip")
    loaded = CapabilityRegistry.from_file(path)
    assert loaded == registry
    assert loaded.get_recommendation("chat", "medium") == CUSTOM
    assert load_recommendation_file(path).description == "round trip"


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_one_name_with_two_descriptions_survives_a_round_trip(tmp_path: Path, suffix: str) -> None:
    registry = CapabilityRegistry(defaults=False)
    registry.update_model("chat", "small", ModelRecommendation("same/name", 3.0, ["chat"]))
    registry.update_model("summarization", "small", ModelRecommendation("same/name", 3.0, ["summarization"]))
    path = registry.save(tmp_path / f"twice{suffix}")
    assert CapabilityRegistry.from_file(path) == registry


def test_saved_json_uses_a_catalog_and_references(tmp_path: Path) -> None:
    path = CapabilityRegistry().save(tmp_path / "defaults.json")
    data = json.loads(path.read_text())
    assert data["version"] == 1
    assert data["recommendations"]["chat"]["small"] == "Qwen/Qwen3-4B-Instruct-2507"
    assert data["models"]["Qwen/Qwen3-4B-Instruct-2507"]["params_b"] == 4.0
    assert data["models"]["Qwen/Qwen3-4B-Instruct-2507"]["source"].startswith("https://huggingface.co/Qwen/")


def test_from_file_holds_exactly_the_file(tmp_path: Path) -> None:
    registry = CapabilityRegistry.from_file(write(tmp_path / "only.toml", overlay_data()))
    assert registry.capabilities() == ["chat", "summarization"] and len(registry) == 2
    assert (
        registry.get_recommendation("summarization", "large").model_name == "Qwen/QwQ-32B"
    )  # from the catalog


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("data", "key_path", "match"),
    [
        ({"recommendations": {}}, "version", "missing 'version'"),
        ({"version": "1"}, "version", "whole number"),
        ({"version": 2}, "version", "newer hfbench"),
        ({"version": 0}, "version", "must be 1"),
        ({"version": 1, "recomendations": {}}, "recomendations", "Did you mean 'recommendations'"),
        ({"version": 1, "offline_recommendations": {}}, "offline_recommendations", "unknown key"),
        (
            {"version": 1, "recommendations": {"summarisation-x": {}}},
            "recommendations.summarisation-x",
            "Did you mean",
        ),
        (
            {"version": 1, "recommendations": {"summarization": {"smal": "facebook/bart-large-cnn"}}},
            "recommendations.summarization.smal",
            "Did you mean 'small'",
        ),
        (
            {
                "version": 1,
                "recommendations": {"summarization": {"small": {"model_name": "x", "params_b": "2B"}}},
            },
            "recommendations.summarization.small.params_b",
            "expected a number",
        ),
        (
            {
                "version": 1,
                "recommendations": {
                    "summarization": {"small": {"model_name": "x", "params_b": 2, "capabilties": []}}
                },
            },
            "recommendations.summarization.small.capabilties",
            "Did you mean 'capabilities'",
        ),
        (
            {
                "version": 1,
                "recommendations": {
                    "summarization": {
                        "small": {"model_name": "x", "params_b": 2, "capabilities": ["sumarize"]}
                    }
                },
            },
            "recommendations.summarization.small.capabilities[0]",
            "Unknown capability",
        ),
        (
            {"version": 1, "recommendations": {"summarization": {"small": "facebook/bart-large-cnm"}}},
            "recommendations.summarization.small",
            "Did you mean 'facebook/bart-large-cnn'",
        ),
        (
            {"version": 1, "recommendations": {"chat": {"small": "Qwen/QwQ-32B"}}},
            "recommendations.chat.small",
            "more than the 'small' tier admits",
        ),
        (
            {"version": 1, "recommendations": {"chat": {}, "conversational": {}}},
            "recommendations.conversational",
            "again",
        ),
        ({"version": 1, "recommendations": {"chat": ["x"]}}, "recommendations.chat", "table of size tiers"),
        (
            {"version": 1, "models": {"a/b": {"model_name": "c/d", "params_b": 1}}},
            'models."a/b".model_name',
            "differs",
        ),
        (
            {"version": 1, "models": {"BAAI/bge.x": {"params_b": 1, "gated": "no"}}},
            'models."BAAI/bge.x".gated',
            "true/false",
        ),
        (
            {"version": 1, "hardware": {"name": "box"}},
            "hardware.fingerprint",
            "missing required key 'fingerprint'",
        ),
        ({"version": 1, "hardware": {"fingerprint": "abc", "gpu": "x"}}, "hardware.gpu", "unknown key"),
    ],
)
@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_malformed_files_name_the_file_and_key_path(
    tmp_path: Path, data: dict, key_path: str, match: str, suffix: str
) -> None:
    path = write(tmp_path / f"bad{suffix}", data)
    with pytest.raises(RecommendationError, match=match) as err:
        CapabilityRegistry.from_file(path)
    assert str(path) in str(err.value) and f"at '{key_path}'" in str(err.value)


def test_syntax_errors_name_the_file_and_position(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"version": 1,\n "models": {,}}')
    with pytest.raises(RecommendationError, match=r"bad\.json is not valid JSON: .* line 2, column 13"):
        load_recommendation_file(bad_json)
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("version = 1\n[recommendations\n")
    with pytest.raises(RecommendationError, match=r"bad\.toml is not valid TOML"):
        load_recommendation_file(bad_toml)
    top_list = tmp_path / "list.json"
    top_list.write_text("[1, 2]")
    with pytest.raises(RecommendationError, match="table at the top"):
        load_recommendation_file(top_list)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(RecommendationError, match="does not exist"):
        CapabilityRegistry.from_file(tmp_path / "nope.toml")
    with pytest.raises(RecommendationError, match=r"\.json or \.toml"):
        CapabilityRegistry.from_file(tmp_path / "recs.yaml")
    with pytest.raises(RecommendationError, match=r"\.json or \.toml"):
        CapabilityRegistry().save(tmp_path / "recs.yml")


def test_size_gb_in_old_files_is_read_as_params_b_with_a_warning(tmp_path: Path) -> None:
    data = {"version": 1, "recommendations": {"chat": {"small": {"model_name": "old", "size_gb": 3.8}}}}
    with pytest.warns(DeprecationWarning, match=r"recommendations\.chat\.small\.size_gb"):
        registry = CapabilityRegistry.from_file(write(tmp_path / "old.json", data))
    assert registry.get_recommendation("chat", "small").params_b == 3.8


# ---------------------------------------------------------------- layering
def test_overlay_adds_models_on_top_of_the_defaults_and_can_be_removed(tmp_path: Path) -> None:
    path = write(tmp_path / "mine.toml", overlay_data())
    registry = CapabilityRegistry(overlay=path)
    assert registry.get_recommendation("chat", "medium") == CUSTOM
    assert registry.get_recommendation("chat", "small").model_name == "Qwen/Qwen3-4B-Instruct-2507"  # default
    assert registry.source_of("chat", "medium") == f"overlay file {path}"
    assert registry.source_of("chat", "small") == "package defaults"
    assert registry.remove_recommendation("chat", "medium") is True
    # The slot is gone (the seed's semantics), so a same-tier model that lists chat is lent.
    assert registry.source_of("chat", "medium") is None
    assert registry.get_recommendation("chat", "medium").model_name == "Qwen/Qwen3-14B"
    assert CapabilityRegistry().with_overlay(path).get_recommendation("chat", "medium") == CUSTOM


def test_overlay_requirements_apply_to_its_models(tmp_path: Path, fake_system) -> None:
    registry = CapabilityRegistry(overlay=write(tmp_path / "mine.json", overlay_data()))
    windows = fake_system(gpu_gb=(48,), platform="windows")
    explanation = registry.explain_recommendation("chat", "medium", windows)
    assert explanation.candidates[0].recommendation == CUSTOM and not explanation.candidates[0].accepted
    linux = registry.explain_recommendation("chat", "medium", fake_system(gpu_gb=(48,)))
    assert linux.chosen == CUSTOM and linux.candidates[0].memory.dtype == "int4"


def tuned_file(tmp_path: Path, fingerprint: str, name: str = "lab box") -> Path:
    registry = CapabilityRegistry(defaults=False)
    registry.update_model("chat", "small", ModelRecommendation("tuned/chat", 3.0, ["chat"]))
    return registry.save(tmp_path / "tuned.json", hardware={"fingerprint": fingerprint, "name": name})


def test_tuned_file_applies_on_matching_hardware(tmp_path: Path, fake_system) -> None:
    here = fake_system(gpu_gb=(24,))
    path = tuned_file(tmp_path, here.fingerprint())
    registry = CapabilityRegistry(tuned=path, system_info=here)
    assert registry.get_recommendation("chat", "small").model_name == "tuned/chat"
    assert registry.get_recommendation("chat", "medium").model_name == "Qwen/Qwen3-14B"  # defaults stay
    assert registry.layers[-1].applied and registry.layers[-1].kind == "tuned"


def test_tuned_file_from_other_hardware_is_ignored_with_a_reason(
    tmp_path: Path, fake_system, caplog: pytest.LogCaptureFixture
) -> None:
    path = tuned_file(tmp_path, fake_system(cpu_threads=64).fingerprint(), name="the big box")
    base = CapabilityRegistry()
    with caplog.at_level(logging.WARNING):
        registry = base.with_tuned(path, system_info=fake_system(cpu_threads=8))
    assert registry == base
    assert registry.layers[-1].applied is False and "the big box" in registry.layers[-1].reason
    assert "ignored" in caplog.text and str(path) in caplog.text


def test_tuned_file_matches_the_current_machine_by_default(tmp_path: Path, fake_system, monkeypatch) -> None:
    import hfbench.core.hardware as hardware

    here = fake_system(gpu_gb=(24,))
    monkeypatch.setattr(hardware, "system_info", lambda refresh=False: here)
    registry = CapabilityRegistry().with_tuned(tuned_file(tmp_path, here.fingerprint()))
    assert registry.get_recommendation("chat", "small").model_name == "tuned/chat"


def test_tuned_file_needs_a_hardware_block(tmp_path: Path, fake_system) -> None:
    plain = CapabilityRegistry(defaults=False)
    plain.update_model("chat", "small", ModelRecommendation("x", 3.0, ["chat"]))
    path = plain.save(tmp_path / "plain.toml")
    with pytest.raises(RecommendationError, match="no 'hardware' block"):
        CapabilityRegistry(tuned=path, system_info=fake_system())


def test_layers_stack_defaults_then_tuned_then_overlay(tmp_path: Path, fake_system) -> None:
    here = fake_system()
    tuned = tuned_file(tmp_path, here.fingerprint())
    mine = ModelRecommendation("mine/chat", 3.0, ["chat"])
    overlay = save_recommendation_file(tmp_path / "overlay.toml", {"chat": {"small": mine}})
    registry = CapabilityRegistry(tuned=tuned, overlay=overlay, system_info=here)
    assert registry.get_recommendation("chat", "small") == mine
    assert [layer.kind for layer in registry.layers] == ["package defaults", "tuned", "overlay"]
    assert registry.remove_recommendation("chat", "small")
    assert registry.get_recommendation("chat", "small", here) is not None


def test_tuned_file_records_the_hardware_it_was_made_on(tmp_path: Path, fake_system) -> None:
    info = fake_system(gpu_gb=(24,), name="bench box")
    path = CapabilityRegistry().save(tmp_path / "tuned.toml", hardware=info)
    loaded = load_recommendation_file(path)
    assert loaded.fingerprint == info.fingerprint() and loaded.hardware["name"] == "bench box"
    assert CapabilityRegistry(defaults=False, tuned=path, system_info=info) == CapabilityRegistry()


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    data = {
        "version": 1,
        "descripton": "typo",
        "hardware": {"fingerprint": "", "gpu": "x"},
        "models": {"a/b": {"params_b": "1B"}},
        "recommendations": {"chat": {"smal": "a/b", "tiny": "nope/model"}},
    }
    with pytest.raises(RecommendationError) as err:
        CapabilityRegistry.from_file(write(tmp_path / "many.toml", data))
    message = str(err.value)
    assert message.startswith(f"Invalid recommendation file {tmp_path / 'many.toml'}: 6 problems:")
    for key_path in (
        "descripton",
        "hardware.fingerprint",
        "hardware.gpu",
        'models."a/b".params_b',
        "recommendations.chat.smal",
        "recommendations.chat.tiny",
    ):
        assert f"at '{key_path}'" in message
    assert "Did you mean 'description'" in message and "Did you mean 'small'" in message
