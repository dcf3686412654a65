"""What a lookup decided and why: candidates, their checks, and advice when nothing fitted.

``CapabilityRegistry.explain_recommendation`` returns a ``RecommendationExplanation``;
``advice()`` turns it into the text of ``NoSuitableModelError`` (what was tried, why each model was
rejected, and what would work instead), for the registry and the providers alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from hfbench.registry.memory import MemoryEstimate
from hfbench.registry.recipes import RecipeCheck
from hfbench.registry.recommendation import ModelRecommendation
from hfbench.registry.tiers import AUTO_TIER

CheckKind = Literal["gated", "requirements", "unavailable", "memory", "speed"]
"""A check a candidate can fail: gated on the Hub, unmet hardware requirements, not usable offline
(not cached, not embedded), too large for the memory with every recipe, or too slow with every
recipe that fits."""

#: The slot name of a catalog model tried after a tier's own and lent models (see ``_candidates``).
ALTERNATIVE = "alternative"

_KIND_WORDS: dict[str, str] = {
    "memory": "too large for the memory",
    "speed": "too slow (below the minimum tokens/s)",
    "requirements": "unmet hardware requirements",
    "unavailable": "not available offline (not cached, not embedded)",
    "gated": "gated (allow_gated=False)",
}


@dataclass(frozen=True)
class CandidateCheck:
    """One model the registry considered, and whether (and why not) it was taken.

    Attributes:
        tier: the tier it was tried at.
        slot: the capability whose slot holds it (another one when it is lent).
        recommendation: the model.
        accepted: whether it passed every check.
        reasons: why not, for people (one per failed check; per recipe for memory and speed).
        memory: its estimate on the hardware: the chosen recipe's, else the first recipe tried
            (None when no hardware was given).
        failed_checks: which checks failed, for programs (``memory``, ``speed``,
            ``requirements``, ``unavailable``, ``gated``).
        recipes: every recipe considered, in order, with its memory and speed (empty without
            hardware, or when an earlier check failed).
        availability: offline lookups: where the model is (``embedded``, ``hub cache`` …) or
            why it cannot be used (None: not checked).
    """

    tier: str
    slot: str
    recommendation: ModelRecommendation
    accepted: bool
    reasons: tuple[str, ...]
    memory: MemoryEstimate | None
    failed_checks: tuple[CheckKind, ...] = ()
    recipes: tuple[RecipeCheck, ...] = ()
    availability: str | None = None

    @property
    def chosen_recipe(self) -> RecipeCheck | None:
        """The first recipe that fits and is fast enough (None: none, or nothing was checked)."""
        return next((r for r in self.recipes if r.accepted), None)

    def describe(self) -> str:
        """One line: verdict, tier, model, where it came from, and why (the chosen recipe with its
        memory and speed, or every reason it was turned down)."""
        verdict = "chosen  " if self.accepted else "rejected"
        why = "; ".join(self.reasons)
        chosen = self.chosen_recipe
        if self.accepted and chosen is not None and chosen.memory is not None:
            speed = f"; {chosen.speed.tokens_per_s:.3g} tok/s {chosen.speed.kind}" if chosen.speed else ""
            why = f"{chosen.recipe.name}: needs {chosen.memory.describe()}{speed}"
        elif self.accepted and self.memory is not None:
            why = f"needs {self.memory.describe()}"
        if self.accepted and self.availability:
            why += f" [{self.availability}]"
        return f"{verdict} {self.tier:<7} {self.recommendation.model_name} [{self.slot}]" + (
            f": {why}" if why else ""
        )


@dataclass(frozen=True)
class WhatIf:
    """A hardware preset on which the lookup would succeed (see ``hardware_presets()``).

    Attributes:
        profile: the preset's name, for ``hardware_profile(profile)``.
        description: the preset's one-line description.
        recommendation: the model the lookup would choose there.
        tier: the tier it sits in.
    """

    profile: str
    description: str
    recommendation: ModelRecommendation
    tier: str


@dataclass(frozen=True)
class RecommendationExplanation:
    """The outcome of a lookup: what was chosen, and every candidate rejected on the way.

    Attributes:
        capability: the canonical capability asked for.
        size_tier: the tier asked for (or ``auto``).
        hardware: the machine's description (None: requirements and fit were not checked).
        chosen: the model taken (None: nothing suitable).
        chosen_tier: the tier it sits in.
        candidates: every model tried, in order.
        notes: remarks on the walk (a missing slot, ``auto``'s start).
        what_if: hardware presets on which the lookup would succeed, best first: those that serve
            the asked tier itself, then those reaching the largest tier below it; the least memory
            first within each (None: not looked at; see ``explain_recommendation(what_if=True)``).
    """

    capability: str
    size_tier: str
    hardware: str | None
    chosen: ModelRecommendation | None
    chosen_tier: str | None
    candidates: tuple[CandidateCheck, ...]
    notes: tuple[str, ...] = ()
    what_if: tuple[WhatIf, ...] | None = None

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

    @property
    def found_at_asked_tier(self) -> bool:
        """True when a model was chosen at the asked tier (any tier for ``auto``)."""
        return self.chosen is not None and self.size_tier in (AUTO_TIER, self.chosen_tier)

    def describe(self) -> str:
        """A few lines for people: the question, each candidate, the answer."""
        lines = [f"{self.capability} at tier {self.size_tier!r}{self._on()}:"]
        lines += [f"  {note}" for note in self.notes]
        lines += [f"  {c.describe()}" for c in self.candidates]
        if self.chosen is None:
            lines.append("  -> nothing suitable; try a smaller tier, a quantized dtype, or other hardware")
        else:
            lines.append(f"  -> {self.chosen.model_name} (tier {self.chosen_tier}){self._recipe_summary()}")
        return "\n".join(lines)

    def _recipe_summary(self) -> str:
        """``, recipe nf4 (int4 via bitsandbytes, transformers), context 4096, 11.2 tok/s estimated``."""
        fit = self.chosen.fit if self.chosen is not None else None
        if fit is None:
            return ""
        context = f", context {fit.context_tokens}" if fit.context_tokens else ""
        speed = f", {fit.speed.tokens_per_s:.3g} tok/s {fit.speed.kind}" if fit.speed is not None else ""
        return f", recipe {fit.recipe.describe()}{context}{speed}"

    def chain(self) -> str:
        """Every candidate with every recipe tried: tiers, recipes, memory and speed against the
        requirements, estimated or measured (``hfbench models --why``, in full)."""
        lines = [f"{self.capability} at tier {self.size_tier!r}{self._on()}:"]
        lines += [f"  {note}" for note in self.notes]
        for candidate in self.candidates:
            if not candidate.recipes:
                lines.append(f"  {candidate.describe()}")
                continue
            verdict = "chosen  " if candidate.accepted else "rejected"
            where = f" [{candidate.availability}]" if candidate.availability else ""
            name = candidate.recommendation.model_name
            lines.append(f"  {verdict} {candidate.tier:<7} {name} [{candidate.slot}]{where}")
            for recipe in candidate.recipes:
                if recipe.skipped is None or candidate.accepted:
                    lines.append(f"      {recipe.describe()}")
            chosen = candidate.chosen_recipe
            if chosen is not None and chosen.speed is not None:
                lines.append(f"      speed: {chosen.speed.basis}")
        if self.chosen is None:
            lines.append("  -> nothing suitable")
        else:
            lines.append(f"  -> {self.chosen.model_name} (tier {self.chosen_tier}){self._recipe_summary()}")
        return "\n".join(lines)

    def advice(self) -> str:
        """Why no model was taken at the asked tier, and what would work: ``NoSuitableModelError``'s text.

        Lists every rejected candidate with its reasons, counts the rejections by kind (memory,
        requirements, gated), then names what would work: the largest smaller tier with a model
        that fits this hardware, hardware presets that would serve the asked tier (``what_if``),
        or adding a model when none serves the capability.
        """
        below = "" if self.chosen is not None else " or any smaller tier"
        lines = [f"No suitable model for {self.capability} at tier {self.size_tier!r}{below}{self._on()}."]
        lines += [f"  {note}" for note in self.notes]
        if self.rejected:
            lines.append("Tried, largest tier first:")
            lines += [f"  {c.describe()}" for c in self.rejected]
            counts = Counter(kind for c in self.rejected for kind in c.failed_checks)
            if counts:
                lines.append(
                    "Rejected: " + ", ".join(f"{n} {_KIND_WORDS[kind]}" for kind, n in counts.items()) + "."
                )
        lines.append("What would work:")
        lines += [f"  - {hint}" for hint in self._hints()]
        return "\n".join(lines)

    def _hints(self) -> list[str]:
        hints: list[str] = []
        if not self.candidates:
            hints.append(
                f"a model for {self.capability}: no model in this registry serves it at tier "
                f"{self.size_tier!r} or below (neither its own nor one lent by another capability); add one "
                "with update_model(...) or an overlay file"
            )
        elif self.chosen is not None and not self.found_at_asked_tier:
            hints.append(
                f"a smaller tier: {self.chosen_tier!r} has {self.chosen.model_name}, which fits this hardware"
            )
        elif self.chosen is None:
            hints.append(
                f"no smaller tier: every {self.capability} model down to the smallest tier was rejected here"
            )
        if self.what_if:
            first = self.what_if[0]
            also = [w.profile for w in self.what_if[1:] if w.tier == first.tier]
            hints.append(
                f"other hardware: hardware_profile({first.profile!r}) gets {first.recommendation.model_name} "
                f"at tier {first.tier!r}"
                + (f" (so do: {', '.join(also)})" if also else "")
                + (f"; it is: {first.description.rstrip('.')}" if first.description else "")
            )
        elif self.what_if is not None and self.candidates:
            hints.append("other hardware: none of the hardware presets serves this tier either")
        if any("gated" in c.failed_checks for c in self.rejected):
            hints.append("allow_gated=True admits gated models (with an HF token and their terms accepted)")
        if any("speed" in c.failed_checks for c in self.rejected):
            hints.append(
                "a lower minimum speed: min_tokens_per_s=... (CLI: hfbench models --min-tokens-per-s N); "
                "estimates not yet calibrated here get closer with calibrate_speed(load_results(...))"
            )
        if any("unavailable" in c.failed_checks for c in self.rejected):
            hints.append(
                "network access once: download a model into the Hub cache, or `hfbench setup` for the "
                "embedded ones; with HF_HUB_OFFLINE set only cached or embedded models can run"
            )
        return hints

    def _on(self) -> str:
        if self.hardware:
            return f" on {self.hardware}"
        return " (no hardware given: requirements and fit not checked)"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class LayerInfo:
    """One source of recommendations the registry was built from, and whether it applied."""

    kind: str
    path: str | None
    applied: bool
    reason: str = ""
