"""``hfbench compare-speed``: the table and the JSON of a tiny run (the library is tested in tests/bench)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hfbench.cli import main


def test_compare_speed_prints_ratios_the_quality_change_and_the_machine(
    tiny_bert: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["compare-speed", str(tiny_bert), "--repeats", "1", "--sentences", "3", "--batch-size", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "sentences/s" in out and "× baseline" in out and "cosine to fp32" in out
    assert "1.00×" in out and "hfbench fast" in out and "machine:" in out


def test_compare_speed_json_has_one_row_per_runner(
    tiny_bert: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["compare-speed", str(tiny_bert), "--repeats", "1", "--sentences", "2", "--only", "hfbench-exact"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["key"] for row in data["rows"]] == ["sentence-transformers", "hfbench-exact"]


def test_compare_speed_errors_are_one_line_with_status_2(
    tiny_bert: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare-speed", str(tiny_bert), "--repeats", "0"]) == 2
    assert "repeats must be a whole number" in capsys.readouterr().err


def test_compare_speed_on_a_whisper_prints_word_error_rates(
    tiny_model: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(tiny_model("whisper"))
    args = ["compare-speed", folder, "--repeats", "1", "--clips", "2", "--only", "hfbench-exact"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "audio s per s" in out and "WER" in out and "transcripts" in out and "hfbench exact" in out
    assert main(["compare-speed", folder, "--clips", "0"]) == 2
    assert "clips must be a whole number" in capsys.readouterr().err
