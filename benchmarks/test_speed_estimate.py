"""The registry's decode speed estimate against this machine's measurements: within 25 % once calibrated.

The quick suite measures decode tokens/s for the two embedded decoders (SmolLM2-135M in chat and
summarization, Gemma-3-270m in summarization and text generation). This benchmark fits the
estimate's efficiency and per-token overhead to those measurements (``calibrate_speed``, not
saved), then compares, for each embedded decoder, the median of its measured decode speeds with
the estimate the registry gives its catalog entry (``params_b`` at the measured dtype), before
calibration (the assumptions of ``registry/data/speed.toml``) and after. The figures go to
``extra_info`` and are printed; each decoder's calibrated estimate must be within 25 %:

    hfbench run --suite quick --results results/
    HFBENCH_CALIBRATION_RESULTS=results/ pytest benchmarks/test_speed_estimate.py --benchmark-only -s
"""

from __future__ import annotations

import dataclasses
import os
import statistics
from pathlib import Path
from typing import Any

import pytest

RESULTS = Path(os.environ.get("HFBENCH_CALIBRATION_RESULTS", "results"))
TOLERANCE = 0.25


@pytest.fixture(scope="module")
def frame() -> Any:
    from hfbench.bench import load_results

    if not (RESULTS / "records.jsonl").is_file():
        pytest.skip(f"no results in {RESULTS}: run `hfbench run --suite quick --results {RESULTS}` first")
    return load_results(RESULTS)


def test_the_calibrated_estimate_is_within_25_percent_for_each_embedded_decoder(
    benchmark: Any, frame: Any
) -> None:
    from hfbench.core.architecture import ModelArchitecture
    from hfbench.core.hardware import system_info
    from hfbench.registry import calibrate_speed, hardware_facts, model_catalog
    from hfbench.registry.calibration import speed_points

    info = system_info()
    points = speed_points(frame, hardware_id=info.hardware_id(), accelerator=info.accelerator)
    if not points:
        pytest.skip(f"no decode measurement of this machine ({info.hardware_id()}) in {RESULTS}")
    calibration = benchmark.pedantic(
        lambda: calibrate_speed(frame, system_info=info, save=False), rounds=1, iterations=1
    )
    speed = hardware_facts(info).speed
    assert speed is not None
    before = dataclasses.replace(speed, calibration=None)
    after = dataclasses.replace(speed, calibration=calibration)
    catalog = model_catalog()
    decoders = sorted(
        name
        for name, rec in catalog.items()
        if name.startswith("embedded:") and rec.architecture is ModelArchitecture.DECODER_ONLY
    )
    report: dict[str, dict[str, Any]] = {}
    for name in decoders:
        measured_points = [p for p in points if p.model == name]
        if not measured_points:
            continue
        dtype = measured_points[0].dtype
        measured = statistics.median(p.decode_tokens_per_s for p in measured_points)
        bytes_per_token = catalog[name].bytes_per_token(dtype)
        estimate_before = before.estimate(bytes_per_token, dtype).tokens_per_s
        estimate_after = after.estimate(bytes_per_token, dtype).tokens_per_s
        report[name] = {
            "dtype": dtype,
            "cells": len(measured_points),
            "measured_tokens_per_s": measured,
            "estimate_before": estimate_before,
            "error_before": (estimate_before - measured) / measured,
            "estimate_after": estimate_after,
            "error_after": (estimate_after - measured) / measured,
        }
    assert report, f"no embedded decoder measured in {RESULTS}"
    benchmark.extra_info.update(
        hardware_id=info.hardware_id(),
        bandwidth=speed.bandwidth.describe(),
        calibration=calibration.describe(),
        decoders=report,
    )
    print(f"\n{speed.bandwidth.describe()}\ncalibration: {calibration.describe()}")
    print(f"{'decoder':<32} {'dtype':<5} cells measured  before  error   after  error")
    for name, row in report.items():
        print(
            f"{name:<32} {row['dtype']:<5} {row['cells']:>5} {row['measured_tokens_per_s']:>8.2f} "
            f"{row['estimate_before']:>7.2f} {row['error_before']:>+6.0%} "
            f"{row['estimate_after']:>7.2f} {row['error_after']:>+6.0%}"
        )
    for name, row in report.items():
        assert abs(row["error_after"]) <= TOLERANCE, f"{name}: {row['error_after']:+.0%} after calibration"
