"""Shared loading options: device, dtype, device map, attention kernel, optimize level, quantization,
Hub options.

Every architecture's loader turns the merged config into ``from_pretrained`` keyword arguments
here, so the options mean the same everywhere, and turns transformers' exceptions into
hfbench's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from hfbench.core.dtypes import canonical_dtype, torch_dtype
from hfbench.core.errors import (
    ConfigError,
    DependencyMissingError,
    HFBenchError,
    ModelLoadError,
    ModelNotFoundError,
    OutOfMemoryError,
)
from hfbench.core.hub import hub_offline

T = TypeVar("T")


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model; built from a merged config with ``LoadOptions.from_config``."""

    device: str = "auto"
    dtype: str = "auto"
    device_map: str | dict[str, Any] | None = None
    attn_implementation: str = "auto"
    optimize: str = "exact"
    compile: bool = False
    quantization: str | None = None
    trust_remote_code: bool = False
    revision: str | None = None
    cache_dir: str | None = None
    local_files_only: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LoadOptions:
        """Pick the load keys out of a (validated) config; run keys are ignored."""
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in config.items() if k in fields})

    def cache_key(self) -> tuple[Any, ...]:
        """What identifies one loaded copy of a model (for the provider's model cache): every
        load option, with ``auto`` dtype and device resolved, so ``fp32`` and ``float32`` (or
        ``auto`` on a CPU) are one entry and a different dtype is another."""
        resolved = dataclasses.replace(
            self, dtype=resolve_dtype_name(self), device=resolve_device(self.device)
        )
        values = dataclasses.astuple(resolved)
        return tuple(sorted(v.items()) if isinstance(v, dict) else v for v in values)


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
        return canonical_dtype(options.dtype)
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
        "local_files_only": options.local_files_only or hub_offline(),
    }
    dtype = resolve_dtype_name(options)
    kwargs["dtype"] = dtype if dtype == "auto" else torch_dtype(dtype)
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


def place_model(model: Any, options: LoadOptions, source: str = "the model") -> Any:
    """Move a model to its device (unless accelerate placed it) and put it in eval mode.

    Raises:
        OutOfMemoryError: the device has no room for it.
    """
    if options.device_map is None and not options.quantization:
        device = resolve_device(options.device)
        model = call_transformers("placement on " + device, source, lambda: model.to(device))
    model.eval()
    return model


@contextmanager
def quiet_progress() -> Iterator[None]:
    """Hide transformers' per-tensor "Loading weights" bar while hfbench loads a model.

    hfbench times and logs each loading phase itself (``-v``); a bar per load floods notebooks,
    tests and benchmark logs. Download bars (preparation) are left alone.
    """
    from transformers.utils import logging as transformers_logging

    enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            transformers_logging.enable_progress_bar()


def call_transformers(what: str, source: str, load: Callable[[], T]) -> T:
    """Run a ``from_pretrained`` call (or a model move), turning exceptions into hfbench's.

    Raises:
        OutOfMemoryError: the weights do not fit where they go (CPU RAM or a CUDA device).
        ModelNotFoundError: the files are not there (or not cached while offline).
        ModelLoadError: anything else that went wrong while loading.
    """
    try:
        return load()
    except HFBenchError:
        raise
    except MemoryError as exc:
        raise OutOfMemoryError(
            f"Loading the {what} of {source!r} ran out of memory (CPU RAM): {exc or 'MemoryError'}. "
            "Use a smaller model, a smaller dtype (bf16) or quantization, or free memory.",
            device="cpu",
        ) from exc
    except (OSError, FileNotFoundError) as exc:
        hint = " (HF_HUB_OFFLINE is set: only cached files can be used)" if hub_offline() else ""
        raise ModelNotFoundError(f"Could not find the {what} of {source!r}{hint}: {exc}") from exc
    except ImportError as exc:
        raise ModelLoadError(
            f"Loading the {what} of {source!r} needs a package that is missing: {exc}"
        ) from exc
    except (ValueError, KeyError, RuntimeError, TypeError) as exc:
        if is_out_of_memory(exc):
            raise OutOfMemoryError(
                f"Loading the {what} of {source!r} ran out of memory: {exc}. Use a smaller model, "
                "a smaller dtype (bf16/fp16) or 4/8-bit quantization, or another device.",
                device=_oom_device(exc),
            ) from exc
        raise ModelLoadError(f"Could not load the {what} of {source!r}: {exc}") from exc


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is an out-of-memory error (torch's CUDA/MPS OOM, a failed CPU allocation)."""
    if isinstance(exc, MemoryError):
        return True
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):  # pragma: no cover - torch is a dependency
        pass
    text = str(exc).lower()
    return "out of memory" in text or "defaultcpuallocator: can't allocate memory" in text


def _oom_device(exc: BaseException) -> str:
    text = str(exc).lower()
    return "cuda" if "cuda" in text else ("mps" if "mps" in text else "cpu")
