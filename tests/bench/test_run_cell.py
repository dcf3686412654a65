"""One real cell end to end on the tiny zoo: every part of the record is there and plausible."""

from __future__ import annotations

from pathlib import Path

from hfbench.bench.cell import run_cell
from hfbench.bench.results import load_results
from hfbench.bench.runner import run
from hfbench.bench.suites import Cell, Suite

FAST = {"warmup": 1, "min_iterations": 6, "max_duration_s": 5.0, "speed_tokens": 8, "eval_n": 6}


def test_a_generation_cell_records_latency_memory_and_quality(tiny_llama: Path) -> None:
    record = run_cell(Cell(str(tiny_llama), "chat", FAST))
    assert record["status"] == "ok", record.get("error")
    generation = record["latency"]["generation"]
    assert generation["output_tokens"]["median"] == 8  # the fixed decode length
    assert generation["ttft_s"]["median"] > 0 and generation["decode_tokens_per_s"]["median"] > 0
    assert record["latency"]["iterations"] >= 6 and record["latency"]["warmup_s"]
    assert record["latency"]["percentile_method"].startswith("numpy")
    memory = record["memory"]
    assert memory["weights_mb"] > 0 and memory["inference"]["peak_rss_mb"] > 0
    assert memory["estimate"]["total_mb"] > 0 and memory["estimate_error"] is not None
    quality = record["quality"]
    assert quality["n"] == 6 and quality["provenance"]["hand_made"] is True
    assert 0.0 <= record["measured_confidence"] <= 1.0
    assert record["recipe"]["dtype"] == "float32" and record["recipe"]["versions"]["torch"]
    assert record["recipe"]["optimize"]["level"] == "exact" and not record["recipe"]["optimize"]["lossy"]
    assert record["hardware"]["hardware_id"] == record["hardware_id"]
    assert record["prepare"]["seconds"] == 0.0  # a local folder needs no preparation
    assert set(record["load"]["phases"]) == {"config", "weights", "placement", "optimize", "tokenizer"}


def test_a_batch_cell_reports_samples_per_second(tiny_bert: Path) -> None:
    record = run_cell(Cell(str(tiny_bert), "embeddings", {**FAST, "speed_batch": 4, "quality": False}))
    assert record["status"] == "ok", record.get("error")
    assert record["latency"]["samples_per_s"] > 0 and record["speed_workload"]["inputs"] == 4
    assert "quality" not in record


def test_an_unservable_capability_is_a_failed_record_not_a_crash(tiny_bert: Path) -> None:
    record = run_cell(Cell(str(tiny_bert), "summarization", {**FAST, "quality": False}))
    assert record["status"] == "failed" and record["error"]["type"] == "UnsupportedCapabilityError"


def test_a_suite_runs_in_cell_processes_and_loads_as_a_table(
    tiny_llama: Path, tiny_gpt2: Path, tmp_path: Path
) -> None:
    suite = Suite.from_models([str(tiny_llama), str(tiny_gpt2)], ["chat"], settings=FAST, name="tiny")
    summary = run(suite, results=tmp_path, progress=False)
    assert summary.exit_code == 0 and [r["status"] for r in summary.records] == ["ok", "ok"]
    frame = load_results(tmp_path)
    assert len(frame) == 2 and set(frame["status"]) == {"ok"}
    assert frame["decode_tokens_per_s"].notna().all() and frame["quality_value"].notna().all()
    assert frame["peak_rss_mb"].notna().all() and frame["estimate_mb"].notna().all()
