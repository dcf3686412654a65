"""``hfbench report``: one screen of results, the memory estimate's error, and plots (PNG)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hfbench.cli import command
from hfbench.cli._output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` command."""
    parser = command(
        sub,
        "report",
        help="a one-screen table of results, memory estimate errors, plots",
        description="Summarise a results folder: per cell the status, latency, tokens/s or "
        "samples/s, peak memory and quality with its 95% interval; per model the registry's memory "
        "estimate against the measurement; failed cells with their reasons. Plots are written as "
        "PNG files (quality vs latency with the Pareto front, memory, throughput).",
        examples=[
            "hfbench report results/",
            "hfbench report results/ --plots results/plots --markdown",
            "hfbench report results/ --json",
        ],
    )
    parser.add_argument("results", nargs="?", default="results", help="results folder (default: results/)")
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots here (default: RESULTS/plots)")
    parser.add_argument("--no-plots", action="store_true", help="tables only")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--json", action="store_true", help="print the results table as JSON records")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the report; write the plots."""
    from hfbench.bench.report import report
    from hfbench.bench.results import load_results

    frame = load_results(args.results)
    if args.json:
        print_json(frame.to_dict(orient="records"))
        return 0
    summary = report(frame)
    paths: list[Path] = []
    if not args.no_plots:
        from hfbench.plots import save_report_plots

        paths = save_report_plots(frame, Path(args.plots or Path(args.results) / "plots"))
    print(summary.to_markdown() if args.markdown else summary)
    for path in paths:
        print(f"plot: {path}")
    return 0
