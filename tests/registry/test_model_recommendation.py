"""ModelRecommendation: fields, aliases, the deprecated size_gb, and requirement checks."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import RecommendationError
from hfbench.registry.memory import ModelShape
from hfbench.registry.recommendation import ModelRecommendation, unmet_requirements


def test_seed_style_positional_construction_still_works() -> None:
    rec = ModelRecommendation("mistral-7b", 7.0, ["text-generation", "chat"])
    assert rec.params_b == 7.0 and rec.capabilities == ("text-generation", "chat")
    assert rec.requirements == {} and rec.gated is False and rec.architecture is None


def test_capability_aliases_become_canonical_and_duplicates_collapse() -> None:
    rec = ModelRecommendation("m", 1.0, ["summarize", "summarization", "asr"], architecture="seq2seq")
    assert rec.capabilities == ("summarization", "speech-recognition")
    assert rec.architecture is ModelArchitecture.ENCODER_DECODER
    assert rec.serves("summary") and not rec.serves("chat")


def test_size_gb_is_a_deprecated_alias_of_params_b() -> None:
    with pytest.warns(DeprecationWarning, match="params_b"):
        rec = ModelRecommendation(model_name="phi-2", size_gb=2.7, capabilities=["text-generation"])
    assert rec.params_b == 2.7
    assert rec == ModelRecommendation("phi-2", 2.7, ["text-generation"])
    with pytest.warns(DeprecationWarning), pytest.raises(RecommendationError, match="conflicts"):
        ModelRecommendation("x", params_b=3.0, size_gb=2.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model_name": ""}, "model_name"),
        ({"params_b": None}, "at 'params_b': missing required key 'params_b'"),
        ({"params_b": "7B"}, "params_b"),
        ({"params_b": 0}, "must be > 0"),
        ({"capabilities": ["sumarization"]}, "Did you mean 'summarization'"),
        ({"capabilities": ["function-calling"]}, "tags"),
        ({"gated": "yes"}, "gated"),
        ({"architecture": "transformer"}, "architecture"),
        ({"default_dtype": "bf61"}, "Did you mean 'bf16'"),
        ({"context_length": 0}, "context_length"),
        ({"shape": {"num_layers": 2}}, "shape.hidden_size"),
        ({"shape": {"num_layers": 2, "hidden_size": 8, "heads": 2}}, "shape.heads"),
        ({"requirements": {"min_gpu_memroy_gb": 8}}, "Did you mean 'min_gpu_memory_gb'"),
        ({"requirements": {"min_ram_gb": "lots"}}, "number"),
        ({"requirements": {"supports_flash_attention": "yes"}}, "true/false"),
        ({"requirements": {"min_compute_capability": "ampere"}}, "compute capability"),
    ],
)
def test_invalid_fields_raise_with_the_field_name(kwargs: dict, match: str) -> None:
    values = {"model_name": "m", "params_b": 1.0, **kwargs}
    with pytest.raises(RecommendationError, match=match):
        ModelRecommendation(**values)


def test_recommendations_are_frozen_and_hashable() -> None:
    rec = ModelRecommendation("m", 1.0, tags=["reasoning"], requirements={"platform": "linux"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.params_b = 2.0  # type: ignore[misc]
    assert hash(rec) == hash(
        ModelRecommendation("m", 1.0, tags=["reasoning"], requirements={"platform": "linux"})
    )


def test_bare_resource_names_are_thresholds_stored_as_min() -> None:
    rec = ModelRecommendation("m", 1.0, requirements={"gpu_memory": 16, "compute_capability": 8})
    assert rec.requirements == {"min_gpu_memory_gb": 16, "min_compute_capability": "8.0"}


def test_resources_are_thresholds_not_equalities() -> None:
    needs = ModelRecommendation(
        "m", 1.0, requirements={"min_gpu_memory_gb": 16, "max_cpu_cores": 64}
    ).requirements
    assert unmet_requirements(needs, {"gpu_memory_gb": 24.0, "cpu_cores": 8}) == []  # the seed's == said no
    assert unmet_requirements(needs, {"gpu_memory_gb": 16, "cpu_cores": 64}) == []  # bounds are inclusive
    reasons = unmet_requirements(needs, {"gpu_memory_gb": 8.0, "cpu_cores": 128})
    assert len(reasons) == 2 and "gpu_memory_gb >= 16" in reasons[0] and "cpu_cores <= 64" in reasons[1]


def test_compute_capability_compares_as_versions() -> None:
    needs = ModelRecommendation("m", 1.0, requirements={"min_compute_capability": "8.0"}).requirements
    assert unmet_requirements(needs, {"compute_capability": "8.9"}) == []
    assert unmet_requirements(needs, {"compute_capability": "10.0"}) == []  # not a string comparison
    assert unmet_requirements(needs, {"compute_capability": "7.5"})
    assert "does not say" in unmet_requirements(needs, {"compute_capability": None})[0]


def test_flags_compare_by_equality_and_lists_mean_any_of() -> None:
    needs = ModelRecommendation(
        "m", 1.0, requirements={"supports_flash_attention": True, "platform": ["Linux", "darwin"]}
    ).requirements
    assert unmet_requirements(needs, {"supports_flash_attention": True, "platform": "linux"}) == []
    assert unmet_requirements(needs, {"supports_flash_attention": True, "platform": "Darwin"}) == []
    reasons = unmet_requirements(needs, {"supports_flash_attention": False, "platform": "windows"})
    assert len(reasons) == 2 and "'linux' or 'darwin'" in reasons[1]
    assert "does not say" in unmet_requirements(needs, {"platform": "linux"})[0]


def test_dict_round_trip_keeps_every_field() -> None:
    rec = ModelRecommendation(
        "org/model",
        7.6,
        ["chat", "summarization"],
        {"min_gpu_memory_gb": 16, "platform": ["linux", "darwin"]},
        license="apache-2.0",
        gated=True,
        architecture="decoder_only",
        notes="n",
        default_dtype="int4",
        context_length=32768,
        shape={"num_layers": 28, "hidden_size": 3584, "num_attention_heads": 28},
        tags=["function-calling"],
    )
    assert ModelRecommendation.from_dict(rec.to_dict()) == rec
    assert ModelRecommendation.from_dict(rec.to_dict(include_name=False), model_name="org/model") == rec


def test_from_dict_names_the_key_path_and_file() -> None:
    with pytest.raises(RecommendationError) as err:
        ModelRecommendation.from_dict(
            {"params_b": 1.0, "licence": "mit"}, model_name="m", key_path="models.m", file="mine.toml"
        )
    message = str(err.value)
    assert "mine.toml" in message and "'models.m.licence'" in message and "Did you mean 'license'" in message
    with pytest.raises(RecommendationError, match=r"'x\.requirements\.min_ram_gb'"):
        ModelRecommendation.from_dict(
            {"model_name": "m", "params_b": 1.0, "requirements": {"min_ram_gb": True}}, key_path="x"
        )


def test_fields_hold_their_final_types_after_parsing_raw_input() -> None:
    rec = ModelRecommendation(
        "m",
        2,
        "summarize",
        {"gpu_memory": 8},
        architecture="seq2seq",
        default_dtype="bfloat16",
        shape={"num_layers": 2, "hidden_size": 8},
        tags="reasoning",
    )
    assert rec.params_b == 2.0 and isinstance(rec.params_b, float)
    assert rec.capabilities == ("summarization",) and rec.tags == ("reasoning",)
    assert rec.requirements == {"min_gpu_memory_gb": 8}
    assert rec.architecture is ModelArchitecture.ENCODER_DECODER
    assert rec.shape == ModelShape(num_layers=2, hidden_size=8) and rec.model_shape is rec.shape
    assert rec.default_dtype == "bf16"  # the one dtype table's short name
    assert dataclasses.replace(rec, capabilities=["qa"]).capabilities == ("question-answering",)
    assert pickle.loads(pickle.dumps(rec)) == rec  # crosses process boundaries (benchmark workers)


def test_every_invalid_field_is_reported_at_once() -> None:
    with pytest.raises(RecommendationError) as err:
        ModelRecommendation("m", "7B", ["chat", "sumarization"], gated="yes", shape={"num_layers": 0})
    message = str(err.value)
    assert message.startswith("Invalid ModelRecommendation 'm': 5 problems:")
    for path in ("params_b", "capabilities[1]", "gated", "shape.num_layers", "shape.hidden_size"):
        assert f"at '{path}'" in message
    with pytest.raises(RecommendationError) as err:
        ModelRecommendation.from_dict(
            {"params_b": 0, "licence": "mit", "requirements": {"ram": "lots", "gpu_count": -1}},
            model_name="m",
            key_path="models.m",
            file="mine.toml",
        )
    message = str(err.value)
    assert message.startswith("Invalid recommendation file mine.toml: 4 problems:")
    for path in ("licence", "params_b", "requirements.ram", "requirements.gpu_count"):
        assert f"at 'models.m.{path}'" in message
