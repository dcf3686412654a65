"""Size tiers: order, tolerance, dtype choice and the 'what fits' summary."""

from __future__ import annotations

import pytest

from hfbench.core.errors import RecommendationError
from hfbench.registry.tiers import (
    SIZE_TIERS,
    check_tier,
    default_dtype,
    fitting_size_tier,
    smaller_tiers,
    tier_for_params,
    tier_violation,
    tiers_up_to,
    weights_memory_gb,
)


def test_tiers_are_ordered_budgets_smallest_first() -> None:
    bounds = list(SIZE_TIERS.values())
    assert bounds == sorted(bounds)
    assert list(SIZE_TIERS)[1:] == ["small", "medium", "large", "xlarge"]  # the seed's tiers, in order


@pytest.mark.parametrize("tier", list(SIZE_TIERS))
def test_fallback_walk_never_includes_a_larger_tier(tier: str) -> None:
    names = list(SIZE_TIERS)
    walk = tiers_up_to(tier)
    assert walk[0] == tier
    assert all(names.index(t) <= names.index(tier) for t in walk)
    assert walk == sorted(walk, key=names.index, reverse=True)
    assert smaller_tiers(tier) == walk[1:]


def test_smallest_tier_has_no_smaller_tier() -> None:
    assert smaller_tiers("tiny") == []
    assert smaller_tiers("small") == ["tiny"]  # the seed's slice wrapped to 'xlarge' here


def test_marketed_sizes_fit_their_tier_within_tolerance() -> None:
    assert tier_for_params(14.7) == "medium"  # phi-4
    assert tier_for_params(4.3) == "small"  # gemma-3-4b
    assert tier_for_params(32.8) == "large"
    assert tier_for_params(0.1) == "tiny"
    assert tier_for_params(95.0) is None
    assert tier_violation(14.7, "medium") is None
    problem = tier_violation(70.6, "large")
    assert problem is not None and "'xlarge'" in problem


def test_unknown_tier_suggests_the_close_name() -> None:
    with pytest.raises(RecommendationError, match="Did you mean 'small'"):
        check_tier("smal")
    with pytest.raises(RecommendationError, match="valid tiers"):
        tiers_up_to("huge")


def test_default_dtype_follows_the_accelerator(fake_system) -> None:
    assert default_dtype(fake_system(gpu_gb=(24,))) == "bf16"
    assert default_dtype(fake_system(gpu_gb=(16,), bf16=False)) == "fp16"
    assert default_dtype(fake_system(mps=True, platform="darwin")) == "fp16"
    assert default_dtype(fake_system()) == "fp32"


def test_weights_memory_and_unknown_dtype() -> None:
    assert weights_memory_gb(1.0, "fp32") == pytest.approx(4e9 / 1024**3)
    assert weights_memory_gb(2.0, "int4") == pytest.approx(1e9 / 1024**3)
    with pytest.raises(RecommendationError, match="Did you mean 'bf16'"):
        weights_memory_gb(1.0, "bf61")


def test_fitting_size_tier_describes_the_machine(fake_system) -> None:
    big = fitting_size_tier(fake_system(gpu_gb=(80,)))
    assert big.tier == "large" and big.dtype == "bf16" and "large" in big.describe()
    none = fitting_size_tier(fake_system(ram_gb=2.0))
    assert none.tier is None and "'tiny'" in none.describe()
