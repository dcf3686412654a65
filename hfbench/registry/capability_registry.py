"""``CapabilityRegistry``: which model to run for a capability, at a size tier, on given hardware.

The seed's API (``get_recommendation``, ``update_model``, ``update_recommendations``,
``remove_recommendation``, ``SIZE_TIERS``) with its bugs fixed:

- fallbacks walk strictly *smaller* tiers (the seed's ``tiers[current_idx-1::-1]`` wrapped from
  ``small`` to the largest tier);
- requirements compare resources as thresholds and flags by equality (the seed compared all by
  equality, so ``gpu_memory: 16`` rejected a 24 GB card);
- a candidate must also *fit*: its estimated memory at the dtype this hardware loads in
  (weights + KV cache + overhead) must not exceed ``SystemInfo.model_memory_gb``.

Candidates, in order: the capability's own model at the tier; other capabilities' models at the
same tier that list this capability; then the same two for each smaller tier.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from hfbench.core.capability import canonical_capability, capability_specs
from hfbench.core.errors import RecommendationError
from hfbench.core.hardware import SystemInfo
from hfbench.registry.files import (
    Recommendations,
    default_recommendation_file,
    format_key,
    load_recommendation_file,
    package_catalog,
    resolve_entry,
    save_recommendation_file,
)
from hfbench.registry.memory import DEFAULT_CONTEXT_TOKENS, MemoryEstimate
from hfbench.registry.recommendation import RESOURCE_ALIASES, ModelRecommendation, unmet_requirements
from hfbench.registry.tiers import (
    AUTO_TIER,
    BYTES_PER_PARAM,
    SIZE_TIERS,
    check_tier,
    default_dtype,
    tier_violation,
    tiers_up_to,
)

logger = logging.getLogger(__name__)

SystemInfoLike = SystemInfo | Mapping[str, Any]
RecommendationLike = ModelRecommendation | Mapping[str, Any] | str


# --------------------------------------------------------------------------- hardware facts
@dataclass(frozen=True)
class HardwareFacts:
    """What the registry needs to know about a machine (real, what-if, or a seed-style dict).

    Attributes:
        label: how explanations name the machine.
        facts: the flat view requirements are checked against.
        model_memory_gb: memory a model may use (None: unknown, so fit is not checked).
        dtype: the dtype models load in there.
    """

    label: str
    facts: dict[str, Any]
    model_memory_gb: float | None
    dtype: str

    def describe(self) -> str:
        """``consumer-gpu-24gb (cuda, 23.5 GiB for models, bf16)``."""
        memory = (
            f"{self.model_memory_gb:.1f} GiB for models"
            if self.model_memory_gb is not None
            else "memory unknown"
        )
        accelerator = self.facts.get("accelerator")
        return f"{self.label} ({f'{accelerator}, ' if accelerator else ''}{memory}, {self.dtype})"


def hardware_facts(system_info: SystemInfoLike) -> HardwareFacts:
    """Normalise a ``SystemInfo`` or a seed-style dict (``{"gpu_memory": 16, "platform": "linux"}``).

    In a dict, ``gpu_memory``/``ram``… are read as their ``_gb`` names; the memory for models is
    ``model_memory_gb``, else ``gpu_memory_gb`` (when > 0), else ``ram_gb``; the dtype is ``dtype``,
    else bf16/fp16 with a GPU, fp16 on MPS, fp32 otherwise.

    Raises:
        RecommendationError: not a ``SystemInfo`` or a mapping, or an unknown ``dtype``.
    """
    if isinstance(system_info, SystemInfo):
        info = system_info
        facts = {**info.extra, **info.as_requirements_view()}
        sms = [d.compute_capability for d in info.cuda_devices if d.compute_capability]
        facts.update(
            gpu_total_memory_gb=info.gpu_total_memory_gb,
            gpu_count=len(info.cuda_devices),
            compute_capability=max(sms, key=_sm_key) if sms else None,
            machine=info.machine,
        )
        return HardwareFacts(info.name, facts, info.model_memory_gb, default_dtype(info))
    if not isinstance(system_info, Mapping):
        raise RecommendationError(
            f"system_info must be a SystemInfo or a dict, got {type(system_info).__name__}; "
            "use hfbench.system_info() or hfbench.registry.hardware_profile(...)."
        )
    facts = {RESOURCE_ALIASES.get(str(k), str(k)): v for k, v in system_info.items()}
    gpu = _number(facts.get("gpu_memory_gb"))
    memory = _number(facts.get("model_memory_gb"))
    if memory is None:
        memory = gpu if gpu else _number(facts.get("ram_gb"))
    dtype = facts.get("dtype")
    if dtype is None:
        if gpu or facts.get("cuda") or facts.get("accelerator") == "cuda":
            dtype = "fp16" if facts.get("supports_bf16") is False else "bf16"
        elif facts.get("mps") or facts.get("accelerator") == "mps":
            dtype = "fp16"
        else:
            dtype = "fp32"
    if dtype not in BYTES_PER_PARAM:
        raise RecommendationError(
            f"system_info['dtype'] = {dtype!r} is not a dtype; valid: {', '.join(BYTES_PER_PARAM)}."
        )
    return HardwareFacts(str(facts.get("name", "the given system")), facts, memory, str(dtype))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _sm_key(value: str) -> tuple[int, ...]:
    return tuple(int(p) for p in value.split(".") if p.isdigit())


# --------------------------------------------------------------------------- explanations
@dataclass(frozen=True)
class CandidateCheck:
    """One model the registry considered, and whether (and why not) it was taken."""

    tier: str
    slot: str
    recommendation: ModelRecommendation
    accepted: bool
    reasons: tuple[str, ...]
    memory: MemoryEstimate | None

    def describe(self) -> str:
        """One line: verdict, tier, model, where it came from, and why."""
        verdict = "chosen  " if self.accepted else "rejected"
        why = "; ".join(self.reasons)
        if self.accepted and self.memory is not None:
            why = f"needs {self.memory.describe()}"
        return f"{verdict} {self.tier:<7} {self.recommendation.model_name} [{self.slot}]" + (
            f": {why}" if why else ""
        )


@dataclass(frozen=True)
class RecommendationExplanation:
    """The outcome of a lookup: what was chosen, and every candidate rejected on the way."""

    capability: str
    size_tier: str
    hardware: str | None
    chosen: ModelRecommendation | None
    chosen_tier: str | None
    candidates: tuple[CandidateCheck, ...]
    notes: tuple[str, ...] = ()

    @property
    def rejected(self) -> list[CandidateCheck]:
        """The candidates that were turned down, in the order they were tried."""
        return [c for c in self.candidates if not c.accepted]

    @property
    def fell_back(self) -> bool:
        """True when the choice is not the capability's own model at the asked tier."""
        last = self.candidates[-1] if self.candidates else None
        return not (
            self.chosen is not None
            and last is not None
            and self.chosen_tier == self.size_tier
            and last.slot == self.capability
        )

    def describe(self) -> str:
        """A few lines for people: the question, each candidate, the answer."""
        on = (
            f" on {self.hardware}"
            if self.hardware
            else " (no hardware given: requirements and fit not checked)"
        )
        lines = [f"{self.capability} at tier {self.size_tier!r}{on}:"]
        lines += [f"  {note}" for note in self.notes]
        lines += [f"  {c.describe()}" for c in self.candidates]
        if self.chosen is None:
            lines.append("  -> nothing suitable; try a smaller tier, a quantized dtype, or other hardware")
        else:
            lines.append(f"  -> {self.chosen.model_name} (tier {self.chosen_tier})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class LayerInfo:
    """One source of recommendations the registry was built from, and whether it applied."""

    kind: str
    path: str | None
    applied: bool
    reason: str = ""


# --------------------------------------------------------------------------- registry
class CapabilityRegistry:
    """Registry of capabilities and recommended models, per size tier.

    Layers, lowest first: hfbench's package defaults < a tuned file from the benchmark (applied
    only on the hardware it was measured on) < a user overlay file. ``update_model`` and friends
    change the merged result in place.

    Args:
        defaults: start from hfbench's package recommendations (validated on load).
        tuned: a tuned recommendation file; applied when its ``hardware.fingerprint`` matches
            ``system_info`` (default: this machine), else ignored with a logged reason.
        overlay: a user's recommendation file merged on top (their own models, fine-tunes).
        system_info: the machine a tuned file is checked against.
        context_tokens: tokens of context the KV cache is sized for in fit checks.
        allow_gated: when False, gated Hub models (license to accept, token needed) are skipped.

    Example:
        >>> from hfbench.registry import CapabilityRegistry, hardware_profile
        >>> registry = CapabilityRegistry()
        >>> registry.get_recommendation("chat", "auto", hardware_profile("consumer-gpu-24gb")).model_name
        'Qwen/Qwen2.5-7B-Instruct'
    """

    SIZE_TIERS: ClassVar[dict[str, float]] = SIZE_TIERS

    def __init__(
        self,
        *,
        defaults: bool = True,
        tuned: str | os.PathLike[str] | None = None,
        overlay: str | os.PathLike[str] | None = None,
        system_info: SystemInfoLike | None = None,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        allow_gated: bool = True,
    ) -> None:
        if isinstance(context_tokens, bool) or not isinstance(context_tokens, int) or context_tokens < 0:
            raise RecommendationError(f"context_tokens must be a whole number >= 0, got {context_tokens!r}.")
        self.context_tokens = context_tokens
        self.allow_gated = bool(allow_gated)
        self._recommendations: Recommendations = {}
        self._sources: dict[tuple[str, str], str] = {}
        self._layers: list[LayerInfo] = []
        if defaults:
            self._merge(default_recommendation_file().recommendations, "package defaults")
            self._layers.append(LayerInfo("package defaults", None, True))
        if tuned is not None:
            self._apply_tuned(tuned, system_info)
        if overlay is not None:
            self._apply_overlay(overlay)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> CapabilityRegistry:
        """A registry holding exactly the file's recommendations (no package defaults beneath).

        A tuned file's hardware block is not checked here; use ``with_tuned`` for that.
        """
        registry = cls(defaults=False, **kwargs)
        loaded = load_recommendation_file(path)
        registry._merge(loaded.recommendations, f"file {path}")
        registry._layers.append(LayerInfo("file", str(path), True))
        return registry

    @classmethod
    def offline_defaults(cls, **kwargs: Any) -> CapabilityRegistry:
        """The models a machine without Hub access can run: hfbench's embedded ones (``embedded:…``)."""
        registry = cls(defaults=False, **kwargs)
        registry._merge(default_recommendation_file().offline_recommendations, "offline defaults")
        registry._layers.append(LayerInfo("offline defaults", None, True))
        return registry

    def copy(self) -> CapabilityRegistry:
        """An independent copy (recommendations are immutable and shared)."""
        clone = copy.copy(self)
        clone._recommendations = {c: dict(t) for c, t in self._recommendations.items()}
        clone._sources = dict(self._sources)
        clone._layers = list(self._layers)
        return clone

    def with_tuned(
        self, path: str | os.PathLike[str], system_info: SystemInfoLike | None = None
    ) -> CapabilityRegistry:
        """A copy with a tuned file merged on top, if it was made on this hardware.

        Args:
            path: a file written by the benchmark's tuning (it has a ``hardware.fingerprint``).
            system_info: the machine to match (default: this one, ``hfbench.system_info()``); a
                dict matches by its ``"fingerprint"`` key.

        Raises:
            RecommendationError: the file is malformed or has no hardware block.
        """
        clone = self.copy()
        clone._apply_tuned(path, system_info)
        return clone

    def with_overlay(self, path: str | os.PathLike[str]) -> CapabilityRegistry:
        """A copy with a user's recommendation file merged on top."""
        clone = self.copy()
        clone._apply_overlay(path)
        return clone

    def _apply_tuned(self, path: str | os.PathLike[str], system_info: SystemInfoLike | None) -> None:
        loaded = load_recommendation_file(path)
        if loaded.fingerprint is None:
            raise RecommendationError(
                f"The tuned file {path} has no 'hardware' block with a fingerprint, so it cannot be matched "
                "to this machine; load it with CapabilityRegistry.from_file or as an overlay instead."
            )
        if system_info is None:
            from hfbench.core.hardware import system_info as current

            system_info = current()
        here = (
            system_info.fingerprint()
            if isinstance(system_info, SystemInfo)
            else system_info.get("fingerprint")
        )
        if here != loaded.fingerprint:
            made_on = (loaded.hardware or {}).get("name", "another machine")
            reason = (
                f"ignored: made on {made_on} (fingerprint {loaded.fingerprint}), "
                f"this hardware's fingerprint is {here or 'unknown'}"
            )
            logger.warning("Tuned recommendations %s %s", path, reason)
            self._layers.append(LayerInfo("tuned", str(path), False, reason))
            return
        self._merge(loaded.recommendations, f"tuned file {path}")
        self._layers.append(LayerInfo("tuned", str(path), True, f"fingerprint {here} matches"))

    def _apply_overlay(self, path: str | os.PathLike[str]) -> None:
        loaded = load_recommendation_file(path)
        self._merge(loaded.recommendations, f"overlay file {path}")
        self._layers.append(LayerInfo("overlay", str(path), True))

    def _merge(self, recommendations: Recommendations, source: str) -> None:
        for capability, tiers in recommendations.items():
            slots = self._recommendations.setdefault(capability, {})
            for tier, rec in tiers.items():
                slots[tier] = rec
                self._sources[(capability, tier)] = source
            self._recommendations[capability] = {t: slots[t] for t in SIZE_TIERS if t in slots}

    # ------------------------------------------------------------------ reading
    @property
    def layers(self) -> tuple[LayerInfo, ...]:
        """The sources this registry was built from, in order, with whether each applied and why."""
        return tuple(self._layers)

    @property
    def recommendations(self) -> dict[str, dict[str, ModelRecommendation]]:
        """A copy of capability -> tier -> recommendation (tiers smallest first)."""
        return {c: dict(t) for c, t in self._recommendations.items()}

    def capabilities(self) -> list[str]:
        """Capabilities with at least one recommendation."""
        return [c for c, t in self._recommendations.items() if t]

    def source_of(self, capability: str, size_tier: str) -> str | None:
        """Where a slot's recommendation came from (``package defaults``, ``overlay file …``)."""
        return self._sources.get((canonical_capability(capability), check_tier(size_tier)))

    def __iter__(self) -> Iterator[tuple[str, str, ModelRecommendation]]:
        for capability, tiers in self._recommendations.items():
            for tier, rec in tiers.items():
                yield capability, tier, rec

    def __len__(self) -> int:
        return sum(len(t) for t in self._recommendations.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CapabilityRegistry):
            return NotImplemented
        return self.recommendations == other.recommendations

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CapabilityRegistry({len(self)} recommendations for {len(self.capabilities())} capabilities)"

    # ------------------------------------------------------------------ lookup
    def get_recommendation(
        self,
        capability: str,
        size_tier: str = "medium",
        system_info: SystemInfoLike | None = None,
    ) -> ModelRecommendation | None:
        """Get the recommended model for a capability and size tier, on given hardware.

        Args:
            capability: a capability name or alias.
            size_tier: a tier name, or ``"auto"`` for the largest that fits (``system_info``, else
                this machine).
            system_info: a ``SystemInfo`` (real or ``hardware_profile(...)``) or a seed-style dict.
                None checks neither requirements nor fit (except for ``"auto"``).

        Returns:
            The recommendation, or None when no candidate is suitable (``explain_recommendation``
            says why).

        Raises:
            UnsupportedCapabilityError: an unknown capability (with did-you-mean).
            RecommendationError: an unknown tier (with did-you-mean), or ``"auto"`` with a
                ``system_info`` that does not say how much memory there is.
        """
        explanation = self.explain_recommendation(capability, size_tier, system_info)
        if explanation.fell_back:
            logger.info("%s", explanation)
        return explanation.chosen

    def explain_recommendation(
        self,
        capability: str,
        size_tier: str = "medium",
        system_info: SystemInfoLike | None = None,
    ) -> RecommendationExplanation:
        """Like ``get_recommendation``, but returns every candidate tried and why it was rejected.

        ``print()`` the result for a readable account; ``.chosen``, ``.rejected`` and
        ``.candidates`` (each with ``reasons`` and a ``MemoryEstimate``) for programs.
        """
        name = canonical_capability(capability)
        notes: list[str] = []
        if size_tier == AUTO_TIER:
            if system_info is None:
                from hfbench.core.hardware import system_info as current

                system_info = current()
            hardware: HardwareFacts | None = hardware_facts(system_info)
            if hardware is not None and hardware.model_memory_gb is None:
                raise RecommendationError(
                    "size_tier='auto' needs to know the memory: pass a SystemInfo, a hardware_profile(...), "
                    "or a dict with 'gpu_memory_gb', 'ram_gb' or 'model_memory_gb'."
                )
            start = list(SIZE_TIERS)[-1]
            notes.append(f"auto: walking down from {start!r} to the largest tier that fits")
        else:
            start = check_tier(size_tier)
            hardware = hardware_facts(system_info) if system_info is not None else None
            if start not in self._recommendations.get(name, {}):
                notes.append(
                    f"no {start!r} recommendation for {name}: trying other capabilities' and smaller models"
                )
        label = hardware.describe() if hardware is not None else None
        checks: list[CandidateCheck] = []
        for tier, slot, rec in self._candidates(name, start):
            accepted, reasons, memory = self._check(rec, name, hardware)
            checks.append(CandidateCheck(tier, slot, rec, accepted, tuple(reasons), memory))
            if accepted:
                return RecommendationExplanation(
                    name, size_tier, label, rec, tier, tuple(checks), tuple(notes)
                )
        return RecommendationExplanation(name, size_tier, label, None, None, tuple(checks), tuple(notes))

    def _candidates(self, capability: str, size_tier: str) -> Iterator[tuple[str, str, ModelRecommendation]]:
        """(tier, slot capability, recommendation): own model, then lent ones, per tier, never larger."""
        seen: set[str] = set()
        for tier in tiers_up_to(size_tier):
            own = self._recommendations.get(capability, {}).get(tier)
            lent = [
                (other, slots[tier])
                for other, slots in self._recommendations.items()
                if other != capability and tier in slots and capability in slots[tier].capabilities
            ]
            for slot, rec in ([(capability, own)] if own else []) + lent:
                if rec.model_name not in seen:
                    seen.add(rec.model_name)
                    yield tier, slot, rec

    def _check(
        self, rec: ModelRecommendation, capability: str, hardware: HardwareFacts | None
    ) -> tuple[bool, list[str], MemoryEstimate | None]:
        reasons: list[str] = []
        if rec.gated and not self.allow_gated:
            reasons.append(f"gated on the Hub ({rec.license or 'terms'} to accept) and allow_gated=False")
        if hardware is None:
            return not reasons, reasons, None
        reasons += unmet_requirements(rec.requirements or {}, hardware.facts)
        memory = rec.estimate_memory(
            rec.default_dtype or hardware.dtype, context_tokens=self.context_tokens, capability=capability
        )
        if hardware.model_memory_gb is not None and not memory.fits(hardware.model_memory_gb):
            reasons.append(
                f"needs {memory.describe()}, more than the {hardware.model_memory_gb:.1f} GiB available"
            )
        return not reasons, reasons, memory

    # ------------------------------------------------------------------ changing
    def update_model(self, capability: str, size_tier: str, model: RecommendationLike) -> None:
        """Set (add or replace) one recommendation.

        Args:
            model: a ``ModelRecommendation``, a dict of its fields, or the name of a model in
                hfbench's catalog.

        Raises:
            UnsupportedCapabilityError: an unknown capability.
            RecommendationError: an unknown tier, a bad model, or one too large for the tier.
        """
        self._update({capability: {size_tier: model}}, merge=True, source="update_model")

    def update_recommendations(
        self, updates: Mapping[str, Mapping[str, RecommendationLike]], merge: bool = True
    ) -> None:
        """Update model recommendations, all or nothing (everything is validated first).

        Args:
            updates: capability -> tier -> recommendation (as for ``update_model``).
            merge: if True, merge with the existing recommendations; if False, replace them all.

        Raises:
            UnsupportedCapabilityError: an unknown capability.
            RecommendationError: an unknown tier, a bad model, or one too large for its tier.
        """
        self._update(updates, merge=merge, source="update_recommendations")

    def _update(
        self, updates: Mapping[str, Mapping[str, RecommendationLike]], *, merge: bool, source: str
    ) -> None:
        if not isinstance(updates, Mapping):
            raise RecommendationError(
                f"updates must map capability -> tier -> model, got {type(updates).__name__}."
            )
        parsed: Recommendations = {}
        catalog: dict[str, ModelRecommendation] | None = None
        for cap_key, tiers in updates.items():
            capability = canonical_capability(cap_key)
            if not isinstance(tiers, Mapping):
                raise RecommendationError(
                    f"updates[{cap_key!r}] must map tier -> model, got {type(tiers).__name__}."
                )
            for tier, value in tiers.items():
                check_tier(tier)
                if isinstance(value, str) and catalog is None:
                    catalog = package_catalog()
                path = f"updates.{format_key(str(cap_key))}.{format_key(str(tier))}"
                rec = resolve_entry(value, catalog or {}, key_path=path)
                problem = tier_violation(float(rec.params_b or 0.0), tier)
                if problem:
                    raise RecommendationError(
                        f"Cannot put {rec.model_name} in {capability}/{tier}: {problem}."
                    )
                parsed.setdefault(capability, {})[tier] = rec
        if not merge:
            self._recommendations = {}
            self._sources = {}
        self._merge(parsed, source)

    def remove_recommendation(self, capability: str, size_tier: str | None = None) -> bool:
        """Remove a capability's recommendation at one tier, or all of them.

        Returns:
            True when something was removed.

        Raises:
            UnsupportedCapabilityError: an unknown capability.
            RecommendationError: an unknown tier.
        """
        name = canonical_capability(capability)
        slots = self._recommendations.get(name, {})
        tiers = [check_tier(size_tier)] if size_tier is not None else list(slots)
        removed = False
        for tier in tiers:
            if slots.pop(tier, None) is not None:
                self._sources.pop((name, tier), None)
                removed = True
        if not slots:
            self._recommendations.pop(name, None)
        return removed

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        hardware: SystemInfo | Mapping[str, Any] | None = None,
        description: str = "",
    ) -> Path:
        """Write every recommendation to a JSON or TOML file (``from_file`` reads it back equal).

        Args:
            hardware: makes it a tuned file for that machine (its fingerprint is stored).
        """
        return save_recommendation_file(
            path, self._recommendations, hardware=hardware, description=description
        )

    # ------------------------------------------------------------------ tables
    def recommendations_for(
        self, system_info: SystemInfoLike, *, capabilities: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Per capability and tier: the slot's model, whether it fits, why not, and what to use instead.

        Capabilities without any model of their own get one row (tier ``-``) with what the
        fallback finds. Rows are plain dictionaries (printable, JSON-able, ``pandas.DataFrame(rows)``).
        """
        hardware = hardware_facts(system_info)
        names = (
            [canonical_capability(c) for c in capabilities]
            if capabilities
            else [
                *self.capabilities(),
                *(c for c in capability_specs() if c not in self._recommendations),
            ]
        )
        rows: list[dict[str, Any]] = []
        for capability in names:
            slots = self._recommendations.get(capability, {})
            if not slots:
                found = self.explain_recommendation(capability, list(SIZE_TIERS)[-1], system_info)
                rows.append(_row(capability, "-", None, None, found.chosen, "no model of its own"))
                continue
            for tier, rec in slots.items():
                accepted, reasons, memory = self._check(rec, capability, hardware)
                use = rec if accepted else self.explain_recommendation(capability, tier, system_info).chosen
                rows.append(_row(capability, tier, rec, memory, use, "; ".join(reasons), accepted))
        return rows


def _row(
    capability: str,
    tier: str,
    rec: ModelRecommendation | None,
    memory: MemoryEstimate | None,
    use: ModelRecommendation | None,
    why: str,
    fits: bool | None = None,
) -> dict[str, Any]:
    return {
        "capability": capability,
        "tier": tier,
        "model": rec.model_name if rec else "-",
        "params_b": round(rec.params_b or 0.0, 3) if rec else None,
        "needs_gb": round(memory.total_gb, 1) if memory else None,
        "fits": "-" if fits is None else ("yes" if fits else "no"),
        "use": use.model_name if use else "nothing fits",
        "why": why,
    }


def recommendations_for(
    system_info: SystemInfoLike,
    registry: CapabilityRegistry | None = None,
    *,
    capabilities: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The table behind ``hfbench models --for-hardware``: see ``CapabilityRegistry.recommendations_for``.

    Args:
        system_info: a ``SystemInfo`` (``hardware_profile(...)`` for what-if) or a seed-style dict.
        registry: default: hfbench's package recommendations.
        capabilities: limit the table to these (default: every capability).
    """
    return (registry or CapabilityRegistry()).recommendations_for(system_info, capabilities=capabilities)


def model_catalog() -> dict[str, ModelRecommendation]:
    """Every model hfbench's package data describes, by name (recommended or listed as an alternative)."""
    return package_catalog()
