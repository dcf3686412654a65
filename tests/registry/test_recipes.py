"""Recipes: the precisions a user would try, in order, each checked for memory and speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.core.errors import RecommendationError
from hfbench.registry import CapabilityRegistry, ModelRecommendation, hardware_facts, hardware_profile
from hfbench.registry.recipes import parse_recipes, recipes_for


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "hfbench-cache"))


def tried(profile: str | dict[str, object], rec: ModelRecommendation | None = None) -> list[str]:
    info = hardware_profile(profile) if isinstance(profile, str) else profile
    return [c.recipe.name for c in recipes_for(hardware_facts(info), rec) if c.skipped is None]


def test_each_accelerator_tries_its_precisions_in_the_order_a_user_would() -> None:
    assert tried("consumer-gpu-24gb") == ["bf16", "int8", "nf4"]
    assert tried("cloud-t4-16gb") == ["fp16", "int8", "nf4"]  # sm 7.5: no bf16
    assert tried("apple-m-32gb") == ["fp16"]  # no quantization backend hfbench uses on MPS
    assert tried("laptop-16gb") == ["fp32"]  # bf16 on a CPU only where measured faster
    assert tried({"gpu_memory": 16}) == ["bf16", "int8", "nf4"]
    assert tried({"gpu_memory": 16, "dtype": "half"}) == ["fp16"]  # a machine that names its dtype
    prequantized = ModelRecommendation("org/awq", 7.0, ["chat"], default_dtype="int4")
    assert tried("consumer-gpu-24gb", prequantized) == ["checkpoint int4"]


def test_recipes_say_how_to_load_the_model() -> None:
    choices = {
        c.recipe.name: c.recipe for c in recipes_for(hardware_facts(hardware_profile("consumer-gpu-24gb")))
    }
    assert choices["bf16"].config() == {"dtype": "bfloat16"}
    assert choices["nf4"].config() == {"dtype": "auto", "quantization": "4bit"}
    assert choices["int8"].backend == "bitsandbytes" and choices["int8"].runtime == "transformers"


def test_a_24gb_gpu_gets_a_4_bit_14b_model_for_medium_chat() -> None:
    explanation = CapabilityRegistry().explain_recommendation(
        "chat", "medium", hardware_profile("consumer-gpu-24gb")
    )
    chosen = explanation.chosen
    assert (
        chosen is not None and chosen.model_name == "Qwen/Qwen3-14B" and explanation.chosen_tier == "medium"
    )
    assert chosen.fit is not None and chosen.fit.recipe.quantization == "4bit"
    assert chosen.run_config() == {"dtype": "auto", "quantization": "4bit"}
    assert chosen.speed is not None and chosen.speed.tokens_per_s >= 5 and chosen.speed_source == "estimated"
    recipes = explanation.candidates[0].recipes
    assert [(r.recipe.name, r.accepted, r.failed_checks) for r in recipes] == [
        ("bf16", False, ("memory",)),  # 29.6 GB of weights
        ("int8", False, ("speed",)),  # fits, but LLM.int8() decodes slowly at batch size 1
        ("nf4", True, ()),
    ]
    chain = explanation.chain()
    assert "bf16:" in chain and "too large" in chain and "too slow" in chain and "recipe nf4" in chain
    assert "estimated" in str(explanation)


def test_quantized_models_fall_back_to_a_smaller_model_only_when_no_recipe_works(fake_system) -> None:
    registry = CapabilityRegistry(defaults=False, min_tokens_per_s=0)
    registry.update_model("chat", "medium", ModelRecommendation("big", 14.0, ["chat"]))
    registry.update_model("chat", "small", ModelRecommendation("small", 3.0, ["chat"]))
    fits_4bit = registry.get_recommendation("chat", "medium", fake_system(gpu_gb=(12,)))
    assert fits_4bit is not None and fits_4bit.model_name == "big" and fits_4bit.fit.recipe.name == "nf4"  # type: ignore[union-attr]
    smaller = registry.get_recommendation("chat", "medium", fake_system(gpu_gb=(4,)))
    assert smaller is not None and smaller.model_name == "small"


def test_the_recipe_table_is_validated_with_key_paths() -> None:
    with pytest.raises(RecommendationError) as err:
        parse_recipes(
            {
                "version": 1,
                "recipe": [
                    {"name": "x", "accelerators": ["tpu"], "dtype": "fp12", "source": "s"},
                    {"name": "y", "accelerators": ["cpu"], "dtype": "bf16", "measured_only": True},
                ],
            },
            file="recipes.toml",
        )
    message = str(err.value)
    assert "recipe[0].accelerators" in message and "recipe[0].dtype" in message
    assert "recipe[1].source" in message and "recipe[1].than" in message and "recipes.toml" in message
