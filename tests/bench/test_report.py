"""``report``: the one-screen tables (cells, memory estimate vs measured, failures) in 100 columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from synthetic_records import HW, make_record

from hfbench.bench.report import Report, report
from hfbench.bench.results import load_results
from hfbench.bench.store import ResultStore
from hfbench.bench.text_table import REPORT_WIDTH, seconds_text


def records() -> list[dict[str, Any]]:
    long_name = "some-organisation/an-extremely-long-model-name-that-cannot-fit-anywhere"
    decoder = make_record("org/decoder", "text-generation", level=3, latency_s=1.5, decode_tokens_per_s=24.0)
    decoder["latency"]["generation"]["ttft_s"] = {"median": 0.12}
    speech = make_record("embedded:whisper-base", "speech-recognition", level=5, latency_s=0.4)
    speech["latency"]["real_time_factor"] = 0.08
    encoder = make_record("org/encoder", "embeddings", level=4, latency_s=0.05, batch=32)
    encoder["latency"]["samples_per_s"] = 640.0
    return [
        decoder,
        speech,
        encoder,
        make_record(long_name, "zero-shot-classification", level=2, latency_s=12.5, model_mb=123456.0),
        make_record("org/huge", "summarization", status="oom", error="CUDA out of memory | " + "x" * 300),
        make_record(
            "org/crawl", "summarization", status="too_slow", error="one call took 9 s, over max_call_s"
        ),
        make_record("org/broken", "chat", status="failed", error="ValueError: no chat template"),
    ]


def _slow_decoder() -> dict[str, Any]:
    return make_record("org/slow", "text-generation", decode_tokens_per_s=0.4226)


@pytest.fixture
def made() -> Report:
    return report(records())


def test_every_line_fits_100_columns_as_text_and_markdown(made: Report) -> None:
    for text in (str(made), made.to_markdown()):
        widths = [len(line) for line in text.splitlines()]
        assert max(widths) <= REPORT_WIDTH, [line for line in text.splitlines() if len(line) > REPORT_WIDTH]


def test_the_cells_table_shows_speed_memory_quality_and_confidence(made: Report) -> None:
    text = str(made)
    decoder = next(line for line in text.splitlines() if line.startswith("decoder "))
    assert "1.5s" in decoder and "120ms" in decoder and "24.0 tok/s" in decoder and "2000" in decoder
    assert "rougeL" in decoder and "0.50 [0.40,0.60]" in decoder and "1.00" in decoder
    speech = next(line for line in text.splitlines() if line.startswith("whisper-base "))
    assert "RTF 0.08" in speech
    encoder = next(line for line in text.splitlines() if line.startswith("encoder "))
    assert "640 smp/s" in encoder and "50ms" in encoder
    assert "0.42 tok/s" in str(report([_slow_decoder()]))
    assert "an-extremely-…" in text  # cut to fit, not wrapped


def test_ok_cells_come_first_then_failures(made: Report) -> None:
    statuses = [row["status"] for row in made.cells]
    assert statuses[:4] == ["ok"] * 4 and set(statuses[4:]) == {"oom", "too_slow", "failed"}


def test_the_memory_table_shows_the_estimation_error_per_model(made: Report) -> None:
    decoder = next(row for row in made.memory if row["model"] == "org/decoder")
    assert decoder["estimate_mb"] == pytest.approx(1800.0) and decoder["model_mb"] == 2000.0
    assert decoder["estimate_error"] == pytest.approx(-0.1) and decoder["cells"] == 1
    line = next(line for line in str(made).splitlines() if line.startswith("decoder ") and "%" in line)
    assert "1800" in line and "2000" in line and "-10%" in line


def test_failures_are_listed_with_their_reasons(made: Report) -> None:
    text = str(made)
    section = text[text.index("Failures and limits") :]
    assert "does not fit" not in section  # the reasons are the records' own
    assert "CUDA out of memory" in section and "one call took 9 s" in section
    assert "ValueError: no chat template" in section
    assert {row["model"] for row in made.failures} == {"org/huge", "org/crawl", "org/broken"}


def test_markdown_tables_are_well_formed(made: Report) -> None:
    markdown = made.to_markdown()
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    header = table[0]
    assert header.count("|") == 11 and table[1].startswith("|--")
    for line in table[: len(made.cells) + 2]:
        assert line.count("|") == 11  # the '|' of an error message does not add a column
    assert "## Cells" in markdown and "## Memory: estimated vs measured (MiB)" in markdown


def test_the_headline_counts_statuses_and_names_the_machine(made: Report) -> None:
    assert made.headline() == f"7 cells on hardware {HW}: 4 ok, 1 oom, 1 too_slow, 1 failed"


def test_report_reads_a_results_folder_and_filters_by_machine(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.append(make_record("org/a"))
    store.append(make_record("org/b", hardware_id="another-box"))
    assert len(report(tmp_path).cells) == 2
    assert [r["model"] for r in report(load_results(tmp_path), hardware_id=HW).cells] == ["org/a"]


def test_an_empty_memory_or_failure_section_says_so() -> None:
    text = str(report([make_record("org/a")]))
    assert "None: every cell measured." in text
    no_estimate = make_record("org/a")
    no_estimate["memory"]["estimate"] = None
    assert "No cell measured memory" in str(report([no_estimate]))


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.0123, "12ms"), (1.234, "1.23s"), (12.34, "12.3s"), (None, "-")]
)
def test_seconds_are_shown_in_ms_below_one_second(seconds: float | None, text: str) -> None:
    assert seconds_text(seconds) == text


def test_a_sweep_gets_a_table_of_what_differs_between_its_cells() -> None:
    exact = make_record("org/encoder", "embeddings", level=4, settings={"optimize": "exact", "batch_size": 8})
    fast = make_record("org/encoder", "embeddings", level=3, settings={"optimize": "fast", "batch_size": 8})
    alone = make_record("org/decoder", "text-generation", level=3, settings={"dtype": "float32"})
    made = report([exact, fast, alone])
    assert [r["varied_settings"] for r in made.sweeps] == ["optimize=exact", "optimize=fast"]
    text = str(made)
    assert "Settings compared" in text and "optimize=fast" in text and "batch_size" not in text
    assert all(len(line) <= REPORT_WIDTH for line in made.to_markdown().splitlines())
    assert "Settings compared" not in str(report([alone]))  # no sweep, no table
