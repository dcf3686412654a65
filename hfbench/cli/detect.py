"""``hfbench detect``: a model's architecture and what its checkpoint can serve (no weights loaded)."""

from __future__ import annotations

import argparse

from hfbench.cli import command
from hfbench.cli._output import print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``detect`` command."""
    parser = command(
        sub,
        "detect",
        help="architecture and capabilities of a model",
        description="Detect a model's architecture from its config and list the capabilities its "
        "checkpoint's head can serve, with confidences (priors, or measured ones). Reads the config "
        "only: no weights are loaded, nothing is converted or downloaded.",
        examples=[
            "hfbench detect embedded:all-minilm-l6-v2",
            "hfbench detect ./my-model-folder",
            "hfbench detect google/flan-t5-small --json",
        ],
    )
    parser.add_argument("model", help="Hub id, local folder or embedded:<name>")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the architecture and the checkpoint's capabilities."""
    from hfbench.pipelines.checkpoint import CATALOGUE_EVIDENCE, checkpoint_capabilities

    caps = checkpoint_capabilities(args.model)
    rows = [
        {
            "capability": cap.name,
            "confidence": round(cap.confidence, 2),
            "source": cap.source,
            "head": cap.evidence.get("head", "-"),
        }
        for cap in sorted(caps, key=lambda c: -c.confidence)
    ]
    if args.json:
        print_json({"model": args.model, "architecture": caps.architecture.value, "capabilities": rows})
        return 0
    print_table(rows, title=f"{args.model}: {caps.architecture.value}")
    if any(CATALOGUE_EVIDENCE in cap.evidence for cap in caps):
        name = args.model.split(":", 1)[-1]
        print(f"(not prepared: from its catalogue entry; `hfbench setup {name}` to read its checkpoint)")
    return 0
