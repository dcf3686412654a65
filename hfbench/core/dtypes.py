"""The one table of weight dtypes: names and aliases, bytes per parameter, the torch dtype.

Every layer that names a dtype (config keys, loading options, memory estimates, tiers, benchmark
records) reads it here, so ``bf16`` and ``bfloat16`` mean the same everywhere.

Example:
    >>> canonical_dtype("bf16"), bytes_per_param("int4"), short_dtype("float32")
    ('bfloat16', 0.5, 'fp32')
"""

from __future__ import annotations

from dataclasses import dataclass

from hfbench.core.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class DType:
    """One weight dtype.

    Attributes:
        name: canonical name (torch's, where torch has one).
        short: the short name hfbench prints (``fp32``, ``bf16``, ``int4``).
        aliases: other accepted spellings.
        bytes_per_param: bytes one weight takes.
        torch_name: the ``torch`` attribute that loads it (None for quantized formats, which a
            quantization backend produces).
    """

    name: str
    short: str
    aliases: tuple[str, ...]
    bytes_per_param: float
    torch_name: str | None

    @property
    def quantized(self) -> bool:
        """True for integer formats a quantization backend makes (int8, int4)."""
        return self.torch_name is None


DTYPES: tuple[DType, ...] = (
    DType("float32", "fp32", ("fp32", "f32"), 4.0, "float32"),
    DType("float16", "fp16", ("fp16", "half", "f16"), 2.0, "float16"),
    DType("bfloat16", "bf16", ("bf16",), 2.0, "bfloat16"),
    DType("int8", "int8", ("8bit", "qint8"), 1.0, None),
    DType("int4", "int4", ("4bit", "nf4"), 0.5, None),
)

_BY_NAME: dict[str, DType] = {
    spelling: dtype for dtype in DTYPES for spelling in (dtype.name, dtype.short, *dtype.aliases)
}

#: Every accepted spelling (canonical names, short names and aliases).
DTYPE_NAMES: tuple[str, ...] = tuple(_BY_NAME)
#: Spellings of the dtypes torch loads weights in directly (no quantization backend).
TORCH_DTYPE_NAMES: tuple[str, ...] = tuple(n for n, d in _BY_NAME.items() if not d.quantized)


def dtype_info(name: str) -> DType:
    """The ``DType`` for any accepted spelling.

    Raises:
        ConfigError: an unknown name (with a did-you-mean and the valid names).
    """
    found = _BY_NAME.get(str(name).strip().lower()) if isinstance(name, str) else None
    if found is None:
        raise ConfigError(
            f"unknown dtype {name!r}; valid: {', '.join(d.name for d in DTYPES)} "
            f"(or {', '.join(d.short for d in DTYPES)})." + did_you_mean(str(name), DTYPE_NAMES),
            key_path="dtype",
        )
    return found


def is_dtype(name: object) -> bool:
    """True when ``name`` is an accepted dtype spelling."""
    return isinstance(name, str) and name.strip().lower() in _BY_NAME


def canonical_dtype(name: str) -> str:
    """``bf16`` -> ``bfloat16`` (see ``DTYPES``)."""
    return dtype_info(name).name


def short_dtype(name: str) -> str:
    """``bfloat16`` -> ``bf16``."""
    return dtype_info(name).short


def bytes_per_param(name: str) -> float:
    """Bytes one weight takes at ``name`` (``int4`` -> 0.5)."""
    return dtype_info(name).bytes_per_param


def torch_dtype(name: str) -> object:
    """The ``torch.dtype`` for a non-quantized dtype name (imports torch).

    Raises:
        ConfigError: an unknown name, or a quantized format torch cannot load directly.
    """
    info = dtype_info(name)
    if info.torch_name is None:
        raise ConfigError(
            f"{name!r} is a quantized format, not a torch dtype; ask for it with the 'quantization' key.",
            key_path="dtype",
        )
    import torch

    return getattr(torch, info.torch_name)
