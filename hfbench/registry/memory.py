"""How much memory a model needs: weights + KV cache for a configured context + overhead.

Two paths:

- arithmetic, from ``params_b`` and (optionally) a ``ModelShape`` (layers, hidden size, KV heads):
  what the registry uses, since it must work without touching the Hub or loading a model;
- ``estimate_memory_from_config``: a model built on the ``meta`` device from its config
  (accelerate's ``init_empty_weights``), its tied weights tied, sized by accelerate's
  ``compute_module_sizes``: exact weights (a tied embedding once, as the checkpoint stores it), no
  download of weights, no memory spent. Imports torch/transformers lazily.

Both add the KV cache and the overhead with one function, ``memory_estimate``.

Formula (GiB = 1024**3 bytes)::

    weights  = params * bytes_per_param(dtype)
    kv_cache = 2 (K and V) * layers * kv_heads * head_dim * kv_bytes * context_tokens * batch_size
    overhead = OVERHEAD_FRACTION * weights         (activations, CUDA context, allocator slack)
    total    = weights + kv_cache + overhead

``kv_bytes`` is the weight dtype's size, but at least 2 (quantized weights keep a 16-bit cache).
Without a shape, layers and width are guessed from ``params_b`` by the dense-transformer rule
``params ~ 12 * layers * hidden**2`` with ``hidden ~ 128 * layers`` (true for Llama-2 7B/13B,
phi-4), assuming full multi-head attention: an upper bound for grouped-query models.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from hfbench.core.dtypes import DType
from hfbench.core.errors import RecommendationError
from hfbench.core.heads import default_head
from hfbench.registry.tiers import OVERHEAD_FRACTION, bytes_per_param, registry_dtype, weights_memory_gb

GIB = 1024**3

# Tokens of context the KV cache is sized for when nothing else is configured.
DEFAULT_CONTEXT_TOKENS = 4096

# hidden ~ ASPECT * layers for dense decoders; params ~ 12 * layers * hidden**2.
_ASPECT = 128


@dataclass(frozen=True)
class ModelShape:
    """The sizes of a transformer that decide its KV cache (Hugging Face config names).

    For encoder-decoder models give the *decoder's* layers; for multimodal ones the language model's.
    """

    num_layers: int
    hidden_size: int
    num_attention_heads: int | None = None
    num_key_value_heads: int | None = None
    head_dim: int | None = None

    def __post_init__(self) -> None:
        for name in ("num_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim"):
            value = getattr(self, name)
            if value is None and name not in ("num_layers", "hidden_size"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise RecommendationError(f"ModelShape.{name} must be a whole number > 0, got {value!r}.")

    @property
    def kv_width(self) -> int:
        """Width of K (or V) per layer and token: ``num_key_value_heads * head_dim``."""
        heads = self.num_attention_heads
        if heads is None:
            return self.hidden_size
        head_dim = self.head_dim or self.hidden_size // heads
        return (self.num_key_value_heads or heads) * head_dim

    def kv_cache_bytes_per_token(self, kv_bytes: float) -> float:
        """Bytes the KV cache grows by per token (all layers, K and V)."""
        return 2 * self.num_layers * self.kv_width * kv_bytes

    @classmethod
    def guess(cls, params_b: float) -> ModelShape:
        """A dense multi-head shape consistent with ``params_b`` (the arithmetic path's fallback)."""
        layers = max(1, round((params_b * 1e9 / (12 * _ASPECT**2)) ** (1 / 3)))
        return cls(num_layers=layers, hidden_size=_ASPECT * layers)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ModelShape | None:
        """Read the shape from a config dictionary (``config.json``); None if it lacks the sizes.

        Uses ``text_config`` for multimodal models and the decoder's sizes for encoder-decoders.
        """
        if isinstance(config.get("text_config"), Mapping):
            inner = cls.from_config(config["text_config"])
            if inner is not None:
                return inner
        layers = _first(
            config, "decoder_layers", "num_decoder_layers", "num_hidden_layers", "n_layer", "num_layers"
        )
        hidden = _first(config, "hidden_size", "d_model", "n_embd")
        if layers is None or hidden is None:
            return None
        heads = _first(config, "decoder_attention_heads", "num_attention_heads", "num_heads", "n_head")
        kv_heads = _first(config, "num_key_value_heads")
        head_dim = _first(config, "head_dim", "d_kv")
        if head_dim is not None and heads is None:
            head_dim = None
        return cls(layers, hidden, heads, kv_heads, head_dim)


def _first(config: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


@dataclass(frozen=True)
class MemoryEstimate:
    """What a model needs in memory, in GiB, and how the number was obtained."""

    params_b: float
    dtype: str
    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    context_tokens: int
    batch_size: int
    method: str

    @property
    def total_gb(self) -> float:
        """Weights + KV cache + overhead."""
        return self.weights_gb + self.kv_cache_gb + self.overhead_gb

    def fits(self, available_gb: float) -> bool:
        """True when the total is at most ``available_gb``."""
        return self.total_gb <= available_gb

    def describe(self) -> str:
        """``18.0 GiB (weights 14.2 + KV cache 0.2 at 4096 tokens + overhead 2.8, bf16)``."""
        kv = f" + KV cache {self.kv_cache_gb:.1f} at {self.context_tokens} tokens" if self.kv_cache_gb else ""
        batch = f" x batch {self.batch_size}" if self.batch_size != 1 and self.kv_cache_gb else ""
        return (
            f"{self.total_gb:.1f} GiB (weights {self.weights_gb:.1f}{kv}{batch} + overhead "
            f"{self.overhead_gb:.1f}, {self.dtype})"
        )


def _check_count(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RecommendationError(f"{name} must be a whole number >= {minimum}, got {value!r}.")


def kv_bytes_for(dtype: str) -> float:
    """Bytes per KV-cache value for weights in ``dtype`` (quantized weights keep a 16-bit cache)."""
    return max(bytes_per_param(dtype), 2.0)


def memory_estimate(
    params_b: float,
    weights_gb: float,
    dtype: str,
    *,
    shape: ModelShape | None,
    context_tokens: int,
    batch_size: int,
    overhead_fraction: float,
    method: str,
) -> MemoryEstimate:
    """Add the KV cache and the overhead to a weights size: the formula both estimators share.

    Args:
        params_b: billions of parameters (guesses the shape when ``shape`` is None).
        weights_gb: the weights' size at ``dtype``, GiB.
        dtype: the weights' dtype (the KV cache is at least 16-bit).
        shape: layer/width sizes for the KV cache; guessed from ``params_b`` when None.
        context_tokens: tokens the KV cache must hold (0: no KV cache).
        batch_size: sequences held at once.
        overhead_fraction: overhead as a fraction of the weights.
        method: how the weights were obtained (the estimate says so).

    Raises:
        RecommendationError: a negative ``context_tokens``, a ``batch_size`` below 1, an unknown dtype.
    """
    _check_count("context_tokens", context_tokens, 0)
    _check_count("batch_size", batch_size, 1)
    kv_gb = 0.0
    if context_tokens:
        if shape is None:
            shape = ModelShape.guess(params_b)
            method += " (shape guessed from params_b)"
        kv_gb = shape.kv_cache_bytes_per_token(kv_bytes_for(dtype)) * context_tokens * batch_size / GIB
    return MemoryEstimate(
        params_b=float(params_b),
        dtype=dtype,
        weights_gb=weights_gb,
        kv_cache_gb=kv_gb,
        overhead_gb=overhead_fraction * weights_gb,
        context_tokens=context_tokens,
        batch_size=batch_size,
        method=method,
    )


def estimate_memory(
    params_b: float,
    dtype: str = "bf16",
    *,
    shape: ModelShape | None = None,
    context_tokens: int = 0,
    batch_size: int = 1,
    overhead_fraction: float = OVERHEAD_FRACTION,
) -> MemoryEstimate:
    """Estimate memory from the parameter count (the registry's arithmetic path).

    Args:
        params_b: billions of parameters.
        dtype: the weights' dtype (``bf16``, ``fp32``, ``int4`` …).
        shape: layer/width sizes for the KV cache; guessed from ``params_b`` when None.
        context_tokens: tokens the KV cache must hold (0 for models that do not generate).
        batch_size: sequences held at once.
        overhead_fraction: overhead as a fraction of the weights.

    Raises:
        RecommendationError: a negative or non-finite size, an unknown dtype.

    Example:
        >>> round(estimate_memory(7.0, "bf16").total_gb, 1)
        15.6
    """
    if isinstance(params_b, bool) or not isinstance(params_b, (int, float)) or not math.isfinite(params_b):
        raise RecommendationError(f"params_b must be a number, got {params_b!r}.")
    if params_b <= 0:
        raise RecommendationError(f"params_b must be > 0, got {params_b!r}.")
    return memory_estimate(
        params_b,
        weights_memory_gb(params_b, dtype),
        dtype,
        shape=shape,
        context_tokens=context_tokens,
        batch_size=batch_size,
        overhead_fraction=overhead_fraction,
        method="arithmetic",
    )


def estimate_memory_from_config(
    config: Mapping[str, Any] | str | os.PathLike[str] | Any,
    dtype: str = "bf16",
    *,
    context_tokens: int = 0,
    batch_size: int = 1,
    overhead_fraction: float = OVERHEAD_FRACTION,
) -> MemoryEstimate:
    """Estimate memory from a model's config: exact weight sizes from an empty-weights model.

    The model is built on the ``meta`` device (``accelerate.init_empty_weights``), so nothing is
    downloaded but the config and no memory is spent; its tied weights are tied (each counted
    once, as the checkpoint stores them) and ``accelerate.utils.compute_module_sizes`` sizes it at
    ``dtype``. Quantized dtypes (int8/int4) scale the 16-bit size.

    Args:
        config: a config dictionary, a ``transformers.PretrainedConfig``, or a local folder /
            Hub id / ``embedded:`` name whose ``config.json`` is read (cached or offline-safe).
        dtype, context_tokens, batch_size, overhead_fraction: as in ``estimate_memory``.

    Raises:
        RecommendationError: the config cannot be turned into a model, or an unknown dtype.
        ModelNotFoundError: a named config could not be read.
    """
    import transformers
    from accelerate import init_empty_weights

    from hfbench.core.architecture import architecture_from_config_dict
    from hfbench.sources import load_config_dict

    _check_count("context_tokens", context_tokens, 0)
    _check_count("batch_size", batch_size, 1)
    weights_dtype = registry_dtype(dtype)  # fail before building a model
    if isinstance(config, (str, os.PathLike)):
        config = load_config_dict(config)
    if isinstance(config, Mapping):
        data = dict(config)
        if "model_type" not in data:
            raise RecommendationError("A config dictionary needs a 'model_type' to build a model from.")
        try:
            config_obj = transformers.AutoConfig.for_model(**data)
        except (ValueError, KeyError) as exc:
            raise RecommendationError(
                f"Cannot build a config for model_type={data['model_type']!r}: {exc}"
            ) from exc
    else:
        config_obj = config
        data = config_obj.to_dict()
    model = _empty_model(
        config_obj, architecture_from_config_dict(data).value, transformers, init_empty_weights
    )
    params, weight_bytes = _tied_weights_size(model, weights_dtype)
    return memory_estimate(
        params / 1e9,
        weight_bytes / GIB,
        dtype,
        shape=ModelShape.from_config(data),
        context_tokens=context_tokens,
        batch_size=batch_size,
        overhead_fraction=overhead_fraction,
        method="accelerate (empty-weights model from config)",
    )


def _tied_weights_size(model: Any, dtype: DType) -> tuple[int, float]:
    """Parameters and bytes at ``dtype`` of an empty-weights model, each tied weight counted once.

    A model built under ``init_empty_weights`` keeps its tied weights (input and output
    embeddings, T5's shared encoder/decoder embeddings) as separate meta tensors until
    ``tie_weights()`` is called, so without it a tied model is sized with every copy.
    """
    import torch
    from accelerate.utils import compute_module_sizes

    tie_weights = getattr(model, "tie_weights", None)
    if callable(tie_weights):
        tie_weights()
    params = sum(p.numel() for p in model.parameters())  # shared parameters are yielded once
    # Quantized formats are sized from the 16-bit weights they are made from.
    torch_name = dtype.torch_name or "bfloat16"
    scale = 1.0 if dtype.torch_name else dtype.bytes_per_param / 2
    return params, compute_module_sizes(model, dtype=getattr(torch, torch_name))[""] * scale


def _empty_model(config: Any, architecture: str, transformers: Any, init_empty_weights: Any) -> Any:
    """Build the config's model (its named class, else the Auto class of the architecture's default
    head in the head table) on ``meta``."""
    named = [getattr(transformers, str(n), None) for n in getattr(config, "architectures", None) or []]
    auto = getattr(transformers, default_head(architecture).auto_class)
    builders: list[Callable[[], Any]] = [partial(cls, config) for cls in named if cls is not None]
    builders += [partial(auto.from_config, config), partial(transformers.AutoModel.from_config, config)]
    errors = []
    for build in builders:
        try:
            with init_empty_weights():
                return build()
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            errors.append(str(exc))
    raise RecommendationError(
        f"Cannot build a {getattr(config, 'model_type', '?')} model from its config to size it: {errors[-1]}"
    )
