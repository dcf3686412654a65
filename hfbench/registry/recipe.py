"""What a recipe is — dtype, quantization, runtime — and the result of checking one for a model.

The recipes themselves (``data/recipes.toml``) and which apply where are ``registry.recipes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hfbench.core.dtypes import dtype_info

if TYPE_CHECKING:
    from hfbench.registry.memory import MemoryEstimate
    from hfbench.registry.speed import SpeedEstimate


@dataclass(frozen=True)
class Recipe:
    """One way to run a model.

    Attributes:
        name: short name for explanations (``bf16``, ``int8``, ``nf4`` …).
        accelerators: where it applies.
        dtype: the weights' dtype (short name: ``bf16``, ``int4`` …).
        quantization: the ``quantization`` config key's value (``8bit``/``4bit``), if any.
        backend: the library that provides it (``bitsandbytes``), if any.
        runtime: what runs the model (``transformers``).
        requires: machine flags it needs (normalised requirements).
        measured_only: applies only where this machine measured it faster than ``than``.
        than: the dtype ``measured_only`` compares with.
        speed_factor: multiplies the decode efficiency (a quantized kernel's speed per byte).
        source: where the factor (or the choice) comes from.
        notes: anything a user should know.
    """

    name: str
    accelerators: tuple[str, ...]
    dtype: str
    quantization: str | None = None
    backend: str | None = None
    runtime: str = "transformers"
    requires: Mapping[str, Any] = field(default_factory=dict, hash=False)
    measured_only: bool = False
    than: str | None = None
    speed_factor: float = 1.0
    source: str = ""
    notes: str = ""

    def config(self) -> dict[str, Any]:
        """The config keys that load a model this way (``dtype``; ``quantization`` when quantized)."""
        info = dtype_info(self.dtype)
        out: dict[str, Any] = {"dtype": info.name if not info.quantized else "auto"}
        if self.quantization:
            out["quantization"] = self.quantization
        return out

    def describe(self) -> str:
        """``nf4 (int4 via bitsandbytes, transformers)``."""
        via = f" via {self.backend}" if self.backend else ""
        return f"{self.name} ({self.dtype}{via}, {self.runtime})"


@dataclass(frozen=True)
class RecipeChoice:
    """A recipe for a model on a machine, or why it was left out.

    Attributes:
        recipe: the recipe.
        skipped: why it does not apply here (None: it is tried).
    """

    recipe: Recipe
    skipped: str | None = None


@dataclass(frozen=True)
class RecipeCheck:
    """One recipe checked for a model on a machine: memory and speed against the requirements.

    Attributes:
        recipe: the recipe.
        accepted: it fits and is fast enough.
        memory: the memory estimate at the recipe's dtype (None when skipped).
        speed: the decode speed, estimated or measured (None: skipped, or the job streams no
            tokens, or the machine's speed is unknown).
        min_tokens_per_s: the minimum that applied (None: none).
        available_gb: the memory for models it was checked against (None: not checked).
        reasons: why it was turned down, for people.
        failed_checks: ``memory``, ``speed`` (empty when accepted or skipped).
        skipped: why it was not tried at all (None: it was).
    """

    recipe: Recipe
    accepted: bool
    memory: MemoryEstimate | None = None
    speed: SpeedEstimate | None = None
    min_tokens_per_s: float | None = None
    available_gb: float | None = None
    reasons: tuple[str, ...] = ()
    failed_checks: tuple[str, ...] = ()
    skipped: str | None = None

    @property
    def context_tokens(self) -> int:
        """Tokens of context the KV cache was sized for (0: no KV cache)."""
        return self.memory.context_tokens if self.memory is not None else 0

    def config(self) -> dict[str, Any]:
        """The config keys that run the model this way (``dtype``, ``quantization``)."""
        return self.recipe.config()

    def describe(self) -> str:
        """``nf4: 9.0 GiB of 23.5, 11.8 tok/s estimated (>= 5) -> ok``, or why it was turned down."""
        if self.skipped is not None:
            return f"{self.recipe.name}: not tried ({self.skipped})"
        parts = []
        if self.memory is not None:
            available = f" of {self.available_gb:.1f}" if self.available_gb is not None else ""
            parts.append(f"{self.memory.total_gb:.1f} GiB{available}")
        if self.speed is not None and "memory" not in self.failed_checks:
            wanted = ""
            if self.min_tokens_per_s:
                wanted = f" ({'>=' if self.speed.tokens_per_s >= self.min_tokens_per_s else '<'} "
                wanted += f"{self.min_tokens_per_s:g})"
            parts.append(f"{self.speed.tokens_per_s:.3g} tok/s {self.speed.kind}{wanted}")
        if self.accepted:
            verdict = "ok"
        elif "memory" in self.failed_checks:
            verdict = "too large"
        elif "speed" in self.failed_checks:
            verdict = "too slow"
        else:
            verdict = "; ".join(self.reasons)
        return f"{self.recipe.name}: {', '.join(parts)} -> {verdict}"
