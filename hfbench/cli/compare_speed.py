"""``hfbench compare-speed``: hfbench exact / fast against raw transformers and friends, in one run."""

from __future__ import annotations

import argparse
from typing import Any

from hfbench.cli import command
from hfbench.cli._output import print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare-speed`` command."""
    from hfbench.bench.compare_speed import (
        DEFAULT_BATCH_SIZE,
        DEFAULT_MAX_NEW_TOKENS,
        DEFAULT_REPEATS,
        DEFAULT_SENTENCES,
    )

    parser = command(
        sub,
        "compare-speed",
        help="hfbench exact/fast vs raw transformers, pipeline() and llama.cpp, as ratios",
        description="Measure one model side by side in one run: decode tokens/s of a decoder "
        "(raw model.generate fp32 as the baseline, hfbench optimize=exact and fast, "
        "transformers.pipeline, llama.cpp on the embedded GGUF when llama-cpp-python is "
        "installed), or sentences/s of an encoder's embeddings (sentence-transformers encode as "
        "the baseline). Greedy, a forced length, one warm-up call, the median of --repeats. Ratios "
        "divide by the baseline of the same run; each row says whether its output changed "
        "(greedy text equal to the baseline's, or the cosine of its vectors to the fp32 ones).",
        examples=[
            "hfbench compare-speed embedded:smollm2-135m-instruct",
            "hfbench compare-speed embedded:smollm2-135m-instruct --max-new-tokens 16 --repeats 1",
            "hfbench compare-speed embedded:all-minilm-l6-v2 --sentences 256",
            "hfbench compare-speed embedded:smollm2-135m-instruct --only hfbench-fast --json",
        ],
    )
    parser.add_argument("model", help="Hub id, local folder or embedded:<name>")
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=DEFAULT_MAX_NEW_TOKENS,
        help=f"forced generation length (default {DEFAULT_MAX_NEW_TOKENS})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        help=f"timed calls per runner (default {DEFAULT_REPEATS})",
    )
    parser.add_argument(
        "--sentences",
        type=int,
        default=DEFAULT_SENTENCES,
        help=f"seeded sentences per call, embeddings (default {DEFAULT_SENTENCES})",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"sentences per forward pass, embeddings (default {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: usable cores)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:<index> or mps")
    parser.add_argument(
        "--only", nargs="+", metavar="RUNNER", help="run only these runners (the baseline always runs)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the comparison and print its table (or JSON)."""
    from hfbench.bench.compare_speed import compare_speed

    result = compare_speed(
        args.model,
        max_new_tokens=args.max_new_tokens,
        repeats=args.repeats,
        sentences=args.sentences,
        batch_size=args.batch_size,
        threads=args.threads,
        device=args.device,
        only=args.only,
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    print_table([_row(result, row) for row in result.rows], title=f"{result.model}: {result.unit}")
    settings = ", ".join(f"{k}={v}" for k, v in result.settings.items())
    print(f"machine: {result.machine}\nsettings: {settings}")
    print(f"ratios divide by {result.baseline!r} of this run; compare ratios, not figures, across runs")
    return 0


def _row(result: Any, row: Any) -> dict[str, Any]:
    """One table row: the figure, its ratio, and what changed in the output."""
    if result.kind == "generation":
        changed = None if row.same_as_baseline is None else ("same" if row.same_as_baseline else "changed")
        quality = {"greedy text": changed}
    else:
        cosine = None if row.cosine_mean is None else f"{row.cosine_mean:.4f} (min {row.cosine_min:.4f})"
        quality = {"cosine to fp32": cosine}
    return {
        "runner": row.label,
        result.unit: row.figure,
        "× baseline": None if row.ratio is None else f"{row.ratio:.2f}×",
        **quality,
        "note": row.note if row.status == "ok" else f"{row.status}: {row.note}",
    }
