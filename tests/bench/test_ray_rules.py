"""The Ray executor's rules that need no Ray: resources per cell, fitting them to the nodes, the
missing-dependency message; and the other half of cluster runs, one tuned file per machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from synthetic_records import CONFIG_PARAMS, HW, MACHINE, make_record

from hfbench.bench import tune_params
from hfbench.bench.executors import executor_class, executor_names
from hfbench.bench.executors.ray import (
    PROCESS_BASE_GB,
    CellResources,
    NodeResources,
    cell_resources,
    fit_to_cluster,
)
from hfbench.bench.store import ResultStore
from hfbench.bench.suites import Cell
from hfbench.bench.tune import tune, tune_all
from hfbench.cli import main
from hfbench.core.errors import DependencyMissingError, ResultsError
from hfbench.registry.memory import estimate_memory

GIB = 1024**3
CPU_NODE = NodeResources("n1", "10.0.0.1", cpus=8, gpus=0, memory_bytes=16 * GIB)
GPU_NODE = NodeResources("n2", "10.0.0.2", cpus=16, gpus=2, memory_bytes=64 * GIB)


def cell(model: str = "org/unknown", **settings: object) -> Cell:
    return Cell(model, "text-generation", settings)


# --------------------------------------------------------------------------- resources
def test_a_cell_reserves_its_threads_or_one_cpu() -> None:
    assert cell_resources(cell(threads=4), cluster_has_gpus=False).num_cpus == 4
    assert cell_resources(cell(), cluster_has_gpus=False).num_cpus == 1
    assert cell_resources(cell(), cluster_has_gpus=False, cpus_per_cell=2).num_cpus == 2


@pytest.mark.parametrize(
    ("device", "cluster_has_gpus", "gpus"),
    [
        ("cuda", False, 1),
        ("cuda:0", True, 1),
        (None, True, 1),  # auto on a cluster with GPUs: the model would load on a GPU
        ("auto", False, 0),
        ("cpu", True, 0),  # pinned to CPUs
    ],
)
def test_gpu_cells_reserve_a_gpu(device: str | None, cluster_has_gpus: bool, gpus: int) -> None:
    settings = {"device": device} if device else {}
    assert cell_resources(cell(**settings), cluster_has_gpus=cluster_has_gpus).num_gpus == gpus


def test_memory_is_the_registrys_estimate_for_catalogued_models() -> None:
    model = "Qwen/Qwen2.5-0.5B-Instruct"
    on_cpu = cell_resources(cell(model), cluster_has_gpus=False)
    from hfbench.registry import model_catalog

    entry = model_catalog()[model]
    fp32 = estimate_memory(entry.params_b, "fp32", shape=entry.shape, context_tokens=2048)
    assert on_cpu.memory_bytes == int((fp32.total_gb + PROCESS_BASE_GB) * GIB)
    on_gpu = cell_resources(cell(model, dtype="bfloat16"), cluster_has_gpus=True)
    bf16 = estimate_memory(entry.params_b, "bf16", shape=entry.shape, context_tokens=2048)
    assert on_gpu.memory_bytes == int((bf16.weights_gb + PROCESS_BASE_GB) * GIB)  # weights pass host RAM
    unknown = cell_resources(cell("org/unknown"), cluster_has_gpus=False)
    assert unknown.memory_bytes is None and "size unknown" in unknown.why[2]
    assert "memory" not in unknown.options() and on_cpu.options()["memory"] == on_cpu.memory_bytes


def test_a_cell_no_node_can_hold_gets_a_reason_and_memory_is_capped() -> None:
    reason = fit_to_cluster(CellResources(32), [CPU_NODE, GPU_NODE])
    assert isinstance(reason, str) and "32 CPUs" in reason and "10.0.0.2: 16 CPUs, 2 GPUs" in reason
    assert isinstance(fit_to_cluster(CellResources(1, 1), [CPU_NODE]), str)
    big = fit_to_cluster(CellResources(1, 0, 100 * GIB), [CPU_NODE, GPU_NODE])
    assert isinstance(big, CellResources) and big.memory_bytes == 64 * GIB and "capped" in big.why[-1]
    fits = CellResources(2, 1, 8 * GIB)
    assert fit_to_cluster(fits, [CPU_NODE, GPU_NODE]) is fits


def test_ray_is_a_registered_executor_that_says_how_to_install_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "ray" in executor_names()
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: `import ray` fails
    with pytest.raises(DependencyMissingError, match=r'pip install "hfbench\[ray\]"'):
        executor_class("ray")()


# --------------------------------------------------------------------------- tuned files per machine
@pytest.fixture
def two_machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Results from this (synthetic) machine and another: each has its own best model."""
    monkeypatch.setattr(tune_params, "_config_params", CONFIG_PARAMS.get)
    store = ResultStore(tmp_path / "results")
    store.append(make_record("org/a", level=4, latency_s=0.5))
    store.append(make_record("org/b", level=1, latency_s=0.5))
    store.append(make_record("org/a", level=1, latency_s=0.5, hardware_id="gpu-box"))
    store.append(make_record("org/b", level=4, latency_s=0.5, hardware_id="gpu-box"))
    return tmp_path / "results"


def test_tune_all_writes_one_file_per_machine_each_tuned_on_its_own_records(two_machines: Path) -> None:
    results = tune_all(two_machines, system_info=MACHINE)
    assert sorted(results) == sorted([HW, "gpu-box"])
    folder = two_machines / "recommendations"
    assert {p.name for p in folder.glob("*.json")} == {f"{HW}.json", "gpu-box.json"}
    assert results[HW].recommendations["summarization"]["tiny"].model_name == "org/a"
    assert results["gpu-box"].recommendations["summarization"]["tiny"].model_name == "org/b"
    assert results["gpu-box"].path == folder / "gpu-box.json" and results["gpu-box"].hardware_id == "gpu-box"
    # the single-machine call is unchanged: this machine's records, this machine's file
    assert (
        tune(two_machines, system_info=MACHINE).recommendations["summarization"]["tiny"].model_name == "org/a"
    )


def test_tune_all_names_the_machines_when_one_asked_for_has_no_records(two_machines: Path) -> None:
    with pytest.raises(
        ResultsError, match=f"records are from: {HW}, gpu-box|records are from: gpu-box, {HW}"
    ):
        tune_all(two_machines, system_info=MACHINE, hardware_ids=["nowhere"])
    with pytest.raises(ResultsError, match="No records"):
        tune_all(two_machines.parent / "empty", system_info=MACHINE)


def test_hfbench_tune_writes_a_file_per_machine_or_one_with_hardware_id(
    two_machines: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tune", str(two_machines)]) == 0
    out = capsys.readouterr().out
    assert f"hardware {HW}" in out and "hardware gpu-box" in out
    assert len(list((two_machines / "recommendations").glob("*.json"))) == 2
    target = two_machines / "gpu.json"
    assert main(["tune", str(two_machines), "--hardware-id", "gpu-box", "-o", str(target)]) == 0
    assert target.is_file() and "hardware gpu-box" in capsys.readouterr().out


def test_a_local_instance_is_this_machine_for_resume_without_starting_ray(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ray = pytest.importorskip("ray")
    from hfbench.core.hardware import system_info

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    if ray.is_initialized():
        pytest.skip("Ray is running in this process")
    assert executor_class("ray")().hardware_ids() == {system_info().hardware_id()}
    assert not ray.is_initialized()
