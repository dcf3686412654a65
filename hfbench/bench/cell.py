"""Measure one cell: prepare, load, time, watch memory, score quality — one record.

``run_cell(cell)`` runs in the cell's own process (``executors``) and returns the record the
driver appends to the store. The steps, each through hfbench's real code path:

1. **prepare** the model (conversion, download): timed apart, never counted as load time;
2. **load** it through its architecture's pipeline (phases timed; peak RSS of the load sampled
   by the memory monitor);
3. **speed**: the cell's workload (``workloads``) timed by ``trackers.latency`` — warm-up not
   counted, iterations until the median is stable or the time cap — with per-token figures from
   the pipeline's timing seam; the peak RSS during inference sampled by the monitor;
4. **quality** on the cell's seeded eval subset (``quality``), with its bootstrap interval and the
   measured confidence;
5. the registry's memory **estimate** beside what was measured, and sanity **flags** (a decode
   speed above the memory-bandwidth ceiling is a measurement error).

Out-of-memory (``OutOfMemoryError``) and a call over the cell's ``max_call_s`` budget are
outcomes, recorded with status ``oom`` / ``too_slow``; any other error is status ``failed``.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from hfbench.bench.fingerprint import fingerprint, memory_bandwidth_gbps
from hfbench.bench.store import SCHEMA_VERSION
from hfbench.bench.suites import Cell
from hfbench.core.errors import HFBenchError, OutOfMemoryError

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
"""Called with a short phase name as the cell moves on (``load``, ``speed``, ``quality``)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def base_record(cell: Cell, hardware: dict[str, Any]) -> dict[str, Any]:
    """The fields every record has, whatever its outcome."""
    return {
        "schema": SCHEMA_VERSION,
        "cell_id": cell.cell_id,
        "hardware_id": hardware["hardware_id"],
        "model": cell.model,
        "capability": cell.capability,
        "settings": dict(cell.settings),
        "suite": cell.suite,
        "size": cell.size,
        "status": "failed",
        "error": None,
        "started_at": _now(),
        "hardware": hardware,
    }


def failure(record: dict[str, Any], status: str, exc: BaseException | str, phase: str) -> dict[str, Any]:
    """Mark a record as not measured: its status, the error and the phase it happened in."""
    if isinstance(exc, BaseException):
        message = str(exc) or type(exc).__name__
        kind = type(exc).__name__
        detail = "".join(traceback.format_exception(exc)[-3:]) if not isinstance(exc, HFBenchError) else ""
    else:
        message, kind, detail = exc, status, ""
    record.update(status=status, error={"type": kind, "message": message, "phase": phase, "detail": detail})
    return record


def run_cell(cell: Cell, progress: Progress | None = None) -> dict[str, Any]:
    """Measure one cell and return its record (never raises for the model's own failures)."""
    from hfbench.core.hardware import system_info

    info = system_info()
    record = base_record(cell, fingerprint(info))
    started = time.perf_counter()
    phase = "setup"
    try:
        threads = _set_threads(cell, info)
        from hfbench.bench.trackers.memory import MemoryMonitor

        with MemoryMonitor() as monitor:
            phase = "prepare"
            _say(progress, phase)
            from hfbench.sources import prepare_model

            prepared = prepare_model(cell.model, progress=False)
            record["prepare"] = {
                "seconds": prepared.seconds,
                "did_work": prepared.did_work,
                "kind": prepared.kind,
            }
            phase = "eval data"
            plan, eval_set = _eval_set(cell)
            phase = "load"
            _say(progress, phase)
            _import_libraries()  # so the load's memory is the model's, not the libraries' code
            with monitor.phase() as load_memory:
                pipe = _load(cell)
            loaded = pipe.loaded
            record["load"] = {
                "seconds": loaded.load_seconds,
                "phases": loaded.load_phases,
                "memory": load_memory.result.to_dict() if load_memory.result else None,
            }
            record["recipe"] = recipe(pipe, cell, threads)
            phase = "speed"
            _say(progress, phase)
            measured, workload, infer_memory = _speed(pipe, cell, plan, eval_set, monitor)
            if measured is None:
                record["speed_workload"] = workload.to_dict()
                return failure(record, "too_slow", infer_memory, phase)
            record["latency"] = {**measured.to_dict(), **workload.figures(measured.e2e.median)}
            record["speed_workload"] = workload.to_dict()
            record["memory"] = _memory(pipe, cell, load_memory.result, infer_memory, workload, measured)
            if _wants_quality(cell) and eval_set is not None:
                phase = "quality"
                _say(progress, phase)
                quality = _quality(pipe, cell, plan, eval_set)
                record["quality"] = quality.to_dict()
                record["measured_confidence"] = quality.confidence
            record["flags"] = sanity_flags(record, info)
            record["status"] = "ok"
    except OutOfMemoryError as exc:
        failure(record, "oom", exc, phase)
    except Exception as exc:  # a cell's failure is a record, never the run's end
        logger.info("Cell %s failed in %s: %s", cell.label(), phase, exc)
        failure(record, "failed", exc, phase)
    finally:
        record["wall_s"] = time.perf_counter() - started
        record["finished_at"] = _now()
    return record


def _say(progress: Progress | None, phase: str) -> None:
    if progress is not None:
        progress(phase)


def _set_threads(cell: Cell, info: Any) -> int:
    """torch's intra-op threads: the cell's ``threads``, else the machine's physical cores."""
    import torch

    threads = int(cell.settings.get("threads") or info.cpu_cores or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(0)  # fixed seed: any sampling in a cell repeats
    return threads


def _import_libraries() -> None:
    """Import what every load imports (transformers' model machinery, tokenizers) up front."""
    import transformers

    for name in ("PreTrainedModel", "AutoConfig", "AutoModel", "AutoTokenizer", "AutoProcessor"):
        getattr(transformers, name)


def _load(cell: Cell) -> Any:
    from hfbench.core.config import ModelConfig
    from hfbench.pipelines import pipeline_for

    config = ModelConfig(base={**ModelConfig().base, **cell.config}, source=f"cell {cell.label()}")
    pipe = pipeline_for(cell.model)
    return pipe.load(cell.model, config, progress=False)


def _wants_quality(cell: Cell) -> bool:
    return bool(cell.settings.get("quality", True))


def _eval_set(cell: Cell) -> tuple[Any, Any]:
    """The cell's quality plan and eval set (None, None when it has neither)."""
    from hfbench.bench.quality import build_eval_set, quality_plans

    plan = quality_plans().get(cell.capability)
    name = cell.settings.get("eval_set") or (plan.eval_set if plan else None)
    if name is None or (not _wants_quality(cell) and not cell.settings.get("eval_set")):
        return plan, None  # no quality: the speed call takes a fixed text, no data to fetch
    n = int(cell.settings.get("eval_n") or (plan.size(cell.size) if plan else 20))
    seed = int(cell.settings.get("eval_seed", plan.seed if plan else 0))
    return plan, build_eval_set(str(name), n, seed)


def _speed(pipe: Any, cell: Cell, plan: Any, eval_set: Any, monitor: Any) -> tuple[Any, Any, Any]:
    """Time the workload; (measured, workload, inference MemoryPeak), or (None, workload, reason)
    when the first call was over the cell's ``max_call_s``."""
    from hfbench.bench.quality import task_for
    from hfbench.bench.trackers.latency import StopRule, measure_latency
    from hfbench.bench.workloads import speed_workload

    task_overrides: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if eval_set is not None:
        task_overrides = {
            **(plan.overrides if plan else {}),
            **task_for(cell.capability).default_overrides(eval_set),
        }
        options = dict(plan.options) if plan else {}
    extractive = not _generates(pipe, cell.capability)
    workload = speed_workload(
        cell.capability,
        cell.settings,
        eval_set=eval_set,
        task_overrides=task_overrides,
        options=options,
        extractive=extractive,
    )
    merged = pipe.config.get_merged_config(cell.capability, workload.overrides)

    def call() -> Any:
        return pipe.run(workload.inputs, cell.capability, merged)

    budget = cell.settings.get("max_call_s")
    if budget is not None:
        start = time.perf_counter()
        call()
        first = time.perf_counter() - start
        if first > float(budget):
            return None, workload, f"one call took {first:.2f} s, over the cell's max_call_s of {budget} s"
    keys = ("warmup", "min_iterations", "max_iterations", "min_duration_s", "max_duration_s", "rel_ci")
    rule = StopRule(**{k: cell.settings[k] for k in keys if k in cell.settings})
    with monitor.phase() as infer_memory:
        measured = measure_latency(call, rule)
    return measured, workload, infer_memory.result


def _generates(pipe: Any, capability: str) -> bool:
    """Whether the pipeline answers this capability by generating (not by a task head)."""
    from hfbench.core.capability import is_generative

    if not is_generative(capability):
        return False
    head = type(pipe.loaded.model).__name__
    return not head.endswith(("ForQuestionAnswering", "ForSequenceClassification"))


def _quality(pipe: Any, cell: Cell, plan: Any, eval_set: Any) -> Any:
    from hfbench.bench.quality import run_quality

    return run_quality(
        pipe,
        cell.capability,
        eval_set,
        dict(plan.overrides) if plan else {},
        metric=plan.metric if plan and plan.eval_set == eval_set.name else None,
        other_metrics=plan.also if plan and plan.eval_set == eval_set.name else (),
        options=dict(plan.options) if plan else {},
    )


def recipe(pipe: Any, cell: Cell, threads: int) -> dict[str, Any]:
    """The exact runtime recipe of a loaded cell: what a recommendation must repeat."""
    import platform

    import torch
    import transformers

    import hfbench

    loaded = pipe.loaded
    merged = pipe.config.get_merged_config(cell.capability)
    config = loaded.hf_config
    return {
        "dtype": str(loaded.model.dtype).removeprefix("torch."),
        "device": str(loaded.device),
        "attn_implementation": getattr(config, "_attn_implementation", None),
        "quantization": loaded.options.quantization,
        "optimize": loaded.optimization.to_dict() if loaded.optimization is not None else None,
        "batch_size": merged.get("batch_size"),
        "threads": threads,
        "chat_template": bool(getattr(loaded.tokenizer, "chat_template", None)),
        "context_length": getattr(config, "max_position_embeddings", None),
        "max_tokens": merged.get("max_tokens"),
        "config": dict(cell.config),
        "versions": {
            "hfbench": hfbench.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
        },
    }


def _memory(pipe: Any, cell: Cell, load: Any, inference: Any, workload: Any, measured: Any) -> dict[str, Any]:
    """Measured memory beside the registry's estimate for the same model, dtype and context."""
    from hfbench.providers.model_cache import pipeline_memory_bytes

    weights_mb = pipeline_memory_bytes(pipe) / 1024**2
    baseline = load.start_rss_mb if load is not None else 0.0
    measured_mb = (inference.peak_rss_mb - baseline) if inference is not None else None
    if inference is not None and inference.cuda_max_reserved_mb is not None:
        measured_mb = inference.cuda_max_reserved_mb
    out: dict[str, Any] = {
        "weights_mb": weights_mb,
        "load": load.to_dict() if load is not None else None,
        "inference": inference.to_dict() if inference is not None else None,
        "model_mb": measured_mb,
        "model_mb_method": "CUDA max_memory_reserved"
        if inference is not None and inference.cuda_max_reserved_mb is not None
        else "peak RSS during inference - RSS before loading",
        "estimate": None,
        "estimate_error": None,
    }
    try:
        out["estimate"] = _estimate(pipe, cell, workload, measured)
    except HFBenchError as exc:  # an estimate is a comparison, not a measurement: never fatal
        out["estimate_note"] = str(exc)
    estimate = out["estimate"]
    if estimate and measured_mb:
        out["estimate_error"] = (estimate["total_mb"] - measured_mb) / measured_mb
    return out


def _estimate(pipe: Any, cell: Cell, workload: Any, measured: Any) -> dict[str, Any]:
    """The registry's estimate for this model at the loaded dtype, sized for the speed call
    (the KV cache for its prompt and generated tokens)."""
    from hfbench.core.dtypes import short_dtype
    from hfbench.registry.memory import estimate_memory_from_config

    loaded = pipe.loaded
    dtype = short_dtype(str(loaded.model.dtype).removeprefix("torch."))
    context = 0
    if measured.generation:
        first = measured.generation[0]
        context = first.prompt_tokens // max(first.batch_size, 1) + first.steps
    estimate = estimate_memory_from_config(
        loaded.hf_config, dtype, context_tokens=context, batch_size=max(1, len(workload.inputs))
    )
    gib = 1024.0
    return {
        "weights_mb": estimate.weights_gb * gib,
        "kv_cache_mb": estimate.kv_cache_gb * gib,
        "overhead_mb": estimate.overhead_gb * gib,
        "total_mb": estimate.total_gb * gib,
        "inputs": {"dtype": dtype, "context_tokens": context, "batch_size": estimate.batch_size},
        "method": estimate.method,
    }


def sanity_flags(record: dict[str, Any], info: Any) -> list[str]:
    """Measurement errors a record shows: a decode speed no memory system could deliver."""
    flags: list[str] = []
    generation = (record.get("latency") or {}).get("generation") or {}
    decode = (generation.get("decode_tokens_per_s") or {}).get("median")
    weights_mb = (record.get("memory") or {}).get("weights_mb")
    if decode and weights_mb:
        ceiling = memory_bandwidth_gbps(info) * 1e9 / (weights_mb * 1024**2)
        record.setdefault("memory", {})["decode_ceiling_tokens_per_s"] = ceiling
        if decode > ceiling:
            flags.append(
                f"decode speed {decode:.1f} tokens/s is above the memory-bandwidth ceiling of "
                f"{ceiling:.1f} tokens/s (every token reads all {weights_mb:.0f} MiB of weights): "
                "a measurement error"
            )
    return flags
