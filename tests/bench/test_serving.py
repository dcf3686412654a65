"""The serving benchmark against a real ``transformers serve`` of the embedded SmolLM2: two
concurrency levels recorded, queueing visible, the records read back, reported and tuned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from serving_server import ServedModel

from hfbench.bench.report import report
from hfbench.bench.results import load_results
from hfbench.bench.serving import run_served
from hfbench.bench.tune_served import best_served
from hfbench.cli import main

SECRET = "sk-hfbench-serving-secret-1234"
#: Short prompts and answers: two levels in well under a minute on 2 busy cores.
SMALL = {"input_tokens": 16, "output_tokens": 8, "requests": 4}

pytestmark = [pytest.mark.slow, pytest.mark.real_model]


@pytest.fixture(scope="module")
def levels(
    served_smollm2: ServedModel, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[dict[str, Any]]]:
    """Concurrency 1 and 4, records in a fresh folder, the key in the environment."""
    results = tmp_path_factory.mktemp("served")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HFBENCH_SERVING_KEY", SECRET)
        run = run_served(
            served_smollm2.base_url,
            concurrency=(1, 4),
            slo="ttft_ms=600000,itl_ms=600000",
            results=results,
            api_key_env="HFBENCH_SERVING_KEY",
            **SMALL,
        )
    assert run.exit_code == 0, [r.get("error") for r in run.records]
    return results, run.records


def test_both_levels_are_recorded_with_their_figures(
    levels: tuple[Path, list[dict[str, Any]]], served_smollm2: ServedModel
) -> None:
    _, records = levels
    assert [r["serving"]["concurrency"] for r in records] == [1, 4]
    for record in records:
        assert record["kind"] == "served" and record["status"] == "ok"
        assert record["model"] == served_smollm2.model
        assert record["endpoint"]["url"] == served_smollm2.base_url
        assert record["endpoint"]["server"]["models"] == [served_smollm2.model]
        assert record["hardware"]["hardware_id"] == record["hardware_id"]
        metrics = record["serving"]["metrics"]
        assert metrics["completed"] == 4 and metrics["failed"] == 0
        for figure in ("ttft_s", "itl_s", "tpot_s", "e2el_s"):
            assert metrics[figure]["median"] > 0 and metrics[figure]["p90"] >= metrics[figure]["median"]
        assert metrics["goodput_per_s"] == pytest.approx(metrics["request_throughput_per_s"])  # a loose SLO
        assert metrics["output_tokens_per_s"] > 0


def test_the_output_length_is_fixed_by_transformers_serve_s_own_field(
    levels: tuple[Path, list[dict[str, Any]]],
) -> None:
    for record in levels[1]:
        length = record["serving"]["output_length"]
        assert length["method"] == "generation_config"  # after ignore_eos was refused with HTTP 422
        assert "HTTP 422" in length["tried"][0]["result"]
        assert length["honoured"] and length["observed_min"] == length["observed_max"] == 8
        assert record["serving"]["token_count"]["method"].startswith("tokenizer (")


def test_queueing_shows_as_ttft_growth(levels: tuple[Path, list[dict[str, Any]]]) -> None:
    one, four = (r["serving"]["metrics"] for r in levels[1])
    assert four["ttft_s"]["median"] > one["ttft_s"]["median"]
    # The default server answers one request at a time: of four sent together, the later ones wait
    # for answers before them, so the TTFTs of one level spread by a large part of an answer (on an
    # idle machine by more than a whole one; half leaves room for a loaded CI machine).
    assert four["ttft_s"]["max"] - four["ttft_s"]["min"] > 0.5 * four["e2el_s"]["min"]


def test_the_key_is_not_written_into_records(levels: tuple[Path, list[dict[str, Any]]]) -> None:
    folder, records = levels
    assert SECRET not in json.dumps(records)
    assert SECRET not in (folder / "records.jsonl").read_text(encoding="utf-8")


def test_records_load_report_and_answer_the_slo_question(
    levels: tuple[Path, list[dict[str, Any]]], served_smollm2: ServedModel
) -> None:
    folder, records = levels
    frame = load_results(folder)
    assert list(frame["kind"]) == ["served", "served"]
    assert sorted(frame["concurrency"]) == [1, 4]
    assert frame["ttft_p90_s"].notna().all() and frame["goodput_per_s"].notna().all()
    text = str(report(folder))
    assert "Served endpoints" in text and all(len(line) <= 100 for line in text.splitlines())
    four = records[1]["serving"]["metrics"]["ttft_s"]["p90"] * 1000
    met = best_served(folder, slo=f"ttft_ms={four + 1:.0f}", concurrency=4, endpoint=served_smollm2.base_url)
    assert met.chosen is not None and met.chosen.model == served_smollm2.model
    missed = best_served(folder, slo="ttft_ms=1", concurrency=4)
    assert missed.chosen is None and "p90 ttft" in missed.why


def test_cli_runs_an_endpoint_level_and_resumes(
    served_smollm2: ServedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--endpoint", served_smollm2.base_url, "--concurrency", "1", "--requests", "2"]
    args += [
        "--input-tokens",
        "8",
        "--output-tokens",
        "4",
        "--slo",
        "ttft_ms=60000",
        "--results",
        str(tmp_path),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "c=1: 2/2 ok" in out and "Served endpoints" in out
    assert main(args) == 0  # measured already: skipped
    assert "0 level(s) measured" in capsys.readouterr().out
    # another setup of the same server (--label) is a cell of its own, reported apart
    assert main([*args, "--label", "second-setup"]) == 0
    out = capsys.readouterr().out
    assert "1 level(s) measured" in out and "second-setup" in out
    records = load_results(tmp_path)
    assert len(records) == 2 and records["cell_id"].nunique() == 2
