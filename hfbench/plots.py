"""Plots of benchmark results: quality vs latency, estimated vs measured memory, throughput.

Each function takes a ``load_results`` DataFrame (or a results folder) and returns a matplotlib
``Figure`` — built without ``pyplot``, so nothing opens a window, no global figure is left
behind, and it works on a machine without a display (Agg). A notebook shows a returned figure;
``fig.savefig("x.png")`` writes it; ``save_report_plots`` writes them all (``hfbench report``).

Defaults meant to be read at a glance: a title, axis labels with units, one colour per size
tier (``TIER_COLOURS``, the same in every plot), log axes where values span more than
``LOG_RATIO``, and 95 % intervals as error bars.

Example:
    >>> import hfbench as hb
    >>> df = hb.bench.load_results("results/")                     # doctest: +SKIP
    >>> hb.plots.pareto(df, capability="summarization")            # doctest: +SKIP
    >>> hb.plots.save_report_plots(df, "results/plots")            # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hfbench.bench.report import memory_rows
from hfbench.bench.tune_measured import results_frame
from hfbench.bench.tune_params import tier_column
from hfbench.core.capability import canonical_capability
from hfbench.core.errors import ResultsError
from hfbench.registry.tiers import SIZE_TIERS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["LOG_RATIO", "TIER_COLOURS", "memory", "pareto", "pareto_front", "save_report_plots", "throughput"]

#: One colour per size tier (colour-blind safe, from the Okabe-Ito palette); grey for unknown.
TIER_COLOURS: dict[str, str] = {
    "tiny": "#0072B2",
    "small": "#E69F00",
    "medium": "#009E73",
    "large": "#CC79A7",
    "xlarge": "#D55E00",
    "unknown": "#7F7F7F",
}
#: An axis goes logarithmic when its largest positive value is more than this times its smallest.
LOG_RATIO = 20.0
#: The Pareto front line's legend label.
PARETO_LABEL = "Pareto front"


def _figure(width: float = 7.5, height: float = 4.8) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _ok_rows(results: Any) -> pd.DataFrame:
    frame = results_frame(results)
    frame = frame[(frame["source"] == "hfbench") & (frame["status"] == "ok")].copy()
    frame["tier"] = tier_column(frame).fillna("unknown")
    return frame


def _wide(values: Iterable[float]) -> bool:
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) / min(positive) > LOG_RATIO


def _tier_order(tiers: Iterable[str]) -> list[str]:
    order = [*SIZE_TIERS, "unknown"]
    return sorted(set(tiers), key=lambda t: order.index(t) if t in order else len(order))


def pareto_front(
    latency: Sequence[float], quality: Sequence[float], *, higher_is_better: bool = True
) -> list[int]:
    """Indices of the points no other point beats on both latency (lower) and quality, fastest first.

    A point is on the front when every faster-or-equal point has worse quality; among points of
    equal latency and quality the first is kept.
    """
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(range(len(latency)), key=lambda i: (latency[i], -sign * quality[i]))
    front: list[int] = []
    best = -float("inf")
    for i in order:
        if sign * quality[i] > best:
            front.append(i)
            best = sign * quality[i]
    return front


def pareto(
    results: pd.DataFrame | Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    capability: str,
    *,
    by: str = "tier",
) -> Figure:
    """Quality vs latency for one capability: a point per cell, 95 % intervals as error bars, one
    colour per tier (``by="tier"``) or per model (``by="model"``), the Pareto front as a dashed
    step line (the best quality reachable within each latency) with its points ringed.

    Args:
        results: a ``load_results`` DataFrame, harness records or a results folder.
        capability: the capability (aliases accepted).
        by: ``tier`` or ``model``: what a colour (and a legend entry) stands for.

    Raises:
        ResultsError: no ``ok`` cell of that capability measured both quality and latency.
        ValueError: ``by`` is neither ``tier`` nor ``model``.
    """
    if by not in ("tier", "model"):
        raise ValueError(f"by must be 'tier' or 'model', got {by!r}.")
    name = canonical_capability(capability)
    frame = _ok_rows(results)
    usable = frame[frame["quality_value"].notna() & frame["latency_median_s"].notna()]
    rows = usable[usable["capability"] == name]
    if rows.empty:
        have = ", ".join(sorted(usable["capability"].unique())) or "none"
        raise ResultsError(
            f"No ok cell of {name} measured both quality and latency; capabilities that did: {have}."
        )
    metric = rows["quality_metric"].mode().iloc[0]
    left_out = int((rows["quality_metric"] != metric).sum())
    rows = rows[rows["quality_metric"] == metric]
    higher = (
        bool(rows["higher_is_better"].dropna().iloc[0]) if rows["higher_is_better"].notna().any() else True
    )

    fig = _figure()
    ax = fig.add_subplot()
    seconds = rows["latency_median_s"].max() >= 10  # ms up to 10 s, then seconds
    scale, unit = (1.0, "s") if seconds else (1000.0, "ms")
    latency = (rows["latency_median_s"] * scale).tolist()
    values = rows["quality_value"].tolist()
    groups = _tier_order(rows["tier"]) if by == "tier" else sorted(rows["short_model"].unique())
    model_colours = _model_colours(groups) if by == "model" else {}
    for group in groups:
        part = rows[rows["tier" if by == "tier" else "short_model"] == group]
        low = (part["quality_value"] - part["quality_ci_low"]).clip(lower=0).fillna(0)
        high = (part["quality_ci_high"] - part["quality_value"]).clip(lower=0).fillna(0)
        ax.errorbar(
            part["latency_median_s"] * scale,
            part["quality_value"],
            yerr=[low.tolist(), high.tolist()],
            fmt="o",
            capsize=3,
            markersize=7,
            color=TIER_COLOURS.get(group, "#7F7F7F") if by == "tier" else model_colours[group],
            label=group,
        )
    for x, y, label in zip(latency, values, rows["short_model"], strict=True):
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    front = pareto_front(latency, values, higher_is_better=higher)
    # Rings mark the front's points, so a front of one point (one cell beats all) still shows.
    ax.plot(
        [latency[i] for i in front],
        [values[i] for i in front],
        drawstyle="steps-post",
        linestyle="--",
        color="black",
        linewidth=1.2,
        marker="o",
        markersize=13,
        markerfacecolor="none",
        markeredgewidth=1.2,
        label=PARETO_LABEL,
    )
    if _wide(latency):
        ax.set_xscale("log")
    if _wide(values) and not higher:
        ax.set_yscale("log")
    ax.set_xlabel(f"latency, median per call ({unit})")
    ax.set_ylabel(f"{metric} ({'higher' if higher else 'lower'} is better)")
    note = f" ({left_out} cells with another metric left out)" if left_out else ""
    ax.set_title(f"{name}: quality vs latency{note}")
    ax.grid(True, alpha=0.3)
    ax.legend(title="tier" if by == "tier" else "model", fontsize=8)
    return fig


def _model_colours(models: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(models) <= 10 else "tab20"]
    return {m: cmap(i % cmap.N) for i, m in enumerate(models)}


def memory(results: pd.DataFrame | Iterable[Mapping[str, Any]] | str | os.PathLike[str]) -> Figure:
    """Estimated vs measured memory per model (and dtype): paired bars in MiB, the estimation
    error above each pair, bars coloured by tier (the estimate hatched).

    Raises:
        ResultsError: no ``ok`` cell has both a measured memory and an estimate.
    """
    frame = _ok_rows(results)
    rows = memory_rows(frame)
    if not rows:
        raise ResultsError("No ok cell measured memory with the registry's estimate beside it.")
    tiers = dict(zip(frame["model"], frame["tier"], strict=True))
    fig = _figure(max(6.0, 1.1 * len(rows) + 2.5))
    ax = fig.add_subplot()
    positions = list(range(len(rows)))
    width = 0.38
    estimates = [r["estimate_mb"] or 0.0 for r in rows]
    measured = [r["model_mb"] or 0.0 for r in rows]
    colours = [TIER_COLOURS.get(tiers.get(r["model"], "unknown"), "#7F7F7F") for r in rows]
    ax.bar(
        [p - width / 2 for p in positions],
        estimates,
        width,
        color=colours,
        alpha=0.45,
        hatch="//",
        edgecolor="black",
        label="estimate",
    )
    ax.bar(
        [p + width / 2 for p in positions],
        measured,
        width,
        color=colours,
        edgecolor="black",
        label="measured",
    )
    for p, row, top in zip(positions, rows, map(max, estimates, measured), strict=True):
        if row["estimate_error"] is not None:
            ax.annotate(
                f"{row['estimate_error'] * 100:+.0f}%",
                (p, top),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=8,
            )
    ax.set_xticks(positions, [f"{r['short_model']}\n{r['dtype'] or ''}" for r in rows], fontsize=8)
    if _wide(estimates + measured):
        ax.set_yscale("log")
    ax.set_ylabel("memory (MiB)")
    ax.set_title(
        "Memory: the registry's estimate vs measured (error = (estimate - measured) / measured)", fontsize=10
    )
    ax.grid(True, axis="y", alpha=0.3)
    handles = ax.get_legend_handles_labels()[0]
    handles += _tier_handles(_tier_order(tiers.get(r["model"], "unknown") for r in rows))
    ax.legend(handles=handles, fontsize=8)
    return fig


def _tier_handles(tiers: Sequence[str]) -> list[Any]:
    from matplotlib.patches import Patch

    return [Patch(color=TIER_COLOURS.get(t, "#7F7F7F"), label=f"tier {t}") for t in tiers]


_THROUGHPUTS = (
    ("decode_tokens_per_s", "decode tokens/s", "generation"),
    ("samples_per_s", "samples/s", "inputs per call"),
)


def throughput(results: pd.DataFrame | Iterable[Mapping[str, Any]] | str | os.PathLike[str]) -> Figure:
    """Throughput per model: decode tokens/s for generating cells, samples/s for the others.

    One panel per kind that was measured. Where a model was measured at several batch sizes, a
    line per model over the batch size (inputs per speed call); otherwise a bar per cell. Colours
    are tiers.

    Raises:
        ResultsError: no ``ok`` cell measured a throughput.
    """
    frame = _ok_rows(results)
    panels = []
    taken = frame.index[:0]
    for column, unit, _ in _THROUGHPUTS:
        rows = frame[frame[column].notna() & ~frame.index.isin(taken)]
        if not rows.empty:
            panels.append((column, unit, rows))
            taken = taken.union(rows.index)
    if not panels:
        raise ResultsError("No ok cell measured decode tokens/s or samples/s.")
    swept = [
        rows.groupby(["model", "dtype"], dropna=False)["batch_size"].nunique().max() > 1
        for _, _, rows in panels
    ]
    # a line panel gets a fixed height, a bar panel room for its bars
    heights = [
        3.4 if lines else 1.0 + 0.35 * len(rows) for lines, (_, _, rows) in zip(swept, panels, strict=True)
    ]
    fig = _figure(7.5, sum(heights) + 0.6)
    axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, lines, (column, unit, rows) in zip(axes, swept, panels, strict=True):
        if lines:
            _throughput_lines(ax, rows, column, unit)
        else:
            _throughput_bars(ax, rows, column, unit)
        ax.grid(True, alpha=0.3)
        ax.set_title(f"Throughput: {unit}" + (" per batch size" if lines else " per cell"))
    return fig


def _throughput_lines(ax: Axes, rows: pd.DataFrame, column: str, unit: str) -> None:
    for (model, dtype), part in rows.groupby(["short_model", "dtype"], dropna=False, sort=True):
        part = part.sort_values("batch_size")
        colour = TIER_COLOURS.get(part["tier"].iloc[0], "#7F7F7F")
        ax.plot(part["batch_size"], part[column], marker="o", label=f"{model} ({dtype})", color=colour)
    batches = [b for b in rows["batch_size"].dropna().tolist() if b > 0]
    if batches and max(batches) / min(batches) >= 8:  # batch sizes are usually powers of two
        from matplotlib.ticker import ScalarFormatter

        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ScalarFormatter())
    if _wide(rows[column].tolist()):
        ax.set_yscale("log")
    ax.set_xlabel("batch size (inputs per call)")
    ax.set_ylabel(unit)
    ax.legend(fontsize=8)


def _throughput_bars(ax: Axes, rows: pd.DataFrame, column: str, unit: str) -> None:
    rows = rows.sort_values(column, ascending=False)
    labels = [f"{m} · {c}" for m, c in zip(rows["short_model"], rows["capability"], strict=True)]
    ax.barh(labels, rows[column], height=0.6, color=[TIER_COLOURS.get(t, "#7F7F7F") for t in rows["tier"]])
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    if _wide(rows[column].tolist()):
        ax.set_xscale("log")
    ax.set_xlabel(unit)
    ax.legend(handles=_tier_handles(_tier_order(rows["tier"])), fontsize=8, loc="lower right")


def save_report_plots(
    results: pd.DataFrame | Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    dpi: int = 120,
) -> list[Path]:
    """Write every plot the results support as PNG into ``folder`` (what ``hfbench report`` saves):
    ``pareto-<capability>.png`` per capability with quality and latency, ``memory.png`` and
    ``throughput.png``. Plots without data are skipped.

    Returns:
        The files written.
    """
    frame = results_frame(results)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, Figure]] = []
    ok = frame[(frame["status"] == "ok") & frame["quality_value"].notna() & frame["latency_median_s"].notna()]
    for capability in sorted(ok["capability"].dropna().unique()):
        figures.append((f"pareto-{capability}.png", pareto(frame, capability)))
    for name, draw in (("memory.png", memory), ("throughput.png", throughput)):
        try:
            figures.append((name, draw(frame)))
        except ResultsError:
            continue
    written = []
    for name, fig in figures:
        path = target / name
        fig.savefig(path, dpi=dpi)
        written.append(path)
    return written
