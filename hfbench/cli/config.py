"""``hfbench config``: the keys a config may hold, and merged configs."""

from __future__ import annotations

import argparse

from hfbench.cli import command
from hfbench.cli._output import print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``config`` command and its ``keys`` / ``show`` subcommands."""
    parser = command(
        sub,
        "config",
        help="config keys and merged configs",
        description="The tree config: every key a level may hold (load keys decide how a model is "
        "loaded, run keys change one call), and the merged config of a capability.",
        examples=[
            "hfbench config keys",
            "hfbench config keys --json",
            "hfbench config show summarization --file hfbench.toml",
        ],
    )
    config_sub = parser.add_subparsers(dest="config_command", required=True, metavar="SUBCOMMAND")
    keys = config_sub.add_parser("keys", help="every key a config level may hold")
    keys.add_argument("--json", action="store_true", help="print JSON")
    keys.add_argument("--wide", action="store_true", help="do not cut long descriptions")
    keys.set_defaults(func=run_keys)
    show = config_sub.add_parser("show", help="the merged config for a capability")
    show.add_argument("capability")
    show.add_argument("--file", help="a hfbench.toml / .json config file")
    show.set_defaults(func=run_show)


def run_keys(args: argparse.Namespace) -> int:
    """Print every registered key."""
    from hfbench.core.config_schema import config_keys

    rows = [
        {
            "key": name,
            "scope": key.scope,
            "type": "/".join(t.__name__ for t in key.types),
            "description": key.description
            + (f" One of {', '.join(map(str, key.choices))}." if key.choices else ""),
        }
        for name, key in sorted(config_keys().items())
    ]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, wide=args.wide)
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the merged config of a capability (JSON)."""
    from hfbench.core.config import ModelConfig

    config = ModelConfig.from_file(args.file) if args.file else ModelConfig()
    print_json(dict(sorted(config.get_merged_config(args.capability).items())))
    return 0
