"""Rich display in notebooks: HTML for hfbench's objects, PNG for the plots' figures.

IPython shows an object as HTML when a formatter is registered for its type. hfbench registers
its formatters *by name* (``for_type_by_name(module, class, function)``), so installing them
imports none of the classes — nor torch, transformers, pandas or matplotlib: ``import hfbench``
calls ``install_formatters()`` when IPython is running and stays light. Nothing is imported
until an object is shown.

Shown as HTML (``HTML_FORMATTERS``): ``SystemInfo`` (``hb.system_info()``, what-if profiles),
``ModelRecommendation``, ``RecommendationExplanation``, ``ModelCapabilities``, ``RunSummary``,
``Report`` and ``TuneResult``. ``load_results`` DataFrames are pandas' own HTML. A matplotlib
``Figure`` is shown as PNG (``PNG_FORMATTERS``): ``hfbench.plots`` builds figures without
``pyplot``, so the inline backend's formatter, which ``pyplot`` installs, may be missing.

Every function here is also usable on its own (``recommendation_html(rec)`` returns a string).

Example:
    >>> import hfbench as hb                    # in a notebook: formatters installed
    >>> hb.system_info()                        # doctest: +SKIP
    >>> %load_ext hfbench.display               # doctest: +SKIP  (the same, explicitly)
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfbench.bench.report import Report
    from hfbench.bench.runner import RunSummary
    from hfbench.bench.text_table import Column
    from hfbench.bench.tune import TuneResult
    from hfbench.core.capability import ModelCapabilities
    from hfbench.core.hardware import SystemInfo
    from hfbench.registry.explanation import CandidateCheck, RecommendationExplanation
    from hfbench.registry.recommendation import ModelRecommendation

__all__ = [
    "BADGE_COLOURS",
    "HTML_FORMATTERS",
    "PNG_FORMATTERS",
    "badge",
    "candidate_memory_gb",
    "candidate_why",
    "candidates_table",
    "capabilities_html",
    "chosen_summary",
    "explanation_html",
    "figure_png",
    "html_table",
    "install_formatters",
    "load_ipython_extension",
    "measured_text",
    "recommendation_html",
    "report_html",
    "run_summary_html",
    "system_info_html",
    "tune_result_html",
    "tuned_figures_row",
]

#: Badge kind -> (background, text) colours; readable on light and dark themes.
BADGE_COLOURS: dict[str, tuple[str, str]] = {
    "ok": ("#1a7f37", "#ffffff"),
    "warn": ("#9a6700", "#ffffff"),
    "bad": ("#cf222e", "#ffffff"),
    "info": ("#57606a", "#ffffff"),
}

_TABLE_STYLE = "border-collapse:collapse;font-size:0.9em;line-height:1.35;margin:0.3em 0"
_CELL_STYLE = (
    "text-align:left;vertical-align:top;padding:3px 8px;border-bottom:1px solid rgba(128,128,128,0.35)"
)


# --------------------------------------------------------------------------- building blocks
def _e(value: Any) -> str:
    """Text content escaped for HTML (quotes stay readable; attributes use ``_attr``)."""
    return html.escape(str(value), quote=False)


def _attr(value: Any) -> str:
    return html.escape(str(value), quote=True)


def badge(text: str, kind: str = "info") -> str:
    """A small coloured label (``kind``: ``ok``, ``warn``, ``bad`` or ``info``)."""
    background, colour = BADGE_COLOURS.get(kind, BADGE_COLOURS["info"])
    return (
        f'<span class="hfbench-badge hfbench-badge-{_attr(kind)}" style="background:{background};'
        f'color:{colour};border-radius:4px;padding:1px 7px;font-size:0.85em;white-space:nowrap">'
        f"{_e(text)}</span>"
    )


def html_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, css_class: str = "", raw: bool = False
) -> str:
    """An HTML table; cells are escaped unless ``raw`` (cells that are already HTML)."""
    cell = (lambda v: str(v)) if raw else _e
    head = "".join(f'<th style="{_CELL_STYLE}">{_e(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL_STYLE}">{cell(v)}</td>' for v in row) + "</tr>" for row in rows
    )
    classes = f' class="{_attr(css_class)}"' if css_class else ""
    return (
        f'<table{classes} style="{_TABLE_STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _facts(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column key/value table, skipping empty values."""
    rows = [(f"<b>{_e(k)}</b>", _e(v)) for k, v in pairs if v not in (None, "", (), [])]
    body = "".join(
        f'<tr><td style="{_CELL_STYLE}">{k}</td><td style="{_CELL_STYLE}">{v}</td></tr>' for k, v in rows
    )
    return f'<table style="{_TABLE_STYLE}"><tbody>{body}</tbody></table>'


def _box(kind: str, title: str, *parts: str) -> str:
    body = "".join(parts)
    return f'<div class="hfbench hfbench-{kind}"><div style="font-weight:600">{title}</div>{body}</div>'


def measured_text(row: Mapping[str, Any]) -> str:
    """One line of what a cell measured, from a ``load_results`` row (or the same keys):
    ``latency 1.41s · TTFT 156ms · 24.8 tok/s · 595 MiB · EM 45.0 [25.0,70.0] (n=20) · conf 0.45``."""
    from hfbench.bench.report import METRIC_ABBREVIATIONS
    from hfbench.bench.text_table import quality_text, seconds_text, throughput_text
    from hfbench.bench.tune_measured import finite_number

    parts = []
    if finite_number(row.get("latency_median_s")) is not None:
        parts.append(f"latency {seconds_text(row.get('latency_median_s'))}")
    if finite_number(row.get("ttft_median_s")) is not None:
        parts.append(f"TTFT {seconds_text(row.get('ttft_median_s'))}")
    if throughput_text(row) != "-":
        parts.append(throughput_text(row))
    memory = finite_number(row.get("model_mb"))
    if memory is not None:
        parts.append(f"{memory:.0f} MiB")
    if quality_text(row) != "-":
        metric = str(row.get("quality_metric") or "quality")
        n = finite_number(row.get("quality_n"))
        items = f" (n={n:.0f})" if n is not None else ""
        parts.append(f"{METRIC_ABBREVIATIONS.get(metric, metric)} {quality_text(row)}{items}")
    confidence = finite_number(row.get("confidence"))
    if confidence is not None:
        parts.append(f"conf {confidence:.2f}")
    return " · ".join(parts) or "no figures"


# --------------------------------------------------------------------------- the objects
def system_info_html(info: SystemInfo) -> str:
    """A machine (``hb.system_info()`` or a what-if ``hardware_profile``) as a table."""
    gpus = [
        f"cuda:{d.index} {d.name}: {d.free_memory_gb:.1f} GiB free of {d.total_memory_gb:.1f} GiB"
        + (f" (sm {d.compute_capability})" if d.compute_capability else "")
        for d in info.cuda_devices
    ]
    what_if = bool(info.extra.get("profile"))
    title = f"{_e(info.name)} — {_e(info.accelerator)}, {info.model_memory_gb:.1f} GiB for models " + badge(
        "what-if profile" if what_if else "this machine", "info"
    )
    return _box(
        "system",
        title,
        _facts(
            [
                ("description", info.extra.get("description")),
                ("platform", f"{info.platform} ({info.machine}), Python {info.python_version}"),
                ("cpu", f"{info.cpu_model} — {info.cpu_cores} cores / {info.cpu_threads} threads"),
                ("ram", f"{info.ram_available_gb:.1f} GiB free of {info.ram_total_gb:.1f} GiB"),
                ("gpus", "; ".join(gpus) or "none"),
                ("mps", "yes" if info.mps_available else "no"),
                ("bf16", "yes" if info.supports_bf16 else "no"),
                ("flash-attn 2", "yes" if info.supports_flash_attention else "no"),
                ("torch", info.torch_version or ("-" if what_if else "not installed")),
                ("transformers", info.transformers_version or ("-" if what_if else "not installed")),
                ("hardware id", info.hardware_id()),
                ("fingerprint", info.fingerprint()),
            ]
        ),
    )


def tuned_figures_row(figures: Mapping[str, Any]) -> dict[str, Any]:
    """A tuned recommendation's ``measured`` entry (confidence, evidence, speed and memory
    figures) in ``load_results`` column names, for ``measured_text``."""
    evidence = figures.get("evidence", {})
    return {
        **figures,
        "quality_metric": evidence.get("metric"),
        "quality_value": evidence.get("value"),
        "quality_ci_low": evidence.get("ci_low"),
        "quality_ci_high": evidence.get("ci_high"),
        "quality_n": evidence.get("n"),
    }


def recommendation_html(rec: ModelRecommendation) -> str:
    """A recommended model: size, tier, architecture, capabilities, license, notes; a tuned
    recommendation's measured figures and recipe."""
    from hfbench.registry.tiers import tier_for_params

    tier = tier_for_params(rec.params_b) or "above every tier"
    title = f"{_e(rec.model_name)} " + badge(f"{rec.params_b:g}B · tier {tier}", "info")
    if rec.gated:
        title += " " + badge("gated", "warn")
    if rec.measured:
        title += " " + badge("measured", "ok")
    parts = [
        _facts(
            [
                ("architecture", rec.architecture.value if rec.architecture else None),
                ("capabilities", ", ".join(rec.capabilities)),
                ("license", rec.license),
                ("context", f"{rec.context_length} tokens" if rec.context_length else None),
                ("dtype", rec.default_dtype),
                ("requirements", ", ".join(f"{k}={v}" for k, v in rec.requirements.items())),
                ("tags", ", ".join(rec.tags)),
                ("notes", rec.notes),
            ]
        )
    ]
    measured = [(c, measured_text(tuned_figures_row(f))) for c, f in (rec.measured or {}).items()]
    if measured:
        parts.append(html_table(["measured", "figures"], measured))
    if rec.recipe:
        keys = ("dtype", "device", "batch_size", "threads", "attn_implementation", "quantization")
        recipe = ", ".join(f"{k}={rec.recipe[k]}" for k in keys if rec.recipe.get(k) is not None)
        parts.append(_facts([("recipe", recipe)]))
    return _box("recommendation", title, *parts)


def candidate_why(check: CandidateCheck) -> str:
    """Why a candidate was taken or not, as the registry says it (``CandidateCheck.describe`` after
    its ``[slot]: ``): the reasons it was turned down, or the recipe, memory and speed it fits with."""
    text = check.describe()
    marker = f"[{check.slot}]: "
    return text.split(marker, 1)[1] if marker in text else ""


def candidate_memory_gb(check: CandidateCheck) -> float | None:
    """The memory a candidate needs, GiB: its chosen recipe's when it has one, else the estimate
    at the hardware's dtype (None when no hardware was given)."""
    recipe = getattr(check, "chosen_recipe", None)  # registries with recipes (quantized fits)
    memory = recipe.memory if recipe is not None and recipe.memory is not None else check.memory
    return memory.total_gb if memory is not None else None


def candidates_table(
    candidates: Sequence[CandidateCheck],
    *,
    extra: tuple[str, Callable[[CandidateCheck], str]] | None = None,
) -> str:
    """The candidates a lookup tried: verdict, tier, model, where it came from, memory, why.

    Args:
        candidates: ``RecommendationExplanation.candidates``.
        extra: one more column: its header and a function of the candidate (plain text).
    """
    headers = ["", "tier", "model", "from slot", "params", "needs", "why"]
    if extra is not None:
        headers.append(extra[0])
    rows = []
    for check in candidates:
        needs = candidate_memory_gb(check)
        row = [
            badge("chosen", "ok") if check.accepted else badge("rejected", "bad"),
            _e(check.tier),
            _e(check.recommendation.model_name),
            _e(check.slot),
            f"{check.recommendation.params_b:g}B",
            f"{needs:.1f}&nbsp;GiB" if needs is not None else "-",
            _e(candidate_why(check)),
        ]
        if extra is not None:
            row.append(_e(extra[1](check)))
        rows.append(row)
    return html_table(headers, rows, css_class="hfbench-candidates", raw=True)


def chosen_summary(explanation: RecommendationExplanation) -> str:
    """How the chosen model runs, as the registry's answer line says it after the model's name:
    ``(tier large), recipe nf4 (int4 via bitsandbytes, transformers), context 4096, 8.6 tok/s
    estimated`` (empty when nothing was chosen)."""
    if explanation.chosen is None:
        return ""
    line = explanation.describe().splitlines()[-1].strip().removeprefix("-> ")
    return line.removeprefix(explanation.chosen.model_name).strip()


def explanation_html(explanation: RecommendationExplanation) -> str:
    """A lookup's account: the question, every candidate with its verdict and reasons, the answer."""
    where = f" on {_e(explanation.hardware)}" if explanation.hardware else " (no hardware: fit not checked)"
    title = f"{_e(explanation.capability)} at tier {_e(explanation.size_tier)}{where}"
    notes = "".join(f"<div><i>{_e(n)}</i></div>" for n in explanation.notes)
    if explanation.chosen is None:
        answer = badge("nothing suitable", "bad") + f"<pre>{_e(explanation.advice())}</pre>"
    else:
        kind = "warn" if explanation.fell_back else "ok"
        name = explanation.chosen.model_name
        verdict = badge("fell back" if explanation.fell_back else "chosen", kind)
        answer = f"{verdict} <b>{_e(name)}</b> {_e(chosen_summary(explanation))}"
    return _box("explanation", title, notes, candidates_table(explanation.candidates), f"<div>{answer}</div>")


def capabilities_html(capabilities: ModelCapabilities) -> str:
    """An architecture's (or a checkpoint's) capabilities: confidence, where it came from, evidence."""
    rows = []
    for cap in sorted(capabilities, key=lambda c: -c.confidence):
        bar = (
            f'<span style="display:inline-block;width:{cap.confidence * 80:.0f}px;height:0.7em;'
            f'background:#0072B2;margin-right:6px"></span>{cap.confidence:.2f}'
        )
        evidence = cap.evidence
        if evidence:
            value = evidence.get("value")
            shown = f"{value:.3g}" if isinstance(value, (int, float)) else "-"
            detail = f"{evidence.get('metric', '')} {shown}" + (
                f" (n={evidence['n']})" if evidence.get("n") else ""
            )
        else:
            detail = ""
        source = badge(cap.source, "ok" if cap.source == "measured" else "info")
        rows.append([_e(cap.name), bar, source, "yes" if cap.requires_finetuning else "", _e(detail)])
    title = (
        f"{_e(capabilities.architecture.value)}: {len(capabilities)} capabilities "
        f"(primary {_e(capabilities.primary)})"
    )
    table = html_table(["capability", "confidence", "source", "needs a head", "evidence"], rows, raw=True)
    return _box("capabilities", title, table)


def run_summary_html(summary: RunSummary) -> str:
    """What a benchmark run did: the summary line and one row per record it wrote."""
    rows = []
    for record in summary.records:
        status = str(record.get("status"))
        error = record.get("error") or {}
        wall = record.get("wall_s")
        rows.append(
            [
                _e(str(record.get("model", "")).rsplit("/", 1)[-1]),
                _e(record.get("capability", "")),
                badge(status, "ok" if status == "ok" else "warn" if status in ("oom", "too_slow") else "bad"),
                f"{wall:.1f}" if isinstance(wall, (int, float)) else "-",
                _e(error.get("message", "") if isinstance(error, Mapping) else error),
            ]
        )
    table = html_table(["model", "capability", "status", "wall s", "reason"], rows, raw=True) if rows else ""
    return _box("run-summary", _e(summary.describe()), table)


def _report_table(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> str:
    return html_table([c.header for c in columns], rows)


def report_html(report: Report) -> str:
    """The report's tables (cells, settings compared, served endpoints, memory estimated vs
    measured, failures) as HTML; the sweep and served tables only when the report has them."""
    # The same cells as the plain-text report, so the two never disagree.
    from hfbench.bench.report import (
        CELL_COLUMNS,
        FAILURE_COLUMNS,
        MEMORY_COLUMNS,
        SWEEP_COLUMNS,
        _cell_row,
        _failure_row,
        _memory_row,
        _sweep_row,
    )
    from hfbench.bench.serving.table import SERVED_SPEC, served_line
    from hfbench.bench.text_table import columns

    parts = ["<h4>Cells</h4>", _report_table(CELL_COLUMNS, [_cell_row(r) for r in report.cells])]
    if report.sweeps:
        parts.append("<h4>Settings compared</h4>")
        parts.append(_report_table(SWEEP_COLUMNS, [_sweep_row(r) for r in report.sweeps]))
    if report.served:
        parts.append("<h4>Served endpoints</h4>")
        parts.append(_report_table(columns(SERVED_SPEC), [served_line(r) for r in report.served]))
    parts.append("<h4>Memory: estimated vs measured (MiB)</h4>")
    if report.memory:
        parts.append(_report_table(MEMORY_COLUMNS, [_memory_row(r) for r in report.memory]))
    else:
        parts.append("<div>No cell measured memory with an estimate beside it.</div>")
    parts.append("<h4>Failures and limits</h4>")
    if report.failures:
        parts.append(_report_table(FAILURE_COLUMNS, [_failure_row(r) for r in report.failures]))
    else:
        parts.append("<div>None: every cell measured.</div>")
    return _box("report", f"hfbench report: {_e(report.headline())}", *parts)


def tune_result_html(result: TuneResult) -> str:
    """What ``tune`` chose per (capability, tier) slot, and why; the file it wrote."""
    rows = [
        [
            _e(choice.capability),
            _e(choice.tier),
            f"<b>{_e(choice.chosen.label)}</b>" if choice.chosen else badge("none: defaults stay", "warn"),
            _e(choice.why),
        ]
        for choice in result.choices
    ]
    parts = [html_table(["capability", "tier", "chosen", "why"], rows, raw=True)]
    parts += [f"<div>left out: {_e(text)}</div>" for text in result.unplaced]
    title = f"Tuned recommendations for hardware {_e(result.hardware_id)}: <code>{_e(result.path)}</code>"
    return _box("tune-result", title, *parts)


def figure_png(figure: Figure) -> bytes:
    """A matplotlib figure as PNG bytes (what a notebook shows for ``hb.plots.pareto(...)``)."""
    from io import BytesIO

    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


# --------------------------------------------------------------------------- installing
#: (module, class, function) for IPython's ``text/html`` formatter, registered by name.
HTML_FORMATTERS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("hfbench.core.hardware", "SystemInfo", system_info_html),
    ("hfbench.registry.recommendation", "ModelRecommendation", recommendation_html),
    ("hfbench.registry.explanation", "RecommendationExplanation", explanation_html),
    ("hfbench.core.capability", "ModelCapabilities", capabilities_html),
    ("hfbench.bench.runner", "RunSummary", run_summary_html),
    ("hfbench.bench.report", "Report", report_html),
    ("hfbench.bench.tune", "TuneResult", tune_result_html),
)

#: (module, class, function) for IPython's ``image/png`` formatter.
PNG_FORMATTERS: tuple[tuple[str, str, Callable[[Any], bytes]], ...] = (
    ("matplotlib.figure", "Figure", figure_png),
)


def install_formatters(shell: Any = None) -> bool:
    """Register hfbench's HTML (and figure PNG) formatters with IPython.

    Args:
        shell: the IPython shell (default: the running one, ``get_ipython()``).

    Returns:
        True when installed; False outside IPython.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    for module, name, to_html in HTML_FORMATTERS:
        formatters["text/html"].for_type_by_name(module, name, to_html)
    for module, name, to_png in PNG_FORMATTERS:
        formatters["image/png"].for_type_by_name(module, name, to_png)
    return True


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext hfbench.display``: install the formatters in this shell."""
    install_formatters(shell)
