"""The ``ray`` executor: one Ray task per cell, on a Ray cluster or a local Ray instance.

``hfbench run --suite tiers --executor ray --address auto`` submits every cell as a Ray task
that runs the cell runner in a worker process of its own (``max_calls=1``: one model per worker,
its memory returned to the node when the cell ends), with the cell's resource needs
(``cell_resources``). Records stream back to the driver as cells end (``ray.wait``), and the
driver alone appends them to the store. The runner computes each record's hardware fingerprint
where it runs, so a record names the node that measured it.

Rules, exactly:

- **Resources** per cell: ``num_cpus`` = the cell's ``threads`` setting, else ``cpus_per_cell``
  (default 1); ``num_gpus`` = ``gpus_per_cell`` (default 1) when the cell's ``device`` is
  ``cuda``/``cuda:<i>``, or when it is unset/``auto`` and the cluster has GPUs (``auto`` would
  load the model on a GPU of a GPU node, so the cell owns one), else 0 (``device = "cpu"`` pins
  a cell to CPUs); ``memory`` (host RAM) = the registry's estimate for models in hfbench's
  catalogue (weights + KV cache for ``RESERVED_CONTEXT_TOKENS`` + overhead on CPU, the weights
  alone on a GPU, which pass through host memory while loading) plus ``PROCESS_BASE_GB``, capped
  at the largest node's; nothing for models of unknown size.
- A cell that no node of the cluster can hold (more CPUs or GPUs than any node has) is recorded
  ``failed`` at once, instead of waiting forever.
- A worker that dies (a crash, ``os.abort()``, a kill, Ray's memory monitor, a lost node) is a
  ``failed`` record with the reason, in phase ``process``; it runs again up to ``retries`` times
  (the record's ``attempts`` says how many ran). An exception raised by the cell runner itself
  is a ``failed`` record in phase ``runner``, not retried (it would fail the same way).
- ``cell_timeout_s`` counts from the moment the cell starts on its worker (not while it waits
  for resources); a cell over it is cancelled (``ray.cancel(force=True)`` ends the worker) and
  recorded ``timeout``.
- Resume (``runner.run``): a cell counts as done when the store holds a record of it from a
  machine (``hardware_id``) of the cluster as it is now (``RayExecutor.hardware_ids``); each cell
  is measured once, on whichever node Ray places it. ``--force`` measures again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hfbench.bench.executors.base import (
    DEFAULT_RUNNER,
    CellRunner,
    Executor,
    ProgressCallback,
    register_executor,
)
from hfbench.bench.suites import Cell
from hfbench.core.errors import BenchmarkError, DependencyMissingError, HFBenchError

logger = logging.getLogger(__name__)

#: CPUs a cell reserves when it sets no ``threads``.
DEFAULT_CPUS_PER_CELL = 1.0
#: GPUs a GPU cell reserves.
DEFAULT_GPUS_PER_CELL = 1.0
#: Host memory a cell's process takes besides its model (Python, torch, transformers), GiB.
PROCESS_BASE_GB = 1.5
#: Tokens of KV cache a cell's memory reservation is sized for.
RESERVED_CONTEXT_TOKENS = 2048
#: ``ray.init`` options the executor sets when it starts or joins Ray (``init_options`` override
#: them): worker output stays in Ray's logs (``/tmp/ray/session_latest/logs``) instead of
#: breaking the progress bar, and Ray's own INFO lines are kept out.
DEFAULT_INIT_OPTIONS: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}

_GIB = 1024**3


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        DependencyMissingError: ``ray`` is not installed (the message gives the install command).
    """
    try:
        import ray
    except ImportError as exc:
        raise DependencyMissingError("The Ray executor (--executor ray)", "ray", extra="ray") from exc
    return ray


# --------------------------------------------------------------------------- resources
@dataclass(frozen=True)
class CellResources:
    """What one cell's Ray task reserves.

    Attributes:
        num_cpus: CPUs (Ray's ``num_cpus``).
        num_gpus: GPUs (Ray's ``num_gpus``).
        memory_bytes: host memory (Ray's ``memory``); None: no reservation.
        why: how each figure was decided, one line each.
    """

    num_cpus: float
    num_gpus: float = 0.0
    memory_bytes: int | None = None
    why: tuple[str, ...] = ()

    def options(self) -> dict[str, Any]:
        """The task's resource options for ``.options(...)``."""
        out: dict[str, Any] = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus}
        if self.memory_bytes:
            out["memory"] = self.memory_bytes
        return out

    def describe(self) -> str:
        """``1 CPU, 1 GPU, 3.2 GiB``."""
        parts = [f"{self.num_cpus:g} CPU" + ("s" if self.num_cpus != 1 else "")]
        if self.num_gpus:
            parts.append(f"{self.num_gpus:g} GPU" + ("s" if self.num_gpus != 1 else ""))
        if self.memory_bytes:
            parts.append(f"{self.memory_bytes / _GIB:.1f} GiB")
        return ", ".join(parts)


def cell_resources(
    cell: Cell,
    *,
    cluster_has_gpus: bool,
    cpus_per_cell: float = DEFAULT_CPUS_PER_CELL,
    gpus_per_cell: float = DEFAULT_GPUS_PER_CELL,
) -> CellResources:
    """The resources a cell's task reserves (the module's rules).

    Args:
        cell: the cell.
        cluster_has_gpus: whether any node of the cluster has a GPU (``device`` auto cells then
            reserve one).
        cpus_per_cell: CPUs of a cell that sets no ``threads``.
        gpus_per_cell: GPUs of a GPU cell.
    """
    settings = cell.settings
    threads = settings.get("threads")
    if threads:
        num_cpus, cpu_why = float(threads), f"{float(threads):g} CPUs: the cell's threads"
    else:
        num_cpus, cpu_why = float(cpus_per_cell), f"{cpus_per_cell:g} CPUs: the default (no threads set)"
    device = str(settings.get("device") or "auto")
    if device.startswith("cuda"):
        num_gpus, gpu_why = gpus_per_cell, f"{gpus_per_cell:g} GPUs: device={device}"
    elif device == "auto" and cluster_has_gpus:
        num_gpus, gpu_why = gpus_per_cell, f"{gpus_per_cell:g} GPUs: device auto on a cluster with GPUs"
    else:
        num_gpus, gpu_why = 0.0, f"no GPU: device={device}"
    memory, memory_why = _memory_bytes(cell, on_gpu=num_gpus > 0)
    return CellResources(num_cpus, num_gpus, memory, (cpu_why, gpu_why, memory_why))


def _memory_bytes(cell: Cell, *, on_gpu: bool) -> tuple[int | None, str]:
    """Host memory to reserve: the registry's estimate for a catalogued model, plus the process."""
    from hfbench.registry import model_catalog
    from hfbench.registry.memory import estimate_memory

    entry = model_catalog().get(cell.model)
    if entry is None:
        return None, "no memory reserved: the model is not in hfbench's catalogue (size unknown)"
    settings = cell.settings
    dtype = str(settings.get("dtype") or "auto")
    if dtype == "auto":  # what a load picks: float32 on CPUs, the checkpoint's dtype on GPUs
        dtype = (entry.default_dtype or "bf16") if on_gpu else "fp32"
    batch_size = settings.get("batch_size")  # "auto" names no count
    batch = int(settings.get("speed_batch") or (batch_size if isinstance(batch_size, int) else None) or 1)
    try:
        estimate = estimate_memory(
            entry.params_b, dtype, shape=entry.shape, context_tokens=RESERVED_CONTEXT_TOKENS, batch_size=batch
        )
    except HFBenchError as exc:
        return None, f"no memory reserved: {exc}"
    model_gb = estimate.weights_gb if on_gpu else estimate.total_gb
    what = "weights (loaded through host memory)" if on_gpu else "weights + KV cache + overhead"
    gb = model_gb + PROCESS_BASE_GB
    return int(gb * _GIB), f"{gb:.1f} GiB: the registry's {what} at {dtype} + {PROCESS_BASE_GB:g} GiB"


@dataclass(frozen=True)
class NodeResources:
    """One alive node's total resources, as Ray reports them."""

    node_id: str
    address: str
    cpus: float
    gpus: float
    memory_bytes: float

    def describe(self) -> str:
        """``10.0.0.3: 8 CPUs, 1 GPU, 20.5 GiB``."""
        return f"{self.address}: {self.cpus:g} CPUs, {self.gpus:g} GPUs, {self.memory_bytes / _GIB:.1f} GiB"


def cluster_nodes(ray: Any) -> list[NodeResources]:
    """The alive nodes of the cluster Ray is connected to."""
    nodes = []
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        resources = node.get("Resources") or {}
        nodes.append(
            NodeResources(
                str(node["NodeID"]),
                str(node.get("NodeManagerAddress") or node["NodeID"]),
                float(resources.get("CPU", 0.0)),
                float(resources.get("GPU", 0.0)),
                float(resources.get("memory", 0.0)),
            )
        )
    return nodes


def fit_to_cluster(resources: CellResources, nodes: Sequence[NodeResources]) -> CellResources | str:
    """The resources adjusted to the cluster, or why no node can run the cell.

    A memory reservation above every node that has the CPUs and GPUs is capped at the largest of
    them (the estimate is a scheduling hint: the cell then records whether the model fits).
    """
    hosts = [n for n in nodes if n.cpus >= resources.num_cpus and n.gpus >= resources.num_gpus]
    if not hosts:
        having = "; ".join(n.describe() for n in nodes) or "no alive node"
        return (
            f"no node of the Ray cluster has the {resources.describe()} this cell needs "
            f"(nodes: {having}); set fewer threads, or device='cpu', or add such a node"
        )
    largest = max(n.memory_bytes for n in hosts)
    if resources.memory_bytes and largest and resources.memory_bytes > largest:
        why = f"memory capped at the largest node's {largest / _GIB:.1f} GiB"
        return CellResources(resources.num_cpus, resources.num_gpus, int(largest), (*resources.why, why))
    return resources


# --------------------------------------------------------------------------- the worker side
_STARTED = "started"
_RECORD = "record"


def _cell_task(cell_data: Mapping[str, Any], runner: CellRunner) -> Iterator[tuple[str, Any]]:
    """A cell's Ray task (a streaming generator, in its own worker process).

    Yields ``("started", {hardware, node_id, node_ip, pid})`` when the cell begins (the driver's timeout
    counts from here, and a lost cell's record names this node), then ``("record", record)``.
    """
    import ray

    from hfbench.bench.executors.base import load_runner
    from hfbench.bench.fingerprint import fingerprint
    from hfbench.bench.store import json_safe

    cell = Cell.from_dict(cell_data)
    yield (
        _STARTED,
        {
            "hardware": fingerprint(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "node_ip": ray.util.get_node_ip_address(),
            "pid": os.getpid(),
        },
    )
    # json_safe: plain values only, so the driver unpickles the record without torch or numpy
    yield _RECORD, json_safe(load_runner(runner)(cell, None))


def _node_fingerprint() -> dict[str, Any]:
    """A node's hardware fingerprint (the probe task ``hardware_ids`` runs on every node)."""
    from hfbench.bench.fingerprint import fingerprint

    return fingerprint()


_REMOTE: dict[str, Any] = {}
_NODE_HARDWARE: dict[str, dict[str, Any]] = {}  # node id -> fingerprint, for this driver process


def _remote(ray: Any, name: str) -> Any:
    """The remote function ``name``, made once per driver process."""
    if name not in _REMOTE:
        function = {"cell": _cell_task, "probe": _node_fingerprint}[name]
        # max_calls=1: a fresh worker process per task (one model per process, memory returned)
        _REMOTE[name] = ray.remote(max_calls=1)(function)
    return _REMOTE[name]


# --------------------------------------------------------------------------- the driver side
@dataclass
class _Attempt:
    """One submitted try of a cell."""

    cell: Cell
    number: int
    resources: CellResources
    task: Any  # the ObjectRefGenerator
    started_s: float | None = None
    started: dict[str, Any] = field(default_factory=dict)


@register_executor("ray")
class RayExecutor(Executor):
    """Each cell as a Ray task in its own worker process, on a Ray cluster or a local instance.

    Args:
        cell_timeout_s: end a cell that runs longer than this, counted from its start on a worker
            (recorded as ``timeout``); None: no limit.
        runner: the cell function, ``module:function`` (importable on every node).
        retries: run a cell again this many times when its worker dies.
        address: the cluster to join: ``"auto"`` (the one running on this machine, or
            ``RAY_ADDRESS``), ``"<head>:6379"``, ``"ray://<head>:10001"`` (Ray Client); None
            starts a local Ray instance (ended after the run) unless Ray is already initialized
            in this process, in which case that connection is used and left open.
        init_options: more ``ray.init`` keyword arguments (``num_cpus``, ``runtime_env``,
            ``namespace`` …), over ``DEFAULT_INIT_OPTIONS``.
        cpus_per_cell: CPUs a cell that sets no ``threads`` reserves.
        gpus_per_cell: GPUs a GPU cell reserves.

    Raises:
        DependencyMissingError: ``ray`` is not installed.

    Example:
        >>> from hfbench.bench.runner import run
        >>> run("tiers", executor="ray", executor_options={"address": "auto"})  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        cell_timeout_s: float | None = None,
        runner: CellRunner = DEFAULT_RUNNER,
        retries: int = 0,
        address: str | None = None,
        init_options: Mapping[str, Any] | None = None,
        cpus_per_cell: float = DEFAULT_CPUS_PER_CELL,
        gpus_per_cell: float = DEFAULT_GPUS_PER_CELL,
    ) -> None:
        super().__init__(cell_timeout_s=cell_timeout_s, runner=runner, retries=retries)
        self.ray = import_ray()
        self.address = address
        self.init_options = {**DEFAULT_INIT_OPTIONS, **(init_options or {})}
        self.cpus_per_cell = cpus_per_cell
        self.gpus_per_cell = gpus_per_cell
        self._owns_ray = False

    # ---- the connection ---------------------------------------------------------------------
    def connect(self) -> None:
        """Join (or start) Ray, unless this process is connected already."""
        if self.ray.is_initialized():
            return
        self.ray.init(address=self.address, **self.init_options)
        self._owns_ray = True

    def close(self) -> None:
        """Shut Ray down if this executor started or joined it (a no-op otherwise)."""
        if self._owns_ray:
            self.ray.shutdown()
            self._owns_ray = False

    def hardware_ids(self) -> set[str]:
        """The ``hardware_id`` of every alive node of the cluster (what resume counts as done).

        Runs a small probe task on each node not probed before by this process. A local instance
        this executor would start is this machine alone: its id, without starting Ray.
        """
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if self.address is None and not os.environ.get("RAY_ADDRESS") and not self.ray.is_initialized():
            return super().hardware_ids()
        self.connect()
        nodes = cluster_nodes(self.ray)
        probe = _remote(self.ray, "probe")
        pending = {
            node.node_id: probe.options(
                num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False)
            ).remote()
            for node in nodes
            if node.node_id not in _NODE_HARDWARE
        }
        for node_id, ref in pending.items():
            try:
                _NODE_HARDWARE[node_id] = self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:
                address = next(n.address for n in nodes if n.node_id == node_id)
                raise BenchmarkError(
                    f"Cannot read the hardware of Ray node {address}: {exc}. Every node needs "
                    "hfbench installed (the same version as here) in the Python that `ray start` runs."
                ) from exc
        return {str(_NODE_HARDWARE[node.node_id]["hardware_id"]) for node in nodes}

    # ---- running ----------------------------------------------------------------------------
    def run(
        self, cells: Sequence[Cell], progress: ProgressCallback | None = None
    ) -> Iterator[dict[str, Any]]:
        """Submit every cell as a task; yield each record as its cell ends (in any order)."""
        self.connect()
        running: list[_Attempt] = []
        try:
            nodes = cluster_nodes(self.ray)
            has_gpus = any(n.gpus for n in nodes)
            _warn_of_shared_cores(cells, nodes, has_gpus, self.cpus_per_cell)
            for cell in cells:
                wanted = cell_resources(
                    cell,
                    cluster_has_gpus=has_gpus,
                    cpus_per_cell=self.cpus_per_cell,
                    gpus_per_cell=self.gpus_per_cell,
                )
                fitted = fit_to_cluster(wanted, nodes)
                if isinstance(fitted, str):
                    yield _unschedulable(cell, fitted)
                else:
                    running.append(self._submit(cell, fitted, 1))
            while running:
                ready = self._wait(running)
                for attempt in [a for a in running if any(a.task is r for r in ready)]:
                    record = self._step(attempt, progress)
                    if record is None:
                        continue
                    running.remove(attempt)
                    if _died(record) and attempt.number <= self.retries:
                        running.append(self._submit(attempt.cell, attempt.resources, attempt.number + 1))
                        continue
                    record["attempts"] = attempt.number
                    yield record
                for attempt in self._overdue(running):
                    running.remove(attempt)
                    self.ray.cancel(attempt.task, force=True)
                    yield self._timed_out(attempt)
        finally:
            for attempt in running:  # the consumer stopped early: end what is still running
                self.ray.cancel(attempt.task, force=True)
            self.close()

    def _submit(self, cell: Cell, resources: CellResources, number: int) -> _Attempt:
        task = (
            _remote(self.ray, "cell")
            .options(**resources.options(), max_retries=0, name=f"hfbench {cell.label()}")
            .remote(cell.to_dict(), self.runner)
        )
        logger.debug("Submitted %s (attempt %d): %s", cell.label(), number, "; ".join(resources.why))
        return _Attempt(cell, number, resources, task)

    def _wait(self, running: Sequence[_Attempt]) -> list[Any]:
        """The tasks with something to read; returns early when a started cell's timeout is due."""
        timeout = None
        if self.cell_timeout_s is not None:
            now = time.monotonic()
            due = [a.started_s + self.cell_timeout_s - now for a in running if a.started_s is not None]
            timeout = max(0.0, min(due)) if due else None
        ready, _ = self.ray.wait([a.task for a in running], num_returns=1, timeout=timeout)
        return list(ready)

    def _overdue(self, running: Sequence[_Attempt]) -> list[_Attempt]:
        if self.cell_timeout_s is None:
            return []
        now = time.monotonic()
        limit = self.cell_timeout_s
        return [a for a in running if a.started_s is not None and now - a.started_s >= limit]

    def _step(self, attempt: _Attempt, progress: ProgressCallback | None) -> dict[str, Any] | None:
        """Read the task's next item: None after the start, else the cell's record."""
        exceptions = self.ray.exceptions
        try:
            kind, value = self.ray.get(next(attempt.task))
        except StopIteration:
            return self._lost(attempt, "the cell's Ray task ended without a record", "process", None)
        except exceptions.RayTaskError as exc:  # the runner raised: it would fail the same way again
            cause = getattr(exc, "cause", None) or exc
            reason = f"the cell runner raised {type(cause).__name__}: {cause}"
            return self._lost(attempt, reason, "runner", exc, kind=type(cause).__name__)
        except exceptions.RuntimeEnvSetupError as exc:
            return self._lost(attempt, f"Ray could not set up the worker's environment: {exc}", "setup", exc)
        except exceptions.RayError as exc:
            return self._lost(attempt, _death_reason(exc, attempt), "process", exc)
        if kind == _STARTED:
            attempt.started_s = time.monotonic()
            attempt.started = dict(value)
            if progress is not None:
                progress(attempt.cell, f"running on {attempt.started.get('node_ip', '?')}")
            return None
        record: dict[str, Any] = value
        return record

    def _lost(
        self, attempt: _Attempt, reason: str, phase: str, exc: BaseException | None, kind: str = ""
    ) -> dict[str, Any]:
        """The record of a cell whose task ended without one (``kind``: the error's type name)."""
        from hfbench.bench.cell import base_record, failure

        record = base_record(attempt.cell, _hardware(attempt))
        failure(record, "failed", reason, phase)
        lines = [f"attempt {attempt.number}{_where(attempt) or ': the task had not started'}"]
        if exc is not None:
            lines.append(f"{type(exc).__name__}: {str(exc)[-2000:]}")
        kind = kind or (type(exc).__name__ if exc is not None else "TaskEnded")
        record["error"].update(type=kind, detail="\n".join(lines))
        return record

    def _timed_out(self, attempt: _Attempt) -> dict[str, Any]:
        from hfbench.bench.cell import base_record, failure

        record = base_record(attempt.cell, _hardware(attempt))
        reason = f"the cell ran longer than its timeout of {self.cell_timeout_s:g} s"
        failure(record, "timeout", reason, "process")
        record["attempts"] = attempt.number
        return record


def _hardware(attempt: _Attempt) -> dict[str, Any]:
    """The node's fingerprint when the cell started there, else this machine's."""
    hardware = attempt.started.get("hardware")
    if hardware:
        return dict(hardware)
    from hfbench.bench.fingerprint import fingerprint

    return fingerprint()


def _where(attempt: _Attempt) -> str:
    """`` on node 10.0.0.3 (node id 1a2b3c4d, pid 123)``, or nothing before the cell started."""
    if not attempt.started:
        return ""
    node_id, pid = str(attempt.started.get("node_id"))[:8], attempt.started.get("pid")
    return f" on node {attempt.started.get('node_ip')} (node id {node_id}, pid {pid})"


def _death_reason(exc: BaseException, attempt: _Attempt) -> str:
    """Why a worker died, from Ray's exception."""
    name = type(exc).__name__
    node = _where(attempt)
    if name == "OutOfMemoryError":
        return (
            f"Ray's memory monitor killed the cell's worker{node}: the node ran out of memory (cells "
            "sharing it count too)"
        )
    if name == "NodeDiedError":
        return f"the node running the cell{node} died or left the Ray cluster"
    if name == "WorkerCrashedError":
        return (
            f"the cell's Ray worker process died{node}: a crash (segfault, abort) or a kill, often the "
            "system's out-of-memory killer"
        )
    return f"the cell's Ray task failed{node} ({name})"


def _warn_of_shared_cores(
    cells: Sequence[Cell], nodes: Sequence[NodeResources], has_gpus: bool, cpus_per_cell: float
) -> None:
    """Say so when CPU cells that set no ``threads`` may share a node: each then runs torch on
    every core of its node while reserving ``cpus_per_cell``, and its latency includes the others'."""
    shared = [
        c
        for c in cells
        if not c.settings.get("threads")
        and cell_resources(c, cluster_has_gpus=has_gpus, cpus_per_cell=cpus_per_cell).num_gpus == 0
    ]
    most = max((n.cpus for n in nodes), default=0.0)
    if shared and most >= 2 * cpus_per_cell:
        logger.warning(
            "%d CPU cell(s) set no threads: each uses all of its node's cores but reserves %g CPU, so "
            "up to %d run side by side on a node and their latencies include each other's load. For "
            "figures that compare with local runs, set threads (e.g. --set threads=N) so a cell "
            "reserves the CPUs it uses.",
            len(shared),
            cpus_per_cell,
            int(most // cpus_per_cell),
        )


def _died(record: Mapping[str, Any]) -> bool:
    """Whether a record is a worker's death (retried), not a measured outcome or a runner error."""
    return record.get("status") == "failed" and (record.get("error") or {}).get("phase") == "process"


def _unschedulable(cell: Cell, reason: str) -> dict[str, Any]:
    from hfbench.bench.cell import base_record, failure
    from hfbench.bench.fingerprint import fingerprint

    record = failure(base_record(cell, fingerprint()), "failed", reason, "schedule")
    record["attempts"] = 0
    return record


__all__ = [
    "DEFAULT_CPUS_PER_CELL",
    "DEFAULT_GPUS_PER_CELL",
    "PROCESS_BASE_GB",
    "RESERVED_CONTEXT_TOKENS",
    "CellResources",
    "NodeResources",
    "RayExecutor",
    "cell_resources",
    "cluster_nodes",
    "fit_to_cluster",
    "import_ray",
]
