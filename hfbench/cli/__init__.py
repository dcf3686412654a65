"""The ``hfbench`` command: thin front doors over the library (no logic of their own).

Each command lives in its own module with a ``register(subparsers)`` function; ``COMMANDS``
lists them in the order ``hfbench --help`` shows. hfbench's errors print as one clear line and
exit with status 2; ``hfbench run`` exits 1 when cells failed (a count is printed).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from hfbench.core.errors import HFBenchError

#: Command modules, in ``--help`` order.
COMMANDS = ("setup", "run", "report", "tune", "compare_speed", "info", "models", "detect", "config")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="hfbench",
        description="Which Hugging Face model should I run for this job, on this machine — and how "
        "good and how fast will it be?",
        epilog="Start with: hfbench setup && hfbench run --suite quick && hfbench report results/",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log what hfbench does (sources, load phases, detection)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"hfbench.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; hfbench errors print as one clear line and exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.verbose:
        logging.getLogger("hfbench").setLevel(logging.INFO)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except HFBenchError as exc:
        print(f"hfbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hfbench: interrupted (finished cells are kept in the results store)", file=sys.stderr)
        return 130


def command(
    sub: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    description: str,
    examples: Sequence[str],
) -> argparse.ArgumentParser:
    """A subcommand parser with a description and an examples block in its ``--help``."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
