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
        "RESULTS/records.jsonl; cells already measured here (with --executor ray: on a machine of the "
        "cluster) are skipped (a killed run resumes). "
        "Exit status: 0 when every cell has a measured outcome, 1 when cells failed.",
        examples=[
            "hfbench run --suite quick",
            "hfbench run --capability summarization --tier small",
            "hfbench run --capability summarization --models google/flan-t5-small,facebook/bart-base",
            "hfbench run --suite quick --sweep dtype=float32,bfloat16 --sweep batch_size=1,8",
            "hfbench run --suite my-suite.toml --results lab/ --cell-timeout 900",
            "hfbench run --endpoint http://localhost:8000 --concurrency 1,2,4,8 --slo ttft_ms=500,itl_ms=50",
            "hfbench run --suite tiers --executor ray --address auto",
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
    parser.add_argument(
        "--executor",
        default="local",
        help="local (a process per cell, default), inline, or ray (a Ray task per cell, across a cluster)",
    )
    parser.add_argument(
        "--address",
        help="with --executor ray: the cluster to join ('auto', HEAD:6379, ray://HEAD:10001; "
        "default: a local Ray instance)",
    )
    parser.add_argument("--no-isolation", action="store_true", help="same as --executor inline (debugging)")
    parser.add_argument("--dry-run", action="store_true", help="list the cells that would run, and stop")
    parser.add_argument("--json", action="store_true", help="print the run's summary as JSON")
    _add_endpoint_arguments(parser)
    parser.set_defaults(func=run)


def _add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """The serving benchmark's flags (``--endpoint`` and what goes with it)."""
    group = parser.add_argument_group(
        "served endpoints",
        "Measure an OpenAI-compatible server (vLLM, TGI, llama.cpp, transformers serve) instead of\n"
        "loading models here: one record per concurrency level (TTFT, ITL, TPOT, tokens/s, goodput).\n"
        "With --suite, its generative cells choose the endpoints (completions for text-generation,\n"
        "chat otherwise) and output lengths (speed_tokens); the server decides the model.",
    )
    group.add_argument(
        "--endpoint", metavar="URL", help="the server's base URL, e.g. http://127.0.0.1:8000/v1"
    )
    group.add_argument("--model", help="the served model's name (default: the server's only model)")
    group.add_argument(
        "--concurrency", default="1", metavar="N,N", help="requests in flight per level: 1,2,4,8"
    )
    group.add_argument(
        "--slo", metavar="NAME=MS,...", help="goodput limits: ttft_ms, itl_ms, tpot_ms, e2el_ms"
    )
    group.add_argument(
        "--api-key-env", metavar="NAME", help="environment variable with the API key (default OPENAI_API_KEY)"
    )
    group.add_argument("--tokenizer", help="the model's tokenizer (folder or Hub id) to count tokens with")
    group.add_argument("--input-tokens", type=int, default=64, metavar="N", help="prompt length (default 64)")
    group.add_argument("--output-tokens", type=int, metavar="N", help="answer length (default 32)")
    group.add_argument(
        "--requests", type=int, metavar="N", help="requests per level (default max(8, 4 x level))"
    )
    group.add_argument(
        "--label",
        help="names the server's setup, e.g. continuous-batching (part of the cell id: two setups of "
        "one model are measured and reported apart)",
    )


def _refuse_endpoint_flags(args: argparse.Namespace) -> None:
    """The serving benchmark's flags mean nothing without ``--endpoint``: say so."""
    from hfbench.core.errors import BenchmarkError

    given = [
        flag
        for flag, value in (
            ("--model", args.model),
            ("--concurrency", args.concurrency != "1"),
            ("--slo", args.slo),
            ("--api-key-env", args.api_key_env),
            ("--tokenizer", args.tokenizer),
            ("--output-tokens", args.output_tokens),
            ("--requests", args.requests),
            ("--label", args.label),
        )
        if value
    ]
    if given:
        raise BenchmarkError(
            f"{', '.join(given)} go with --endpoint URL (a served model); to measure models here, "
            "use --models (and --capability)."
        )


def _run_endpoint(args: argparse.Namespace) -> int:
    """``hfbench run --endpoint URL``: the serving benchmark, one record per concurrency level."""
    from hfbench.bench.report import report
    from hfbench.bench.serving.runner import parse_concurrency, run_served
    from hfbench.bench.serving.workloads import ServedWorkload, served_workloads

    workloads = None
    if args.suite:
        workloads, left_out = served_workloads(build_suite(args))
        if args.output_tokens:
            workloads = [ServedWorkload(w.capability, args.output_tokens, w.from_cells) for w in workloads]
        for line in left_out:
            print(f"hfbench: not served: {line}")
    options = {"input_tokens": args.input_tokens, "requests": args.requests, "tokenizer": args.tokenizer}
    if args.output_tokens:
        options["output_tokens"] = args.output_tokens
    if args.label:
        options["label"] = args.label
    summary = run_served(
        args.endpoint,
        args.model,
        capability=(args.capability or ["chat"])[0],
        workloads=workloads,
        concurrency=parse_concurrency(args.concurrency),
        slo=args.slo,
        results=args.results,
        force=args.force,
        api_key_env=args.api_key_env,
        suite=args.suite or "served",
        progress=print,
        **options,
    )
    if args.json:
        print_json(
            {"summary": summary.describe(), "levels": len(summary.records), "exit_code": summary.exit_code}
        )
        return summary.exit_code
    print(summary.describe())
    if summary.records:
        print(report(summary.records))
    return summary.exit_code


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


def _executor(args: argparse.Namespace) -> tuple[str, dict[str, Any] | None]:
    """The executor's name and options (``--address`` is Ray's)."""
    from hfbench.core.errors import BenchmarkError

    executor = "inline" if args.no_isolation else args.executor
    if not args.address:
        return executor, None
    if executor != "ray":
        raise BenchmarkError(f"--address is for --executor ray (the executor is {executor!r}).")
    return executor, {"address": args.address}


def run(args: argparse.Namespace) -> int:
    """Run the suite and print a one-screen summary."""
    from hfbench.bench.runner import pending_cells
    from hfbench.bench.runner import run as run_suite

    if args.endpoint:
        return _run_endpoint(args)
    _refuse_endpoint_flags(args)
    suite = build_suite(args)
    if args.dry_run:
        executor, options = _executor(args)
        pending = {
            c.cell_id
            for c in pending_cells(
                suite, args.results, force=args.force, executor=executor, executor_options=options
            )
        }
        for cell in suite.cells():
            print(f"{cell.cell_id}  {'run ' if cell.cell_id in pending else 'done'}  {cell.label()}")
        return 0
    executor, options = _executor(args)
    if executor != "ray":  # this machine runs the cells (a Ray node measures its own)
        from hfbench.bench.fingerprint import memory_bandwidth_gbps

        memory_bandwidth_gbps(refresh=True)  # before the cells, keeping the best figure measured here
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
