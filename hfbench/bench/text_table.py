"""Fixed-width text tables of the reports: columns, the table, and how figures are written in cells.

Every report table (``bench.report``, the served table in ``bench.serving.table``, the notebook
display) formats through here, so the text, Markdown and HTML forms agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hfbench.bench.tune_measured import finite_number

#: The widest line a report prints.
REPORT_WIDTH = 100


@dataclass(frozen=True)
class Column:
    """One column of a report table: its header, width (characters) and alignment."""

    header: str
    width: int
    right: bool = False


Table = tuple[tuple[Column, ...], tuple[tuple[str, ...], ...]]


def _fit(text: str, width: int) -> str:
    text = " ".join(str(text).split())  # one line
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(columns: Sequence[Column], rows: Iterable[Sequence[str]], *, markdown: bool = False) -> str:
    """A fixed-width table: space-separated text, or a Markdown (GFM) table with ``|`` borders.

    Cells longer than their column are cut with ``…``; ``|`` in a Markdown cell becomes ``/``.
    """

    def line(cells: Sequence[str]) -> str:
        padded = []
        for column, cell in zip(columns, cells, strict=True):
            text = _fit(cell, column.width)
            if markdown:
                text = text.replace("|", "/")
            padded.append(text.rjust(column.width) if column.right else text.ljust(column.width))
        return ("|" + "|".join(padded) + "|") if markdown else " ".join(padded).rstrip()

    lines = [line([c.header for c in columns])]
    if markdown:
        lines.append(
            "|" + "|".join(("-" * (c.width - 1) + ":") if c.right else "-" * c.width for c in columns) + "|"
        )
    else:
        lines.append(" ".join("-" * c.width for c in columns))
    lines += [line(row) for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- cell formatting
def seconds_text(value: Any) -> str:
    """``850ms``, ``1.23s``, ``12.3s``, ``-`` for none."""
    seconds = finite_number(value)
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.3g}s"


def throughput_text(row: Mapping[str, Any]) -> str:
    """The real-time factor for speech, decode tokens/s for generation, else samples/s."""
    rtf = finite_number(row.get("real_time_factor"))
    if rtf is not None:
        return f"RTF {compact_number(rtf)}"
    decode = finite_number(row.get("decode_tokens_per_s"))
    if decode is not None:
        return f"{compact_number(decode)} tok/s"
    samples = finite_number(row.get("samples_per_s"))
    return f"{compact_number(samples)} smp/s" if samples is not None else "-"


def compact_number(value: float) -> str:
    """A number in few characters: ``0.67``, ``41.2``, ``802`` (metric values, throughputs)."""
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if size >= 10 else f"{value:.2f}"


def quality_text(row: Mapping[str, Any]) -> str:
    """``0.67 [0.57,0.77]``: the value and its 95 % interval."""
    value = finite_number(row.get("quality_value"))
    if value is None:
        return "-"
    low, high = finite_number(row.get("quality_ci_low")), finite_number(row.get("quality_ci_high"))
    interval = (
        f" [{compact_number(low)},{compact_number(high)}]" if low is not None and high is not None else ""
    )
    return f"{compact_number(value)}{interval}"


def columns(spec: str) -> tuple[Column, ...]:
    """Columns from ``"model 14 | latency >7"``: header, then width (``>``: right-aligned)."""
    out = []
    for part in spec.split(" | "):
        header, width = part.rsplit(" ", 1)
        out.append(Column(header, int(width.lstrip(">")), right=width.startswith(">")))
    return tuple(out)
