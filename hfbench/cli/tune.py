"""``hfbench tune``: pick, per capability and tier, the best model measured here; write the file."""

from __future__ import annotations

import argparse

from hfbench.cli import command


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``tune`` command."""
    parser = command(
        sub,
        "tune",
        help="write this machine's recommendation file from measured results",
        description="From the results measured on this machine, choose per capability and size "
        "tier the best-quality model that fits and meets the budgets (quality differences that a "
        "paired bootstrap does not find significant are ties, won by the faster model), and write a "
        "recommendation file (registry format, with the measured figures and the runtime recipe). "
        "Load it with CapabilityRegistry(tuned=FILE) or the provider's 'tuned_recommendations'.",
        examples=[
            "hfbench tune results/",
            "hfbench tune results/ -o results/recommendations/this-machine.json --max-latency-ms 500",
            "hfbench tune results/ --min-tokens-per-s 20",
        ],
    )
    parser.add_argument("results", nargs="?", default="results", help="results folder (default: results/)")
    parser.add_argument(
        "-o", "--output", help="file to write (default: RESULTS/recommendations/<hardware-id>.json)"
    )
    parser.add_argument("--max-latency-ms", type=float, help="budget: median latency per call")
    parser.add_argument("--min-tokens-per-s", type=float, help="budget: decode tokens/s (generation)")
    parser.add_argument("--max-memory-mb", type=float, help="budget: memory a model may take (default: all)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Tune and print what was chosen, and why."""
    from hfbench.bench.tune import tune

    result = tune(
        args.results,
        max_latency_ms=args.max_latency_ms,
        min_tokens_per_s=args.min_tokens_per_s,
        max_memory_mb=args.max_memory_mb,
        output=args.output,
    )
    print(result)
    return 0
