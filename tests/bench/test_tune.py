"""``tune``: the rules (eligibility, paired comparisons, ties to the faster), the file it writes,
and a brute-force check on a random measured table. Records here are synthetic (``make_record``)."""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from synthetic_records import CONFIG_PARAMS, HW, ITEMS, MACHINE, make_record, weights_mb_for

from hfbench.bench import tune_params
from hfbench.bench.store import ResultStore
from hfbench.bench.tune import TuneResult, tune
from hfbench.bench.tune_measured import measured_capabilities
from hfbench.bench.tune_params import model_size
from hfbench.core.errors import ResultsError
from hfbench.registry import CapabilityRegistry, model_catalog
from hfbench.registry.files import load_recommendation_file

COUNT_FROM_CONFIG = tune_params._config_params


@pytest.fixture(autouse=True)
def synthetic_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Synthetic models have no config to count: answer from ``CONFIG_PARAMS`` instead."""
    monkeypatch.setattr(tune_params, "_config_params", CONFIG_PARAMS.get)


def run_tune(records: Sequence[dict[str, Any]], tmp_path: Path, **kwargs: Any) -> TuneResult:
    return tune(records, system_info=MACHINE, output=tmp_path / "tuned.json", **kwargs)


def chosen(result: TuneResult, capability: str = "summarization", tier: str = "tiny") -> str | None:
    rec = result.recommendations.get(capability, {}).get(tier)
    return rec.model_name if rec else None


# --------------------------------------------------------------------------- the rules
def test_a_tie_goes_to_the_faster_model_and_the_file_says_so(tmp_path: Path) -> None:
    records = [
        make_record("org/slow", level=3, latency_s=2.0),
        make_record("org/fast", level=3, latency_s=0.5),
    ]
    result = run_tune(records, tmp_path)
    assert chosen(result) == "org/fast"
    why = result.reasons[("summarization", "tiny")]
    assert "tied with org/slow" in why and "faster" in why
    tuning = load_recommendation_file(result.path).tuning
    assert tuning is not None
    slot = tuning["slots"]["summarization"]["tiny"]
    assert slot["chosen"] == "org/fast" and slot["comparisons"][0]["better"] == "tie"
    assert slot["comparisons"][0]["ci_low"] == 0.0 == slot["comparisons"][0]["ci_high"]


def test_a_significantly_better_model_wins_even_when_slower(tmp_path: Path) -> None:
    records = [
        make_record("org/good", level=4, latency_s=3.0),
        make_record("org/quick", level=2, latency_s=0.2),
    ]
    result = run_tune(records, tmp_path)
    assert chosen(result) == "org/good"
    assert "significantly better than org/quick" in result.reasons[("summarization", "tiny")]


def test_the_choice_is_never_significantly_worse_than_another_eligible_model(tmp_path: Path) -> None:
    # fast ties mid; mid is beaten by best; so fast is beaten by best too: best wins
    records = [
        make_record("org/best", level=5, latency_s=3.0),
        make_record("org/mid", level=4, latency_s=2.0),
        make_record("org/fast", level=4, latency_s=1.0),
    ]
    result = run_tune(records, tmp_path)
    assert chosen(result) == "org/best"


def test_oom_and_too_slow_cells_are_data_not_choices(tmp_path: Path) -> None:
    records = [
        make_record(
            "org/huge", status="oom", error="CUDA out of memory at batch size 8", settings={"batch_size": 8}
        ),
        make_record("org/crawl", status="too_slow", error="one call took 9 s, over max_call_s of 5 s"),
        make_record("org/ok", level=1, latency_s=1.0),
    ]
    result = run_tune(records, tmp_path)
    assert chosen(result) == "org/ok"
    why = result.reasons[("summarization", "tiny")]
    assert "org/huge [batch_size=8]: does not fit: out of memory at batch_size=8" in why
    assert "org/crawl: too slow" in why


def test_a_tier_with_nothing_eligible_keeps_no_entry_and_says_why(tmp_path: Path) -> None:
    records = [
        make_record("org/huge", status="oom", params_b=7.0),
        make_record("org/small", level=2, params_b=1.0),
    ]
    result = run_tune(records, tmp_path)
    assert "medium" not in result.recommendations["summarization"]
    assert "no eligible model" in result.reasons[("summarization", "medium")]
    registry = CapabilityRegistry(tuned=result.path, system_info=MACHINE)
    assert registry.source_of("summarization", "medium") == "package defaults"
    assert registry.source_of("summarization", "tiny") == f"tuned file {result.path}"


def test_budgets_exclude_slow_and_large_cells_and_are_recorded(tmp_path: Path) -> None:
    records = [
        make_record("org/best-but-slow", level=5, latency_s=0.9),
        make_record("org/best-but-big", level=5, latency_s=0.1, model_mb=9000.0),
        make_record("org/slow-decoder", "text-generation", level=5, latency_s=0.1, decode_tokens_per_s=5.0),
        make_record("org/decoder", "text-generation", level=2, latency_s=0.1, decode_tokens_per_s=30.0),
        make_record("org/ok", level=2, latency_s=0.4),
    ]
    result = run_tune(records, tmp_path, max_latency_ms=500, min_tokens_per_s=20, max_memory_mb=4096)
    assert chosen(result) == "org/ok"
    assert chosen(result, "text-generation") == "org/decoder"
    why = result.reasons[("summarization", "tiny")]
    assert "over the latency budget: median 900 ms > 500 ms" in why
    assert "does not fit: took 9000 MiB, over the 4096 MiB for models" in why
    assert (
        "under the throughput budget: 5.0 decode tokens/s < 20" in result.reasons[("text-generation", "tiny")]
    )
    slot = load_recommendation_file(result.path).tuning["slots"]["summarization"]["tiny"]  # type: ignore[index]
    ok = next(c for c in slot["candidates"] if c["model"] == "org/ok")
    assert "the tokens/s budget does not apply" in " ".join(ok["checks"])
    assert result.budgets.to_dict() == {"max_memory_mb": 4096, "max_latency_ms": 500, "min_tokens_per_s": 20}


def test_the_default_memory_for_models_is_the_machines_total_ram(tmp_path: Path) -> None:
    records = [make_record("org/too-big", level=5, model_mb=17 * 1024.0), make_record("org/fits", level=1)]
    result = run_tune(records, tmp_path)
    assert result.budgets.max_memory_mb == 16 * 1024
    assert chosen(result) == "org/fits"


def test_cells_that_cannot_be_paired_compare_by_confidence(tmp_path: Path) -> None:
    records = [
        make_record("org/a", level=2, latency_s=0.1, eval_set="set-a"),
        make_record("org/b", level=4, latency_s=1.0, eval_set="set-b"),
    ]
    result = run_tune(records, tmp_path)
    assert chosen(result) == "org/b"
    slot = load_recommendation_file(result.path).tuning["slots"]["summarization"]["tiny"]  # type: ignore[index]
    assert slot["comparisons"][0]["method"].startswith("unpaired")


def test_each_tier_is_chosen_separately(tmp_path: Path) -> None:
    records = [
        make_record("org/tiny", level=2, params_b=1.0),
        make_record("org/small", level=3, params_b=3.0),
        make_record("org/medium", level=4, params_b=12.0),
    ]
    result = run_tune(records, tmp_path)
    assert {t: r.model_name for t, r in result.recommendations["summarization"].items()} == {
        "tiny": "org/tiny",
        "small": "org/small",
        "medium": "org/medium",
    }


def test_only_this_machines_latest_records_count(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results")
    store.append(make_record("org/a", level=5, latency_s=0.1, hardware_id="another-box"))
    store.append(make_record("org/b", level=1, latency_s=0.1))
    store.append(make_record("org/c", level=1, latency_s=0.5))
    store.append(make_record("org/c", level=4, latency_s=0.5))  # re-run (--force): the latest counts
    result = tune(tmp_path / "results", system_info=MACHINE)
    assert chosen(result) == "org/c"
    assert result.path == tmp_path / "results" / "recommendations" / f"{HW}.json"


def test_no_records_from_this_machine_is_an_error_that_names_the_machines(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="records are from: another-box"):
        run_tune([make_record("org/a", hardware_id="another-box")], tmp_path)


# --------------------------------------------------------------------------- lossy cells
def optimized(record: dict[str, Any], level: str) -> dict[str, Any]:
    """A synthetic record as ``optimize=<level>`` ran it: ``recipe.optimize`` as ``bench.cell.recipe``
    writes it (``fast``: int8 weights, lossy; ``exact``: lossless steps only)."""
    from hfbench.pipelines.optimize import AppliedStep, OptimizationReport

    steps = {
        "fast": (AppliedStep("int8-dynamic", True, "int8 weights on 12 Linear layers"),),
        "exact": (AppliedStep("threads", False, "4 torch threads"),),
    }[level]
    record["recipe"]["optimize"] = OptimizationReport(level, "cpu", steps).to_dict()
    return record


def swept_cell(model: str, optimize: str, **kwargs: Any) -> dict[str, Any]:
    """``make_record`` of a cell swept with ``optimize=<level>`` (its own cell, as ``--sweep`` makes)."""
    settings = {**kwargs.pop("settings", {}), "optimize": optimize}
    record = make_record(model, settings=settings, **kwargs)
    return optimized(record, optimize) if record["status"] == "ok" else record


def chosen_cell(result: TuneResult, capability: str = "summarization", tier: str = "tiny") -> str | None:
    choice = next(c for c in result.choices if (c.capability, c.tier) == (capability, tier))
    return choice.chosen.cell_id if choice.chosen else None


def candidate_entry(result: TuneResult, cell_id: str) -> dict[str, Any]:
    slot = load_recommendation_file(result.path).tuning["slots"]["summarization"]["tiny"]  # type: ignore[index]
    return next(c for c in slot["candidates"] if c["cell_id"] == cell_id)


def test_a_lossy_cell_tied_with_its_lossless_cell_and_faster_is_chosen_with_its_recipe(
    tmp_path: Path,
) -> None:
    exact = swept_cell("org/a", "exact", level=3, latency_s=1.0)
    fast = swept_cell("org/a", "fast", level=3, latency_s=0.4)
    result = run_tune([exact, fast], tmp_path)
    assert chosen_cell(result) == fast["cell_id"]
    why = result.reasons[("summarization", "tiny")]
    assert "lossy (optimize=fast): no significant loss against org/a [optimize=exact]" in why
    assert "tied with org/a [optimize=exact]" in why
    rec = load_recommendation_file(result.path).recommendations["summarization"]["tiny"]
    assert rec.recipe is not None and rec.recipe["settings"] == {"optimize": "fast"}
    assert rec.recipe["optimize"]["lossy"] is True and rec.recipe["optimize"]["level"] == "fast"
    assert rec.recipe["optimize"]["steps"][0]["name"] == "int8-dynamic"
    assert rec == result.recommendations["summarization"]["tiny"]
    entry = candidate_entry(result, fast["cell_id"])
    assert entry["eligible"] and entry["lossless_comparisons"][0]["better"] == "tie"
    assert entry["lossless_comparisons"][0]["b_cell"] == exact["cell_id"]
    as_toml = tune([exact, fast], system_info=MACHINE, output=tmp_path / "tuned.toml")
    assert load_recommendation_file(as_toml.path).recommendations == as_toml.recommendations


def test_a_lossy_cell_significantly_worse_than_its_lossless_cell_is_excluded(tmp_path: Path) -> None:
    exact = swept_cell("org/a", "exact", level=3, latency_s=1.0)
    fast = swept_cell("org/a", "fast", level=2, latency_s=0.4)
    result = run_tune([exact, fast], tmp_path)
    assert chosen_cell(result) == exact["cell_id"]
    reason = candidate_entry(result, fast["cell_id"])["excluded"]
    assert reason.startswith(
        "lossy (optimize=fast): quality significantly below the lossless cell org/a [optimize=exact] "
        "(difference -0.167, 95% CI ["
    )
    assert reason.endswith(", n=60)")
    why = result.reasons[("summarization", "tiny")]
    assert f"not eligible: org/a [optimize=fast]: {reason}" in why
    assert "the only eligible model in this tier" in why


def test_a_lossy_cell_without_a_lossless_cell_of_its_model_to_compare_is_excluded(tmp_path: Path) -> None:
    records = [
        swept_cell("org/a", "fast", level=3, latency_s=0.1, settings={"dtype": "bfloat16"}),
        swept_cell("org/a", "exact", status="oom", settings={"dtype": "bfloat16"}),  # no quality
        swept_cell("org/a", "exact", level=3, latency_s=1.0, settings={"dtype": "float32"}),  # other settings
        make_record("org/b", level=3, latency_s=0.5),  # another model
    ]
    result = run_tune(records, tmp_path)
    assert chosen(result) == "org/b"
    entry = candidate_entry(result, records[0]["cell_id"])
    assert not entry["eligible"]
    assert (
        entry["excluded"]
        == "lossy (optimize=fast): no lossless cell of this model with quality to compare against"
    )


def test_a_lossy_cell_tied_with_an_ineligible_lossless_cell_stays_eligible(tmp_path: Path) -> None:
    exact = swept_cell("org/a", "exact", level=3, latency_s=0.9)
    fast = swept_cell("org/a", "fast", level=3, latency_s=0.3)
    result = run_tune([exact, fast], tmp_path, max_latency_ms=500)
    assert chosen_cell(result) == fast["cell_id"]
    why = result.reasons[("summarization", "tiny")]
    assert "over the latency budget: median 900 ms > 500 ms" in why
    assert "no significant loss against org/a [optimize=exact]" in why


def test_records_without_an_optimize_recipe_are_lossless_and_ranked_as_before(tmp_path: Path) -> None:
    old = make_record("org/old", level=3, latency_s=0.2)  # before recipe.optimize existed
    plain = make_record("org/plain", level=3, latency_s=0.5)
    plain["recipe"]["optimize"] = None  # loaded without an optimize level
    exact = swept_cell("org/exact", "exact", level=4, latency_s=1.0)
    assert "optimize" not in old["recipe"]
    result = run_tune([old, plain, exact], tmp_path)
    assert chosen(result) == "org/exact"  # significantly better: no lossless cell needed
    slot = load_recommendation_file(result.path).tuning["slots"]["summarization"]["tiny"]  # type: ignore[index]
    assert all(c["eligible"] and "lossless_comparisons" not in c for c in slot["candidates"])
    assert "lossy" not in result.reasons[("summarization", "tiny")]
    recipe = result.recommendations["summarization"]["tiny"].recipe
    assert recipe is not None and recipe["optimize"]["lossy"] is False
    alone = run_tune([old, plain], tmp_path)
    assert chosen(alone) == "org/old" and "optimize" not in (
        alone.recommendations["summarization"]["tiny"].recipe or {}
    )


# --------------------------------------------------------------------------- the file
def test_the_file_holds_recipes_measured_figures_and_the_hardware(tmp_path: Path) -> None:
    records = [
        make_record(
            "embedded:smollm2-135m-instruct", "chat", level=3, latency_s=0.5, settings={"dtype": "bfloat16"}
        )
    ]
    result = run_tune(records, tmp_path)
    loaded = load_recommendation_file(result.path)
    assert loaded.hardware_id == HW and loaded.fingerprint == MACHINE.fingerprint()
    rec = loaded.recommendations["chat"]["tiny"]
    catalogue = model_catalog()["embedded:smollm2-135m-instruct"]
    assert (rec.license, rec.architecture, rec.params_b) == (
        catalogue.license,
        catalogue.architecture,
        catalogue.params_b,
    )
    assert rec.recipe is not None and rec.recipe["dtype"] == "bfloat16" and rec.recipe["batch_size"] == 1
    assert rec.recipe["versions"]["transformers"] == "4.0" and "some_future_key" not in rec.recipe
    measured = rec.measured["chat"]  # type: ignore[index]
    assert measured["latency_median_s"] == 0.5 and measured["model_mb"] == 2000.0
    evidence = measured["evidence"]
    assert evidence["metric"] == "rouge-l" and evidence["n"] == ITEMS and evidence["hardware_id"] == HW
    assert evidence["hand_made"] is True and evidence["eval_set"] == "synthetic"
    assert rec == result.recommendations["chat"]["tiny"]
    assert rec.notes.startswith(f"Tuned on {HW}")


def test_a_toml_output_round_trips(tmp_path: Path) -> None:
    records = [make_record("org/a", level=3), make_record("org/b", status="oom")]
    result = tune(records, system_info=MACHINE, output=tmp_path / "tuned.toml")
    assert load_recommendation_file(result.path).recommendations == result.recommendations


def test_params_come_from_the_catalogue_then_the_weights(tmp_path: Path) -> None:
    catalogue = model_size("embedded:gemma-3-270m")
    assert catalogue is not None and catalogue.source == "catalogue" and catalogue.tier == "tiny"
    weights = model_size("org/unknown", weights_mb=weights_mb_for(3.0), dtype="float32", from_config=False)
    assert weights is not None and weights.source == "weights" and weights.tier == "small"
    assert weights.params_b == pytest.approx(3.0)
    assert model_size("org/unknown", from_config=False) is None


@pytest.mark.slow
def test_params_are_counted_from_the_config_when_nothing_else_says(
    tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tune_params, "_config_params", COUNT_FROM_CONFIG)
    size = model_size(str(tiny_llama))
    assert size is not None and size.source == "config" and size.tier == "tiny" and size.params_b > 0


def test_a_model_of_unknown_size_is_left_out_and_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tune_params, "_config_params", lambda model: None)
    record = make_record("org/mystery", status="oom")
    result = run_tune([record, make_record("org/a")], tmp_path)
    assert result.unplaced == (
        "org/mystery for summarization: its parameters are unknown (not in the catalogue, no weights)",
    )
    assert "left out: org/mystery" in str(result)


# --------------------------------------------------------------------------- measured confidences
def test_measured_capabilities_take_the_latest_ok_record_per_capability() -> None:
    records = [
        make_record("org/a", "chat", level=4, finished_at="2026-01-01T00:00:00+00:00"),
        make_record(
            "org/a", "chat", level=1, settings={"dtype": "bfloat16"}, finished_at="2026-01-02T00:00:00+00:00"
        ),
        make_record("org/a", "summarization", level=2),
        make_record("org/a", "translation", status="oom"),
        make_record("org/b", "chat", level=5),
    ]
    measured = measured_capabilities(records, "org/a")
    assert set(measured) == {"chat", "summarization"}
    confidence, evidence = measured["chat"]
    assert confidence == pytest.approx(10 / 60 / 0.5)
    assert evidence == {
        "metric": "rouge-l",
        "value": pytest.approx(10 / 60),
        "ci_low": pytest.approx(10 / 60 - 0.1),
        "ci_high": pytest.approx(10 / 60 + 0.1),
        "n": ITEMS,
        "eval_set": "synthetic",
        "hardware_id": HW,
        "hand_made": True,
        "higher_is_better": True,
    }
    assert measured_capabilities(records, "a") == measured  # the short name works too
    assert measured_capabilities(records, "org/a", hardware_id="elsewhere") == {}


def test_measured_capabilities_read_a_dataframe_and_a_results_folder(tmp_path: Path) -> None:
    from hfbench.bench.results import load_results

    store = ResultStore(tmp_path)
    for record in (make_record("org/a", "chat", level=2), make_record("org/a", "summarization", level=3)):
        store.append(record)
    from_folder = measured_capabilities(tmp_path, "org/a", hardware_id=HW)
    assert from_folder == measured_capabilities(load_results(tmp_path), "org/a")
    assert set(from_folder) == {"chat", "summarization"}


def test_measured_confidences_reach_model_capabilities_through_the_registry(tmp_path: Path) -> None:
    from hfbench.core.capability import ModelCapabilities

    result = run_tune([make_record("org/a", "text-generation", level=3)], tmp_path)
    registry = CapabilityRegistry(tuned=result.path, system_info=MACHINE)
    caps = ModelCapabilities("decoder_only")
    for name, (confidence, evidence) in registry.measured_capabilities("org/a").items():
        caps.apply_measured(name, confidence, evidence)
    measured = caps.get("text-generation")
    assert measured.source == "measured" and measured.evidence["metric"] == "rouge-l"
    assert measured.confidence == pytest.approx(1.0)


# --------------------------------------------------------------------------- brute force
def random_table(seed: int) -> list[dict[str, Any]]:
    """Many models in every tier, random quality levels, latency, memory; some oom / too slow."""
    rng = random.Random(seed)
    tiers_b = {"tiny": (0.1, 2.0), "small": (2.5, 4.0), "medium": (5.0, 14.0), "large": (16.0, 32.0)}
    records = []
    for capability, generating in (("summarization", False), ("text-generation", True)):
        for tier, (low, high) in tiers_b.items():
            for m in range(rng.randint(0, 5)):
                model = f"org/{capability[:4]}-{tier}-{m}"
                params_b = rng.uniform(low, high)
                for dtype in rng.sample(["float32", "bfloat16"], rng.randint(1, 2)):
                    status = rng.choices(["ok", "oom", "too_slow", "failed"], [0.7, 0.15, 0.1, 0.05])[0]
                    records.append(
                        make_record(
                            model,
                            capability,
                            status=status,
                            level=rng.randint(0, 3),
                            latency_s=rng.uniform(0.05, 3.0),
                            params_b=params_b,
                            model_mb=rng.uniform(100, 6000),
                            decode_tokens_per_s=rng.uniform(5, 60) if generating else None,
                            batch=rng.choice([1, 4]),
                            settings={"dtype": dtype},
                        )
                    )
    return records


def exhaustive_choice(
    records: Sequence[dict[str, Any]], budgets: dict[str, float]
) -> dict[tuple[str, str], str]:
    """The same rules, searched exhaustively: among cells that pass every check, the highest
    quality level (same level = tie), then the least latency per input, model, cell id."""
    from hfbench.registry.tiers import tier_for_params

    best: dict[tuple[str, str], tuple[Any, ...]] = {}
    for r in records:
        if r["status"] != "ok":
            continue
        latency = r["latency"]["e2e"]["median"]
        decode = (r["latency"]["generation"].get("decode_tokens_per_s") or {}).get("median")
        if r["memory"]["model_mb"] > budgets["max_memory_mb"] or latency * 1000 > budgets["max_latency_ms"]:
            continue
        if decode is not None and decode < budgets["min_tokens_per_s"]:
            continue
        slot = (r["capability"], tier_for_params(CONFIG_PARAMS[r["model"]]))
        level = r["quality"]["value"]
        key = (-level, latency / r["speed_workload"]["inputs"], r["model"], r["cell_id"])
        if slot not in best or key < best[slot]:
            best[slot] = key
    return {slot: key[3] for slot, key in best.items()}


@pytest.mark.parametrize("seed", range(4))
def test_tune_agrees_with_an_exhaustive_search_on_a_random_table(seed: int, tmp_path: Path) -> None:
    records = random_table(seed)
    budgets = {"max_memory_mb": 4000.0, "max_latency_ms": 2000.0, "min_tokens_per_s": 15.0}
    result = run_tune(records, tmp_path, **budgets)
    got = {(c.capability, c.tier): c.chosen.cell_id for c in result.choices if c.chosen is not None}
    assert got == exhaustive_choice(records, budgets)
    assert len(got) >= 3  # the table exercised several slots


def test_a_brute_force_table_with_many_ties_and_levels(tmp_path: Path) -> None:
    # every pair of levels and speeds, all in one slot
    records = [
        make_record(f"org/m{level}{speed}", level=level, latency_s=0.1 + speed)
        for level, speed in itertools.product(range(4), range(3))
    ]
    result = run_tune(records, tmp_path)
    assert chosen(result) == "org/m30"


def test_warnings_are_not_raised_for_a_clean_run(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        result = run_tune([make_record("org/a")], tmp_path)
        CapabilityRegistry(tuned=result.path, system_info=MACHINE)
    assert not caplog.records
