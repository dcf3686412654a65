"""Synthetic harness records (``make_record``) shared by the tune, report and plot tests.

A module beside ``conftest.py`` (so importable from every test folder), not a test module.
"""

from __future__ import annotations

import json
from typing import Any

from hfbench.core.hardware import SystemInfo

#: A made-up machine whose hardware id the synthetic records carry.
MACHINE = SystemInfo(
    platform="linux",
    machine="x86_64",
    python_version="3.11",
    cpu_model="synthetic cpu",
    cpu_cores=4,
    cpu_threads=8,
    ram_total_gb=16.0,
    ram_available_gb=12.0,
    torch_version="2.0",
    transformers_version="4.0",
    name="synthetic box",
)
HW = MACHINE.hardware_id()
ITEMS = 60
#: What "counting from the config" answers for synthetic models (filled by ``make_record``).
CONFIG_PARAMS: dict[str, float] = {}


def weights_mb_for(params_b: float, bytes_per_param: float = 4.0) -> float:
    """The fp32 weight MiB of a model of ``params_b`` billion parameters."""
    return params_b * 1e9 * bytes_per_param / 1024**2


def make_record(
    model: str,
    capability: str = "summarization",
    *,
    status: str = "ok",
    level: int = 3,
    latency_s: float = 1.0,
    params_b: float = 1.0,
    model_mb: float = 2000.0,
    decode_tokens_per_s: float | None = None,
    batch: int = 1,
    settings: dict[str, Any] | None = None,
    eval_set: str = "synthetic",
    hardware_id: str = HW,
    finished_at: str = "2026-01-01T00:00:00+00:00",
    error: str = "",
) -> dict[str, Any]:
    """A harness record with ROUGE-L quality: the first ``level * 10`` of 60 items right.

    Two records of the same level have identical predictions (a tie in the paired bootstrap);
    levels one apart differ on 10 items, all one way (significant).
    """
    settings = dict(settings or {})
    CONFIG_PARAMS[model] = params_b
    dtype = settings.get("dtype", "float32")
    cell_id = f"{model}|{capability}|{json.dumps(settings, sort_keys=True)}|{eval_set}"
    record: dict[str, Any] = {
        "schema": 1,
        "cell_id": cell_id,
        "hardware_id": hardware_id,
        "model": model,
        "capability": capability,
        "settings": settings,
        "suite": "synthetic",
        "size": "quick",
        "status": status,
        "error": {"type": status, "message": error or f"{status} at batch {batch}", "phase": "speed"}
        if status != "ok"
        else None,
        "finished_at": finished_at,
        "hardware": {**MACHINE.to_dict(), "hardware_id": hardware_id, "fingerprint": MACHINE.fingerprint()},
    }
    if status != "ok":
        return record
    right = level * 10
    predictions = ["yes"] * right + ["no"] * (ITEMS - right)
    value = right / ITEMS
    generation = {"decode_tokens_per_s": {"median": decode_tokens_per_s}} if decode_tokens_per_s else {}
    record.update(
        recipe={
            "dtype": dtype,
            "device": "cpu",
            "attn_implementation": "sdpa",
            "quantization": None,
            "batch_size": None,
            "threads": 4,
            "chat_template": False,
            "context_length": 2048,
            "max_tokens": 32,
            "config": {},
            "versions": {"torch": "2.0", "transformers": "4.0", "hfbench": "0.1.0", "python": "3.11"},
            "some_future_key": 1,
        },
        latency={"e2e": {"median": latency_s, "p90": latency_s * 1.1}, "generation": generation},
        speed_workload={"kind": "generation" if generation else "batch", "inputs": batch},
        memory={
            "weights_mb": weights_mb_for(params_b, 2.0 if dtype == "bfloat16" else 4.0),
            "model_mb": model_mb,
            "estimate": {"total_mb": model_mb * 0.9},
            "estimate_error": -0.1,
        },
        quality={
            "capability": capability,
            "eval_set": eval_set,
            "metric": "rouge-l",
            "higher_is_better": True,
            "value": value,
            "ci_low": max(0.0, value - 0.1),
            "ci_high": min(1.0, value + 0.1),
            "n": ITEMS,
            "confidence": min(1.0, value / 0.5),
            "seconds": 1.0,
            "ci_method": "synthetic",
            "records": [
                {"id": f"item-{i}", "prediction": p, "reference": "yes", "score": None}
                for i, p in enumerate(predictions)
            ],
            "provenance": {"hand_made": True},
        },
        measured_confidence=min(1.0, value / 0.5),
    )
    return record
