"""Results as a tidy table: one row per measured cell (``load_results``).

Reads a results folder's store (the latest record of each cell on each machine) and, when given,
pytest-benchmark JSON files (``pytest benchmarks/ --benchmark-json FILE``), into one pandas
DataFrame, so a notebook, ``hfbench report`` and ``hfbench tune`` all read the same columns
(``RESULT_COLUMNS`` says what each means, with its unit).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hfbench.bench.serving.rows import SERVED_COLUMNS, served_values
from hfbench.bench.store import RECORDS_FILE, ResultStore
from hfbench.core.errors import ResultsError

if TYPE_CHECKING:
    import pandas as pd

#: Columns of ``load_results`` and what they hold (units in the names).
RESULT_COLUMNS: dict[str, str] = {
    "source": "hfbench (a harness record) or pytest-benchmark",
    "cell_id": "the cell's id (model, capability, settings)",
    "hardware_id": "the machine's id (hardware only)",
    "model": "Hub id, folder or embedded:<name>",
    "short_model": "the model's last name part",
    "capability": "canonical capability",
    "settings": "the cell's settings (JSON)",
    "suite": "the suite the record came from",
    "status": "ok | oom | too_slow | failed | timeout",
    "error": "why a cell has no measurement",
    "dtype": "weights dtype as loaded",
    "device": "where it ran",
    "threads": "torch threads",
    "batch_size": "inputs per call of the speed workload",
    "workload": "generation | speech | batch",
    "prepare_s": "seconds spent preparing (conversion, download) before loading",
    "load_s": "seconds loading (config, weights, placement, tokenizer)",
    "latency_median_s": "median seconds per speed call",
    "latency_p90_s": "90th percentile seconds per speed call",
    "latency_ci_low_s": "95% interval of the median, low",
    "latency_ci_high_s": "95% interval of the median, high",
    "iterations": "timed calls",
    "stable": "the median's interval reached +-rel_ci",
    "ttft_median_s": "time to first token, median",
    "itl_median_s": "inter-token latency, median",
    "tpot_median_s": "time per output token after the first, median",
    "decode_tokens_per_s": "tokens after the first / decode time, median",
    "prefill_tokens_per_s": "prompt tokens / TTFT, median",
    "samples_per_s": "inputs per second (batch workloads)",
    "real_time_factor": "seconds of compute per second of audio (speech)",
    "weights_mb": "bytes of parameters and buffers, MiB",
    "peak_rss_mb": "peak resident memory of the process during inference, MiB",
    "model_mb": "memory the model took: inference peak RSS - RSS before loading (or CUDA reserved), MiB",
    "estimate_mb": "the registry's estimate (weights + KV cache + overhead), MiB",
    "estimate_error": "(estimate - measured) / measured",
    "quality_metric": "the primary quality metric",
    "quality_value": "its value",
    "quality_ci_low": "95% bootstrap interval, low",
    "quality_ci_high": "95% bootstrap interval, high",
    "quality_n": "eval items",
    "higher_is_better": "the metric's direction",
    "eval_set": "eval set name",
    "hand_made": "the eval set is hand-made (not an established dataset)",
    "confidence": "measured confidence in [0, 1]",
    "flags": "measurement warnings",
    "finished_at": "when the cell finished (UTC)",
    **SERVED_COLUMNS,
}


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def record_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One tidy row of a harness record."""
    latency = record.get("latency") or {}
    generation = latency.get("generation") or {}
    memory = record.get("memory") or {}
    quality = record.get("quality") or {}
    workload = record.get("speed_workload") or {}
    model = str(record.get("model", ""))
    return {
        "source": "hfbench",
        "cell_id": record.get("cell_id"),
        "hardware_id": record.get("hardware_id"),
        "model": model,
        "short_model": model.removeprefix("embedded:").rstrip("/").rsplit("/", 1)[-1],
        "capability": record.get("capability"),
        "settings": json.dumps(record.get("settings") or {}, sort_keys=True),
        "suite": record.get("suite"),
        "status": record.get("status"),
        "error": _get(record, "error", "message"),
        "dtype": _get(record, "recipe", "dtype"),
        "device": _get(record, "recipe", "device"),
        "threads": _get(record, "recipe", "threads"),
        "batch_size": workload.get("inputs"),
        "workload": workload.get("kind"),
        "prepare_s": _get(record, "prepare", "seconds"),
        "load_s": _get(record, "load", "seconds"),
        "latency_median_s": _get(latency, "e2e", "median"),
        "latency_p90_s": _get(latency, "e2e", "p90"),
        "latency_ci_low_s": _get(latency, "e2e", "ci_low"),
        "latency_ci_high_s": _get(latency, "e2e", "ci_high"),
        "iterations": latency.get("iterations"),
        "stable": latency.get("stable"),
        "ttft_median_s": _get(generation, "ttft_s", "median"),
        "itl_median_s": _get(generation, "itl_s", "median"),
        "tpot_median_s": _get(generation, "tpot_s", "median"),
        "decode_tokens_per_s": _get(generation, "decode_tokens_per_s", "median"),
        "prefill_tokens_per_s": _get(generation, "prefill_tokens_per_s", "median"),
        "samples_per_s": latency.get("samples_per_s"),
        "real_time_factor": latency.get("real_time_factor"),
        "weights_mb": memory.get("weights_mb"),
        "peak_rss_mb": _get(memory, "inference", "peak_rss_mb"),
        "model_mb": memory.get("model_mb"),
        "estimate_mb": _get(memory, "estimate", "total_mb"),
        "estimate_error": memory.get("estimate_error"),
        "quality_metric": quality.get("metric"),
        "quality_value": quality.get("value"),
        "quality_ci_low": quality.get("ci_low"),
        "quality_ci_high": quality.get("ci_high"),
        "quality_n": quality.get("n"),
        "higher_is_better": quality.get("higher_is_better"),
        "eval_set": quality.get("eval_set"),
        "hand_made": _get(quality, "provenance", "hand_made"),
        "confidence": record.get("measured_confidence"),
        "flags": "; ".join(record.get("flags") or []),
        "finished_at": record.get("finished_at"),
        **served_values(record),  # kind; a served level's figures (serving.rows)
    }


def benchmark_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a pytest-benchmark JSON file (``--benchmark-json``): one per benchmark.

    Raises:
        ResultsError: not a pytest-benchmark file.
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"Cannot read {file} as a pytest-benchmark JSON file: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultsError(f"{file} is not a pytest-benchmark JSON file (no 'benchmarks' list).")
    machine = data.get("machine_info") or {}
    rows = []
    for bench in data["benchmarks"]:
        stats = bench.get("stats") or {}
        extra = bench.get("extra_info") or {}
        rows.append(
            {
                "source": "pytest-benchmark",
                "cell_id": bench.get("fullname") or bench.get("name"),
                "hardware_id": extra.get("hardware_id"),
                "model": extra.get("model", ""),
                "short_model": bench.get("name"),
                "capability": extra.get("capability") or bench.get("group"),
                "settings": json.dumps(bench.get("params") or {}, sort_keys=True, default=str),
                "suite": "pytest-benchmark",
                "status": "ok",
                "latency_median_s": stats.get("median"),
                "latency_p90_s": None,
                "iterations": stats.get("rounds"),
                "stable": None,
                "finished_at": data.get("datetime"),
                "device": machine.get("cpu", {}).get("brand_raw")
                if isinstance(machine.get("cpu"), dict)
                else None,
            }
        )
    return rows


def load_results(
    results: str | os.PathLike[str] = "results", *, benchmarks: Iterable[str | os.PathLike[str]] = ()
) -> pd.DataFrame:
    """A tidy DataFrame of a results folder (latest record per cell and machine), plus rows of
    pytest-benchmark JSON files (also any ``*.json`` of that kind found in the folder).

    Raises:
        ResultsError: a folder with no records and no benchmark files, or an unreadable line
            written by a newer hfbench.
    """
    import pandas as pd

    folder = Path(results)
    if folder.is_file() and folder.suffix == ".json":
        benchmarks, folder = [folder, *benchmarks], folder.parent
    rows = [record_row(r) for r in ResultStore(folder).latest().values()]
    files = [Path(p) for p in benchmarks]
    if folder.is_dir():
        files += [p for p in sorted(folder.glob("*.json")) if _is_benchmark_file(p) and p not in files]
    for path in files:
        rows += benchmark_rows(path)
    if not rows and not (folder / RECORDS_FILE).is_file():
        raise ResultsError(
            f"No results in {folder}: run `hfbench run --suite quick --results {folder}` (or pass "
            "pytest-benchmark JSON files)."
        )
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    return frame.sort_values(["capability", "model", "settings"], kind="stable").reset_index(drop=True)


def _is_benchmark_file(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return '"benchmarks"' in head and '"machine_info"' in head
