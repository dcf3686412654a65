"""The table behind ``hfbench models --for-hardware``: one row per capability and tier.

Rows are plain dictionaries (printable, JSON-able, ``pandas.DataFrame(rows)``).
"""

from __future__ import annotations

from typing import Any, Protocol

from hfbench.core.capability import canonical_capability, capability_specs
from hfbench.registry.explanation import CandidateCheck, RecommendationExplanation
from hfbench.registry.hardware import HardwareFacts, SystemInfoLike, hardware_facts
from hfbench.registry.memory import MemoryEstimate
from hfbench.registry.recommendation import ModelRecommendation
from hfbench.registry.tiers import SIZE_TIERS


class RegistryView(Protocol):
    """What the table reads of a registry (``CapabilityRegistry`` is one)."""

    @property
    def recommendations(self) -> dict[str, dict[str, ModelRecommendation]]: ...

    def capabilities(self) -> list[str]: ...

    def explain_recommendation(
        self, capability: str, size_tier: str = ..., system_info: SystemInfoLike | None = ...
    ) -> RecommendationExplanation: ...

    def check_candidate(
        self,
        rec: ModelRecommendation,
        capability: str,
        hardware: HardwareFacts | None,
        *,
        tier: str,
        slot: str,
    ) -> CandidateCheck: ...


ROW_KEYS = (
    "capability",
    "tier",
    "model",
    "params_b",
    "needs_gb",
    "fits",
    "use",
    "recipe",
    "tokens_per_s",
    "speed",
    "why",
)


def recommendation_rows(
    registry: RegistryView, system_info: SystemInfoLike, *, capabilities: list[str] | None = None
) -> list[dict[str, Any]]:
    """Per capability and tier: the slot's model, whether it fits, why not, and what to use instead.

    Capabilities without any model of their own get one row (tier ``-``) with what the
    fallback finds.

    Args:
        registry: the recommendations to tabulate.
        system_info: a ``SystemInfo`` (``hardware_profile(...)`` for what-if) or a seed-style dict.
        capabilities: limit the table to these (default: every capability, the registry's first).

    Returns:
        One dictionary per row, with the keys ``ROW_KEYS``: the slot's model, its size and the
        memory it needs (at the recipe chosen, else the first tried), whether it fits (memory and
        speed), the model to use here, that model's recipe, its decode tokens/s and whether that
        figure is ``estimated`` or ``measured`` (``-`` for jobs that stream no tokens), and why
        the slot's model was turned down.
    """
    hardware = hardware_facts(system_info)
    slots_by_capability = registry.recommendations
    names = (
        [canonical_capability(c) for c in capabilities]
        if capabilities
        else [*registry.capabilities(), *(c for c in capability_specs() if c not in slots_by_capability)]
    )
    rows: list[dict[str, Any]] = []
    for capability in names:
        slots = slots_by_capability.get(capability, {})
        if not slots:
            found = registry.explain_recommendation(capability, list(SIZE_TIERS)[-1], system_info)
            rows.append(_row(capability, "-", None, None, found.chosen, "no model of its own"))
            continue
        for tier, rec in slots.items():
            found = registry.explain_recommendation(capability, tier, system_info)
            check = next((c for c in found.candidates if c.recommendation.model_name == rec.model_name), None)
            if check is None:  # pragma: no cover - the slot's own model is always tried first
                check = registry.check_candidate(rec, capability, hardware, tier=tier, slot=capability)
            use: ModelRecommendation | None = found.chosen
            why = "; ".join(check.reasons)
            rows.append(_row(capability, tier, rec, check.memory, use, why, check.accepted))
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
    fit = use.fit if use is not None else None
    speed = fit.speed if fit is not None else None
    return {
        "capability": capability,
        "tier": tier,
        "model": rec.model_name if rec else "-",
        "params_b": round(rec.params_b, 3) if rec else None,
        "needs_gb": round(memory.total_gb, 1) if memory else None,
        "fits": "-" if fits is None else ("yes" if fits else "no"),
        "use": use.model_name if use else "nothing fits",
        "recipe": fit.recipe.name if fit is not None else "-",
        "tokens_per_s": round(speed.tokens_per_s, 1) if speed is not None else None,
        "speed": speed.kind if speed is not None else "-",
        "why": why,
    }
