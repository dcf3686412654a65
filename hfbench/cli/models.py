"""``hfbench models``: what the registry recommends here (or on a what-if machine), or the embedded models."""

from __future__ import annotations

import argparse
from typing import Any

from hfbench.cli import command
from hfbench.cli._output import human_count, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``models`` command."""
    parser = command(
        sub,
        "models",
        help="recommended models, or the embedded ones",
        description="The recommended model per capability and size tier, whether it fits this "
        "machine (or a what-if hardware profile) and what to use instead; or, with --embedded, "
        "the real models hfbench installs from PyPI packages.",
        examples=[
            "hfbench models",
            "hfbench models --capability summarization --why",
            "hfbench models --for-hardware consumer-gpu-24gb",
            "hfbench models --embedded --capability chat",
            "hfbench models --json",
        ],
    )
    parser.add_argument("--embedded", action="store_true", help="list the embedded offline models")
    parser.add_argument(
        "--for-hardware", metavar="PROFILE", help="a preset name or a TOML/JSON hardware profile"
    )
    parser.add_argument("--capability", help="only this capability (aliases accepted)")
    parser.add_argument("--why", action="store_true", help="say why a model does not fit")
    parser.add_argument(
        "--wide", action="store_true", help="all columns (hub ids, formats, folders), nothing cut"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the table (everything is computed before anything is printed)."""
    if args.embedded:
        rows, title = (
            _embedded_rows(args),
            "Embedded models (embedded:<name>; `hfbench setup` prepares them):",
        )
    else:
        rows, title = _recommendation_rows(args)
    if args.json:
        print_json(rows)
    else:
        print_table(rows, wide=args.wide, title=title)
    return 0


def _embedded_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    from hfbench.core.capability import canonical_capability
    from hfbench.sources import embedded_models

    wanted = canonical_capability(args.capability) if args.capability else None
    rows = []
    for row in embedded_models().to_dict(orient="records"):
        capabilities = [c.strip() for c in str(row["capabilities"]).split(",")]
        if wanted and wanted not in capabilities:
            continue
        out = {
            "name": row["name"],
            "architecture": row["architecture"],
            "capabilities": ", ".join(capabilities),
            "params": row["params"] if args.json else human_count(row["params"]),
            "license": row["license"],
            "ready": bool(row["local_folder"]),
        }
        if args.wide or args.json:
            out.update(
                hub_id=row["hub_id"],
                format=row["format_on_disk"],
                package=row["source_package"],
                folder=row["local_folder"],
            )
        rows.append(out)
    return rows


def _recommendation_rows(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    from hfbench.registry import recommendations_for

    if args.for_hardware:
        from hfbench.registry import hardware_profile

        info = hardware_profile(args.for_hardware)
    else:
        from hfbench.core.hardware import system_info

        info = system_info()
    rows = recommendations_for(info, capabilities=[args.capability] if args.capability else None)
    if not args.why:
        rows = [{k: v for k, v in row.items() if k != "why"} for row in rows]
    title = (
        f"Recommendations for {info.name} ({info.accelerator}, {info.model_memory_gb:.1f} GiB for models):"
    )
    return rows, title
