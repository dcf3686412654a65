"""``hfbench tune``: pick, per capability and tier, the best model measured on each machine; write
one file per machine."""

from __future__ import annotations

import argparse

from hfbench.cli import command


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``tune`` command."""
    parser = command(
        sub,
        "tune",
        help="write a recommendation file per machine from measured results",
        description="From the results measured on each machine (hardware id) seen in the results, "
        "choose per capability and size tier the best-quality model that fits and meets the budgets "
        "(quality differences that a paired bootstrap does not find significant are ties, won by the "
        "faster model), and write that machine's recommendation file (registry format, with the "
        "measured figures and the runtime recipe): RESULTS/recommendations/<hardware-id>.json each. "
        "Load one with CapabilityRegistry(tuned=FILE) or the provider's 'tuned_recommendations'.",
        examples=[
            "hfbench tune results/",
            "hfbench tune results/ --hardware-id b73fa977f7fa",
            "hfbench tune results/ -o results/recommendations/this-machine.json --max-latency-ms 500",
            "hfbench tune results/ --min-tokens-per-s 20",
            "hfbench tune results/ --slo ttft_ms=500 --concurrency 4   # served endpoints",
        ],
    )
    parser.add_argument("results", nargs="?", default="results", help="results folder (default: results/)")
    parser.add_argument(
        "-o",
        "--output",
        help="write one file, for this machine (or --hardware-id's), here "
        "(default: a file per machine, RESULTS/recommendations/<hardware-id>.json)",
    )
    parser.add_argument("--hardware-id", help="tune only this machine's records (default: every machine's)")
    parser.add_argument("--max-latency-ms", type=float, help="budget: median latency per call")
    parser.add_argument("--min-tokens-per-s", type=float, help="budget: decode tokens/s (generation)")
    parser.add_argument("--max-memory-mb", type=float, help="budget: memory a model may take (default: all)")
    served = parser.add_argument_group(
        "served endpoints",
        "Served levels (hfbench run --endpoint) are chosen per capability and concurrency: the highest "
        "goodput among the levels whose percentile meets every SLO limit.",
    )
    served.add_argument(
        "--slo",
        metavar="NAME=MS,...",
        help="limits: ttft_ms, itl_ms, tpot_ms, e2el_ms (default: each level's own)",
    )
    served.add_argument("--concurrency", type=int, metavar="N", help="only this concurrency level")
    served.add_argument(
        "--slo-percentile",
        type=float,
        default=90.0,
        metavar="P",
        help="where the SLO is checked (default 90)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Tune and print what was chosen, and why: every machine's file, or one with -o / --hardware-id."""
    from hfbench.bench.tune import tune, tune_all

    budgets = {
        "max_latency_ms": args.max_latency_ms,
        "min_tokens_per_s": args.min_tokens_per_s,
        "max_memory_mb": args.max_memory_mb,
        "slo": args.slo,
        "concurrency": args.concurrency,
        "slo_percentile": args.slo_percentile,
    }
    if args.output or args.hardware_id:
        print(tune(args.results, hardware_id=args.hardware_id, output=args.output, **budgets))
        return 0
    results = tune_all(args.results, **budgets)
    print("\n".join(str(result) for result in results.values()))
    return 0
