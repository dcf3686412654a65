"""``hfbench info``: this machine, and the largest size tier whose models fit."""

from __future__ import annotations

import argparse

from hfbench.cli import command
from hfbench.cli._output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``info`` command."""
    parser = command(
        sub,
        "info",
        help="hardware, software and the size tier that fits",
        description="Print this machine: CPU, RAM, CUDA/MPS, bf16, flash-attention, versions, "
        "the hardware id that names tuned recommendation files, and the largest size tier whose "
        "models fit in memory.",
        examples=["hfbench info", "hfbench info --json"],
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the machine's facts."""
    from hfbench.core.hardware import system_info
    from hfbench.registry.tiers import fitting_size_tier

    info = system_info()
    fit = fitting_size_tier(info)
    if args.json:
        print_json(
            {
                **info.to_dict(),
                "hardware_id": info.hardware_id(),
                "fingerprint": info.fingerprint(),
                "size_tier": fit.tier,
                "max_params_b": fit.max_params_b,
            }
        )
        return 0
    print(info.summary())
    print(f"size tier     {fit.describe()}")
    return 0
