"""A served level's record as ``load_results`` columns (``results.record_row`` merges these).

Served rows fill the serving columns (``SERVED_COLUMNS``) and the shared ones that mean the same
thing: ``ttft_median_s``, ``itl_median_s``, ``tpot_median_s``, and ``latency_median_s`` /
``latency_p90_s`` (the requests' end-to-end latency). Local rows get ``kind = "local"`` only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hfbench.bench.serving.cell import SERVED_KIND, record_kind

#: The serving columns of ``load_results`` and what they hold (units in the names).
SERVED_COLUMNS: dict[str, str] = {
    "kind": "local (a cell measured in-process) | served (a concurrency level of a served endpoint)",
    "endpoint": "served: the API's base URL (no credentials)",
    "server_version": "served: the version the server reports, else its 'server' header",
    "concurrency": "served: requests in flight at once",
    "requests_completed": "served: requests that succeeded in the level",
    "requests_failed": "served: requests that failed in the level",
    "ttft_p90_s": "served: time to first token, 90th percentile",
    "ttft_p99_s": "served: time to first token, 99th percentile",
    "itl_p90_s": "served: inter-token latency, 90th percentile",
    "tpot_p90_s": "served: time per output token, 90th percentile",
    "output_tokens_per_s": "served: all output tokens / the level's duration",
    "request_throughput_per_s": "served: completed requests / the level's duration",
    "goodput_per_s": "served: requests meeting every SLO / the level's duration",
    "slo": "served: the SLO goodput counts against (JSON, milliseconds)",
    "token_count": "served: how output tokens were counted (tokenizer or the server's usage)",
    "output_length_method": "served: how the answers' length was fixed (ignore_eos, generation_config …)",
}


def _stat(metrics: Mapping[str, Any], figure: str, statistic: str) -> Any:
    """``metrics[figure][statistic]``, None where either is missing."""
    return (metrics.get(figure) or {}).get(statistic)


def served_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """The serving columns of a record (and the shared columns a served level fills)."""
    if record_kind(record) != SERVED_KIND:
        return {"kind": record_kind(record)}
    serving = record.get("serving") or {}
    metrics = serving.get("metrics") or {}
    endpoint = record.get("endpoint") or {}
    server = endpoint.get("server") or {}
    version = server.get("version") or (server.get("headers") or {}).get("server")
    return {
        "kind": SERVED_KIND,
        "endpoint": endpoint.get("url"),
        "server_version": version,
        "concurrency": serving.get("concurrency"),
        "requests_completed": metrics.get("completed"),
        "requests_failed": metrics.get("failed"),
        "workload": SERVED_KIND,
        "batch_size": 1,
        "latency_median_s": _stat(metrics, "e2el_s", "median"),
        "latency_p90_s": _stat(metrics, "e2el_s", "p90"),
        "ttft_median_s": _stat(metrics, "ttft_s", "median"),
        "ttft_p90_s": _stat(metrics, "ttft_s", "p90"),
        "ttft_p99_s": _stat(metrics, "ttft_s", "p99"),
        "itl_median_s": _stat(metrics, "itl_s", "median"),
        "itl_p90_s": _stat(metrics, "itl_s", "p90"),
        "tpot_median_s": _stat(metrics, "tpot_s", "median"),
        "tpot_p90_s": _stat(metrics, "tpot_s", "p90"),
        "output_tokens_per_s": metrics.get("output_tokens_per_s"),
        "request_throughput_per_s": metrics.get("request_throughput_per_s"),
        "goodput_per_s": metrics.get("goodput_per_s"),
        "slo": json.dumps(serving.get("slo") or {}),
        "token_count": _stat(serving, "token_count", "method"),
        "output_length_method": _stat(serving, "output_length", "method"),
    }
