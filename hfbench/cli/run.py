"""``hfbench run``: measure a suite (or models x capabilities) on this machine."""

from __future__ import annotations

import argparse
from typing import Any

from hfbench.cli import command
from hfbench.cli._output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    parser = command(
        sub,
        "run",
        help="measure latency, memory and quality per cell, into the results store",
        description="Measure each cell (model x capability x settings) on this machine: load time, "
        "latency (warm-up not counted, until the median is stable), per-token figures, peak memory, "
        "and quality on seeded random subsets of established data. Records are appended to "
        "RESULTS/records.jsonl; cells already measured here are skipped (a killed run resumes). "
        "Exit status: 0 when every cell has a measured outcome, 1 when cells failed.",
        examples=[
            "hfbench run --suite quick",
            "hfbench run --capability summarization --tier small",
            "hfbench run --capability summarization --models google/flan-t5-small,facebook/bart-base",
            "hfbench run --suite quick --sweep dtype=float32,bfloat16 --sweep batch_size=1,8",
            "hfbench run --suite my-suite.toml --results lab/ --cell-timeout 900",
        ],
    )
    parser.add_argument("--suite", help="quick, standard, tiers, or a suite file (.toml/.json)")
    parser.add_argument("--models", help="comma-separated models (Hub ids, folders, embedded:<name>)")
    parser.add_argument("--capability", action="append", help="capability (repeatable); filters a suite")
    parser.add_argument("--tier", help="with --capability and no --models: the registry's model at this tier")
    parser.add_argument("--sweep", action="append", default=[], metavar="KEY=V1,V2", help="sweep a setting")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting for every cell"
    )
    parser.add_argument("--results", default="results", help="results folder (default: results/)")
    parser.add_argument("--force", action="store_true", help="measure cells again even if measured here")
    parser.add_argument("--retry-failed", action="store_true", help="run again the cells that failed")
    parser.add_argument("--cell-timeout", type=float, metavar="S", help="end a cell after S seconds")
    parser.add_argument("--retries", type=int, default=0, help="re-run a cell whose process died")
    parser.add_argument("--executor", default="local", help="local (a process per cell) or inline")
    parser.add_argument("--no-isolation", action="store_true", help="same as --executor inline (debugging)")
    parser.add_argument("--dry-run", action="store_true", help="list the cells that would run, and stop")
    parser.add_argument("--json", action="store_true", help="print the run's summary as JSON")
    parser.set_defaults(func=run)


def build_suite(args: argparse.Namespace) -> Any:
    """The suite the arguments describe (validated)."""
    from hfbench.bench.suites import Suite, parse_sweeps
    from hfbench.core.errors import BenchmarkError

    capabilities = list(args.capability or [])
    models = [m.strip() for m in (args.models or "").split(",") if m.strip()]
    if args.tier and not models:
        if not capabilities:
            raise BenchmarkError("--tier needs --capability (which capability's model to measure).")
        models = _registry_models(capabilities, args.tier)
    if models:
        if not capabilities:
            raise BenchmarkError("--models needs --capability (what to measure them on).")
        suite = Suite.from_models(models, capabilities, name="adhoc")
    else:
        suite = Suite.load(args.suite or "quick")
        if capabilities:
            suite = _only(suite, capabilities)
    settings = parse_sweeps(args.set)
    if settings:
        suite = suite.with_settings({k: v[0] if len(v) == 1 else v for k, v in settings.items()})
    if args.sweep:
        suite = suite.with_sweep(parse_sweeps(args.sweep))
    return suite


def _registry_models(capabilities: list[str], tier: str) -> list[str]:
    from hfbench.registry import CapabilityRegistry

    registry = CapabilityRegistry()
    return list(dict.fromkeys(registry.require_recommendation(c, tier).model_name for c in capabilities))


def _only(suite: Any, capabilities: list[str]) -> Any:
    from hfbench.bench.suites import Group, Suite
    from hfbench.core.capability import canonical_capability
    from hfbench.core.errors import BenchmarkError

    wanted = {canonical_capability(c) for c in capabilities}
    groups = tuple(
        Group(g.models, tuple(c for c in g.capabilities if c in wanted), g.settings, g.sweep)
        for g in suite.groups
        if any(c in wanted for c in g.capabilities)
    )
    if not groups:
        raise BenchmarkError(f"The suite {suite.name!r} has no cell for {', '.join(sorted(wanted))}.")
    return Suite(suite.name, groups, suite.settings, suite.size, suite.description, suite.source)


def run(args: argparse.Namespace) -> int:
    """Run the suite and print a one-screen summary."""
    from hfbench.bench.runner import pending_cells
    from hfbench.bench.runner import run as run_suite

    suite = build_suite(args)
    if args.dry_run:
        pending = {c.cell_id for c in pending_cells(suite, args.results, force=args.force)}
        for cell in suite.cells():
            print(f"{cell.cell_id}  {'run ' if cell.cell_id in pending else 'done'}  {cell.label()}")
        return 0
    executor = "inline" if args.no_isolation else args.executor
    options = None
    summary = run_suite(
        suite,
        results=args.results,
        executor=executor,
        force=args.force,
        retry_failed=args.retry_failed,
        cell_timeout_s=args.cell_timeout,
        retries=args.retries,
        executor_options=options,
    )
    if args.json:
        print_json(
            {
                "summary": summary.describe(),
                "statuses": dict(summary.statuses),
                "exit_code": summary.exit_code,
            }
        )
        return summary.exit_code
    print(summary.describe())
    if summary.records:
        from hfbench.bench.report import report

        print(report(summary.records))
    if summary.failed:
        print(f"hfbench: {summary.failed} cell(s) failed; `hfbench report {args.results}` shows why.")
    return summary.exit_code
