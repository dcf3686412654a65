"""A measured model's size: its parameters (billions) and size tier, and where the count came from.

``tune`` ranks models per size tier, and the plots colour them by tier; both need the model's
parameter count, found in this order (the first that answers):

1. **catalogue** — hfbench's registry describes the model (``registry.model_catalog()``);
2. **weights** — the record's measured ``memory.weights_mb`` at its loaded dtype
   (parameters = bytes / bytes per parameter; buffers count too, so this is a slight over-count);
3. **config** — an empty-weights model built from the model's config counted
   (``registry.memory.estimate_memory_from_config``; imports transformers, reads the config).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from hfbench.bench.tune_measured import finite_number
from hfbench.core.errors import HFBenchError
from hfbench.registry.tiers import bytes_per_param, tier_for_params

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

ParamSource = Literal["catalogue", "weights", "config"]


@dataclass(frozen=True)
class ModelSize:
    """A model's parameter count and tier.

    Attributes:
        params_b: parameters, in billions.
        source: where the count came from (``catalogue``, ``weights`` or ``config``).
        tier: the smallest size tier that admits it (None: above every tier).
    """

    params_b: float
    source: ParamSource
    tier: str | None

    def describe(self) -> str:
        """``0.135B parameters (catalogue) -> tier 'tiny'``."""
        where = {
            "catalogue": "from hfbench's catalogue",
            "weights": "from the measured weight bytes at the loaded dtype",
            "config": "counted from the model's config",
        }[self.source]
        tier = f"tier {self.tier!r}" if self.tier else "above every tier"
        return f"{self.params_b:.3g}B parameters ({where}) -> {tier}"


@lru_cache(maxsize=1)
def _catalogue_params() -> dict[str, float]:
    from hfbench.registry import model_catalog

    return {name: rec.params_b for name, rec in model_catalog().items()}


def _config_params(model: str) -> float | None:
    from hfbench.registry.memory import estimate_memory_from_config

    try:
        return estimate_memory_from_config(model, "fp32").params_b
    except (HFBenchError, OSError, ValueError) as exc:
        logger.info("Cannot count the parameters of %s from its config: %s", model, exc)
        return None


def model_size(
    model: str,
    *,
    weights_mb: float | None = None,
    dtype: str | None = None,
    from_config: bool = True,
) -> ModelSize | None:
    """The model's parameters and tier: from the catalogue, else its weights, else its config.

    Args:
        model: Hub id, folder or ``embedded:<name>``.
        weights_mb: the measured bytes of its weights, MiB (a record's ``memory.weights_mb``).
        dtype: the dtype those weights were loaded in (any spelling ``core.dtypes`` knows).
        from_config: allow counting from the config (imports transformers).

    Returns:
        The size, or None when no source answers.
    """
    known = _catalogue_params().get(model)
    if known is not None:
        return ModelSize(known, "catalogue", tier_for_params(known))
    weights = finite_number(weights_mb)
    if weights and dtype:
        try:
            params_b = weights * 1024**2 / bytes_per_param(dtype) / 1e9
        except HFBenchError:
            params_b = None
        if params_b:
            return ModelSize(params_b, "weights", tier_for_params(params_b))
    if from_config:
        counted = _config_params(model)
        if counted:
            return ModelSize(counted, "config", tier_for_params(counted))
    return None


def record_size(record: Mapping[str, Any], *, from_config: bool = True) -> ModelSize | None:
    """``model_size`` of a harness record's model (its weights and recipe dtype as fallbacks)."""
    memory = record.get("memory") or {}
    recipe = record.get("recipe") or {}
    return model_size(
        str(record.get("model", "")),
        weights_mb=memory.get("weights_mb"),
        dtype=recipe.get("dtype"),
        from_config=from_config,
    )


def tier_column(frame: pd.DataFrame, *, from_config: bool = False) -> pd.Series:
    """The size tier of each row of a ``load_results`` frame (None where unknown)."""
    import pandas as pd

    cache: dict[tuple[str, Any, Any], str | None] = {}
    tiers = []
    for model, weights, dtype in zip(frame["model"], frame["weights_mb"], frame["dtype"], strict=True):
        key = (str(model), finite_number(weights), dtype if isinstance(dtype, str) else None)
        if key not in cache:
            size = model_size(key[0], weights_mb=key[1], dtype=key[2], from_config=from_config)
            cache[key] = size.tier if size else None
        tiers.append(cache[key])
    return pd.Series(tiers, index=frame.index, dtype=object, name="tier")
