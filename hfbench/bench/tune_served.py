"""The SLO-aware choice among served endpoints: "the best model whose p90 TTFT stays under 500 ms
at 4 concurrent users on this server".

Served records (``kind = "served"``, one per concurrency level) are chosen among apart from the
local cells: they measure a server, not this machine's run of a model, and carry no quality. The
rules, exactly (also written into a tuned file's ``tuning.served``):

1. **Records**: the latest record of each served cell made from this client (``hardware_id``),
   optionally only one endpoint's.
2. **Slots**: one per (capability, concurrency level) — or only the level asked for.
3. **Eligible**: status ``ok``, no failed request in the level, and for every limit of the SLO the
   level's ``percentile`` (default p90, numpy linear interpolation over the level's requests; ITL
   over every gap, pooled as vLLM pools it) within the limit. The SLO is the one given, else the
   one the level was measured with (``hfbench run --slo``); without any, every ``ok`` level is
   eligible.
4. **Choice**: the highest goodput (requests per second whose own figures meet every limit,
   recomputed from the stored per-request timings under the SLO used), then the highest output
   tokens/s, then the lowest p90 TTFT, then model name and cell id. Quality is not compared: a
   serving benchmark measures speed; measure the models' quality locally (``hfbench run
   --models …``) to weigh it.

Example:
    >>> choice = best_served("results/", slo="ttft_ms=500", concurrency=4)       # doctest: +SKIP
    >>> choice.chosen.model, choice.why                                          # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hfbench.bench.serving.cell import SERVED_KIND, record_kind
from hfbench.bench.serving.metrics import RequestTiming
from hfbench.bench.serving.slo import SLO, SLO_METRICS, parse_slo
from hfbench.bench.store import ResultStore, json_safe

#: The rules, as written into a tuned file's ``tuning.served.rules``.
SERVED_RULES = (
    "records: the latest record of each served cell made from this client (hardware_id)",
    "slots: (capability, concurrency level)",
    "eligible: status ok, no failed request, and the level's percentile of every SLO metric within "
    "its limit (the SLO given, else the one measured with)",
    "choice: highest goodput under that SLO, then output tokens/s, then lowest p90 TTFT, then model name",
)


def _requests(record: Mapping[str, Any]) -> list[RequestTiming]:
    return [RequestTiming.from_dict(r) for r in (record.get("serving") or {}).get("requests") or []]


def level_percentile(record: Mapping[str, Any], metric: str, percentile: float) -> float | None:
    """The level's ``percentile`` of an SLO metric, in seconds (None when nothing was measured).

    ``ttft_ms``, ``tpot_ms``, ``e2el_ms``: over the level's successful requests; ``itl_ms``: over
    every inter-token gap of the level (pooled, as vLLM's ITL percentiles).
    """
    import numpy as np

    done = [r for r in _requests(record) if r.ok]
    if metric == "itl_ms":
        values = [gap for r in done for gap in r.itl_s]
    else:
        attribute = SLO_METRICS[metric][0]
        values = [v for r in done if (v := getattr(r, attribute)) is not None]
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), percentile, method="linear"))


@dataclass(frozen=True)
class ServedCandidate:
    """One served level competing for a slot.

    Attributes:
        record: the level's record.
        slo: the SLO it is judged by.
        percentiles: metric -> the level's percentile, seconds (None: not measured).
        goodput_per_s: requests/s meeting every limit of ``slo``.
        excluded: why it cannot be chosen (None: eligible).
    """

    record: Mapping[str, Any]
    slo: SLO
    percentiles: Mapping[str, float | None]
    goodput_per_s: float
    excluded: str | None

    @property
    def eligible(self) -> bool:
        """Whether it may be chosen."""
        return self.excluded is None

    @property
    def model(self) -> str:
        """The served model."""
        return str(self.record.get("model"))

    @property
    def endpoint(self) -> str:
        """The endpoint's URL."""
        return str((self.record.get("endpoint") or {}).get("url"))

    @property
    def metrics(self) -> Mapping[str, Any]:
        """The level's figures."""
        return (self.record.get("serving") or {}).get("metrics") or {}

    @property
    def label(self) -> str:
        """``MODEL at ENDPOINT [label]``."""
        tag = (self.record.get("settings") or {}).get("label")
        return f"{self.model} at {self.endpoint}" + (f" [{tag}]" if tag else "")

    def rank_key(self) -> tuple[float, float, float, str, str]:
        """Better first: goodput, output tokens/s (both descending), p90 TTFT, model, cell id."""
        ttft = (self.metrics.get("ttft_s") or {}).get("p90")
        return (
            -self.goodput_per_s,
            -float(self.metrics.get("output_tokens_per_s") or 0.0),
            float(ttft) if ttft is not None else math.inf,
            self.model,
            str(self.record.get("cell_id")),
        )

    def to_dict(self) -> dict[str, Any]:
        """For the file's ``tuning.served`` section."""
        out: dict[str, Any] = {
            "label": self.label,
            "cell_id": self.record.get("cell_id"),
            "status": self.record.get("status"),
            "eligible": self.eligible,
            "goodput_per_s": self.goodput_per_s,
            "output_tokens_per_s": self.metrics.get("output_tokens_per_s"),
            "percentiles_s": dict(self.percentiles),
        }
        if self.excluded:
            out["excluded"] = self.excluded
        return out


@dataclass(frozen=True)
class ServedChoice:
    """The choice for one (capability, concurrency) slot of served endpoints.

    Attributes:
        capability, concurrency: the slot.
        percentile: the percentile the SLO is checked at (90: p90).
        chosen: the best eligible level (None: none meets the SLO).
        why: the reason, in a sentence.
        candidates: every level of the slot.
    """

    capability: str
    concurrency: int
    percentile: float
    chosen: ServedCandidate | None
    why: str
    candidates: tuple[ServedCandidate, ...]

    def to_dict(self) -> dict[str, Any]:
        """For the file's ``tuning.served.slots``."""
        return {
            "capability": self.capability,
            "concurrency": self.concurrency,
            "percentile": self.percentile,
            "chosen": self.chosen.label if self.chosen else None,
            "cell_id": self.chosen.record.get("cell_id") if self.chosen else None,
            "why": self.why,
            "candidates": [c.to_dict() for c in self.candidates],
        }

    def describe(self) -> str:
        """``served chat at c=4: MODEL at URL (p90 ttft_ms<=500)``."""
        picked = self.chosen.label if self.chosen else "(none meets the SLO)"
        return f"served {self.capability} at c={self.concurrency}: {picked}"


def candidate(record: Mapping[str, Any], slo: SLO | None, percentile: float) -> ServedCandidate:
    """A level judged by ``slo`` (None: the SLO it was measured with) at ``percentile``."""
    serving = record.get("serving") or {}
    used = slo if slo is not None else parse_slo(serving.get("slo") or None)
    metrics = serving.get("metrics") or {}
    duration = float(metrics.get("duration_s") or 0.0)
    requests = _requests(record)
    goodput = used.good(requests) / duration if duration > 0 else 0.0
    percentiles = {m: level_percentile(record, m, percentile) for m in used.limits_ms}
    reasons: list[str] = []
    if record.get("status") != "ok":
        reasons.append(f"not measured ({(record.get('error') or {}).get('message', record.get('status'))})")
    elif metrics.get("failed"):
        reasons.append(
            f"{metrics['failed']} of {metrics['failed'] + metrics.get('completed', 0)} requests failed"
        )
    for metric, limit in used.limits_ms.items():
        value = percentiles[metric]
        if value is None:
            reasons.append(f"no {metric.removesuffix('_ms')} measured")
        elif value * 1000 > limit:
            reasons.append(
                f"p{percentile:g} {metric.removesuffix('_ms')} {value * 1000:.0f} ms > {limit:g} ms"
            )
    return ServedCandidate(record, used, percentiles, goodput, "; ".join(reasons) or None)


def _why(chosen: ServedCandidate | None, candidates: Sequence[ServedCandidate], percentile: float) -> str:
    if chosen is None:
        reasons = "; ".join(f"{c.label}: {c.excluded}" for c in candidates)
        return f"no level meets the SLO at p{percentile:g} ({reasons})"
    limits = ", ".join(
        f"p{percentile:g} {m.removesuffix('_ms')} {1000 * (chosen.percentiles[m] or 0):.0f} ms <= {v:g} ms"
        for m, v in chosen.slo.limits_ms.items()
    )
    parts = [
        f"{chosen.label}: {limits or 'no SLO'}; goodput {chosen.goodput_per_s:.2f} req/s, "
        f"{float(chosen.metrics.get('output_tokens_per_s') or 0):.1f} output tokens/s"
    ]
    others = [c for c in candidates if c is not chosen]
    beaten = [f"{c.label} ({c.goodput_per_s:.2f} req/s)" for c in others if c.eligible]
    if beaten:
        parts.append("higher goodput than " + ", ".join(beaten))
    parts += [f"not eligible: {c.label}: {c.excluded}" for c in others if not c.eligible]
    return "; ".join(parts)


def served_records(
    results: str | os.PathLike[str] | ResultStore | Iterable[Mapping[str, Any]],
    *,
    hardware_id: str | None = None,
    endpoint: str | None = None,
) -> list[dict[str, Any]]:
    """The latest record of each served cell (of this client, of one endpoint, when given)."""
    if isinstance(results, (str, os.PathLike)):
        results = ResultStore(results)
    records = results.records() if isinstance(results, ResultStore) else [dict(r) for r in results]
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        if record_kind(record) == SERVED_KIND:
            latest[(str(record.get("cell_id")), str(record.get("hardware_id")))] = dict(record)
    out = list(latest.values())
    if hardware_id is not None:
        out = [r for r in out if r.get("hardware_id") == hardware_id]
    if endpoint is not None:
        from hfbench.providers.openai_compatible import normalise_base_url
        from hfbench.providers.server_info import public_url

        wanted = public_url(normalise_base_url(endpoint))
        out = [r for r in out if (r.get("endpoint") or {}).get("url") == wanted]
    return out


def choose_served(
    results: str | os.PathLike[str] | ResultStore | Iterable[Mapping[str, Any]],
    *,
    slo: str | Mapping[str, Any] | SLO | None = None,
    concurrency: int | None = None,
    percentile: float = 90.0,
    capability: str | None = None,
    endpoint: str | None = None,
    hardware_id: str | None = None,
) -> tuple[ServedChoice, ...]:
    """Per (capability, concurrency) slot, the best served level that meets the SLO (module rules).

    Args:
        results: a results folder, a ``ResultStore`` or records (local records are ignored).
        slo: the limits (``"ttft_ms=500"``); None: each level's own SLO.
        concurrency: only this level (None: every level measured).
        percentile: where the SLO is checked (90: p90).
        capability: only this capability (``chat``, ``text-generation``).
        endpoint: only this endpoint's records.
        hardware_id: only records made from this client (None: every client's).

    Returns:
        One ``ServedChoice`` per slot, ordered by capability and concurrency.
    """
    wanted = parse_slo(slo) if slo is not None else None
    slots: dict[tuple[str, int], list[ServedCandidate]] = {}
    for record in served_records(results, hardware_id=hardware_id, endpoint=endpoint):
        level = int((record.get("settings") or {}).get("concurrency") or 0)
        if concurrency is not None and level != concurrency:
            continue
        if capability is not None and record.get("capability") != capability:
            continue
        slot = (str(record.get("capability")), level)
        slots.setdefault(slot, []).append(candidate(record, wanted, percentile))
    choices = []
    for (name, level), candidates in sorted(slots.items()):
        ranked = sorted(candidates, key=ServedCandidate.rank_key)
        chosen = next((c for c in ranked if c.eligible), None)
        choices.append(
            ServedChoice(name, level, percentile, chosen, _why(chosen, ranked, percentile), tuple(ranked))
        )
    return tuple(choices)


def best_served(
    results: str | os.PathLike[str] | ResultStore | Iterable[Mapping[str, Any]],
    *,
    slo: str | Mapping[str, Any] | SLO | None,
    concurrency: int,
    capability: str = "chat",
    percentile: float = 90.0,
    **where: Any,
) -> ServedChoice:
    """ "The best model whose p90 TTFT stays under 500 ms at 4 concurrent users (on this server)":
    ``best_served(results, slo="ttft_ms=500", concurrency=4, endpoint=URL)``.

    Args:
        results, slo, concurrency, capability, percentile: as ``choose_served``'s.
        **where: ``endpoint=`` (one server's records) and ``hardware_id=`` (one client's).

    Returns:
        The slot's choice (``chosen`` is None, with the reasons in ``why``, when no level meets it).
    """
    choices = choose_served(
        results, slo=slo, concurrency=concurrency, capability=capability, percentile=percentile, **where
    )
    if choices:
        return choices[0]
    return ServedChoice(capability, concurrency, percentile, None, "no served record at this level", ())


def served_section(choices: Sequence[ServedChoice]) -> dict[str, Any]:
    """A tuned file's ``tuning.served`` section: the rules and every slot."""
    return {"rules": list(SERVED_RULES), "slots": json_safe([c.to_dict() for c in choices])}
