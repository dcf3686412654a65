"""A cell process: ``python -m hfbench.bench.executors.child --runner M:F --result FILE``.

Reads the cell (JSON) from stdin, runs it, writes the record (JSON) to ``FILE`` and exits 0.
Phases are printed to stdout as ``hfbench-phase <name>`` lines for the driver's progress bar.
Anything else the libraries print is the driver's to ignore.
"""

from __future__ import annotations

import argparse
import json
import sys

PHASE_PREFIX = "hfbench-phase "


def main(argv: list[str] | None = None) -> int:
    """Run one cell; the record goes to ``--result``."""
    parser = argparse.ArgumentParser(prog="python -m hfbench.bench.executors.child")
    parser.add_argument("--runner", required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args(argv)
    from hfbench.bench.executors.base import load_runner
    from hfbench.bench.store import json_safe
    from hfbench.bench.suites import Cell

    cell = Cell.from_dict(json.loads(sys.stdin.read()))
    run_cell = load_runner(args.runner)

    def say(phase: str) -> None:
        print(PHASE_PREFIX + phase, flush=True)

    record = run_cell(cell, say)
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(json_safe(record), handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
