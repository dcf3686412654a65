"""Executors and the runner: a process per cell, crashes and timeouts are records, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hfbench.bench.executors import executor_class
from hfbench.bench.runner import run
from hfbench.bench.store import ResultStore
from hfbench.bench.suites import Suite
from hfbench.core.errors import BenchmarkError

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def importable_test_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cell processes import ``cells_for_tests`` from this folder."""
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))


def suite(models: list[str], **settings: object) -> Suite:
    return Suite.from_models(models, ["text-generation"], settings=dict(settings), name="test")


def test_a_crashing_cell_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    summary = run(
        suite(["model-a", "model-b", "model-c"]),
        results=tmp_path,
        runner="cells_for_tests:crash_on_b",
        progress=False,
    )
    by_model = {r["model"]: r for r in summary.records}
    assert by_model["model-a"]["status"] == by_model["model-c"]["status"] == "ok"
    crashed = by_model["model-b"]
    assert crashed["status"] == "failed" and "SIGABRT" in crashed["error"]["message"]
    assert crashed["error"]["phase"] == "process"
    assert summary.exit_code == 1 and summary.failed == 1
    assert len(ResultStore(tmp_path).records()) == 3


def test_a_cell_over_its_timeout_is_recorded_as_timeout(tmp_path: Path) -> None:
    start = time.perf_counter()
    summary = run(
        suite(["model-a"]), results=tmp_path, runner="cells_for_tests:hang", cell_timeout_s=2, progress=False
    )
    (record,) = summary.records
    assert record["status"] == "timeout" and "timeout of 2 s" in record["error"]["message"]
    assert time.perf_counter() - start < 60


def test_finished_cells_are_skipped_unless_forced(tmp_path: Path) -> None:
    first = run(
        suite(["model-a", "model-c"]), results=tmp_path, runner="cells_for_tests:quick_ok", progress=False
    )
    assert len(first.records) == 2 and first.exit_code == 0
    again = run(
        suite(["model-a", "model-c"]), results=tmp_path, runner="cells_for_tests:quick_ok", progress=False
    )
    assert again.skipped == 2 and not again.records
    forced = run(
        suite(["model-a"]), results=tmp_path, runner="cells_for_tests:quick_ok", force=True, progress=False
    )
    assert len(forced.records) == 1
    assert len(ResultStore(tmp_path).records()) == 3  # appended, nothing rewritten


def test_the_inline_executor_runs_in_this_process(tmp_path: Path) -> None:
    summary = run(
        suite(["model-a"]),
        results=tmp_path,
        executor="inline",
        runner="cells_for_tests:quick_ok",
        progress=False,
    )
    assert summary.records[0]["status"] == "ok"


def test_unknown_executor_has_a_did_you_mean() -> None:
    with pytest.raises(BenchmarkError, match="Did you mean 'local'"):
        executor_class("locl")


def test_a_run_killed_midway_loses_nothing_and_resumes(tmp_path: Path) -> None:
    """SIGKILL the driver after the first records; re-run: no record lost or duplicated."""
    models = [f"model-{i}" for i in range(6)]
    script = (
        f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
        "from hfbench.bench.runner import run\n"
        "from hfbench.bench.suites import Suite\n"
        f"s = Suite.from_models({models!r}, ['text-generation'], settings={{'eval_n': 8}}, name='kill')\n"
        f"run(s, results={str(tmp_path)!r}, runner='cells_for_tests:quick_ok', progress=False)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    driver = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    store = ResultStore(tmp_path)
    deadline = time.monotonic() + 120
    while len(store.records()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    before = store.records()
    assert 2 <= len(before) < len(models)
    summary = run(
        Suite.from_models(models, ["text-generation"], settings={"eval_n": 8}, name="kill"),
        results=tmp_path,
        runner="cells_for_tests:quick_ok",
        progress=False,
    )
    after = store.records()
    assert summary.skipped == len(before)
    assert sorted(r["model"] for r in after) == sorted(models)  # every cell once
    assert [json.dumps(r, sort_keys=True) for r in after[: len(before)]] == [
        json.dumps(r, sort_keys=True) for r in before
    ]  # nothing rewritten
