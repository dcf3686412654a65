"""Shared loading options: device, dtype, device map, attention kernel, quantization, Hub options.

Every architecture's loader turns the merged config into ``from_pretrained`` keyword arguments
here, so the options mean the same everywhere, and turns transformers' exceptions into
hfbench's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from hfbench.core.errors import (
    ConfigError,
    DependencyMissingError,
    HFBenchError,
    ModelLoadError,
    ModelNotFoundError,
)

T = TypeVar("T")

_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "float16": "float16",
    "fp16": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model; built from a merged config with ``LoadOptions.from_config``."""

    device: str = "auto"
    dtype: str = "auto"
    device_map: str | dict[str, Any] | None = None
    attn_implementation: str = "auto"
    quantization: str | None = None
    trust_remote_code: bool = False
    revision: str | None = None
    cache_dir: str | None = None
    local_files_only: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LoadOptions:
        """Pick the loading keys out of a merged (already validated) config."""
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in config.items() if k in fields})

    def cache_key(self) -> tuple[Any, ...]:
        """What identifies one loaded copy of a model (for the provider's model cache)."""
        return (self.revision, resolve_dtype_name(self), resolve_device(self.device), self.quantization)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` if available, else ``mps``, else ``cpu``; others are checked.

    Raises:
        ConfigError: ``cuda``/``mps`` asked for on a machine without it.
    """
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            "device 'cuda' was asked for but torch sees no CUDA device; use 'auto' or 'cpu'.",
            key_path="device",
        )
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ConfigError("device 'mps' is not available here; use 'auto' or 'cpu'.", key_path="device")
    return device


def resolve_dtype_name(options: LoadOptions) -> str:
    """The dtype name a load will use: ``auto`` is float32 on CPU, the checkpoint's dtype on GPUs."""
    if options.dtype != "auto":
        return _DTYPES[options.dtype]
    device = options.device if options.device != "auto" else _auto_device_name()
    # CPUs run float32 fastest and most reliably; fp16 weights (e.g. Whisper) are upcast.
    return "float32" if device == "cpu" else "auto"


def _auto_device_name() -> str:
    try:
        return resolve_device("auto")
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"


def from_pretrained_kwargs(options: LoadOptions) -> dict[str, Any]:
    """``from_pretrained`` keyword arguments for these options.

    Raises:
        DependencyMissingError: quantization asked for without bitsandbytes.
        ConfigError: quantization or flash attention asked for without a CUDA device.
    """
    import torch

    kwargs: dict[str, Any] = {
        "trust_remote_code": options.trust_remote_code,
        "revision": options.revision,
        "cache_dir": options.cache_dir,
        "local_files_only": options.local_files_only
        or os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes"},
    }
    dtype = resolve_dtype_name(options)
    kwargs["dtype"] = dtype if dtype == "auto" else getattr(torch, dtype)
    if options.device_map is not None:
        kwargs["device_map"] = options.device_map
    attn: str | None = options.attn_implementation
    if attn == "auto":
        attn = _auto_attention(options)
    if attn is not None:
        if attn.startswith("flash_attention") and not torch.cuda.is_available():
            raise ConfigError(
                f"attn_implementation={attn!r} needs a CUDA GPU; use 'sdpa' or 'auto'.",
                key_path="attn_implementation",
            )
        kwargs["attn_implementation"] = attn
    if options.quantization:
        kwargs["quantization_config"] = _bitsandbytes_config(options.quantization)
        kwargs.setdefault("device_map", "auto")
    return kwargs


def _auto_attention(options: LoadOptions) -> str | None:
    """flash-attention-2 on CUDA when installed and in half precision; otherwise transformers'
    own default (sdpa where the model supports it, eager elsewhere)."""
    import torch
    from transformers.utils import is_flash_attn_2_available

    half = resolve_dtype_name(options) in ("float16", "bfloat16", "auto")
    if torch.cuda.is_available() and half and is_flash_attn_2_available():
        return "flash_attention_2"
    return None


def _bitsandbytes_config(quantization: str) -> Any:
    import torch

    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise DependencyMissingError(f"quantization={quantization!r}", "bitsandbytes") from None
    if not torch.cuda.is_available():
        raise ConfigError(
            f"quantization={quantization!r} (bitsandbytes) needs a CUDA GPU here; leave it unset on CPU.",
            key_path="quantization",
        )
    from transformers import BitsAndBytesConfig

    if quantization == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_quant_type="nf4"
        )
    return BitsAndBytesConfig(load_in_8bit=True)


def place_model(model: Any, options: LoadOptions) -> Any:
    """Move a model to its device (unless accelerate placed it) and put it in eval mode."""
    if options.device_map is None and not options.quantization:
        model = model.to(resolve_device(options.device))
    model.eval()
    return model


def call_transformers(what: str, source: str, load: Callable[[], T]) -> T:
    """Run a ``from_pretrained`` call, turning transformers' exceptions into hfbench's.

    Raises:
        ModelNotFoundError: the files are not there (or not cached while offline).
        ModelLoadError: anything else that went wrong while loading.
    """
    try:
        return load()
    except HFBenchError:
        raise
    except (OSError, FileNotFoundError) as exc:
        offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes"}
        hint = " (HF_HUB_OFFLINE is set: only cached files can be used)" if offline else ""
        raise ModelNotFoundError(f"Could not find the {what} of {source!r}{hint}: {exc}") from exc
    except ImportError as exc:
        raise ModelLoadError(
            f"Loading the {what} of {source!r} needs a package that is missing: {exc}"
        ) from exc
    except (ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise ModelLoadError(f"Could not load the {what} of {source!r}: {exc}") from exc
