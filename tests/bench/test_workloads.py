"""The speed workload and the recommendation recipe of a cell whose ``batch_size`` is ``"auto"``."""

from __future__ import annotations

from hfbench.bench.tune_measured import recommendation_recipe
from hfbench.bench.workloads import DEFAULT_SPEED_BATCH, speed_workload


def test_a_batch_size_sweep_sets_the_inputs_per_speed_call_and_auto_leaves_the_default() -> None:
    assert len(speed_workload("embeddings", {"batch_size": 4}).inputs) == 4
    assert len(speed_workload("embeddings", {"batch_size": "auto"}).inputs) == DEFAULT_SPEED_BATCH
    assert len(speed_workload("embeddings", {"batch_size": "auto", "speed_batch": 3}).inputs) == 3


def test_an_auto_recipe_records_the_inputs_per_call_as_its_batch_size_and_keeps_auto_in_settings() -> None:
    record = {
        "recipe": {"dtype": "float32", "batch_size": "auto"},
        "speed_workload": {"inputs": 8},
        "settings": {"batch_size": "auto"},
    }
    recipe = recommendation_recipe(record)
    assert recipe["batch_size"] == 8 and recipe["settings"] == {"batch_size": "auto"}
    assert "batch_size" not in recommendation_recipe({**record, "speed_workload": {}})
