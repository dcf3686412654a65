"""Plots as the notebooks show them: legible with the few cells a small run has."""

from __future__ import annotations

from synthetic_records import make_record

from hfbench import plots


def test_a_pareto_front_of_one_point_is_still_marked() -> None:
    records = [
        make_record("org/fast-good", level=4, latency_s=0.1, params_b=0.5),
        make_record("org/slow-bad", level=2, latency_s=1.0, params_b=0.5),
    ]
    ax = plots.pareto(records, "summarization", by="model").axes[0]
    front = next(line for line in ax.get_lines() if line.get_label() == plots.PARETO_LABEL)
    assert list(front.get_xdata()) == [100.0]  # one point: no step to draw, but a ring around it
    assert front.get_marker() == "o" and front.get_markerfacecolor() == "none"
    legend = sorted(t.get_text() for t in ax.get_legend().get_texts())
    assert legend == ["Pareto front", "fast-good", "slow-bad"]


def test_the_plots_of_a_one_capability_run_have_titles_and_units() -> None:
    records = [make_record("org/a", "chat", latency_s=0.3, decode_tokens_per_s=40.0, params_b=0.1)]
    pareto = plots.pareto(records, "chat").axes[0]
    assert pareto.get_title() == "chat: quality vs latency" and pareto.get_xlabel().endswith("(ms)")
    assert plots.memory(records).axes[0].get_ylabel() == "memory (MiB)"
    assert plots.throughput(records).axes[0].get_xlabel() == "decode tokens/s"
