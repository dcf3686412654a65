"""``tune``: from measured records to a recommendation file for this machine.

Per capability and size tier, ``tune`` picks the best-quality measured model that fits this
machine and meets the optional budgets, and writes the registry's recommendation-file format
with the measured figures, the exact runtime recipe and the reasons inside. The rules, exactly:

1. **Records**: the latest record of each cell made on this machine's ``hardware_id``. A model's
   tier comes from its parameters (``tune_params``: the registry's catalogue, else the measured
   weight bytes at the loaded dtype, else counted from its config); a model above every tier is
   left out, and the file says so.
2. **Candidates** of a (capability, tier) slot: its cells. A cell is *eligible* when its status is
   ``ok``, it measured quality and latency, its measured memory (``model_mb``) is within the
   memory for models (``max_memory_mb``; default the machine's total GPU memory, else total RAM:
   the file describes the hardware, not this minute's free memory), its latency median is within
   ``max_latency_ms`` and, for cells that generate, its decode tokens/s is at least
   ``min_tokens_per_s``. ``oom`` ("does not fit"), ``too_slow``, ``failed`` and ``timeout`` cells
   are never eligible: they are listed with their reason.
3. **Quality**: every two eligible cells are compared with a paired bootstrap over the items both
   scored (``quality.compare_results``); a difference whose 95 % interval contains 0 is a tie.
   Two cells that cannot be paired (different eval sets or metrics, no common items) are
   compared by measured confidence: the higher is better, equal is a tie.
4. **Lossy cells**: a cell whose recipe says ``optimize.lossy`` (``optimize=fast``: int8 weights)
   is eligible only beside its *lossless cell* — the same model, capability and settings but
   ``optimize``, with quality measured, in the slot's records (eligible or not: it may be too
   slow or too big) — and only when the rule-3 comparison does not find it significantly worse
   than that cell (a tie or better passes; with several lossless cells, against each). Records
   without ``optimize`` are lossless.
5. **Choice**: the *front* is the eligible cells that no other eligible cell is significantly
   better than; the choice is the fastest of the front — the lowest latency median per input
   (``latency_median_s`` / inputs per speed call), then model name, then cell id. So a choice is
   never significantly worse than any eligible cell, and ties go to the faster model.
6. A slot with no eligible cell gets no recommendation (the package defaults stay beneath), and
   the file's ``tuning`` section says why.

``tune_all`` applies these rules to each machine (``hardware_id``) seen in the records, one file
each (``<results>/recommendations/<hardware_id>.json``): what ``hfbench tune`` does with results
from several machines, such as a Ray cluster's.

Example:
    >>> result = tune("results/", max_latency_ms=500)                  # doctest: +SKIP
    >>> print(result)                                                   # doctest: +SKIP
    >>> registry = hfbench.CapabilityRegistry(tuned=result.path)        # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

from hfbench.bench.results import record_row
from hfbench.bench.serving.cell import SERVED_KIND, record_kind
from hfbench.bench.store import ResultStore, json_safe
from hfbench.bench.tune_measured import finite_number, measured_figures, recommendation_recipe
from hfbench.bench.tune_params import ModelSize, record_size
from hfbench.bench.tune_served import ServedChoice, choose_served, served_section
from hfbench.core.capability import canonical_capability
from hfbench.core.errors import BenchmarkError, ResultsError
from hfbench.core.hardware import SystemInfo
from hfbench.registry.recommendation import ModelRecommendation
from hfbench.registry.tiers import SIZE_TIERS

logger = logging.getLogger(__name__)

#: Where ``tune`` writes, under the results folder: ``recommendations/<hardware_id>.json``.
RECOMMENDATIONS_FOLDER = "recommendations"

#: The rules, as written into every tuned file's ``tuning.rules``.
TUNING_RULES = (
    "records: the latest record of each cell made on this hardware_id",
    "tier: from the model's parameters (catalogue, else measured weights at the loaded dtype, "
    "else counted from its config)",
    "eligible: status ok, quality and latency measured, model_mb within the memory for models, "
    "latency median within max_latency_ms, decode tokens/s at least min_tokens_per_s (cells that "
    "generate); oom, too_slow, failed and timeout cells are listed, never chosen",
    "quality: paired bootstrap over the common items (95% interval of the difference; containing "
    "0 is a tie); unpairable cells compare by measured confidence",
    "lossy (recipe optimize.lossy): eligible only when the same model's lossless cell (same settings "
    "but optimize, quality measured, eligible or not) is in the slot and not significantly better",
    "choice: among eligible cells that no other is significantly better than, the lowest latency "
    "median per input (then model name, then cell id)",
    "a slot with no eligible cell keeps no entry: the defaults stay beneath",
)

#: Settings that name a cell in messages (besides config keys): they change what is measured.
_LABEL_SETTINGS = ("speed_batch", "speed_tokens", "threads")


# --------------------------------------------------------------------------- budgets
@dataclass(frozen=True)
class TuneBudgets:
    """What a chosen cell must meet (None: no limit).

    Attributes:
        max_memory_mb: memory for models, MiB (the measured ``model_mb`` must be within it).
        max_latency_ms: latency median of one speed call, milliseconds.
        min_tokens_per_s: decode tokens per second, for cells that generate.
    """

    max_memory_mb: float | None = None
    max_latency_ms: float | None = None
    min_tokens_per_s: float | None = None

    def to_dict(self) -> dict[str, float]:
        """The budgets that are set."""
        return {k: v for k, v in vars(self).items() if v is not None}


# --------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class Candidate:
    """One measured cell competing for a (capability, tier) slot.

    Attributes:
        record: the harness record.
        size: the model's parameters and tier (None: unknown).
        excluded: why the cell cannot be chosen (None: eligible).
        checks: the budget checks, passed or not, one line each.
        lossless: a lossy cell that stayed eligible: its comparisons with its lossless cells (rule 4).
    """

    record: Mapping[str, Any]
    size: ModelSize | None
    excluded: str | None
    checks: tuple[str, ...] = ()
    lossless: tuple[Comparison, ...] = ()

    @property
    def eligible(self) -> bool:
        """Whether the cell may be chosen."""
        return self.excluded is None

    @property
    def model(self) -> str:
        """The model's name as recorded."""
        return str(self.record["model"])

    @property
    def cell_id(self) -> str:
        """The cell's id."""
        return str(self.record["cell_id"])

    @cached_property
    def row(self) -> dict[str, Any]:
        """The record's tidy row (``results.record_row``)."""
        return record_row(self.record)

    @property
    def label(self) -> str:
        """``embedded:gemma-3-270m [dtype=bfloat16]``: the model and the settings that name the cell."""
        from hfbench.core.config_schema import config_keys

        keys = config_keys()
        settings = self.record.get("settings") or {}
        named = {k: v for k, v in settings.items() if k in keys or k in _LABEL_SETTINGS}
        extra = ", ".join(f"{k}={v}" for k, v in sorted(named.items()))
        return f"{self.model} [{extra}]" if extra else self.model

    @property
    def seconds_per_input(self) -> float:
        """Latency median of a speed call divided by its inputs (the speed ties are broken on)."""
        latency = finite_number(self.row.get("latency_median_s"))
        inputs = finite_number(self.row.get("batch_size")) or 1.0
        return latency / inputs if latency is not None else math.inf

    def speed_key(self) -> tuple[float, str, str]:
        """Faster first: seconds per input, then model name, then cell id."""
        return (self.seconds_per_input, self.model, self.cell_id)

    @cached_property
    def quality(self) -> Any:
        """The record's ``QualityResult`` (None when it has none, or cannot be read)."""
        from hfbench.bench.quality import QualityResult

        data = self.record.get("quality")
        if not isinstance(data, Mapping):
            return None
        try:
            return QualityResult.from_dict(data)
        except (TypeError, KeyError, ValueError) as exc:
            logger.info("Cannot read the quality of %s: %s", self.label, exc)
            return None

    @property
    def confidence(self) -> float:
        """The measured confidence (0 when missing)."""
        return finite_number(self.record.get("measured_confidence")) or 0.0

    def quality_summary(self) -> str:
        """``rouge-l 0.21 [0.15, 0.27], n=8``."""
        row = self.row
        value = finite_number(row.get("quality_value"))
        if value is None:
            return "no quality"
        low, high = finite_number(row.get("quality_ci_low")), finite_number(row.get("quality_ci_high"))
        interval = f" [{low:.3g}, {high:.3g}]" if low is not None and high is not None else ""
        return f"{row.get('quality_metric')} {value:.3g}{interval}, n={row.get('quality_n')}"

    def to_dict(self) -> dict[str, Any]:
        """The candidate as the file's ``tuning`` section lists it."""
        latency = finite_number(self.row.get("latency_median_s"))
        out: dict[str, Any] = {
            "label": self.label,
            "model": self.model,
            "cell_id": self.cell_id,
            "status": self.record.get("status"),
            "eligible": self.eligible,
            "quality": self.quality_summary(),
            "confidence": self.confidence,
            "latency_median_s": latency,
            "seconds_per_input": self.seconds_per_input if latency is not None else None,
            "model_mb": finite_number(self.row.get("model_mb")),
            "checks": list(self.checks),
        }
        if self.size is not None:
            out["params"] = self.size.describe()
        if self.lossless:
            out["lossless_comparisons"] = [m.to_dict() for m in self.lossless]
        if self.excluded:
            out["excluded"] = self.excluded
        return {k: v for k, v in out.items() if v is not None}


def _settings_text(record: Mapping[str, Any]) -> str:
    from hfbench.bench.suites import PROCEDURE_KEYS

    settings = {k: v for k, v in (record.get("settings") or {}).items() if k not in PROCEDURE_KEYS}
    return ", ".join(f"{k}={v}" for k, v in sorted(settings.items()))


def check_record(record: Mapping[str, Any], budgets: TuneBudgets) -> tuple[str | None, tuple[str, ...]]:
    """Whether a record may be chosen under the budgets: (why not, or None; the checks made)."""
    status = record.get("status")
    message = (record.get("error") or {}).get("message") or ""
    settings = _settings_text(record)
    at = f" at {settings}" if settings else ""
    if status == "oom":
        return f"does not fit: out of memory{at} ({message})", ()
    if status == "too_slow":
        return f"too slow{at}: {message}", ()
    if status != "ok":
        return f"not measured ({status}{': ' + message if message else ''})", ()
    row = record_row(record)
    checks: list[str] = []
    failed: list[str] = []
    model_mb = finite_number(row.get("model_mb"))
    if budgets.max_memory_mb is not None:
        if model_mb is None:
            checks.append("memory not measured: fit not checked")
        elif model_mb > budgets.max_memory_mb:
            failed.append(
                f"does not fit: took {model_mb:.0f} MiB, over the {budgets.max_memory_mb:.0f} MiB for models"
            )
        else:
            checks.append(f"fits: took {model_mb:.0f} MiB of {budgets.max_memory_mb:.0f} MiB")
    latency = finite_number(row.get("latency_median_s"))
    if latency is None:
        failed.append("no latency measured")
    elif budgets.max_latency_ms is not None:
        ms = latency * 1000
        if ms > budgets.max_latency_ms:
            failed.append(f"over the latency budget: median {ms:.0f} ms > {budgets.max_latency_ms:g} ms")
        else:
            checks.append(f"latency median {ms:.0f} ms <= {budgets.max_latency_ms:g} ms")
    if budgets.min_tokens_per_s is not None:
        decode = finite_number(row.get("decode_tokens_per_s"))
        if decode is None:
            checks.append("no decode tokens/s (does not generate): the tokens/s budget does not apply")
        elif decode < budgets.min_tokens_per_s:
            failed.append(
                f"under the throughput budget: {decode:.1f} decode tokens/s < {budgets.min_tokens_per_s:g}"
            )
        else:
            checks.append(f"decode {decode:.1f} tokens/s >= {budgets.min_tokens_per_s:g}")
    if finite_number(row.get("quality_value")) is None:
        failed.append("no quality measured (tune ranks by quality)")
    return ("; ".join(failed) or None), tuple(checks + failed)


# --------------------------------------------------------------------------- comparisons
@dataclass(frozen=True)
class Comparison:
    """Two eligible cells' quality compared.

    Attributes:
        a, b: the two candidates' labels.
        better: ``a`` or ``b`` when one is significantly better, None for a tie.
        detail: the paired comparison (``PairedComparison.to_dict()``) or the unpaired fallback.
        a_cell, b_cell: the two cells' ids.
    """

    a: str
    b: str
    better: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)
    a_cell: str = ""
    b_cell: str = ""

    def evidence(self) -> str:
        """``difference 0.012, 95% CI [-0.03, 0.05], n=8`` (or the unpaired method)."""
        d = self.detail
        if "ci_low" in d and d.get("ci_low") is not None:
            interval = f"95% CI [{d['ci_low']:.3g}, {d['ci_high']:.3g}]"
            return f"difference {d['difference']:.3g}, {interval}, n={d['n']}"
        return str(d.get("method", "unpaired"))

    def describe(self) -> str:
        """``difference 0.012, 95% CI [-0.03, 0.05], n=8: a tie``."""
        verdict = "a tie" if self.better is None else f"{getattr(self, self.better)} is better"
        return f"{self.evidence()}: {verdict}"

    def to_dict(self) -> dict[str, Any]:
        """For the file's ``tuning`` section."""
        out = {"a": self.a, "b": self.b, "better": getattr(self, self.better) if self.better else "tie"}
        return {**json_safe(dict(self.detail)), **out, "a_cell": self.a_cell, "b_cell": self.b_cell}


Comparator = Callable[[Candidate, Candidate], Comparison]
"""Compares two candidates' quality (``compare_quality``; tests may pass their own)."""


def compare_quality(a: Candidate, b: Candidate) -> Comparison:
    """Paired bootstrap of two cells on their common items; by confidence when they cannot be paired."""
    from hfbench.bench.quality import compare_results

    qa, qb = a.quality, b.quality
    reason = "no per-item predictions"
    if qa is not None and qb is not None:
        try:
            paired = compare_results(qa, qb)
        except (BenchmarkError, ValueError) as exc:
            reason = str(exc)
        else:
            if not (math.isnan(paired.ci_low) or math.isnan(paired.ci_high)):
                return Comparison(a.label, b.label, paired.better, paired.to_dict())
            reason = "the paired interval is undefined"
    better = None if a.confidence == b.confidence else ("a" if a.confidence > b.confidence else "b")
    method = f"unpaired ({reason}): measured confidence {a.confidence:.3f} vs {b.confidence:.3f}"
    return Comparison(a.label, b.label, better, {"method": method})


# --------------------------------------------------------------------------- lossy cells
def lossy_level(record: Mapping[str, Any]) -> str | None:
    """The optimize level of a cell that ran lossy (``fast``), else None (lossless, or an older
    record without ``recipe.optimize``)."""
    optimize = (record.get("recipe") or {}).get("optimize")
    if not isinstance(optimize, Mapping) or optimize.get("lossy") is not True:
        return None
    return str(optimize.get("level") or (record.get("settings") or {}).get("optimize") or "lossy")


def _settings_but_optimize(record: Mapping[str, Any]) -> dict[str, Any]:
    from hfbench.bench.suites import PROCEDURE_KEYS

    settings = record.get("settings") or {}
    return {k: v for k, v in settings.items() if k != "optimize" and k not in PROCEDURE_KEYS}


def lossless_cells(lossy: Candidate, candidates: Iterable[Candidate]) -> list[Candidate]:
    """The slot's lossless cells of a lossy cell's model: same model, capability and settings but
    ``optimize``, with quality measured (eligible or not)."""
    capability = canonical_capability(str(lossy.record["capability"]))
    settings = _settings_but_optimize(lossy.record)
    return [
        c
        for c in candidates
        if c.model == lossy.model
        and lossy_level(c.record) is None
        and canonical_capability(str(c.record["capability"])) == capability
        and _settings_but_optimize(c.record) == settings
        and finite_number(c.row.get("quality_value")) is not None
    ]


def check_lossy(candidate: Candidate, candidates: Sequence[Candidate], compare: Comparator) -> Candidate:
    """Rule 4 for one candidate: an eligible lossy cell stays eligible only when no lossless cell of
    its model is significantly better (and one exists); other candidates come back unchanged."""
    level = lossy_level(candidate.record)
    if not candidate.eligible or level is None:
        return candidate
    what = f"lossy (optimize={level})"
    references = lossless_cells(candidate, candidates)
    if not references:
        why = f"{what}: no lossless cell of this model with quality to compare against"
        return dataclasses.replace(candidate, excluded=why, checks=(*candidate.checks, why))
    comparisons = tuple(
        dataclasses.replace(compare(candidate, ref), a_cell=candidate.cell_id, b_cell=ref.cell_id)
        for ref in references
    )
    worse = next((m for m in comparisons if m.better == "b"), None)
    if worse is not None:
        why = f"{what}: quality significantly below the lossless cell {worse.b} ({worse.evidence()})"
        return dataclasses.replace(candidate, excluded=why, checks=(*candidate.checks, why))
    passed = tuple(
        f"{what}: no significant loss against the lossless cell {m.b} ({m.describe()})" for m in comparisons
    )
    return dataclasses.replace(candidate, checks=candidate.checks + passed, lossless=comparisons)


# --------------------------------------------------------------------------- one slot
@dataclass(frozen=True)
class SlotChoice:
    """What ``tune`` decided for one (capability, tier) slot, and why.

    Attributes:
        capability, tier: the slot.
        chosen: the chosen candidate (None: nothing eligible; the defaults stay).
        why: the reason, in a sentence or two.
        candidates: every cell of the slot, eligible or not.
        comparisons: every pairwise quality comparison made.
    """

    capability: str
    tier: str
    chosen: Candidate | None
    why: str
    candidates: tuple[Candidate, ...]
    comparisons: tuple[Comparison, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """For the file's ``tuning.slots`` section."""
        out: dict[str, Any] = {"why": self.why}
        if self.chosen is not None:
            out["chosen"] = self.chosen.label
            out["cell_id"] = self.chosen.cell_id
        out["candidates"] = [c.to_dict() for c in self.candidates]
        out["comparisons"] = [c.to_dict() for c in self.comparisons]
        return out


def choose(
    candidates: Sequence[Candidate], compare: Comparator = compare_quality
) -> tuple[Candidate | None, tuple[Comparison, ...], dict[str, list[tuple[Candidate, Comparison]]]]:
    """Apply rules 3 and 5 to a slot's candidates.

    Returns:
        The choice (None when nothing is eligible), the comparisons made, and for each eligible
        cell id the cells significantly better than it (with the comparison).
    """
    eligible = sorted((c for c in candidates if c.eligible), key=Candidate.speed_key)
    comparisons: list[Comparison] = []
    beaten_by: dict[str, list[tuple[Candidate, Comparison]]] = {c.cell_id: [] for c in eligible}
    for i, a in enumerate(eligible):
        for b in eligible[i + 1 :]:
            comparison = dataclasses.replace(compare(a, b), a_cell=a.cell_id, b_cell=b.cell_id)
            comparisons.append(comparison)
            if comparison.better == "a":
                beaten_by[b.cell_id].append((a, comparison))
            elif comparison.better == "b":
                beaten_by[a.cell_id].append((b, comparison))
    front = [c for c in eligible if not beaten_by[c.cell_id]]
    if not front and eligible:  # only when comparisons contradict each other (a cycle)
        front = [max(eligible, key=lambda c: c.confidence)]
    return (min(front, key=Candidate.speed_key) if front else None), tuple(comparisons), beaten_by


def _why(
    chosen: Candidate | None,
    candidates: Sequence[Candidate],
    comparisons: Sequence[Comparison],
    beaten_by: Mapping[str, list[tuple[Candidate, Comparison]]],
) -> str:
    if chosen is None:
        reasons = "; ".join(f"{c.label}: {c.excluded}" for c in candidates)
        return f"no eligible model ({reasons}); the defaults stay"
    parts = [f"{chosen.label}: {chosen.quality_summary()}, {chosen.seconds_per_input:.3g} s per input"]
    level = lossy_level(chosen.record)
    parts += [
        f"lossy (optimize={level}): no significant loss against {m.b} ({m.describe()})"
        for m in chosen.lossless
    ]
    eligible = [c for c in candidates if c.eligible and c is not chosen]
    if not eligible:
        parts.append("the only eligible model in this tier")
    for other in eligible:
        between = next(
            (m for m in comparisons if {m.a_cell, m.b_cell} == {chosen.cell_id, other.cell_id}), None
        )
        text = between.describe() if between else ""
        if any(better is chosen for better, _ in beaten_by[other.cell_id]):
            parts.append(f"significantly better than {other.label} ({text})")
        elif beaten_by[other.cell_id]:
            winner = beaten_by[other.cell_id][0][0]
            parts.append(f"{other.label} is significantly worse than {winner.label}")
        else:
            parts.append(
                f"tied with {other.label} ({text}) and faster "
                f"({chosen.seconds_per_input:.3g} vs {other.seconds_per_input:.3g} s per input)"
            )
    excluded = [f"{c.label}: {c.excluded}" for c in candidates if not c.eligible]
    if excluded:
        parts.append("not eligible: " + "; ".join(excluded))
    return "; ".join(parts)


def choose_slot(
    capability: str, tier: str, candidates: Sequence[Candidate], compare: Comparator = compare_quality
) -> SlotChoice:
    """Choose a slot's model and say why (rules 3-6)."""
    screened = tuple(check_lossy(c, candidates, compare) for c in candidates)
    chosen, comparisons, beaten_by = choose(screened, compare)
    why = _why(chosen, screened, comparisons, beaten_by)
    return SlotChoice(capability, tier, chosen, why, screened, comparisons)


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class TuneResult:
    """What ``tune`` chose and wrote.

    Attributes:
        recommendations: capability -> tier -> the chosen ``ModelRecommendation`` (with its
            ``recipe`` and ``measured`` figures).
        choices: every slot considered, chosen or not, with the reasons.
        path: the recommendation file written.
        hardware_id: the machine the records (and the file) are for.
        budgets: the budgets applied.
        unplaced: records left out because their model's size is unknown or above every tier.
        served: the SLO-aware choice among served endpoints per (capability, concurrency)
            (``tune_served``; empty without served records).
    """

    recommendations: dict[str, dict[str, ModelRecommendation]]
    choices: tuple[SlotChoice, ...]
    path: Path
    hardware_id: str
    budgets: TuneBudgets
    unplaced: tuple[str, ...] = ()
    served: tuple[ServedChoice, ...] = ()

    @property
    def reasons(self) -> dict[tuple[str, str], str]:
        """(capability, tier) -> why that slot's model was chosen (or why none was)."""
        return {(c.capability, c.tier): c.why for c in self.choices}

    def describe(self) -> str:
        """One line per slot (what ``hfbench tune`` prints)."""
        lines = [f"Tuned recommendations for hardware {self.hardware_id}: {self.path}"]
        for choice in self.choices:
            picked = choice.chosen.label if choice.chosen else "(none: defaults stay)"
            lines.append(f"  {choice.capability}/{choice.tier}: {picked}")
        lines += [f"  left out: {text}" for text in self.unplaced]
        lines += [f"  {choice.describe()}" for choice in self.served]
        return "\n".join(lines)

    __str__ = describe


# --------------------------------------------------------------------------- tune
RecordsLike = str | os.PathLike[str] | ResultStore | Iterable[Mapping[str, Any]]


def _latest_records(results: RecordsLike) -> list[dict[str, Any]]:
    if isinstance(results, (str, os.PathLike)):
        results = ResultStore(results)
    if isinstance(results, ResultStore):
        return list(results.latest().values())
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in results:
        latest[(str(record["cell_id"]), str(record["hardware_id"]))] = dict(record)
    return list(latest.values())


def default_output(results: RecordsLike, hardware_id: str) -> Path:
    """Where a machine's tuned file goes: ``<results>/recommendations/<hardware_id>.json``
    (``results/`` when the records were given as a list)."""
    folder = Path(results) if isinstance(results, (str, os.PathLike)) else Path("results")
    if isinstance(results, ResultStore):
        folder = results.folder
    return folder / RECOMMENDATIONS_FOLDER / f"{hardware_id}.json"


def hardware_ids_in(results: RecordsLike) -> list[str]:
    """The machines (``hardware_id``) the records were made on, sorted."""
    return sorted({str(r.get("hardware_id")) for r in _latest_records(results)})


def _memory_for_models_mb(system_info: SystemInfo | None, hardware: Mapping[str, Any]) -> float | None:
    """Total GPU memory with CUDA devices, else total RAM, MiB (the hardware, not free memory)."""
    if system_info is not None:
        if system_info.cuda_devices:
            return system_info.gpu_total_memory_gb * 1024
        return system_info.ram_total_gb * 1024
    gpus = hardware.get("cuda_devices") or []
    if gpus:
        return sum(float(g.get("total_memory_gb", 0.0)) for g in gpus) * 1024
    ram = finite_number(hardware.get("ram_total_gb"))
    return ram * 1024 if ram is not None else None


def _hardware_section(hardware: Mapping[str, Any], memory_mb: float | None) -> dict[str, Any]:
    gpus = ", ".join(str(g.get("name")) for g in hardware.get("cuda_devices") or [])
    summary = (
        f"{hardware.get('cpu_model', '?')}, {hardware.get('cpu_cores', '?')} cores, "
        f"{finite_number(hardware.get('ram_total_gb')) or 0:.0f} GiB RAM" + (f", {gpus}" if gpus else "")
    )
    import hfbench

    block: dict[str, Any] = {
        "hardware_id": str(hardware["hardware_id"]),
        "fingerprint": str(hardware.get("fingerprint") or hardware["hardware_id"]),
        "name": str(hardware.get("name") or "this machine"),
        "accelerator": str(hardware.get("accelerator") or ("cuda" if gpus else "cpu")),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hfbench_version": hfbench.__version__,
        "summary": summary,
        "system": json_safe(dict(hardware)),
    }
    if memory_mb is not None:
        block["model_memory_gb"] = round(memory_mb / 1024, 2)
    return block


def _recommendation(choice: SlotChoice, hardware_id: str) -> ModelRecommendation:
    """The chosen cell as a recommendation: the catalogue's entry (if any) with the recipe and
    the measured figures of this capability."""
    from hfbench.registry import model_catalog

    chosen = choice.chosen
    assert chosen is not None and chosen.size is not None
    base = model_catalog().get(chosen.model)
    data: dict[str, Any] = {"model_name": chosen.model, "params_b": chosen.size.params_b}
    if base is not None:
        data = base.to_dict()
    capabilities = list(data.get("capabilities", []))
    if choice.capability not in capabilities:
        capabilities.append(choice.capability)
    note = f"Tuned on {hardware_id}: {chosen.quality_summary()}, {chosen.seconds_per_input:.3g} s per input."
    data.update(
        capabilities=capabilities,
        recipe=recommendation_recipe(chosen.record),
        measured={choice.capability: measured_figures(chosen.record)},
        notes=f"{note} {data['notes']}" if data.get("notes") else note,
    )
    return ModelRecommendation.from_dict(data)


def tune(
    results: RecordsLike = "results",
    *,
    max_latency_ms: float | None = None,
    min_tokens_per_s: float | None = None,
    max_memory_mb: float | None = None,
    system_info: SystemInfo | None = None,
    hardware_id: str | None = None,
    output: str | os.PathLike[str] | None = None,
    description: str = "",
    compare: Comparator = compare_quality,
    slo: str | Mapping[str, Any] | None = None,
    concurrency: int | None = None,
    slo_percentile: float = 90.0,
) -> TuneResult:
    """Choose, per capability and size tier, the best measured model for this machine; write the file.

    See the module's docstring for the rules.

    Args:
        results: a results folder, a ``ResultStore``, or harness records.
        max_latency_ms: the most a speed call's latency median may be, milliseconds.
        min_tokens_per_s: the fewest decode tokens per second a generating cell may have.
        max_memory_mb: memory for models, MiB (default: the machine's total GPU memory, else RAM).
        system_info: the machine (default: this one); its ``hardware_id`` selects the records.
        hardware_id: use the records of this machine instead (e.g. tuning another machine's
            results); its memory comes from the records' hardware block.
        output: the file to write (``.json`` or ``.toml``; default
            ``<results>/recommendations/<hardware_id>.json``).
        description: the file's description.
        compare: how two cells' quality is compared (default ``compare_quality``).
        slo: served endpoints: the SLO a level must meet at ``slo_percentile`` (``"ttft_ms=500"``;
            None: each level's own); see ``tune_served``.
        concurrency: served endpoints: only this concurrency level (None: every level).
        slo_percentile: served endpoints: where the SLO is checked (90: p90).

    Returns:
        A ``TuneResult``: the recommendations, every slot's reasons, the path written.

    Raises:
        ResultsError: no records made on that machine (the message lists the machines that have some).
    """
    from hfbench.registry.files import save_recommendation_file

    if hardware_id is None:
        if system_info is None:
            from hfbench.core.hardware import system_info as current

            system_info = current()
        hardware_id = system_info.hardware_id()
    elif system_info is not None and system_info.hardware_id() != hardware_id:
        system_info = None  # another machine's records: its memory comes from them
    everything = _latest_records(results)
    records = [r for r in everything if r.get("hardware_id") == hardware_id]
    if not records:
        others = sorted({str(r.get("hardware_id")) for r in everything})
        where = results if isinstance(results, (str, os.PathLike)) else "the records given"
        raise ResultsError(
            f"No records made on hardware {hardware_id} in {where}"
            + (f" (records are from: {', '.join(others)}; pass hardware_id=...)" if others else "")
            + ". Run `hfbench run --suite quick` on this machine first."
        )
    hardware = max(records, key=lambda r: str(r.get("finished_at") or "")).get("hardware") or {}
    hardware = {**hardware, "hardware_id": hardware_id}
    budgets = TuneBudgets(
        max_memory_mb if max_memory_mb is not None else _memory_for_models_mb(system_info, hardware),
        max_latency_ms,
        min_tokens_per_s,
    )
    slots: dict[tuple[str, str], list[Candidate]] = {}
    unplaced: list[str] = []
    local = [r for r in records if record_kind(r) != SERVED_KIND]  # served levels: tune_served
    for record in sorted(local, key=lambda r: (str(r["capability"]), str(r["model"]), str(r["cell_id"]))):
        size = record_size(record)
        capability = canonical_capability(str(record["capability"]))
        if size is None or size.tier is None:
            why = size.describe() if size else "its parameters are unknown (not in the catalogue, no weights)"
            unplaced.append(f"{record['model']} for {capability}: {why}")
            continue
        excluded, checks = check_record(record, budgets)
        slots.setdefault((capability, size.tier), []).append(Candidate(record, size, excluded, checks))
    tier_order = list(SIZE_TIERS)
    choices = tuple(
        choose_slot(capability, tier, candidates, compare)
        for (capability, tier), candidates in sorted(
            slots.items(), key=lambda s: (s[0][0], tier_order.index(s[0][1]))
        )
    )
    recommendations: dict[str, dict[str, ModelRecommendation]] = {}
    for choice in choices:
        if choice.chosen is not None:
            recommendations.setdefault(choice.capability, {})[choice.tier] = _recommendation(
                choice, hardware_id
            )
    if output is None:
        output = default_output(results, hardware_id)
    tuning: dict[str, Any] = {
        "rules": list(TUNING_RULES),
        "budgets": budgets.to_dict(),
        "slots": {},
        "left_out": list(unplaced),
    }
    for choice in choices:
        tuning["slots"].setdefault(choice.capability, {})[choice.tier] = choice.to_dict()
    served = choose_served(
        records, slo=slo, concurrency=concurrency, percentile=slo_percentile, hardware_id=hardware_id
    )
    if served:
        tuning["served"] = served_section(served)
    path = save_recommendation_file(
        output,
        recommendations,
        hardware=_hardware_section(hardware, budgets.max_memory_mb),
        description=description or f"Tuned by hfbench on hardware {hardware_id} from {len(records)} records.",
        tuning=json_safe(tuning),
    )
    return TuneResult(recommendations, choices, Path(path), hardware_id, budgets, tuple(unplaced), served)


def tune_all(
    results: RecordsLike = "results",
    *,
    system_info: SystemInfo | None = None,
    hardware_ids: Iterable[str] | None = None,
    **options: Any,
) -> dict[str, TuneResult]:
    """One recommendation file per machine: ``tune`` each ``hardware_id`` on its own records.

    What ``hfbench tune results/`` does: results measured on several machines (a Ray cluster's
    nodes, or folders merged from several machines) give ``<results>/recommendations/
    <hardware_id>.json`` each, chosen by the rules of ``tune`` from that machine's records alone.
    A machine's memory for models comes from this machine (``system_info``) for its own records,
    else from the records' hardware block.

    Args:
        results: a results folder, a ``ResultStore``, or harness records.
        system_info: this machine (default: the one running this).
        hardware_ids: tune only these machines (default: every one seen in the records).
        **options: ``tune``'s other keyword arguments (budgets such as ``max_latency_ms``,
            ``description``, ``compare`` …), the same for every machine; not ``hardware_id`` or
            ``output`` (each machine's file is ``<results>/recommendations/<hardware_id>.json``).

    Returns:
        ``hardware_id`` -> its ``TuneResult`` (``path`` is the file written), sorted by id.

    Raises:
        ResultsError: no records at all, or none made on a requested ``hardware_ids`` machine.
        TypeError: ``hardware_id`` or ``output`` among ``options``.

    Example:
        >>> for hardware_id, result in tune_all("results/", max_latency_ms=500).items():  # doctest: +SKIP
        ...     print(result)
    """
    clash = sorted({"hardware_id", "output"} & set(options))
    if clash:
        raise TypeError(f"tune_all() chooses {' and '.join(clash)} per machine; use tune() for one machine.")
    if not isinstance(results, (str, os.PathLike, ResultStore)):
        results = list(results)  # read more than once
    seen = hardware_ids_in(results)
    wanted = sorted(set(hardware_ids)) if hardware_ids is not None else seen
    where = results if isinstance(results, (str, os.PathLike)) else "the records given"
    if not seen:
        raise ResultsError(f"No records in {where}. Run `hfbench run --suite quick` first.")
    missing = [h for h in wanted if h not in seen]
    if missing:
        raise ResultsError(
            f"No records made on hardware {', '.join(missing)} in {where}; "
            f"records are from: {', '.join(seen)}."
        )
    if system_info is None:
        from hfbench.core.hardware import system_info as current

        system_info = current()
    return {
        hardware_id: tune(
            results,
            system_info=system_info,
            hardware_id=hardware_id,
            output=default_output(results, hardware_id),
            **options,
        )
        for hardware_id in wanted
    }
