"""The report's table of served endpoints: one line per model, server and concurrency level.

Within 100 columns as text and as Markdown, like the report's other tables. Below it, the SLO(s)
goodput counted against, and what the columns mean.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from hfbench.bench.text_table import REPORT_WIDTH, columns, format_table, seconds_text

#: The served table's columns (``text_table.columns`` format: header, width, ``>`` right-aligned).
SERVED_SPEC = (
    "model 14 | server 16 | api 5 | c >3 | TTFT p50 >8 | TTFT p90 >8 | ITL p50 >7 | TPOT p50 >8"
    " | tok/s >6 | req/s >5 | goodput >7"
)
#: The api column: the endpoint a capability drives.
API_NAMES = {"chat": "chat", "text-generation": "compl"}


def _settings(row: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        settings = json.loads(row.get("settings") or "{}")
    except (TypeError, ValueError):
        return {}
    return settings if isinstance(settings, Mapping) else {}


def _server(row: Mapping[str, Any]) -> str:
    """The server's setup as labelled (``label=``), else its host and port."""
    label = _settings(row).get("label")
    if label:
        return str(label)
    return str(row.get("endpoint") or "-").split("://", 1)[-1].removesuffix("/v1")


def _number(value: Any, digits: str = ".2f") -> str:
    from hfbench.bench.tune_measured import finite_number

    number = finite_number(value)
    return "-" if number is None else format(number, digits)


def served_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Served rows in table order: model, server (label or host), capability, concurrency."""

    def key(row: Mapping[str, Any]) -> tuple[str, str, str, str, float]:
        level = float(row.get("concurrency") or 0)
        return (
            str(row.get("short_model")),
            _server(row),
            str(row.get("endpoint")),
            str(row.get("capability")),
            level,
        )

    return tuple(dict(r) for r in sorted(rows, key=key))


def served_line(row: Mapping[str, Any]) -> tuple[str, ...]:
    """One table line."""
    api = API_NAMES.get(str(row.get("capability")), str(row.get("capability")))
    if row.get("status") != "ok":
        return (
            str(row.get("short_model") or row.get("model")),
            _server(row),
            api,
            _number(row.get("concurrency"), ".0f"),
            "failed",
            *["-"] * 6,
        )
    return (
        str(row.get("short_model") or row.get("model")),
        _server(row),
        api,
        _number(row.get("concurrency"), ".0f"),
        seconds_text(row.get("ttft_median_s")),
        seconds_text(row.get("ttft_p90_s")),
        seconds_text(row.get("itl_median_s")),
        seconds_text(row.get("tpot_median_s")),
        _number(row.get("output_tokens_per_s"), ".1f"),
        _number(row.get("request_throughput_per_s")),
        _number(row.get("goodput_per_s")),
    )


def served_sections(rows: Sequence[Mapping[str, Any]], *, markdown: bool) -> list[str]:
    """The table and its legend (the SLOs goodput counted against)."""
    import textwrap

    slos = sorted({str(r.get("slo") or "{}") for r in rows})
    described = [
        ", ".join(f"{k}<={v:g}" for k, v in json.loads(s).items()) or "none (every completed request)"
        for s in slos
    ]
    legend = (
        "server: the setup's label (run_served(label=...)), else its host; api: chat (chat "
        "completions) or compl (completions); c: requests in flight; TTFT, ITL, "
        "TPOT as vLLM's serving benchmark defines them (docs/scaling.md); tok/s: output tokens per "
        "second, all requests; req/s: completed requests per second; goodput: requests per second "
        f"meeting the SLO ({'; '.join(described)})."
    )
    table = format_table(columns(SERVED_SPEC), [served_line(r) for r in rows], markdown=markdown)
    return [table, "\n".join(textwrap.wrap(legend, REPORT_WIDTH))]
