"""The ``tiers`` suite: the registry's recommended Hub models, per capability and size tier.

For users with Hub access (and, for the larger tiers, a GPU): it measures what
``CapabilityRegistry`` recommends, so ``hfbench tune`` can replace the hand-made picks with
measured ones. Built from the registry at run time, not from a file, so it always matches the
recommendations in force (package defaults, or a registry you pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hfbench.bench.suites import Suite

if TYPE_CHECKING:
    from hfbench.registry import CapabilityRegistry


def tiers_suite(
    registry: CapabilityRegistry | None = None,
    *,
    tiers: Sequence[str] | None = None,
    capabilities: Sequence[str] | None = None,
) -> Suite:
    """One group per capability: the registry's model at each tier (embedded models left out).

    Args:
        registry: whose recommendations (default: hfbench's package defaults).
        tiers: only these tiers (default: all).
        capabilities: only these capabilities (default: every one with a recommendation).
    """
    from hfbench.core.capability import canonical_capability
    from hfbench.registry import CapabilityRegistry

    registry = registry or CapabilityRegistry()
    wanted = {canonical_capability(c) for c in capabilities} if capabilities else None
    groups = []
    for capability, slots in registry.recommendations.items():
        if wanted is not None and capability not in wanted:
            continue
        models = [
            rec.model_name
            for tier, rec in slots.items()
            if (tiers is None or tier in tiers) and not rec.model_name.startswith("embedded:")
        ]
        if models:
            groups.append({"models": list(dict.fromkeys(models)), "capabilities": [capability]})
    data = {
        "version": 1,
        "name": "tiers",
        "description": "The registry's Hub models per capability and tier.",
        "size": "standard",
        "settings": {"warmup": 1, "min_iterations": 6, "max_duration_s": 30.0, "speed_tokens": 64},
        "group": groups,
    }
    return Suite.from_dict(data, source="the registry's recommendations", default_name="tiers")
