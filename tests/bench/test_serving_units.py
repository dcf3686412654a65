"""The serving benchmark's parts without a server: metric definitions, SLOs and goodput, the
output-length probe, the closed loop, prompts, workloads, cell ids, and the SLO-aware choice."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from synthetic_records import HW, MACHINE, make_record

from hfbench.bench.report import report
from hfbench.bench.serving.cell import ServedCell, served_record
from hfbench.bench.serving.load import run_level
from hfbench.bench.serving.metrics import RequestTiming, level_metrics
from hfbench.bench.serving.output_length import choose_output_length
from hfbench.bench.serving.prompts import Prompt, build_prompt_set
from hfbench.bench.serving.runner import ServingOptions, parse_concurrency
from hfbench.bench.serving.slo import SLO, parse_slo
from hfbench.bench.serving.tokens import TokenCounter, token_counter
from hfbench.bench.serving.workloads import served_workloads
from hfbench.bench.suites import Suite
from hfbench.bench.tune import tune
from hfbench.bench.tune_served import best_served, choose_served
from hfbench.core.errors import BenchmarkError


def timing(
    index: int, ttft: float, gaps: list[float], *, tokens: int | None = None, error: str = ""
) -> RequestTiming:
    """A request whose text chunks came ``ttft`` after sending, then ``gaps`` apart."""
    latency = ttft + sum(gaps)
    return RequestTiming(
        index=index,
        ttft_s=None if error else ttft,
        latency_s=None if error else latency,
        itl_s=list(gaps),
        output_tokens=tokens if tokens is not None else len(gaps) + 1,
        error=error,
    )


def test_tpot_itl_and_e2e_follow_vllm_s_definitions() -> None:
    requests = [timing(0, 0.2, [0.1] * 8), timing(1, 0.4, [0.05, 0.15, 0.1]), timing(2, 0.3, [], tokens=1)]
    assert requests[0].tpot_s == pytest.approx(0.1)  # (latency - TTFT) / (tokens - 1)
    assert requests[2].tpot_s is None  # one token: no TPOT (vLLM leaves it out)
    metrics = level_metrics(requests, concurrency=2, duration_s=2.0, slo=SLO())
    gaps = [0.1] * 8 + [0.05, 0.15, 0.1]
    assert metrics.itl_s is not None and metrics.ttft_s is not None and metrics.tpot_s is not None
    assert metrics.itl_s["n"] == 11  # every gap, pooled over requests
    assert metrics.itl_s["p90"] == pytest.approx(np.percentile(gaps, 90, method="linear"))
    assert metrics.ttft_s["median"] == pytest.approx(0.3) and metrics.tpot_s["n"] == 2
    assert metrics.output_tokens == 9 + 4 + 1
    assert metrics.output_tokens_per_s == pytest.approx(14 / 2.0)
    assert metrics.request_throughput_per_s == pytest.approx(1.5)


def test_goodput_counts_the_requests_that_meet_every_limit() -> None:
    slo = parse_slo("ttft_ms=500,itl_ms=150")
    requests = [
        timing(0, 0.2, [0.1, 0.1]),  # good
        timing(1, 0.6, [0.1, 0.1]),  # TTFT over
        timing(2, 0.2, [0.1, 0.2]),  # one gap over (itl_ms limits every gap)
        timing(3, 0.2, [], tokens=1),  # one token: no gap to exceed
        timing(4, 0.0, [], error="HTTP 500"),  # failed: never good
    ]
    metrics = level_metrics(requests, concurrency=1, duration_s=4.0, slo=slo)
    assert metrics.good_requests == 2 and metrics.goodput_per_s == pytest.approx(0.5)
    assert metrics.completed == 4 and metrics.failed == 1
    assert parse_slo("tpot_ms=90").met_by(requests[1]) is False  # (0.8 - 0.6) / 2 = 100 ms


def test_an_slo_names_what_is_valid() -> None:
    assert parse_slo({"e2el_ms": 2000}).limits_ms == {"e2el_ms": 2000.0}
    with pytest.raises(BenchmarkError, match="Did you mean 'ttft_ms'"):
        parse_slo("ttft=500")
    with pytest.raises(BenchmarkError, match="must be a number of milliseconds > 0"):
        parse_slo("itl_ms=-3")
    with pytest.raises(BenchmarkError, match="name=milliseconds"):
        parse_slo("ttft_ms")


class Server:
    """What a warm-up request to a made-up server answers, by the fields it carries."""

    def __init__(self, refuses: set[str], honours: set[str]) -> None:
        self.refuses, self.honours = refuses, honours
        self.sent: list[dict[str, Any]] = []

    async def send(self, fields: dict[str, Any]) -> RequestTiming:
        self.sent.append(fields)
        if set(fields) & self.refuses:
            return RequestTiming(0, error=f"HTTP 422: Unexpected fields {set(fields)}", status=422)
        tokens = 8 if (set(fields) & self.honours) else 5
        return RequestTiming(
            0, ttft_s=0.1, latency_s=0.5, output_tokens=tokens, usage_completion_tokens=tokens
        )


def test_the_output_length_falls_through_refusals_to_the_field_the_server_honours() -> None:
    server = Server(refuses={"ignore_eos"}, honours={"generation_config"})
    choice = asyncio.run(choose_output_length(server.send, 8))
    assert choice.method.name == "generation_config" and choice.honoured
    assert json.loads(server.sent[1]["generation_config"]) == {"min_new_tokens": 8, "max_new_tokens": 8}
    assert [t["method"] for t in choice.tried] == ["ignore_eos", "generation_config"]


def test_a_field_accepted_but_ignored_leaves_the_plain_cap() -> None:
    server = Server(refuses=set(), honours=set())
    choice = asyncio.run(choose_output_length(server.send, 8))
    assert choice.method.name == "max_tokens" and not choice.honoured
    assert [t["result"] for t in choice.tried] == ["5 tokens (not honoured)"] * 3


def test_a_warm_up_failing_for_another_reason_stops_the_run() -> None:
    async def unreachable(fields: dict[str, Any]) -> RequestTiming:
        return RequestTiming(0, error="Cannot connect: is the server running?", status=0)

    with pytest.raises(BenchmarkError, match="is the server running"):
        asyncio.run(choose_output_length(unreachable, 8))
    with pytest.raises(BenchmarkError, match="valid: auto, ignore_eos"):
        asyncio.run(choose_output_length(unreachable, 8, "ignore-eos"))


def test_a_level_keeps_exactly_its_concurrency_in_flight_and_stops_at_the_duration_cap() -> None:
    in_flight, peak = 0, 0

    async def send(prompt: Prompt, index: int, start: float) -> RequestTiming:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        sent = time.perf_counter()
        await asyncio.sleep(0.02)
        in_flight -= 1
        return RequestTiming(index, prompt.id, sent - start, 0.01, time.perf_counter() - sent)

    prompts = [Prompt(f"p{i}", "text", 4) for i in range(12)]
    level = asyncio.run(run_level(send, prompts, concurrency=3, max_duration_s=60))
    assert peak == 3 and [r.index for r in level.requests] == list(range(12)) and not level.cut_short
    short = asyncio.run(run_level(send, prompts, concurrency=2, max_duration_s=0.03))
    assert short.cut_short and 2 <= len(short.requests) < 12 and short.planned == 12


def test_prompts_are_distinct_seeded_and_cut_to_the_token_count(tiny_llama: Path) -> None:
    counter = token_counter(str(tiny_llama), None)
    prompts = build_prompt_set(6, 40, seed=3, counter=counter)
    assert [p.input_tokens for p in prompts.prompts] == [40] * 6
    assert len({p.text for p in prompts.prompts}) == 6
    assert build_prompt_set(6, 40, seed=3, counter=counter).prompts == prompts.prompts
    assert prompts.describe()["source"] == "brown-passages" and prompts.method.startswith("tokenizer")
    approximate = build_prompt_set(2, 40, seed=3, counter=TokenCounter())
    assert all(len(p.text.split()) == 30 for p in approximate.prompts)
    assert approximate.method == "words (approximate, no tokenizer)"


def test_a_suite_s_generative_cells_choose_the_served_workloads() -> None:
    workloads, left_out = served_workloads(Suite.quick())
    assert [(w.capability, w.output_tokens) for w in workloads] == [("chat", 32), ("text-generation", 32)]
    assert any("embeddings" in line for line in left_out)
    assert any("speech-recognition" in line for line in left_out)


def test_options_and_levels_are_checked() -> None:
    assert parse_concurrency("1,2,4,8,4") == (1, 2, 4, 8)
    with pytest.raises(BenchmarkError, match="whole numbers >= 1"):
        parse_concurrency("1,x")
    with pytest.raises(BenchmarkError, match="output_tokens must be"):
        ServingOptions(output_tokens=0)
    assert ServingOptions().requests_for(1) == 8 and ServingOptions().requests_for(4) == 16


def test_a_served_cell_s_id_follows_what_is_measured_not_the_request_count() -> None:
    cell = ServedCell("http://h:1/v1", "m", "chat", 4, 64, 32, requests=16, max_duration_s=60)
    same = ServedCell("http://h:1/v1", "m", "chat", 4, 64, 32, requests=40, max_duration_s=5)
    assert cell.cell_id == same.cell_id
    for other in (
        ServedCell("http://h:1/v1", "m", "chat", 8, 64, 32, 16, 60),
        ServedCell("http://h:1/v1", "m", "chat", 4, 64, 32, 16, 60, label="continuous-batching"),
        ServedCell("http://h:2/v1", "m", "chat", 4, 64, 32, 16, 60),
    ):
        assert other.cell_id != cell.cell_id


# --------------------------------------------------------------------------- the SLO-aware choice
def served(
    model: str, concurrency: int, ttfts: list[float], *, gap: float = 0.05, failed: int = 0
) -> dict[str, Any]:
    """A served level's record: requests with these TTFTs, 8 tokens ``gap`` apart, plus failures."""
    requests = [timing(i, t, [gap] * 7) for i, t in enumerate(ttfts)]
    requests += [timing(len(ttfts) + i, 0.0, [], error="HTTP 500") for i in range(failed)]
    slo = parse_slo("ttft_ms=10000")
    duration = max(r.latency_s or 0.0 for r in requests)
    metrics = level_metrics(requests, concurrency=concurrency, duration_s=duration, slo=slo)
    cell = ServedCell(f"http://{model}:8000/v1", model, "chat", concurrency, 64, 8, len(requests), 60)
    serving = {
        "concurrency": concurrency,
        "metrics": metrics.to_dict(),
        "slo": slo.to_dict(),
        "requests": [r.to_dict() for r in requests],
    }
    hardware = {**MACHINE.to_dict(), "hardware_id": HW}
    endpoint = {"url": cell.endpoint, "api": "/v1/chat/completions", "server": {"models": [model]}}
    return served_record(
        cell, hardware=hardware, endpoint=endpoint, serving=serving, started_at="", wall_s=1.0
    )


def test_the_best_model_whose_p90_ttft_stays_under_the_limit_at_four_users() -> None:
    records = [
        served("fast", 4, [0.1, 0.2, 0.3, 0.4], gap=0.2),  # p90 TTFT 370 ms, slow decode: less goodput
        served("quick", 4, [0.1, 0.15, 0.2, 0.45]),  # p90 TTFT 375 ms, fast decode: more goodput
        served("queued", 4, [0.2, 1.0, 2.0, 3.0]),  # p90 TTFT 2.7 s: over the limit
        served("flaky", 4, [0.1, 0.1, 0.1], failed=1),  # a failed request: not eligible
        served("quick", 1, [0.1, 0.1]),  # another level: another slot
    ]
    choice = best_served(records, slo="ttft_ms=500", concurrency=4)
    assert choice.chosen is not None and choice.chosen.model == "quick"
    assert "higher goodput than fast" in choice.why
    excluded = {c.model: c.excluded for c in choice.candidates if not c.eligible}
    assert "p90 ttft 2700 ms > 500 ms" in str(excluded["queued"])
    assert "1 of 4 requests failed" in str(excluded["flaky"])
    assert best_served(records, slo="ttft_ms=50", concurrency=4).chosen is None
    slots = choose_served(records)  # each level's own SLO, every level
    assert [(c.capability, c.concurrency) for c in slots] == [("chat", 1), ("chat", 4)]


def test_tune_keeps_served_levels_out_of_local_slots_and_answers_them_apart(tmp_path: Path) -> None:
    local = make_record("org/local-model", "summarization", level=3, params_b=0.1)
    records = [local, served("quick", 4, [0.1, 0.2, 0.3, 0.4]), served("queued", 4, [0.2, 1.0, 2.0, 3.0])]
    result = tune(records, system_info=MACHINE, output=tmp_path / "tuned.json", slo="ttft_ms=500")
    assert [c.chosen.model for c in result.choices if c.chosen] == ["org/local-model"]
    assert result.served[0].chosen is not None and result.served[0].chosen.model == "quick"
    assert "served chat at c=4: quick at http://quick:8000/v1" in str(result)
    written = json.loads((tmp_path / "tuned.json").read_text())
    assert written["tuning"]["served"]["slots"][0]["chosen"].startswith("quick")
    text = str(report(records))
    assert "Served endpoints" in text and "local-model" in text
    from hfbench.display import report_html

    assert "Served endpoints" in report_html(report(records))  # the notebook's view too
    assert all(len(line) <= 100 for line in text.splitlines())


def test_the_tune_command_takes_an_slo_and_a_concurrency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hfbench.bench.store import ResultStore
    from hfbench.cli import main

    store = ResultStore(tmp_path)
    for record in (served("quick", 4, [0.1, 0.2, 0.3, 0.4]), served("queued", 4, [0.2, 1.0, 2.0, 3.0])):
        store.append(record)
    args = ["tune", str(tmp_path), "--hardware-id", HW, "--concurrency", "4"]
    assert main([*args, "--slo", "ttft_ms=500"]) == 0
    assert "served chat at c=4: quick" in capsys.readouterr().out
    assert main([*args, "--slo", "ttft_ms=50"]) == 0  # nothing meets it: said, not hidden
    out = capsys.readouterr().out
    assert "served chat at c=4" in out and "quick at" not in out
    assert main([*args, "--slo", "ttft_msec=50"]) == 2  # a wrong SLO name: an hfbench error, exit 2
    assert "ttft_ms" in capsys.readouterr().err
