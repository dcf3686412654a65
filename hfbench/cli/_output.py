"""How the CLI prints: tables that fit the terminal (100 columns), human numbers, JSON for scripts.

Every command computes everything it prints before printing anything, so an error never follows
a table header.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

#: The width tables are made to fit, unless ``--wide``.
WIDTH = 100


def human_count(value: Any) -> str:
    """A parameter count for people: ``134515008`` -> ``135 M``; ``2.6e9`` -> ``2.6 B``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "" if value is None else str(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            return f"{scaled:.0f} {suffix}" if scaled >= 100 else f"{scaled:.3g} {suffix}"
    return f"{value:g}"


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters; a path keeps its end (``…/embedded/whisper-base``)."""
    if len(text) <= width:
        return text
    if "/" in text and " " not in text:
        return "…" + text[-(width - 1) :]
    return text[: width - 1] + "…"


def cell_text(value: Any) -> str:
    """A table cell: floats with 3 significant digits, booleans as yes/no, None as -."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], *, width: int | None = WIDTH) -> str:
    """A plain table of ``rows`` (dicts with the same keys), shrinking the widest text columns
    (never the first, which names the row) until it fits ``width`` (None: no limit)."""
    if not rows:
        return "(none)"
    headers = list(rows[0])
    cells = [[cell_text(row.get(h)) for h in headers] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    if width is not None:
        while sum(widths) + len(widths) - 1 > width:
            rest = widths[1:]
            if not rest or max(rest) <= 8:
                break
            widest = 1 + rest.index(max(rest))
            widths[widest] -= 1
    lines = [" ".join(shorten(h, w).ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append(" ".join("-" * w for w in widths))
    for row in cells:
        lines.append(" ".join(shorten(c, w).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def print_table(rows: Sequence[Mapping[str, Any]], *, wide: bool = False, title: str = "") -> None:
    """Print a title line (if any) and the table."""
    text = table(rows, width=None if wide else WIDTH)
    print((title + "\n" if title else "") + text)


def print_json(data: Any) -> None:
    """Print JSON (NaN as null), for scripts."""
    from hfbench.bench.store import json_safe

    json.dump(json_safe(data), sys.stdout, indent=2, default=str)
    print()
