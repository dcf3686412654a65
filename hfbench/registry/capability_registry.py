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
same tier that list this capability; hfbench's other catalog models of that tier that serve it,
largest first; then the same for each smaller tier. Each candidate is tried with the recipes a
user would (``registry.recipes``: 16-bit, 8-bit, 4-bit on a GPU; fp32 on a CPU), each checked for
memory and, for jobs that stream tokens, for speed (``registry.speed``: estimated, or measured
where a tuned file has it) against ``min_tokens_per_s``; the first recipe that passes is chosen
and the returned recommendation carries it (``ModelRecommendation.fit``). With ``offline=True``
only models usable with no Hub access are taken (``registry.availability``).

This module holds the registry's layers, its lookup and its changes; the machine's view is
``registry.hardware``, the lookup's account ``registry.explanation`` and the hardware table
``registry.tables`` (their names are importable from here too).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from hfbench.core.capability import canonical_capability
from hfbench.core.errors import NoSuitableModelError, RecommendationError
from hfbench.core.hardware import SystemInfo
from hfbench.core.validation import join_path
from hfbench.registry.availability import model_availability
from hfbench.registry.calibration import SpeedPoint, fit_speed
from hfbench.registry.explanation import (
    ALTERNATIVE,
    CandidateCheck,
    CheckKind,
    LayerInfo,
    RecommendationExplanation,
    WhatIf,
)
from hfbench.registry.files import (
    RecommendationFile,
    Recommendations,
    default_recommendation_file,
    load_recommendation_file,
    package_catalog,
    resolve_entry,
    save_recommendation_file,
)
from hfbench.registry.hardware import HardwareFacts, SystemInfoLike, hardware_facts
from hfbench.registry.memory import DEFAULT_CONTEXT_TOKENS
from hfbench.registry.profiles import hardware_presets, hardware_profile
from hfbench.registry.recipes import RecipeCheck, recipes_for
from hfbench.registry.recommendation import ModelRecommendation, unmet_requirements
from hfbench.registry.speed import default_min_tokens_per_s, measured_speed
from hfbench.registry.tables import recommendation_rows
from hfbench.registry.tiers import (
    AUTO_TIER,
    SIZE_TIERS,
    check_tier,
    tier_for_params,
    tier_violation,
    tiers_up_to,
)

__all__ = [
    "CandidateCheck",
    "CapabilityRegistry",
    "HardwareFacts",
    "LayerInfo",
    "RecommendationExplanation",
    "RecommendationLike",
    "SystemInfoLike",
    "WhatIf",
    "hardware_facts",
    "model_catalog",
    "recommendations_for",
    "tuned_file_matches",
]

logger = logging.getLogger(__name__)

RecommendationLike = ModelRecommendation | Mapping[str, Any] | str
MinTokensPerS = float | Mapping[str, float] | None

#: Catalog models with these tags are never tried as alternatives: an older family kept so that
#: files naming it still load, or a reasoning-only model whose long thinking a job did not ask for.
NOT_AN_ALTERNATIVE = frozenset({"superseded", "reasoning"})


# --------------------------------------------------------------------------- registry
class CapabilityRegistry:
    """Registry of capabilities and recommended models, per size tier.

    Layers, lowest first: hfbench's package defaults < a tuned file from the benchmark (applied
    only on the hardware it was measured on) < a user overlay file. ``update_model`` and friends
    change the merged result in place.

    Args:
        defaults: start from hfbench's package recommendations (validated on load).
        tuned: a tuned recommendation file; applied when its ``hardware.hardware_id`` matches
            ``system_info`` (default: this machine) — with a logged warning when the library
            versions differ — else ignored with a logged reason (``tuned_file_matches``).
        overlay: a user's recommendation file merged on top (their own models, fine-tunes).
        system_info: the machine a tuned file is checked against.
        context_tokens: tokens of context the KV cache is sized for in fit checks.
        allow_gated: when False, gated Hub models (license to accept, token needed) are skipped.
        min_tokens_per_s: the decode speed a model must reach for jobs that stream tokens: None
            for the per-capability defaults (``data/speed.toml``: 5 tok/s for chat), a number for
            every such capability, or capability -> number over the defaults; 0 turns it off.
        offline: take only models usable with no Hub access: embedded and prepared, in the Hub
            cache, or a local folder (the provider asks for it for ``size_tier="auto"`` when
            ``HF_HUB_OFFLINE`` is set).

    Example:
        >>> from hfbench.registry import CapabilityRegistry, hardware_profile
        >>> registry = CapabilityRegistry()
        >>> registry.get_recommendation("chat", "auto", hardware_profile("consumer-gpu-24gb")).model_name
        'Qwen/Qwen3-30B-A3B-Instruct-2507'
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
        min_tokens_per_s: MinTokensPerS = None,
        offline: bool = False,
    ) -> None:
        if isinstance(context_tokens, bool) or not isinstance(context_tokens, int) or context_tokens < 0:
            raise RecommendationError(f"context_tokens must be a whole number >= 0, got {context_tokens!r}.")
        self.context_tokens = context_tokens
        self.allow_gated = bool(allow_gated)
        self.offline = bool(offline)
        self._min_tokens_per_s = _check_min_tokens_per_s(min_tokens_per_s)
        self._recommendations: Recommendations = {}
        self._sources: dict[tuple[str, str], str] = {}
        self._layers: list[LayerInfo] = []
        self._alternatives: tuple[ModelRecommendation, ...] = ()
        self._tuned_points: dict[str, list[SpeedPoint]] = {}
        if defaults:
            self._merge(default_recommendation_file().recommendations, "package defaults")
            self._layers.append(LayerInfo("package defaults", None, True))
            self._alternatives = _alternatives(package_catalog().values())
        if tuned is not None:
            self._apply_tuned(tuned, system_info)
        if overlay is not None:
            self._apply_overlay(overlay)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> CapabilityRegistry:
        """A registry holding exactly the file's recommendations (no package defaults beneath).

        A tuned file loads as it is — recipes and measured figures included
        (``measured_capabilities``) — and its hardware block is not checked here; use
        ``CapabilityRegistry(tuned=...)`` or ``with_tuned`` to apply it only on its hardware.
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
        clone._tuned_points = {k: list(v) for k, v in self._tuned_points.items()}
        return clone

    def with_tuned(
        self, path: str | os.PathLike[str], system_info: SystemInfoLike | None = None
    ) -> CapabilityRegistry:
        """A copy with a tuned file merged on top, if it was made on this hardware.

        Args:
            path: a file written by the benchmark's tuning (it has a ``hardware`` block).
            system_info: the machine to match (default: this one, ``hfbench.system_info()``); a
                dict matches by its ``"hardware_id"`` key, else its ``"fingerprint"``.

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
        applies, reason = tuned_file_matches(loaded, system_info, path)
        if not applies:
            logger.warning("Tuned recommendations %s %s", path, reason)
            self._layers.append(LayerInfo("tuned", str(path), False, reason))
            return
        self._merge(loaded.recommendations, f"tuned file {path}")
        self._layers.append(LayerInfo("tuned", str(path), True, reason))
        if loaded.hardware_id:
            points = self._tuned_points.setdefault(loaded.hardware_id, [])
            points += _measured_points(loaded.recommendations)

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

    def min_tokens_per_s(self, capability: str) -> float | None:
        """The decode speed a model must reach for ``capability`` (None: no minimum applies)."""
        name = canonical_capability(capability)
        wanted = self._min_tokens_per_s
        default = default_min_tokens_per_s(name)
        if isinstance(wanted, Mapping):
            value = wanted.get(name, default)
        elif wanted is None:
            value = default
        else:
            value = wanted if default is not None else None
        return value if value else None

    def measured_capabilities(self, model_name: str) -> dict[str, tuple[float, dict[str, Any]]]:
        """What a tuned file measured for a model: capability -> (confidence, evidence).

        Gathers the ``measured`` figures of every recommendation of ``model_name`` in this
        registry (a model tuned for two capabilities carries one in each slot), ready for
        ``ModelCapabilities.apply_measured(capability, confidence, evidence)``. Empty when the
        model has no measured recommendation (package defaults, overlays, another machine's file).
        """
        out: dict[str, tuple[float, dict[str, Any]]] = {}
        for _, _, rec in self:
            if rec.model_name == model_name:
                out.update(rec.measured_capabilities())
        return out

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
            The recommendation — on given hardware carrying the recipe chosen for it, with its
            memory and its decode speed, ``estimated`` or ``measured`` (``rec.fit``,
            ``rec.speed``, ``rec.run_config()``) — or None when no candidate is suitable
            (``explain_recommendation`` says why; ``require_recommendation`` raises an error that
            says it).

        Raises:
            UnsupportedCapabilityError: an unknown capability (with did-you-mean).
            RecommendationError: an unknown tier (with did-you-mean), or ``"auto"`` with a
                ``system_info`` that does not say how much memory there is.
        """
        explanation = self.explain_recommendation(capability, size_tier, system_info)
        if explanation.fell_back:
            logger.info("%s", explanation)
        return explanation.chosen

    def require_recommendation(
        self,
        capability: str,
        size_tier: str = "medium",
        system_info: SystemInfoLike | None = None,
        *,
        allow_smaller: bool = True,
    ) -> ModelRecommendation:
        """Like ``get_recommendation``, but a failed lookup raises an error that says what would work.

        Args:
            capability, size_tier, system_info: as for ``get_recommendation``.
            allow_smaller: when False, only a model at ``size_tier`` itself will do (the error then
                names the largest smaller tier whose model fits).

        Returns:
            The recommendation.

        Raises:
            NoSuitableModelError: nothing suitable; the message lists every model tried and why it
                was rejected, the largest smaller tier that fits, and a hardware preset that would
                serve the tier; ``.explanation`` holds the ``RecommendationExplanation``.
            UnsupportedCapabilityError: an unknown capability (with did-you-mean).
            RecommendationError: as for ``get_recommendation``.
        """
        explanation = self.explain_recommendation(capability, size_tier, system_info)
        if explanation.chosen is None or not (allow_smaller or explanation.found_at_asked_tier):
            explanation = self._with_what_if(explanation)
            raise NoSuitableModelError(explanation.advice(), explanation=explanation)
        if explanation.fell_back:
            logger.info("%s", explanation)
        return explanation.chosen

    def explain_recommendation(
        self,
        capability: str,
        size_tier: str = "medium",
        system_info: SystemInfoLike | None = None,
        *,
        what_if: bool = False,
    ) -> RecommendationExplanation:
        """Like ``get_recommendation``, but returns every candidate tried and why it was rejected.

        ``print()`` the result for a readable account; ``.chosen``, ``.rejected`` and
        ``.candidates`` (each with ``reasons`` and a ``MemoryEstimate``) for programs;
        ``.advice()`` for what would work when nothing fitted.

        Args:
            capability, size_tier, system_info: as for ``get_recommendation``.
            what_if: when the asked tier is not served on this hardware, also try the hardware
                presets (``explanation.what_if``, used by ``advice()``).
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
        if hardware is not None:
            hardware = self._calibrated(hardware)
            notes += self._speed_notes(name, hardware)
        if self.offline:
            notes.append("offline: only models that are embedded and prepared, in the Hub cache, or a folder")
        checks: list[CandidateCheck] = []
        chosen: CandidateCheck | None = None
        for tier, slot, rec in self._candidates(name, start):
            checks.append(self.check_candidate(rec, name, hardware, tier=tier, slot=slot))
            if checks[-1].accepted:
                chosen = checks[-1]
                break
        explanation = RecommendationExplanation(
            name,
            size_tier,
            hardware.describe() if hardware is not None else None,
            chosen.recommendation.with_fit(chosen.chosen_recipe) if chosen else None,
            chosen.tier if chosen else None,
            tuple(checks),
            tuple(notes),
        )
        return self._with_what_if(explanation) if what_if else explanation

    def _with_what_if(self, explanation: RecommendationExplanation) -> RecommendationExplanation:
        """The explanation with ``what_if`` filled in, when hardware was checked and the tier not served."""
        if explanation.hardware is None or not explanation.candidates or explanation.found_at_asked_tier:
            return explanation
        return dataclasses.replace(
            explanation, what_if=self.what_if(explanation.capability, explanation.size_tier)
        )

    def what_if(self, capability: str, size_tier: str = "medium") -> tuple[WhatIf, ...]:
        """The hardware presets on which this lookup succeeds, best answers first.

        Presets that serve ``size_tier`` itself come first, then those whose answer sits in the
        largest tier below it; among equals (and for ``"auto"``), the least memory for models first.

        Returns:
            One ``WhatIf`` per preset with a suitable model (empty when none has one).
        """
        ranked: list[tuple[tuple[bool, int, float], WhatIf]] = []
        for preset, description in hardware_presets().items():
            info = hardware_profile(preset)
            answer = self.explain_recommendation(capability, size_tier, info)
            if answer.chosen is None or answer.chosen_tier is None:
                continue
            # For "auto" any tier answers the question, so the smallest machine comes first.
            below = 0 if size_tier == AUTO_TIER else -list(SIZE_TIERS).index(answer.chosen_tier)
            rank = (not answer.found_at_asked_tier, below, info.model_memory_gb)
            ranked.append((rank, WhatIf(preset, description, answer.chosen, answer.chosen_tier)))
        return tuple(what for _, what in sorted(ranked, key=lambda item: item[0]))

    def _candidates(self, capability: str, size_tier: str) -> Iterator[tuple[str, str, ModelRecommendation]]:
        """(tier, slot, recommendation) per tier, never larger: the capability's own model, the
        models other capabilities' slots lend it, then the catalog's other models of that tier
        that serve it, largest first (slot ``alternative``; only with the package defaults; the
        embedded models only offline, where they are the fallback)."""
        seen: set[str] = set()
        for tier in tiers_up_to(size_tier):
            own = self._recommendations.get(capability, {}).get(tier)
            lent = [
                (other, slots[tier])
                for other, slots in self._recommendations.items()
                if other != capability and tier in slots and capability in slots[tier].capabilities
            ]
            others = [
                (ALTERNATIVE, rec)
                for rec in self._alternatives
                if capability in rec.capabilities
                and tier_for_params(rec.params_b) == tier
                and (self.offline or not rec.model_name.startswith("embedded:"))
            ]
            for slot, rec in ([(capability, own)] if own else []) + lent + others:
                if rec.model_name not in seen:
                    seen.add(rec.model_name)
                    yield tier, slot, rec

    def _calibrated(self, hardware: HardwareFacts) -> HardwareFacts:
        """The hardware with a speed calibration from the tuned files' measurements of it, when
        no calibration was cached for its hardware id."""
        speed = hardware.speed
        if speed is None or speed.calibration is not None or not speed.hardware_id:
            return hardware
        points = self._tuned_points.get(speed.hardware_id)
        if not points:
            return hardware
        calibration = fit_speed(
            points,
            bandwidth_gbps=speed.bandwidth.gbps,
            hardware_id=speed.hardware_id,
            accelerator=speed.accelerator,
        )
        return dataclasses.replace(hardware, speed=dataclasses.replace(speed, calibration=calibration))

    def _speed_notes(self, capability: str, hardware: HardwareFacts) -> list[str]:
        if hardware.speed is None:
            return []
        minimum = self.min_tokens_per_s(capability)
        wanted = f"; at least {minimum:g} tok/s for {capability}" if minimum else ""
        return [f"speed: {hardware.speed.describe()}{wanted}"]

    def check_candidate(
        self,
        rec: ModelRecommendation,
        capability: str,
        hardware: HardwareFacts | None,
        *,
        tier: str,
        slot: str,
    ) -> CandidateCheck:
        """Check one model for ``capability`` on ``hardware``: gated, requirements, available
        offline (with ``offline=True``), then its recipes in order until one fits the memory and
        reaches the minimum speed.

        Args:
            rec: the model.
            capability: the job (decides whether a KV cache is counted and whether a minimum
                speed applies).
            hardware: the machine (None: only the gated and offline checks apply).
            tier, slot: where the model was found, recorded in the result.
        """
        failures: list[tuple[CheckKind, str]] = []
        if rec.gated and not self.allow_gated:
            failures.append(
                ("gated", f"gated on the Hub ({rec.license or 'terms'} to accept) and allow_gated=False")
            )
        where = None
        if self.offline:
            availability = model_availability(rec.model_name)
            where = availability.describe()
            if not availability.available:
                failures.append(("unavailable", f"offline and {availability.describe()}"))
        memory = None
        recipes: tuple[RecipeCheck, ...] = ()
        if hardware is not None:
            failures += [("requirements", r) for r in unmet_requirements(rec.requirements, hardware.facts)]
            recipes = self._check_recipes(rec, capability, hardware)
            tried = [r for r in recipes if r.skipped is None]
            chosen = next((r for r in tried if r.accepted), None)
            memory = (chosen or tried[0]).memory if tried else None
            if chosen is None:
                failures += _recipe_failures(recipes)
        reasons = tuple(reason for _, reason in failures)
        failed = tuple(dict.fromkeys(kind for kind, _ in failures))  # each kind once, in check order
        return CandidateCheck(tier, slot, rec, not failures, reasons, memory, failed, recipes, where)

    def _check_recipes(
        self, rec: ModelRecommendation, capability: str, hardware: HardwareFacts
    ) -> tuple[RecipeCheck, ...]:
        """Each recipe in order, until one fits and is fast enough (skipped ones say why)."""
        available = hardware.model_memory_gb
        streams = hardware.speed is not None and rec.generates_for(capability)
        minimum = self.min_tokens_per_s(capability) if streams else None
        recipe_dtype = _short_recipe_dtype(rec)
        checks: list[RecipeCheck] = []
        for choice in recipes_for(hardware, rec):
            recipe = choice.recipe
            if choice.skipped is not None:
                checks.append(RecipeCheck(recipe, False, skipped=choice.skipped))
                continue
            memory = rec.estimate_memory(
                recipe.dtype, context_tokens=self.context_tokens, capability=capability
            )
            failures: list[tuple[str, str]] = []
            if available is not None and not memory.fits(available):
                failures.append(
                    ("memory", f"needs {memory.describe()}, more than the {available:.1f} GiB available")
                )
            speed = None
            if streams and hardware.speed is not None:
                speed = measured_speed(
                    rec.measured, capability, dtype=recipe.dtype, recipe_dtype=recipe_dtype
                ) or hardware.speed.estimate(
                    rec.bytes_per_token(recipe.dtype),
                    recipe.dtype,
                    speed_factor=recipe.speed_factor,
                    label=recipe.name,
                )
                if not failures and minimum and speed.tokens_per_s < minimum:
                    failures.append(
                        (
                            "speed",
                            f"{speed.tokens_per_s:.3g} tok/s {speed.kind}, below the {minimum:g} tok/s "
                            f"minimum for {capability}",
                        )
                    )
            checks.append(
                RecipeCheck(
                    recipe,
                    not failures,
                    memory,
                    speed,
                    minimum,
                    available,
                    tuple(reason for _, reason in failures),
                    tuple(kind for kind, _ in failures),
                )
            )
            if not failures:
                break
        return tuple(checks)

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
            merge: if True, merge with the existing recommendations; if False, replace them all
                (and the package catalog's alternatives are no longer tried).

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
                path = join_path(join_path("updates", cap_key), tier)
                rec = resolve_entry(value, catalog or {}, key_path=path)
                problem = tier_violation(rec.params_b, tier)
                if problem:
                    raise RecommendationError(
                        f"Cannot put {rec.model_name} in {capability}/{tier}: {problem}."
                    )
                parsed.setdefault(capability, {})[tier] = rec
        if not merge:
            self._recommendations = {}
            self._sources = {}
            self._alternatives = ()  # "replace them all": the package catalog's fallbacks too
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

        See ``hfbench.registry.tables.recommendation_rows``.
        """
        return recommendation_rows(self, system_info, capabilities=capabilities)


def tuned_file_matches(
    loaded: RecommendationFile, system_info: SystemInfoLike, path: str | os.PathLike[str]
) -> tuple[bool, str]:
    """Whether a tuned file applies to a machine, and why (or why not).

    A file that records ``hardware.hardware_id`` applies on the machine with that hardware id
    (hardware only): a torch or transformers upgrade keeps the measurements usable, with a
    logged warning that they were made with other library versions. An older file without a
    hardware id applies only where its full ``fingerprint`` (hardware and software) matches.

    Args:
        loaded: the parsed tuned file (it has a hardware block).
        system_info: the machine: a ``SystemInfo``, or a dict matched by its ``"hardware_id"``
            (else ``"fingerprint"``) key.
        path: the file, for messages.
    """
    if isinstance(system_info, SystemInfo):
        here_id: str | None = system_info.hardware_id()
        here_fingerprint: str | None = system_info.fingerprint()
    else:
        here_id, here_fingerprint = system_info.get("hardware_id"), system_info.get("fingerprint")
    made_on = (loaded.hardware or {}).get("name", "another machine")
    if loaded.hardware_id is not None and here_id is not None:
        if loaded.hardware_id != here_id:
            made = f"made on {made_on} (hardware id {loaded.hardware_id})"
            return False, f"ignored: {made}, this hardware's id is {here_id}"
        reason = f"hardware id {here_id} matches"
        if here_fingerprint is not None and here_fingerprint != loaded.fingerprint:
            logger.warning(
                "Tuned recommendations %s were measured on this hardware (id %s) with other library "
                "versions (fingerprint %s, here %s): applying them; re-run `hfbench run` and "
                "`hfbench tune` to measure with the torch/transformers installed now.",
                path,
                here_id,
                loaded.fingerprint,
                here_fingerprint,
            )
            reason += f"; software differs (fingerprint {loaded.fingerprint}, here {here_fingerprint})"
        return True, reason
    if here_fingerprint != loaded.fingerprint:
        return False, (
            f"ignored: made on {made_on} (fingerprint {loaded.fingerprint}), "
            f"this hardware's fingerprint is {here_fingerprint or 'unknown'}"
        )
    return True, f"fingerprint {here_fingerprint} matches"


def model_catalog() -> dict[str, ModelRecommendation]:
    """Every model hfbench's package data describes, by name (recommended or listed as an alternative)."""
    return package_catalog()


def recommendations_for(
    system_info: SystemInfoLike,
    registry: CapabilityRegistry | None = None,
    *,
    capabilities: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The table behind ``hfbench models --for-hardware`` (see ``tables.recommendation_rows``).

    Args:
        system_info: a ``SystemInfo`` (``hardware_profile(...)`` for what-if) or a seed-style dict.
        registry: default: hfbench's package recommendations.
        capabilities: limit the table to these (default: every capability).
    """
    return recommendation_rows(registry or CapabilityRegistry(), system_info, capabilities=capabilities)


def _check_min_tokens_per_s(value: MinTokensPerS) -> MinTokensPerS:
    """``min_tokens_per_s`` checked: None, a number >= 0, or capability -> number >= 0."""

    def bad(number: Any) -> bool:
        return isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0

    if value is None:
        return None
    if isinstance(value, Mapping):
        out = {}
        for key, number in value.items():
            if bad(number):
                raise RecommendationError(
                    f"min_tokens_per_s[{key!r}] must be a number >= 0 (tokens per second), got {number!r}."
                )
            out[canonical_capability(str(key))] = float(number)
        return out
    if bad(value):
        raise RecommendationError(
            f"min_tokens_per_s must be a number >= 0 (tokens per second), a table capability -> number, "
            f"or None for the defaults; got {value!r}."
        )
    return float(value)


def _alternatives(catalog: Any) -> tuple[ModelRecommendation, ...]:
    """The catalog models lookups may try after a tier's slots, largest first."""
    usable = [rec for rec in catalog if not NOT_AN_ALTERNATIVE & set(rec.tags)]
    return tuple(sorted(usable, key=lambda rec: (-rec.params_b, rec.model_name)))


def _short_recipe_dtype(rec: ModelRecommendation) -> str | None:
    """The short dtype a tuned recommendation was measured in (None: not measured)."""
    from hfbench.core.dtypes import is_dtype, short_dtype

    dtype = (rec.recipe or {}).get("dtype")
    return short_dtype(dtype) if isinstance(dtype, str) and is_dtype(dtype) else None


def _recipe_failures(recipes: tuple[RecipeCheck, ...]) -> list[tuple[CheckKind, str]]:
    """Why no recipe was taken: one reason for the recipes too large for the memory (the first
    with its full estimate), one for those that fit but are too slow."""
    tried = [r for r in recipes if r.skipped is None]
    if not tried:
        skipped = "; ".join(f"{r.recipe.name}: {r.skipped}" for r in recipes) or "none for this machine"
        return [("requirements", f"no recipe applies here ({skipped})")]
    failures: list[tuple[CheckKind, str]] = []
    large = [(r, r.memory) for r in tried if "memory" in r.failed_checks and r.memory is not None]
    if large:
        (first, memory), *others = large
        also = "".join(f", {m.total_gb:.1f} at {r.recipe.name}" for r, m in others)
        available = (
            f"the {first.available_gb:.1f} GiB available" if first.available_gb is not None else "memory"
        )
        failures.append(("memory", f"needs {memory.describe()}{also}, more than {available}"))
    slow = [r for r in tried if "speed" in r.failed_checks and r.speed is not None]
    if slow:
        speeds = ", ".join(
            f"{r.speed.tokens_per_s:.3g} tok/s {r.speed.kind} at {r.recipe.name}" for r in slow if r.speed
        )
        minimum = slow[0].min_tokens_per_s or 0
        failures.append(("speed", f"{speeds}: below the {minimum:g} tok/s minimum"))
    return failures


def _measured_points(recommendations: Recommendations) -> list[SpeedPoint]:
    """A tuned file's measured decode speeds, as calibration points (weights and dtype known)."""
    from hfbench.core.dtypes import is_dtype, short_dtype

    points = []
    for capability, tiers in recommendations.items():
        for rec in tiers.values():
            figures = (rec.measured or {}).get(capability) or {}
            speed, weights = figures.get("decode_tokens_per_s"), figures.get("weights_mb")
            dtype = (rec.recipe or {}).get("dtype")
            if speed and weights and isinstance(dtype, str) and is_dtype(dtype):
                points.append(
                    SpeedPoint(
                        rec.model_name,
                        short_dtype(dtype),
                        float(weights) * 1024**2,
                        float(speed),
                        capability,
                        str(figures.get("cell_id") or ""),
                    )
                )
    return points
