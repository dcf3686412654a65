"""End to end on the tiny zoo: run a suite, ``tune`` its records, load the file on this machine,
and see measured confidences; ``report`` and the plots read the same results."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.bench import Suite, run
from hfbench.bench.report import report
from hfbench.bench.tune import tune
from hfbench.core.capability import ModelCapabilities
from hfbench.core.hardware import system_info
from hfbench.registry import CapabilityRegistry

#: As fast as a cell goes: one timed call, a 4-token decode, 4 eval items.
FAST = {
    "warmup": 0,
    "min_iterations": 1,
    "max_iterations": 2,
    "max_duration_s": 1.0,
    "speed_tokens": 4,
    "eval_n": 4,
}


@pytest.mark.slow
def test_tune_on_tiny_zoo_records_writes_a_file_this_machine_applies(
    tiny_llama: Path, tiny_gpt2: Path, tmp_path: Path
) -> None:
    models = [str(tiny_llama), str(tiny_gpt2)]
    suite = Suite.from_models(models, ["text-generation"], settings=FAST, name="tune-e2e")
    summary = run(suite, results=tmp_path, executor="inline", progress=False)
    assert summary.statuses == {"ok": 2}, [r.get("error") for r in summary.records]

    result = tune(tmp_path)
    here = system_info().hardware_id()
    assert result.path == tmp_path / "recommendations" / f"{here}.json"
    chosen = result.recommendations["text-generation"]["tiny"]
    assert chosen.model_name in models
    assert (
        "tied with" in result.reasons[("text-generation", "tiny")]
        or "better than" in result.reasons[("text-generation", "tiny")]
    )

    registry = CapabilityRegistry(tuned=result.path)
    assert registry.layers[-1].applied and registry.layers[-1].reason == f"hardware id {here} matches"
    recommended = registry.get_recommendation("text-generation", "tiny")
    assert recommended == chosen and recommended.recipe is not None
    assert recommended.recipe["versions"]["torch"] and recommended.recipe["threads"] >= 1
    assert registry.get_recommendation("chat", "medium") == CapabilityRegistry().get_recommendation(
        "chat", "medium"
    )

    measured = registry.measured_capabilities(chosen.model_name)
    assert set(measured) == {"text-generation"}
    capabilities = ModelCapabilities("decoder_only")
    for name, (confidence, evidence) in measured.items():
        capabilities.apply_measured(name, confidence, evidence)
    generation = capabilities.get("text-generation")
    assert generation.source == "measured" and 0.0 <= generation.confidence <= 1.0
    assert generation.evidence["metric"] == "perplexity" and generation.evidence["n"] == 4
    assert generation.evidence["eval_set"] == "brown-passages" and generation.evidence["hardware_id"] == here

    # the provider, given the tuned file, shows the measured confidence for its model
    from hfbench.providers.huggingface import HuggingFaceProvider

    llm = HuggingFaceProvider({"model": chosen.model_name, "tuned_recommendations": str(result.path)})
    shown = llm.get_capabilities()["text-generation"]
    assert shown["source"] == "measured" and shown["evidence"]["eval_set"] == "brown-passages"
    assert shown["confidence"] == generation.confidence

    text = str(report(tmp_path))
    assert "llama-v1" in text and "gpt2-v1" in text and max(map(len, text.splitlines())) <= 100

    from hfbench.plots import save_report_plots

    names = {p.name for p in save_report_plots(tmp_path, tmp_path / "plots")}
    assert names == {"pareto-text-generation.png", "memory.png", "throughput.png"}
