"""``report``: a results folder on one screen — what ran, how fast, how good, how much memory.

Three tables, each within 100 columns as plain text (``str(report)``) and as Markdown
(``report.to_markdown()``):

* **cells** — model, capability, status, latency median, time to first token, throughput (decode
  tokens/s, samples/s, or the real-time factor for speech), the memory the model took (MiB), the
  quality metric's value with its 95 % interval, and the measured confidence;
* **memory** — per model and dtype, the registry's estimate beside the measured memory and the
  estimation error ``(estimate - measured) / measured`` (median over the model's cells, and the
  worst);
* **failures** — cells without a measurement, and oom / too-slow outcomes, with their reasons.

Served endpoints (``kind = "served"`` records of the serving benchmark) get a table of their own,
**served**: per endpoint, model and concurrency level, TTFT p50/p90, ITL and TPOT p50, output
tokens/s, requests/s and goodput (``serving.table``).

Plots are ``hfbench.plots`` (``save_report_plots(report.frame, folder)``): ``bench`` draws nothing.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hfbench.bench.serving.cell import SERVED_KIND
from hfbench.bench.serving.table import served_rows, served_sections
from hfbench.bench.text_table import (
    REPORT_WIDTH,
    columns,
    format_table,
    quality_text,
    seconds_text,
    throughput_text,
)
from hfbench.bench.tune_measured import clean, finite_number, results_frame

if TYPE_CHECKING:
    import pandas as pd


#: Short names of metrics for the cells table (others are shown as they are, cut to fit).
METRIC_ABBREVIATIONS: dict[str, str] = {
    "perplexity": "ppl",
    "squad-exact-match": "EM",
    "squad-f1": "F1",
    "accuracy": "acc",
    "macro-f1": "mF1",
    "spearman": "rho",
    "rouge-l": "rougeL",
    "wer": "WER",
    "chrf": "chrF",
    "bleu": "BLEU",
}


def _mib(value: Any) -> str:
    mib = finite_number(value)
    if mib is None:
        return "-"
    return f"{mib:.1f}" if abs(mib) < 10 else f"{mib:.0f}"


def _percent(value: Any) -> str:
    fraction = finite_number(value)
    return f"{fraction * 100:+.0f}%" if fraction is not None else "-"


# --------------------------------------------------------------------------- the tables
# Widths leave room for Markdown's borders: a table of n columns takes the widths + n + 1.
CELL_COLUMNS = columns(
    "model 14 | capability 12 | status 8 | latency >7 | TTFT >5 | throughput >10 | MiB >6 | metric 6"
    " | quality [95% CI] 17 | conf >4"
)
MEMORY_COLUMNS = columns(
    "model 26 | dtype 9 | cells >5 | weights >8 | estimate >8 | measured >8 | error >6 | worst >6"
)
SWEEP_COLUMNS = columns(
    "model 20 | capability 14 | settings 22 | latency >7 | throughput >10 | quality [95% CI] 17"
)
FAILURE_COLUMNS = columns(f"model 18 | capability 16 | status 8 | reason {REPORT_WIDTH - 18 - 16 - 8 - 5}")


def _sweep_row(row: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        str(row.get("short_model") or row.get("model")),
        str(row.get("capability")),
        str(row.get("varied_settings")),
        seconds_text(row.get("latency_median_s")),
        throughput_text(row),
        quality_text(row),
    )


def varied_settings(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Per row, the settings that differ among the rows of its model and capability
    (``optimize=fast, batch_size=8``; empty where they all ran alike)."""
    import json

    rows = list(rows)
    parsed = [json.loads(str(r.get("settings") or "{}")) for r in rows]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault((str(row.get("model")), str(row.get("capability"))), []).append(i)
    labels = [""] * len(rows)
    for members in groups.values():
        keys = sorted({k for i in members for k in parsed[i]})
        varying = [k for k in keys if len({json.dumps(parsed[i].get(k)) for i in members}) > 1]
        for i in members:
            labels[i] = ", ".join(f"{k}={parsed[i].get(k, '-')}" for k in varying)
    return labels


def _cell_row(row: Mapping[str, Any]) -> tuple[str, ...]:
    metric = str(clean(row.get("quality_metric")) or "-")
    confidence = finite_number(row.get("confidence"))
    return (
        str(row.get("short_model") or row.get("model")),
        str(row.get("capability")),
        str(row.get("status")),
        seconds_text(row.get("latency_median_s")),
        seconds_text(row.get("ttft_median_s")),
        throughput_text(row),
        _mib(row.get("model_mb")),
        METRIC_ABBREVIATIONS.get(metric, metric),
        quality_text(row),
        f"{confidence:.2f}" if confidence is not None else "-",
    )


def memory_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per model and dtype: cells, weights, estimate and measured MiB (medians), and the
    estimation error (median and worst of the cells' ``estimate_error``)."""
    measured = frame[frame["model_mb"].notna() & frame["estimate_mb"].notna()]
    out = []
    for (model, dtype), group in measured.groupby(["model", "dtype"], sort=True, dropna=False):
        errors = [e for e in (finite_number(v) for v in group["estimate_error"]) if e is not None]
        out.append(
            {
                "model": model,
                "short_model": group["short_model"].iloc[0],
                "dtype": clean(dtype),
                "cells": len(group),
                "weights_mb": finite_number(group["weights_mb"].median()),
                "estimate_mb": finite_number(group["estimate_mb"].median()),
                "model_mb": finite_number(group["model_mb"].median()),
                "estimate_error": float(sorted(errors)[len(errors) // 2]) if errors else None,
                "worst_error": max(errors, key=abs) if errors else None,
            }
        )
    return out


def _memory_row(row: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        str(row["short_model"]),
        str(row["dtype"] or "-"),
        str(row["cells"]),
        _mib(row["weights_mb"]),
        _mib(row["estimate_mb"]),
        _mib(row["model_mb"]),
        _percent(row["estimate_error"]),
        _percent(row["worst_error"]),
    )


def _failure_row(row: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        str(row.get("short_model") or row.get("model")),
        str(row.get("capability")),
        str(row.get("status")),
        str(clean(row.get("error")) or "(no reason recorded)"),
    )


def _wrap(text: str, width: int = REPORT_WIDTH) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


@dataclass(frozen=True)
class Report:
    """A results folder on one screen (``str(report)``, ``report.to_markdown()``).

    Attributes:
        frame: the ``load_results`` rows the report is made of (``hfbench.plots`` draws it).
        cells: the cells table's rows (tidy rows, status ok first).
        memory: per model and dtype, estimate vs measured (``memory_rows``).
        failures: rows of cells that are not ``ok``, with their ``error``.
        served: rows of served endpoints' concurrency levels (``kind == "served"``), in table order.
        sweeps: cells of a model and capability measured with different settings (a sweep), each
            with ``varied_settings``: what differs.
    """

    frame: pd.DataFrame
    cells: tuple[dict[str, Any], ...]
    memory: tuple[dict[str, Any], ...]
    failures: tuple[dict[str, Any], ...]
    served: tuple[dict[str, Any], ...] = ()
    sweeps: tuple[dict[str, Any], ...] = ()

    @property
    def hardware_ids(self) -> list[str]:
        """The machines the rows were measured on."""
        return sorted({str(h) for h in self.frame["hardware_id"].dropna()})

    def headline(self) -> str:
        """``9 cells on hardware b73fa977f7fa: 8 ok, 1 oom``."""
        counts = self.frame["status"].value_counts()
        statuses = ", ".join(f"{n} {s}" for s, n in counts.items())
        machines = ", ".join(self.hardware_ids) or "unknown"
        noun = "hardware" if len(self.hardware_ids) <= 1 else "machines"
        return f"{len(self.frame)} cells on {noun} {machines}: {statuses or 'none'}"

    def _sections(self, markdown: bool) -> list[str]:
        table = functools.partial(format_table, markdown=markdown)

        def title(text: str) -> str:
            return f"## {text}" if markdown else f"{text}\n{'=' * len(text)}"

        legend = (
            "latency: median of a speed call; TTFT: time to first token; throughput: decode tok/s, "
            "samples/s (smp/s) or real-time factor (RTF); MiB: memory the model took; quality: "
            "the metric with its 95% bootstrap interval; conf: measured confidence."
        )
        parts = [
            "\n".join(_wrap(f"hfbench report: {self.headline()}")),
            title("Cells"),
            table(CELL_COLUMNS, [_cell_row(r) for r in self.cells]),
            "\n".join(_wrap(legend)),
        ]
        if self.sweeps:
            parts += [
                title("Settings compared"),
                table(SWEEP_COLUMNS, [_sweep_row(r) for r in self.sweeps]),
                "\n".join(
                    _wrap(
                        "the cells of one model and capability measured with different settings "
                        "(--sweep), in the order of the cells table; settings: what differs."
                    )
                ),
            ]
        if self.served and not self.cells:
            parts[2:4] = ["None measured in-process: only served endpoints."]
        if self.served:
            parts += [title("Served endpoints"), *served_sections(self.served, markdown=markdown)]
        parts.append(title("Memory: estimated vs measured (MiB)"))
        if self.memory:
            parts.append(table(MEMORY_COLUMNS, [_memory_row(r) for r in self.memory]))
            note = (
                "error: (estimate - measured) / measured, median over the model's cells; worst: the largest."
            )
            parts.append("\n".join(_wrap(note)))
        else:
            parts.append("No cell measured memory with an estimate beside it.")
        parts.append(title("Failures and limits"))
        if self.failures:
            parts.append(table(FAILURE_COLUMNS, [_failure_row(r) for r in self.failures]))
        else:
            parts.append("None: every cell measured.")
        return parts

    def to_markdown(self) -> str:
        """The report as Markdown (GitHub tables), every line within 100 columns."""
        return "\n\n".join(self._sections(markdown=True)) + "\n"

    def __str__(self) -> str:
        return "\n\n".join(self._sections(markdown=False))


def report(
    results: pd.DataFrame | Iterable[Mapping[str, Any]] | str | os.PathLike[str] = "results",
    *,
    hardware_id: str | None = None,
) -> Report:
    """A one-screen report of harness results (pytest-benchmark rows are left out).

    Args:
        results: a results folder, harness records, or a ``load_results`` DataFrame.
        hardware_id: only this machine's records (None: every machine's).

    Returns:
        A ``Report``; ``print(report)`` or ``report.to_markdown()``.

    Raises:
        ResultsError: a folder without results.
    """
    frame = results_frame(results)
    frame = frame[frame["source"] == "hfbench"]
    if hardware_id is not None:
        frame = frame[frame["hardware_id"] == hardware_id]
    frame = frame.reset_index(drop=True)
    ordered = frame.assign(_failed=frame["status"] != "ok").sort_values(
        ["_failed", "capability", "short_model", "settings"], kind="stable"
    )
    rows = tuple(ordered.drop(columns="_failed").to_dict("records"))
    served = tuple(r for r in rows if r.get("kind") == SERVED_KIND)
    cells = tuple(r for r in rows if r.get("kind") != SERVED_KIND)
    failures = tuple(r for r in rows if r.get("status") != "ok")
    swept = [{**r, "varied_settings": label} for r, label in zip(cells, varied_settings(cells), strict=True)]
    sweeps = tuple(r for r in swept if r["varied_settings"] and r.get("status") == "ok")
    return Report(frame, cells, tuple(memory_rows(frame)), failures, served_rows(served), sweeps)
