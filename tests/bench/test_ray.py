"""The Ray executor on a local Ray instance: the local executor's records, crashes, timeouts, resume.

One Ray instance (2 CPUs, no dashboard) serves every test of this module and is always shut
down after them; the test cell runners (``cells_for_tests``) reach its workers through the
job's ``PYTHONPATH``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hfbench.bench.cell import base_record
from hfbench.bench.executors import executor_class
from hfbench.bench.fingerprint import fingerprint
from hfbench.bench.runner import run
from hfbench.bench.store import ResultStore
from hfbench.bench.suites import Suite
from hfbench.core.hardware import system_info

ray = pytest.importorskip("ray")

HERE = Path(__file__).parent
TEST_PATH = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])


@pytest.fixture(scope="module", autouse=True)
def ray_instance() -> Iterator[Any]:
    """A local Ray instance for this module's tests (started once, always shut down)."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
        runtime_env={"env_vars": {"PYTHONPATH": TEST_PATH}},
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(autouse=True)
def importable_test_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local cell processes (the comparison runs) import ``cells_for_tests`` too."""
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", TEST_PATH)


def suite(models: list[str], **settings: object) -> Suite:
    return Suite.from_models(models, ["text-generation"], settings=dict(settings), name="ray-test")


def run_ray(models: list[str], results: Path, runner: str, **options: Any) -> list[dict[str, Any]]:
    settings = options.pop("settings", {"eval_n": 2})
    summary = run(
        suite(models, **settings),
        results=results,
        executor="ray",
        runner=f"cells_for_tests:{runner}",
        progress=False,
        **options,
    )
    return summary.records


def test_ray_writes_the_same_records_as_the_local_executor(tmp_path: Path) -> None:
    models = ["model-a", "model-c"]
    records = {}
    for executor in ("local", "ray"):
        summary = run(
            suite(models, eval_n=2),
            results=tmp_path / executor,
            executor=executor,
            runner="cells_for_tests:quick_ok",
            progress=False,
        )
        assert summary.exit_code == 0 and len(ResultStore(tmp_path / executor).records()) == 2
        records[executor] = {
            r["cell_id"]: {k: v for k, v in r.items() if k != "started_at"} for r in summary.records
        }
    assert records["ray"] == records["local"]  # statuses, cell ids, hardware, attempts: every field
    any_record = next(iter(records["ray"].values()))
    assert any_record["hardware_id"] == system_info().hardware_id() and any_record["attempts"] == 1


def test_a_killed_worker_is_one_failed_record_and_the_rest_completes(tmp_path: Path) -> None:
    records = run_ray(["model-a", "model-b", "model-c"], tmp_path, "crash_on_b", retries=1)
    by_model = {r["model"]: r for r in records}
    assert by_model["model-a"]["status"] == by_model["model-c"]["status"] == "ok"
    crashed = by_model["model-b"]
    assert crashed["status"] == "failed" and crashed["attempts"] == 2  # retried once, died twice
    assert crashed["error"]["type"] == "WorkerCrashedError" and crashed["error"]["phase"] == "process"
    assert "worker process died on node" in crashed["error"]["message"]
    assert crashed["hardware_id"] == system_info().hardware_id()  # the node that ran it
    assert len(ResultStore(tmp_path).records()) == 3


def test_a_runner_error_is_recorded_and_not_retried(tmp_path: Path) -> None:
    (failed,) = run_ray(["model-b"], tmp_path, "raise_on_b", retries=1)
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert failed["error"]["type"] == "ValueError" and failed["error"]["phase"] == "runner"
    assert "no measurement for model-b" in failed["error"]["message"]


def test_a_cell_over_its_timeout_is_cancelled_and_recorded_as_timeout(tmp_path: Path) -> None:
    start = time.perf_counter()
    (timed_out,) = run_ray(["model-b"], tmp_path, "hang_on_b", cell_timeout_s=2)
    assert timed_out["status"] == "timeout" and "timeout of 2 s" in timed_out["error"]["message"]
    assert timed_out["hardware_id"] == system_info().hardware_id()
    assert time.perf_counter() - start < 60


def test_a_cell_no_node_can_hold_is_failed_at_once(tmp_path: Path) -> None:
    (record,) = run_ray(["model-a"], tmp_path, "quick_ok", settings={"threads": 64})
    assert record["status"] == "failed" and record["error"]["phase"] == "schedule"
    assert "no node of the Ray cluster has the 64 CPUs" in record["error"]["message"]


def test_resume_skips_cells_measured_on_a_machine_of_the_cluster_only(tmp_path: Path) -> None:
    here = fingerprint()
    assert executor_class("ray")().hardware_ids() == {here["hardware_id"]}
    two = suite(["model-a", "model-c"], eval_n=2)
    store = ResultStore(tmp_path)
    elsewhere = {**here, "hardware_id": "another-box"}
    store.append({**base_record(two.cells()[0], elsewhere), "status": "ok"})  # not a machine of the cluster
    store.append({**base_record(two.cells()[1], here), "status": "ok"})
    summary = run(
        two,
        results=tmp_path,
        executor="ray",
        runner="cells_for_tests:quick_ok",
        progress=False,
    )
    assert summary.skipped == 1
    assert [r["model"] for r in summary.records] == ["model-a"]


def test_a_real_cell_of_the_tiny_zoo_runs_through_ray(tmp_path: Path, tiny_llama: Path) -> None:
    settings = {"max_duration_s": 3.0, "speed_tokens": 4, "quality": False}
    summary = run(
        Suite.from_models([str(tiny_llama)], ["text-generation"], settings=settings, name="ray-real"),
        results=tmp_path,
        executor="ray",
        progress=False,
    )
    (record,) = summary.records
    assert record["status"] == "ok", record["error"]
    assert record["latency"]["e2e"]["median"] > 0 and record["memory"]["model_mb"] > 0
    assert record["hardware_id"] == system_info().hardware_id() and record["attempts"] == 1
    gpus = ray.cluster_resources().get("GPU", 0)  # device auto: a GPU cell where the cluster has GPUs
    assert record["recipe"]["device"].startswith("cuda" if gpus else "cpu")  # cuda:0 on a GPU node
