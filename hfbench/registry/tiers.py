"""Size tiers (budgets in billions of parameters) and what fits in a machine's memory.

A tier is a *budget*: the ``medium`` slot of a capability holds the model hfbench recommends
when you can afford up to about 14B parameters, which may well be smaller (a 0.4B BART is the
right ``tiny`` summarizer). Model names round their size down ("14B" is 14.7B for phi-4,
"32B" is 32.8B for QwQ-32B), so a tier admits models up to ``TIER_TOLERANCE`` over its nominal
bound; see ``tier_limit_b``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hfbench.core.dtypes import DTYPE_NAMES, DType, dtype_info
from hfbench.core.errors import ConfigError, RecommendationError, did_you_mean
from hfbench.core.hardware import SystemInfo

# Nominal upper bound of each tier, in billions of parameters, smallest first. The seed's four
# tiers, plus ``tiny`` (<= 2B) below them: what a CPU-only laptop runs in fp32, and the embedded
# offline models.
SIZE_TIERS: dict[str, float] = {"tiny": 2, "small": 4, "medium": 14, "large": 32, "xlarge": 80}

# A tier's nominal bound may be exceeded by this factor (gemma-3-4b is 4.3B, phi-4 14.7B).
TIER_TOLERANCE = 1.1

AUTO_TIER = "auto"

# Every dtype spelling and its bytes per parameter, derived from the one table in core.dtypes
# (kept for code that imported it from here).
BYTES_PER_PARAM: dict[str, float] = {name: dtype_info(name).bytes_per_param for name in DTYPE_NAMES}

# Activations, CUDA context, allocator slack: a common rule of thumb is ~20% over the weights.
OVERHEAD_FRACTION = 0.2
DEFAULT_OVERHEAD = 1.0 + OVERHEAD_FRACTION


def check_tier(tier: str) -> str:
    """Return ``tier`` if it is a size tier, else raise ``RecommendationError`` (did-you-mean)."""
    if not isinstance(tier, str) or tier not in SIZE_TIERS:
        raise RecommendationError(
            f"Unknown size tier {tier!r}; valid tiers are {', '.join(SIZE_TIERS)} (or 'auto')."
            + did_you_mean(str(tier), [*SIZE_TIERS, AUTO_TIER])
        )
    return tier


def tiers_up_to(tier: str) -> list[str]:
    """The tier and every smaller one, largest first (the order fallbacks walk)."""
    names = list(SIZE_TIERS)
    return list(reversed(names[: names.index(check_tier(tier)) + 1]))


def smaller_tiers(tier: str) -> list[str]:
    """The tiers strictly smaller than ``tier``, largest first (never a larger one)."""
    return tiers_up_to(tier)[1:]


def tier_limit_b(tier: str) -> float:
    """The most parameters (billions) a model in ``tier`` may have: nominal bound x ``TIER_TOLERANCE``."""
    return SIZE_TIERS[check_tier(tier)] * TIER_TOLERANCE


def tier_for_params(params_b: float) -> str | None:
    """The smallest tier whose limit admits ``params_b`` billion parameters (None: above every tier)."""
    for tier in SIZE_TIERS:
        if params_b <= tier_limit_b(tier):
            return tier
    return None


def tier_violation(params_b: float, tier: str) -> str | None:
    """Why a ``params_b`` model cannot sit in ``tier`` (None when it can)."""
    limit = tier_limit_b(tier)
    if params_b <= limit:
        return None
    fits = tier_for_params(params_b)
    return (
        f"{params_b:g}B parameters is more than the {tier!r} tier admits ({SIZE_TIERS[tier]:g}B nominal, "
        f"up to {limit:g}B)" + (f"; it belongs in {fits!r} or above" if fits else "; it is above every tier")
    )


def registry_dtype(dtype: str) -> DType:
    """The ``core.dtypes`` entry for a dtype spelling, as the registry reports a bad one.

    Raises:
        RecommendationError: an unknown dtype (with did-you-mean and the valid names).
    """
    try:
        return dtype_info(dtype)
    except ConfigError as exc:
        raise RecommendationError(exc.reason) from None


def bytes_per_param(dtype: str) -> float:
    """Bytes one parameter takes at ``dtype`` (any spelling ``core.dtypes`` accepts).

    Raises:
        RecommendationError: an unknown dtype (with did-you-mean).
    """
    return registry_dtype(dtype).bytes_per_param


def weights_memory_gb(params_b: float, dtype: str = "bf16") -> float:
    """Memory of the weights alone, in GiB, for ``params_b`` billion parameters."""
    return params_b * 1e9 * bytes_per_param(dtype) / 1024**3


def default_dtype(info: SystemInfo) -> str:
    """The dtype hfbench loads in on this hardware.

    bf16 (fp16 without bf16 support) on CUDA; fp16 on Apple MPS (``dtype="auto"`` keeps the
    checkpoint's 16-bit weights there); fp32 on CPU, as ``LoadOptions`` resolves ``auto``.
    """
    if info.cuda_devices:
        return "bf16" if info.supports_bf16 else "fp16"
    if info.mps_available:
        return "fp16"
    return "fp32"


@dataclass(frozen=True)
class TierFit:
    """The largest tier whose biggest model fits, and how many parameters fit at all."""

    tier: str | None
    dtype: str
    memory_gb: float
    max_params_b: float

    def describe(self) -> str:
        """One line for ``hfbench info``."""
        if self.tier is None:
            smallest = next(iter(SIZE_TIERS))
            return (
                f"no tier fits whole: about {self.max_params_b:.1f}B parameters fit in "
                f"{self.memory_gb:.1f} GiB at {self.dtype} (the {smallest!r} tier goes to "
                f"{SIZE_TIERS[smallest]:g}B)"
            )
        return (
            f"{self.tier} (models up to {SIZE_TIERS[self.tier]:g}B parameters at {self.dtype}; "
            f"about {self.max_params_b:.1f}B fit in {self.memory_gb:.1f} GiB)"
        )


def fitting_size_tier(info: SystemInfo, dtype: str | None = None) -> TierFit:
    """The largest size tier whose nominal largest model fits this machine's model memory.

    Counts weights and the ``DEFAULT_OVERHEAD`` only; the registry's per-model check
    (``CapabilityRegistry.explain_recommendation``) also counts the KV cache.
    """
    dtype = dtype or default_dtype(info)
    memory = info.model_memory_gb
    per_b = weights_memory_gb(1.0, dtype) * DEFAULT_OVERHEAD
    max_params_b = memory / per_b if per_b else 0.0
    fitting = [t for t, limit in SIZE_TIERS.items() if limit <= max_params_b]
    return TierFit(fitting[-1] if fitting else None, dtype, memory, max_params_b)
