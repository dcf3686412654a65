"""Size tiers (in billions of parameters) and what fits in a machine's memory."""

from __future__ import annotations

from dataclasses import dataclass

from hfbench.core.errors import RecommendationError, did_you_mean
from hfbench.core.hardware import SystemInfo

# Upper bound of each tier, in billions of parameters (the seed's tiers), smallest first.
SIZE_TIERS: dict[str, float] = {"small": 4, "medium": 14, "large": 32, "xlarge": 80}

BYTES_PER_PARAM: dict[str, float] = {
    "float32": 4,
    "fp32": 4,
    "float16": 2,
    "fp16": 2,
    "bfloat16": 2,
    "bf16": 2,
    "int8": 1,
    "8bit": 1,
    "int4": 0.5,
    "4bit": 0.5,
}

# Activations, CUDA context, allocator slack: a common rule of thumb is ~20% over the weights.
DEFAULT_OVERHEAD = 1.2


def check_tier(tier: str) -> str:
    """Return ``tier`` if it is a size tier, else raise ``RecommendationError`` (did-you-mean)."""
    if tier not in SIZE_TIERS:
        raise RecommendationError(
            f"Unknown size tier {tier!r}; valid tiers are {', '.join(SIZE_TIERS)} (or 'auto')."
            + did_you_mean(str(tier), SIZE_TIERS)
        )
    return tier


def tiers_up_to(tier: str) -> list[str]:
    """The tier and every smaller one, largest first (the order fallbacks walk)."""
    names = list(SIZE_TIERS)
    return list(reversed(names[: names.index(check_tier(tier)) + 1]))


def weights_memory_gb(params_b: float, dtype: str = "bf16") -> float:
    """Memory of the weights alone, in GiB, for ``params_b`` billion parameters."""
    if dtype not in BYTES_PER_PARAM:
        raise RecommendationError(
            f"Unknown dtype {dtype!r}; valid: {', '.join(BYTES_PER_PARAM)}."
            + did_you_mean(dtype, BYTES_PER_PARAM)
        )
    return params_b * 1e9 * BYTES_PER_PARAM[dtype] / 1024**3


def default_dtype(info: SystemInfo) -> str:
    """The dtype hfbench would load in on this hardware (bf16/fp16 on GPUs, fp32 on CPU)."""
    if info.cuda_devices:
        return "bf16" if info.supports_bf16 else "fp16"
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
            return (
                f"no tier fits whole: about {self.max_params_b:.1f}B parameters fit in "
                f"{self.memory_gb:.1f} GiB at {self.dtype} (the 'small' tier goes to 4B)"
            )
        return (
            f"{self.tier} (models up to {SIZE_TIERS[self.tier]:g}B parameters at {self.dtype}; "
            f"about {self.max_params_b:.1f}B fit in {self.memory_gb:.1f} GiB)"
        )


def fitting_size_tier(info: SystemInfo, dtype: str | None = None) -> TierFit:
    """The largest size tier whose largest model fits this machine's model memory."""
    dtype = dtype or default_dtype(info)
    memory = info.model_memory_gb
    per_b = weights_memory_gb(1.0, dtype) * DEFAULT_OVERHEAD
    max_params_b = memory / per_b if per_b else 0.0
    fitting = [t for t, limit in SIZE_TIERS.items() if limit <= max_params_b]
    return TierFit(fitting[-1] if fitting else None, dtype, memory, max_params_b)
