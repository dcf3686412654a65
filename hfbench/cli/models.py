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
            "hfbench models --min-tokens-per-s 10",
            "hfbench models --tuned results/recommendations/<hardware-id>.json",
            "hfbench models --embedded --capability chat",
            "hfbench models --json",
        ],
    )
    parser.add_argument("--embedded", action="store_true", help="list the embedded offline models")
    parser.add_argument(
        "--for-hardware", metavar="PROFILE", help="a preset name or a TOML/JSON hardware profile"
    )
    parser.add_argument("--capability", help="only this capability (aliases accepted)")
    parser.add_argument(
        "--why",
        action="store_true",
        help="say why a model does not fit; with --capability, every tier and recipe tried",
    )
    parser.add_argument(
        "--min-tokens-per-s",
        type=float,
        metavar="N",
        help="only what decodes at >= N tokens/s here (estimated, or measured when tuned); "
        "default per capability (5 for chat), 0 for no minimum",
    )
    parser.add_argument(
        "--tuned",
        metavar="FILE",
        help="a tuned recommendation file (`hfbench tune`): on the machine it was measured on, its "
        "picks and measured speeds take precedence over the defaults",
    )
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
        chain = ""
    else:
        rows, title, chain = _recommendation_rows(args)
    if args.json:
        print_json(rows)
    else:
        print_table(rows, wide=args.wide, title=title)
        if chain:
            print(chain)
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


def _recommendation_rows(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str, str]:
    """The table's rows, its title, and what follows it: a legend, and (``--why --capability``)
    every candidate, recipe, memory and speed of the ``auto`` lookup."""
    from hfbench.core.errors import RecommendationError
    from hfbench.registry import CapabilityRegistry, recommendations_for

    offline = False
    if args.for_hardware:
        from hfbench.registry import hardware_profile

        info = hardware_profile(args.for_hardware)
    else:
        from hfbench.bench.fingerprint import memory_bandwidth_gbps
        from hfbench.core.hardware import system_info
        from hfbench.core.hub import hub_offline

        info = system_info()
        memory_bandwidth_gbps(info)  # the speed estimate's input: measured once per machine, cached
        offline = hub_offline()
    if args.min_tokens_per_s is not None and args.min_tokens_per_s < 0:
        raise RecommendationError(
            f"--min-tokens-per-s must be >= 0 (tokens per second), got {args.min_tokens_per_s:g}."
        )
    registry = CapabilityRegistry(
        min_tokens_per_s=args.min_tokens_per_s, offline=offline, tuned=args.tuned, system_info=info
    )
    wanted = [args.capability] if args.capability else None
    rows = recommendations_for(info, registry, capabilities=wanted)
    chain = ""
    if args.why and args.capability:
        chain = registry.explain_recommendation(args.capability, "auto", info).chain()
    if not args.json:
        rows = [_display(row, why=args.why) for row in rows]
    elif not args.why:
        rows = [{k: v for k, v in row.items() if k != "why"} for row in rows]
    where = "; offline: cached or embedded only" if offline else ""
    title = (
        f"Recommendations for {info.name} ({info.accelerator}, {info.model_memory_gb:.1f} GiB for "
        f"models{where}):"
    )
    legend = (
        "GiB: the slot's model needs; fits: it fits the memory and decodes at the minimum speed\n"
        "(--why says which failed); use: what to run here ('=': the slot's model), with its\n"
        "recipe and decode tokens/s, est(imated) or meas(ured)."
    )
    for layer in registry.layers:
        if layer.kind == "tuned":
            state = "applied" if layer.applied else "not applied"
            legend += f"\nTuned file {layer.path}: {state} ({layer.reason})."
    return rows, title, legend + ("\n\n" + chain if chain else "")


def _display(row: dict[str, Any], *, why: bool) -> dict[str, Any]:
    """A row for the text table (100 columns): the memory as ``GiB``, ``=`` where the slot's model
    is the one to use, decode speed and its kind in one ``tok/s`` column."""
    out = {k: row[k] for k in ("capability", "tier", "model")}
    out["GiB"] = row.get("needs_gb")
    out["fits"] = row.get("fits")
    out["use"] = "=" if row.get("use") == row.get("model") else row.get("use")
    out["recipe"] = row.get("recipe")
    speed = row.get("tokens_per_s")
    kind = {"estimated": "est", "measured": "meas"}.get(str(row.get("speed")), "")
    out["tok/s"] = f"{speed:.3g} {kind}" if isinstance(speed, (int, float)) else "-"
    if why:
        out["why"] = row.get("why", "")
    return out
