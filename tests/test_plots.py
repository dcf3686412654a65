"""``hfbench.plots``: figures with the expected artists, from a small synthetic results table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from synthetic_records import make_record

from hfbench import plots
from hfbench.bench.results import RESULT_COLUMNS, record_row
from hfbench.core.errors import ResultsError


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([record_row(r) for r in records], columns=list(RESULT_COLUMNS))


@pytest.fixture
def results() -> pd.DataFrame:
    """Summarization cells in three tiers, with a clear Pareto front; a decoder swept over batch
    sizes; an embedding model; an oom cell."""
    records = [
        make_record("org/tiny-fast", level=1, latency_s=0.02, params_b=0.5),
        make_record("org/tiny-good", level=3, latency_s=0.2, params_b=1.5),
        make_record("org/tiny-bad", level=1, latency_s=0.5, params_b=1.0),  # dominated
        make_record("org/small", level=4, latency_s=1.0, params_b=3.0),
        make_record("org/medium", level=5, latency_s=5.0, params_b=12.0),
        make_record("org/medium-slow", level=4, latency_s=8.0, params_b=13.0),  # dominated
        make_record("org/huge", status="oom", params_b=30.0),
    ]
    for batch, tps in ((1, 20.0), (4, 60.0), (16, 150.0)):
        records.append(
            make_record(
                "org/decoder",
                "text-generation",
                params_b=1.0,
                decode_tokens_per_s=tps,
                batch=batch,
                settings={"batch_size": batch},
            )
        )
    encoder = make_record("org/encoder", "embeddings", params_b=0.1, batch=32)
    encoder["latency"]["samples_per_s"] = 640.0
    records.append(encoder)
    return frame(records)


def series_labels(fig: Figure) -> list[str]:
    ax = fig.axes[0]
    return [c.get_label() for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_pareto_has_one_series_per_tier_labelled_axes_and_the_front(results: pd.DataFrame) -> None:
    fig = plots.pareto(results, capability="summarize")  # an alias works
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert series_labels(fig) == ["tiny", "small", "medium"]
    assert ax.get_xlabel() == "latency, median per call (ms)"
    assert ax.get_ylabel() == "rouge-l (higher is better)"
    assert ax.get_title().startswith("summarization: quality vs latency")
    front = next(line for line in ax.get_lines() if line.get_label() == plots.PARETO_LABEL)
    assert list(front.get_xdata()) == pytest.approx([20, 200, 1000, 5000])
    assert ax.get_xscale() == "log"  # 20 ms .. 8 s
    assert ax.get_legend() is not None


def test_pareto_draws_the_95_percent_intervals_as_error_bars(results: pd.DataFrame) -> None:
    ax = plots.pareto(results, "summarization").axes[0]
    medium = next(c for c in ax.containers if c.get_label() == "medium")
    segments = medium.lines[2][0].get_segments()
    heights = sorted(round(seg[1][1] - seg[0][1], 6) for seg in segments)
    assert heights == pytest.approx([0.2, 0.2])  # value +- 0.1


def test_pareto_shows_seconds_when_latencies_reach_ten_seconds() -> None:
    slow = frame([make_record("org/a", latency_s=12.0), make_record("org/b", level=4, latency_s=30.0)])
    ax = plots.pareto(slow, "summarization").axes[0]
    assert ax.get_xlabel() == "latency, median per call (s)"
    front = next(line for line in ax.get_lines() if line.get_label() == plots.PARETO_LABEL)
    assert list(front.get_xdata()) == pytest.approx([12.0, 30.0])


def test_pareto_by_model_has_one_series_per_model(results: pd.DataFrame) -> None:
    labels = series_labels(plots.pareto(results, "summarization", by="model"))
    assert labels == sorted(["tiny-fast", "tiny-good", "tiny-bad", "small", "medium", "medium-slow"])


def test_pareto_of_a_capability_without_data_says_which_have_some(results: pd.DataFrame) -> None:
    with pytest.raises(
        ResultsError, match="capabilities that did: embeddings, summarization, text-generation"
    ):
        plots.pareto(results, "translation")


@pytest.mark.parametrize(
    ("latency", "quality", "higher", "front"),
    [
        ([1, 2, 3, 4], [1, 3, 2, 4], True, [0, 1, 3]),
        ([1, 2, 3], [5, 3, 4], False, [0, 1]),
        ([2, 1, 1], [1, 1, 2], True, [2]),
    ],
)
def test_pareto_front_keeps_points_nothing_beats(
    latency: list[float], quality: list[float], higher: bool, front: list[int]
) -> None:
    assert plots.pareto_front(latency, quality, higher_is_better=higher) == front


def test_memory_pairs_estimate_and_measurement_per_model(results: pd.DataFrame) -> None:
    fig = plots.memory(results)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "memory (MiB)" and ax.get_title().startswith("Memory")
    models = len(results[(results["status"] == "ok")].groupby(["model", "dtype"]))
    assert len(ax.patches) == 2 * models
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["estimate", "measured"] and "tier tiny" in labels and "tier medium" in labels
    assert any(t.get_text() == "-10%" for t in ax.texts)


def test_throughput_draws_a_line_per_model_over_batch_sizes(results: pd.DataFrame) -> None:
    fig = plots.throughput(results)
    tokens, samples = fig.axes
    assert tokens.get_ylabel() == "decode tokens/s" and tokens.get_xlabel() == "batch size (inputs per call)"
    assert tokens.get_title() == "Throughput: decode tokens/s per batch size"
    (line,) = tokens.get_lines()
    assert list(line.get_xdata()) == [1, 4, 16] and list(line.get_ydata()) == [20.0, 60.0, 150.0]
    assert tokens.get_xscale() == "log"
    assert samples.get_xlabel() == "samples/s" and samples.get_title() == "Throughput: samples/s per cell"


def test_throughput_without_a_sweep_is_a_bar_per_cell(results: pd.DataFrame) -> None:
    single = results[results["batch_size"] != 4].copy()
    single = single[single["batch_size"] != 16]
    tokens = plots.throughput(single).axes[0]
    assert len(tokens.patches) == 1 and tokens.get_xlabel() == "decode tokens/s"


def test_every_plot_is_refused_clearly_without_data() -> None:
    empty = frame([make_record("org/huge", status="oom")])
    for draw in (plots.memory, plots.throughput):
        with pytest.raises(ResultsError):
            draw(empty)


def test_save_report_plots_writes_pngs_without_a_display(results: pd.DataFrame, tmp_path: Path) -> None:
    paths = plots.save_report_plots(results, tmp_path / "plots")
    names = sorted(p.name for p in paths)
    assert names == [
        "memory.png",
        "pareto-embeddings.png",
        "pareto-summarization.png",
        "pareto-text-generation.png",
        "throughput.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_leave_no_pyplot_figures_behind(results: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.pareto(results, "summarization")
    plots.memory(results)
    assert plt.get_fignums() == before
