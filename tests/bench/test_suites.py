"""Suites as data: validation (every problem at once), expansion into cells, sweeps, stable cell ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.bench.suites import BUILTIN_SUITES, Suite, parse_sweeps
from hfbench.core.errors import BenchmarkError


def test_builtin_suites_load_and_quick_covers_all_five_embedded_models() -> None:
    quick = Suite.quick()
    models = {cell.model for cell in quick.cells()}
    assert models == {
        "embedded:all-minilm-l6-v2",
        "embedded:whisper-tiny.en",
        "embedded:whisper-base",
        "embedded:smollm2-135m-instruct",
        "embedded:gemma-3-270m",
    }
    capabilities = {(c.short_model, c.capability) for c in quick.cells()}
    assert ("smollm2-135m-instruct", "chat") in capabilities and (
        "gemma-3-270m",
        "summarization",
    ) in capabilities
    assert ("smollm2-135m-instruct", "text-classification") in capabilities
    assert len(Suite.standard().cells()) > len(quick.cells())
    assert all(name in BUILTIN_SUITES for name in ("quick", "standard", "tiers"))
    assert all(not c.model.startswith("embedded:") for c in Suite.tiers().cells())


def test_a_suite_file_reports_every_problem_with_its_key_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        "\n".join(
            [
                "version = 1",
                "colour = 'red'",
                "[settings]",
                "max_tokenz = 5",
                "warmup = -1",
                "[[group]]",
                "models = []",
                "capabilities = ['sumarization']",
                "[[group]]",
                "models = ['m']",
                "capabilities = ['chat']",
                "sweep = { dtype = ['float32', 'float8'] }",
            ]
        )
    )
    with pytest.raises(BenchmarkError) as info:
        Suite.load(path)
    message = str(info.value)
    for where in (
        "'colour'",
        "settings.max_tokenz",
        "settings.warmup",
        "group[0].models",
        "group[0].capabilities[0]",
        "group[1].sweep",
    ):
        assert where in message, where
    assert "Did you mean 'max_tokens'" in message and "Did you mean 'summarization'" in message
    assert str(path) in message


def test_sweeps_expand_into_one_cell_per_value() -> None:
    base = Suite.from_models(["m1", "m2"], ["chat", "summarize"], settings={"max_tokens": 8})
    assert len(base.cells()) == 4
    swept = base.with_sweep(parse_sweeps(["dtype=float32,bfloat16", "batch_size=1,8"]))
    cells = swept.cells()
    assert len(cells) == 16 and len({c.cell_id for c in cells}) == 16
    assert {c.settings["batch_size"] for c in cells} == {1, 8}
    assert all(c.capability in ("chat", "summarization") for c in cells)
    with pytest.raises(BenchmarkError, match="dtype"):
        base.with_sweep({"dtype": ["float8"]})
    with pytest.raises(BenchmarkError, match="key=value1,value2"):
        parse_sweeps(["dtype"])


def test_an_optimize_sweep_loads_each_level_as_its_own_cell() -> None:
    base = Suite.from_models(["m"], ["chat"])
    cells = base.with_sweep(parse_sweeps(["optimize=exact,fast"])).cells()
    assert sorted(c.config["optimize"] for c in cells) == ["exact", "fast"]
    assert len({c.cell_id for c in cells}) == 2
    with pytest.raises(BenchmarkError, match="optimize"):
        base.with_sweep({"optimize": ["bogus"]})


def test_cell_ids_name_what_is_measured_not_how_long_it_is_timed() -> None:
    a = Suite.from_models(["m"], ["chat"], settings={"max_duration_s": 10.0}).cells()[0]
    b = Suite.from_models(["m"], ["chat"], settings={"max_duration_s": 99.0}, name="other").cells()[0]
    c = Suite.from_models(["m"], ["chat"], settings={"dtype": "bfloat16"}).cells()[0]
    assert a.cell_id == b.cell_id != c.cell_id
    assert c.label() == "m · chat · dtype=bfloat16"
