"""``hfbench.widgets.ModelPicker``: its logic, driven by setting widget values (no browser).

What-if hardware profiles keep the answers independent of the machine running the tests; the
registry's Hub models are only looked up, never downloaded; a tiny random-weight model is what
"benchmark it here" measures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from synthetic_records import make_record

from hfbench.bench.store import ResultStore
from hfbench.core.errors import NoSuitableModelError, RecommendationError, UnsupportedCapabilityError
from hfbench.core.hardware import system_info
from hfbench.registry import CapabilityRegistry, hardware_profile
from hfbench.widgets import THIS_MACHINE, ModelPicker

HERE = system_info().hardware_id()


def one_model_registry(model: str = "org/chatter", params_b: float = 0.1, tier: str = "tiny") -> Any:
    """A registry with a single chat model (small enough to be fast on any CPU by default)."""
    registry = CapabilityRegistry(defaults=False)
    registry.update_model("chat", tier, {"model_name": model, "params_b": params_b, "capabilities": ["chat"]})
    return registry


def badge_kind(picker: ModelPicker) -> str:
    value = str(picker.badge_view.value)
    return next(kind for kind in ("ok", "warn", "bad") if f"hfbench-badge-{kind}" in value)


def test_changing_the_capability_changes_the_recommendation_and_the_table(tmp_path: Path) -> None:
    picker = ModelPicker("chat", hardware="consumer-gpu-24gb", results=tmp_path)
    chat = picker.recommendation
    assert chat is not None and chat.model_name in picker.recommendation_view.value
    assert chat.model_name in picker.alternatives_view.value

    picker.capability_control.value = "embeddings"  # what the dropdown does

    embeddings = picker.recommendation
    assert embeddings is not None and embeddings.model_name != chat.model_name
    assert embeddings.serves("embeddings")
    assert embeddings.model_name in picker.recommendation_view.value
    assert embeddings.model_name in picker.alternatives_view.value
    assert chat.model_name not in picker.alternatives_view.value


def test_capability_aliases_are_accepted_and_unknown_ones_rejected(tmp_path: Path) -> None:
    picker = ModelPicker("summarize", hardware="laptop-16gb", results=tmp_path)
    assert picker.capability == "summarization"
    with pytest.raises(UnsupportedCapabilityError, match="no recommendation for 'fill-mask'"):
        ModelPicker(
            "chat", registry=CapabilityRegistry.offline_defaults(), results=tmp_path
        ).capability = "fill-mask"


def test_a_bigger_what_if_machine_gets_a_bigger_model_with_a_fits_badge(tmp_path: Path) -> None:
    picker = ModelPicker("chat", tier="auto", hardware="laptop-16gb", results=tmp_path)
    laptop = picker.recommendation
    assert laptop is not None and picker.fits and badge_kind(picker) == "ok"

    picker.hardware_control.value = "datacenter-gpu-80gb"

    big = picker.recommendation
    assert big is not None and big.params_b > laptop.params_b
    assert badge_kind(picker) == "ok" and "fits" in picker.badge_view.value
    assert "(78.7 GiB for models)" in picker.badge_view.value
    assert picker.system.name == "datacenter-gpu-80gb"


def test_a_tier_too_large_falls_back_with_a_warning_badge(tmp_path: Path) -> None:
    picker = ModelPicker("summarization", tier="tiny", hardware="consumer-gpu-24gb", results=tmp_path)
    assert badge_kind(picker) == "ok"

    picker.tier_control.value = "xlarge"

    assert picker.fits and picker.explanation is not None and picker.explanation.fell_back
    assert badge_kind(picker) == "warn"
    assert f"fits at tier {picker.explanation.chosen_tier}" in picker.badge_view.value
    assert "rejected" in picker.alternatives_view.value and "more than the" in picker.alternatives_view.value


def test_nothing_that_fits_shows_a_doesnt_fit_badge_and_disables_the_buttons(tmp_path: Path) -> None:
    registry = one_model_registry("org/huge-chat", params_b=70.0, tier="xlarge")
    picker = ModelPicker("chat", registry=registry, hardware="laptop-16gb", results=tmp_path)

    assert picker.recommendation is None and not picker.fits
    assert badge_kind(picker) == "bad" and "doesn't fit" in picker.badge_view.value
    assert "more than the" in picker.badge_view.value
    assert "No suitable model for chat" in picker.recommendation_view.value
    assert picker.benchmark_button.disabled and picker.use_button.disabled
    with pytest.raises(NoSuitableModelError, match="org/huge-chat"):
        picker.use()

    picker.hardware = "cloud-t4-16gb"  # 70B needs about 50 GiB even at 4 bits: still no
    assert not picker.fits
    picker.hardware = "datacenter-gpu-80gb"
    assert picker.fits and badge_kind(picker) == "ok"
    assert picker.benchmark_button.disabled  # a what-if machine cannot be measured here


def test_a_what_if_system_info_becomes_a_hardware_choice(tmp_path: Path) -> None:
    box = hardware_profile({"name": "my box", "ram_gb": 64, "cpu_cores": 16})
    picker = ModelPicker("chat", registry=one_model_registry(), hardware=box, results=tmp_path)
    assert picker.hardware == "my box" and picker.system is box and picker.fits
    assert "my box (what-if)" in [label for label, _ in picker.hardware_control.options]
    picker.hardware = THIS_MACHINE
    picker.hardware = hardware_profile({"name": "other box", "ram_gb": 8})
    assert picker.system.name == "other box" and picker.fits


def test_not_measured_until_the_results_folder_has_the_model(tmp_path: Path) -> None:
    picker = ModelPicker("chat", registry=one_model_registry(), results=tmp_path)
    assert picker.measurement is None
    assert "not measured here" in picker.recommendation_view.value

    record = make_record("org/chatter", "chat", latency_s=0.25, model_mb=321.0, hardware_id=HERE)
    ResultStore(tmp_path).append(record)
    picker.refresh()

    assert picker.measurement is not None and picker.measurement.source == f"results folder {tmp_path}"
    view = picker.recommendation_view.value
    assert "measured here" in view and "latency 250ms" in view and "321 MiB" in view
    assert "rougeL 0.50 [0.40,0.60] (n=60)" in view
    assert "latency 250ms" in picker.alternatives_view.value

    picker.hardware = "consumer-gpu-24gb"  # measurements belong to the machine that made them
    assert picker.measurement is None
    assert "not measured on consumer-gpu-24gb" in picker.recommendation_view.value


def test_a_record_of_another_machine_is_not_measured_here(tmp_path: Path) -> None:
    ResultStore(tmp_path).append(make_record("org/chatter", "chat", hardware_id="another-machine"))
    picker = ModelPicker("chat", registry=one_model_registry(), results=tmp_path)
    assert picker.measurement is None


def test_an_out_of_memory_measurement_turns_the_badge_to_doesnt_fit(tmp_path: Path) -> None:
    record = make_record(
        "org/chatter", "chat", status="oom", hardware_id=HERE, error="does not fit at batch 8"
    )
    ResultStore(tmp_path).append(record)
    picker = ModelPicker("chat", registry=one_model_registry(), results=tmp_path)

    assert picker.recommendation is not None and not picker.fits
    assert (
        badge_kind(picker) == "bad"
        and "measured here: oom: does not fit at batch 8" in picker.badge_view.value
    )


def test_a_tuned_file_gives_its_model_and_figures_on_this_machine_only(tmp_path: Path) -> None:
    from hfbench.bench.tune import tune

    records = [make_record("org/tuned-chat", "chat", params_b=0.5, latency_s=0.1, hardware_id=HERE)]
    result = tune(records, system_info=system_info(), output=tmp_path / "tuned.json")
    picker = ModelPicker(
        "chat", tier="tiny", registry=one_model_registry(), tuned=result.path, results=tmp_path / "none"
    )

    assert picker.recommendation is not None and picker.recommendation.model_name == "org/tuned-chat"
    assert picker.measurement is not None and picker.measurement.source == "tuned file"
    assert "latency 100ms" in picker.recommendation_view.value

    picker.hardware = "laptop-16gb"  # the tuned file describes this machine, not the laptop
    assert picker.recommendation is not None and picker.recommendation.model_name == "org/chatter"
    assert picker.measurement is None


def test_use_this_model_makes_a_provider_without_loading_it(tmp_path: Path) -> None:
    picker = ModelPicker(
        "chat", registry=one_model_registry(), results=tmp_path, provider_config={"max_tokens": 8}
    )
    picker.use_button.click()

    assert picker.provider is not None and picker.provider.model_name == "org/chatter"
    assert picker.provider.model_config.get_merged_config("chat")["max_tokens"] == 8
    assert "picker.provider is ready" in picker.status_view.value


def test_benchmarking_a_what_if_machine_is_refused(tmp_path: Path) -> None:
    picker = ModelPicker("chat", registry=one_model_registry(), hardware="laptop-16gb", results=tmp_path)
    assert picker.benchmark_button.disabled
    with pytest.raises(RecommendationError, match="select 'this machine' first"):
        picker.benchmark()
    assert picker.hardware != THIS_MACHINE


def test_unknown_tiers_and_presets_say_what_is_valid(tmp_path: Path) -> None:
    with pytest.raises(RecommendationError, match="valid tiers"):
        ModelPicker(tier="huge", results=tmp_path)
    with pytest.raises(RecommendationError, match="Did you mean 'laptop-16gb'"):
        ModelPicker(hardware="laptop-16g", results=tmp_path)


@pytest.mark.slow
def test_benchmark_it_here_measures_the_cell_and_shows_the_figures(tiny_llama: Path, tmp_path: Path) -> None:
    registry = one_model_registry(str(tiny_llama), params_b=0.001)
    settings = {"max_duration_s": 1.0, "max_iterations": 3, "warmup": 1, "speed_tokens": 4, "eval_n": 4}
    picker = ModelPicker(
        "chat", registry=registry, results=tmp_path, bench_settings=settings, executor="inline"
    )
    assert "not measured here" in picker.recommendation_view.value

    picker.benchmark_button.click()

    assert picker.last_run is not None and [r["status"] for r in picker.last_run.records] == ["ok"]
    assert picker.progress.value == picker.progress.max and picker.progress.bar_style == "success"
    assert picker.measurement is not None and picker.measurement.status == "ok"
    assert "measured here" in picker.recommendation_view.value and "tok/s" in picker.recommendation_view.value
    assert "picker: 1 cells" in picker.status_view.value

    again = picker.benchmark()  # measured already: resumed, nothing run
    assert again.skipped == 1 and not again.records


def test_showing_a_recommendation_imports_no_transformers() -> None:
    code = (
        "import sys; from hfbench.widgets import ModelPicker; p = ModelPicker('chat', results='none'); "
        "p.capability = 'embeddings'; p.hardware = 'consumer-gpu-24gb'; "
        "print(sorted(m for m in ('transformers', 'huggingface_hub', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
