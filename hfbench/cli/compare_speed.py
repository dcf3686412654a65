"""``hfbench compare-speed``: hfbench exact / fast against raw transformers and friends, in one run."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from hfbench.cli import command
from hfbench.cli._output import print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare-speed`` command."""
    from hfbench.bench.compare_speed import (
        DEFAULT_BATCH_SIZE,
        DEFAULT_CLIPS,
        DEFAULT_MAX_NEW_TOKENS,
        DEFAULT_REPEATS,
        DEFAULT_SENTENCES,
    )

    parser = command(
        sub,
        "compare-speed",
        help="hfbench exact/fast vs raw transformers, pipeline(), llama.cpp and faster-whisper, as ratios",
        description="Measure one model side by side in one run: decode tokens/s of a decoder "
        "(raw model.generate fp32 as the baseline, hfbench optimize=exact and fast, "
        "transformers.pipeline, llama.cpp on the embedded GGUF when llama-cpp-python is "
        "installed), sentences/s of an encoder's embeddings (sentence-transformers encode as "
        "the baseline), or audio seconds per second of a Whisper on seeded English clips (raw "
        "transformers generate as the baseline; faster-whisper float32 and int8 on the embedded "
        "CTranslate2 files when faster-whisper is installed). Greedy, one warm-up call, the median "
        "of --repeats. Ratios divide by the baseline of the same run; each row says whether its "
        "output changed (greedy text or transcripts equal to the baseline's, word error rate, or "
        "the cosine of its vectors to the fp32 ones).",
        examples=[
            "hfbench compare-speed embedded:smollm2-135m-instruct",
            "hfbench compare-speed embedded:smollm2-135m-instruct --max-new-tokens 16 --repeats 1",
            "hfbench compare-speed embedded:all-minilm-l6-v2 --sentences 256",
            "hfbench compare-speed embedded:whisper-tiny.en --clips 20",
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
    parser.add_argument(
        "--clips",
        type=int,
        default=DEFAULT_CLIPS,
        help=f"seeded English clips per call, speech (default {DEFAULT_CLIPS})",
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
        clips=args.clips,
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    print_table([_row(result, row) for row in result.rows], title=f"{result.model}: {result.unit}")
    settings = ", ".join(f"{k}={v}" for k, v in result.settings.items())
    print(f"machine: {result.machine}\nsettings: {settings}")
    print(f"ratios divide by {result.baseline!r} of this run; compare ratios, not figures, across runs")
    return 0


def _text_change(row: Any) -> dict[str, Any]:
    changed = None if row.same_as_baseline is None else ("same" if row.same_as_baseline else "changed")
    return {"greedy text": changed}


def _cosine(row: Any) -> dict[str, Any]:
    cosine = None if row.cosine_mean is None else f"{row.cosine_mean:.4f} (min {row.cosine_min:.4f})"
    return {"cosine to fp32": cosine}


def _transcripts(row: Any) -> dict[str, Any]:
    changed = None if row.same_as_baseline is None else ("same" if row.same_as_baseline else "changed")
    return {"WER": None if row.wer is None else f"{row.wer:.3f}", "transcripts": changed}


#: The quality columns of each kind's table.
QUALITY_COLUMNS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "generation": _text_change,
    "embeddings": _cosine,
    "speech": _transcripts,
}


def _row(result: Any, row: Any) -> dict[str, Any]:
    """One table row: the figure, its ratio, and what changed in the output."""
    return {
        "runner": row.label,
        result.unit: row.figure,
        "× baseline": None if row.ratio is None else f"{row.ratio:.2f}×",
        **QUALITY_COLUMNS[result.kind](row),
        "note": row.note if row.status == "ok" else f"{row.status}: {row.note}",
    }
