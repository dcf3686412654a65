"""Calibrating the speed estimate: fitting its factors to measured decode speeds, cached per machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfbench.core.errors import RecommendationError
from hfbench.registry import (
    CapabilityRegistry,
    calibrate_speed,
    fit_speed,
    hardware_facts,
    load_calibration,
)
from hfbench.registry.calibration import SpeedPoint, calibration_path, speed_points
from hfbench.registry.recipes import recipes_for


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hfbench-cache"
    monkeypatch.setenv("HFBENCH_CACHE", str(cache))
    return cache


def synthetic(
    efficiency: float, overhead_ms: float, bandwidth_gbps: float, sizes: list[float]
) -> list[SpeedPoint]:
    """Decode speeds a machine with exactly these factors would measure."""
    return [
        SpeedPoint(
            f"m{i}", "fp32", size, 1 / (size / (efficiency * bandwidth_gbps * 1e9) + overhead_ms / 1000)
        )
        for i, size in enumerate(sizes)
    ]


def rows(hardware_id: str) -> list[dict[str, object]]:
    """``load_results``-shaped rows: two decoders in fp32, plus rows calibration must skip."""
    common = {"hardware_id": hardware_id, "device": "cpu", "status": "ok", "dtype": "float32"}
    return [
        {
            **common,
            "model": "embedded:smollm2-135m-instruct",
            "capability": "chat",
            "cell_id": "a",
            "decode_tokens_per_s": 22.0,
            "weights_mb": 513.0,
        },
        {
            **common,
            "model": "embedded:gemma-3-270m",
            "capability": "text-generation",
            "cell_id": "b",
            "decode_tokens_per_s": 13.0,
            "weights_mb": 1023.0,
        },
        {
            **common,
            "model": "embedded:whisper-base",
            "capability": "speech-recognition",
            "cell_id": "c",
            "decode_tokens_per_s": 50.0,
            "weights_mb": 277.0,
        },  # an encoder-decoder: not all weights per token
        {
            **common,
            "model": "embedded:gemma-3-270m",
            "capability": "summarization",
            "cell_id": "d",
            "decode_tokens_per_s": 1.0,
            "weights_mb": 1023.0,
            "status": "too_slow",
        },
        {
            **common,
            "model": "embedded:gemma-3-270m",
            "capability": "summarization",
            "cell_id": "e",
            "decode_tokens_per_s": 9.0,
            "weights_mb": 1023.0,
            "hardware_id": "another-box",
        },
        {
            **common,
            "model": "embedded:all-minilm-l6-v2",
            "capability": "embeddings",
            "cell_id": "f",
            "decode_tokens_per_s": None,
            "weights_mb": 87.0,
        },
    ]


def test_two_model_sizes_recover_the_efficiency_and_the_overhead() -> None:
    points = synthetic(0.42, 7.0, 35.0, [0.5e9, 1.1e9, 2.2e9])
    calibration = fit_speed(points, bandwidth_gbps=35.0, hardware_id="box")
    fit = calibration.fits["fp32"]
    assert fit.efficiency == pytest.approx(0.42) and fit.overhead_ms == pytest.approx(7.0)
    assert fit.method == "efficiency and overhead" and fit.points == 3
    assert all(abs(error) < 1e-9 for _, _, error in calibration.errors())


def test_one_model_size_fits_the_efficiency_with_the_assumed_overhead() -> None:
    points = synthetic(0.3, 1.0, 40.0, [1e9, 1e9])
    fit = fit_speed(points, bandwidth_gbps=40.0, hardware_id="box").fits["fp32"]
    assert fit.method.startswith("efficiency only") and fit.efficiency == pytest.approx(0.3, rel=1e-6)


def test_no_measurement_is_a_clear_error() -> None:
    with pytest.raises(RecommendationError, match="hfbench run --suite quick"):
        fit_speed([], bandwidth_gbps=30.0, hardware_id="box")


def test_speed_points_keep_this_machines_decoders_only(fake_system) -> None:
    points = speed_points(rows("box"), hardware_id="box", accelerator="cpu")
    assert [(p.model, p.dtype, p.cell_id) for p in points] == [
        ("embedded:smollm2-135m-instruct", "fp32", "a"),
        ("embedded:gemma-3-270m", "fp32", "b"),
    ]
    assert points[0].weights_bytes == 513.0 * 1024**2
    with pytest.raises(RecommendationError, match="load_results"):
        speed_points("results/")


def test_calibrating_caches_per_hardware_id_and_later_estimates_use_it(fake_system) -> None:
    here = fake_system(ram_gb=24.0, name="calibrated box")
    before = hardware_facts(here).speed
    assert before is not None and before.calibration is None
    calibration = calibrate_speed(rows(here.hardware_id()), system_info=here)
    assert calibration_path(here.hardware_id()).is_file()
    assert load_calibration(here.hardware_id()) == calibration
    assert {p.cell_id for p in calibration.points} == {"a", "b"}
    after = hardware_facts(here).speed
    assert after is not None and after.calibration == calibration
    estimate = after.estimate(513.0 * 1024**2, "fp32")
    assert estimate.tokens_per_s == pytest.approx(22.0, rel=1e-6)  # two points, two factors: exact
    assert "calibrated on" in estimate.basis
    chosen = CapabilityRegistry().get_recommendation("chat", "auto", here)
    assert chosen is not None and "calibrated" in chosen.speed.basis  # type: ignore[union-attr]
    other = fake_system(ram_gb=48.0)
    assert hardware_facts(other).speed.calibration is None  # type: ignore[union-attr]


def test_calibrating_without_this_machines_measurements_is_a_clear_error(fake_system) -> None:
    with pytest.raises(RecommendationError, match="No decode measurement of this machine"):
        calibrate_speed(rows("another-box"), system_info=fake_system())


def test_an_unreadable_calibration_is_ignored_with_a_warning(
    fake_system, caplog: pytest.LogCaptureFixture
) -> None:
    here = fake_system()
    path = calibration_path(here.hardware_id())
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "hardware_id": here.hardware_id(), "fits": {"fp32": {}}}))
    assert load_calibration(here.hardware_id()) is None
    assert "Ignoring the speed calibration" in caplog.text and "fits.fp32.efficiency" in caplog.text


def test_cpu_bf16_is_tried_only_where_measured_faster(fake_system) -> None:
    here = fake_system(ram_gb=24.0)
    names = [c.recipe.name for c in recipes_for(hardware_facts(here)) if c.skipped is None]
    assert names == ["fp32"]
    smollm2, gemma = rows(here.hardware_id())[:2]
    smollm2_bf16 = {**smollm2, "dtype": "bfloat16", "decode_tokens_per_s": 40.0, "weights_mb": 257.0}
    gemma_bf16 = {**gemma, "dtype": "bfloat16", "decode_tokens_per_s": 3.0, "weights_mb": 511.0}
    calibrate_speed([smollm2, gemma, smollm2_bf16], system_info=here)
    assert [c.recipe.name for c in recipes_for(hardware_facts(here)) if c.skipped is None] == ["fp32", "bf16"]
    # Faster for one model, slower for the other (as measured on the development machine): not faster.
    calibrate_speed([smollm2, gemma, smollm2_bf16, gemma_bf16], system_info=here)
    skipped = [c for c in recipes_for(hardware_facts(here)) if c.recipe.name == "bf16"]
    assert skipped and skipped[0].skipped == "not measured faster than fp32 on this machine"
