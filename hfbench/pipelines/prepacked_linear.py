"""``nn.Linear`` on weights prepacked once for oneDNN: the same product, without the per-call
repacking of a plain CPU GEMM (the ``prepacked-linear`` step of ``optimize='exact'``).

PyTorch's eager ``nn.Linear`` on CPU hands the weight to MKL's GEMM on every call, which lays it
out again for its kernels each time; oneDNN's linear takes a weight already laid out in its
blocked format (``torch.ops.mkldnn._reorder_linear_weight``, the op inductor's freezing pass uses
for the same purpose). The arithmetic is the same float32 product; only the order of additions
inside a dot product may differ, so outputs agree to float rounding (tests bound the difference
and check greedy tokens on the tiny zoo; ``hfbench compare-speed`` checks them on real models).

The packed weight replaces the original one (a non-persistent buffer: memory accounting sees it,
``state_dict`` does not). transformers maps a safetensors file into memory and keeps the weights
as views of that mapping, so dropping the originals alone frees nothing: the mapping lives on
while any tensor of the file does, and the pages packing read stay resident. So after packing, the
model's remaining parameters and buffers are copied out of the mapping (a copy of what is not a
linear weight: the embeddings and norms), the mapping is released, and glibc is asked to return
freed heap memory (``malloc_trim``). Measured on SmolLM2-135M (fp32, 513 MiB of linear weights):
resident memory after loading and one call 1,448 MiB packed without this, 1,043 MiB with it,
734 MiB unpacked (whose weights stay file-backed pages). The step is skipped, and says so, when
the packed copy would not fit in the memory available.

Models read a linear layer's ``weight.dtype``/``.device``/``.shape`` (T5 casts its activations
to ``wo.weight.dtype``), so ``weight`` stays readable: a weight shared with another module (a tied
``lm_head``) is kept as it was, and the packed copy adds its size once; any other becomes a
placeholder with the weight's shape, dtype and device that holds a single zero (its values are
not the weights: nothing in inference reads them).
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn


def prepacking_available() -> bool:
    """Whether this torch build has oneDNN's linear with prepacked weights on CPU."""
    return bool(
        torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
        and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )


class PrepackedLinear(nn.Module):
    """Drop-in inference replacement for a float32 CPU ``nn.Linear``.

    Args:
        linear: the layer to replace; its weight is packed once here.
        shared: the weight is held by another module too (kept as ``weight``); otherwise
            ``weight`` becomes a placeholder and the original can be freed.
    """

    def __init__(self, linear: nn.Linear, *, shared: bool = False) -> None:
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), None)
        self.register_buffer("packed_weight", packed, persistent=False)
        self.bias = linear.bias
        self.weight: torch.Tensor = linear.weight if shared else _placeholder(linear.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ weight.T + bias`` on any number of leading dimensions."""
        return torch.ops.mkldnn._linear_pointwise(x, self.packed_weight, self.bias, "none", [], "")

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


def prepack_linears(model: nn.Module) -> tuple[int, int]:
    """Replace every float32 CPU ``nn.Linear`` in ``model`` with a ``PrepackedLinear``, in place.

    Returns:
        ``(layers replaced, bytes of weights now held twice)``: the second counts weights shared
        with another module (a tied output projection), whose original must stay.
    """
    shared = _shared_weight_ids(model)
    replaced = 0
    extra_bytes = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is not nn.Linear or not _packable(child.weight):
                continue
            tied = id(child.weight) in shared
            if tied:
                extra_bytes += child.weight.numel() * child.weight.element_size()
            setattr(parent, name, PrepackedLinear(child, shared=tied))
            replaced += 1
    if replaced:
        _copy_out_of_mapped_files(model)
    return replaced, extra_bytes


def _copy_out_of_mapped_files(model: nn.Module) -> None:
    """Give every remaining parameter and buffer its own memory (see the module docstring), so
    the file mapping the original weights lived in can be released, then trim the heap."""
    import gc

    with torch.no_grad():
        for module in model.modules():
            for parameter in module.parameters(recurse=False):
                if parameter.device.type == "cpu" and not parameter.is_mkldnn:
                    parameter.data = parameter.data.clone()
            for name, buffer in list(module.named_buffers(recurse=False)):
                if buffer is not None and buffer.device.type == "cpu" and not buffer.is_mkldnn:
                    setattr(module, name, buffer.clone())
    gc.collect()
    _trim_heap()


def _trim_heap() -> None:
    """Return freed heap memory to the system (glibc's ``malloc_trim``; nothing elsewhere)."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def linear_weight_bytes(model: nn.Module) -> int:
    """Bytes of the float32 CPU ``nn.Linear`` weights ``prepack_linears`` would pack."""
    return sum(
        m.weight.numel() * m.weight.element_size()
        for m in model.modules()
        if type(m) is nn.Linear and _packable(m.weight)
    )


def _placeholder(weight: torch.Tensor) -> torch.Tensor:
    """A tensor with ``weight``'s shape, dtype and device over one stored zero (stride 0)."""
    return torch.zeros((), dtype=weight.dtype, device=weight.device).expand(weight.shape)


def _packable(weight: Any) -> bool:
    return bool(weight.device.type == "cpu" and weight.dtype == torch.float32 and weight.dim() == 2)


def _shared_weight_ids(model: nn.Module) -> set[int]:
    """Ids of parameters that more than one module holds (tied weights)."""
    seen: dict[int, int] = {}
    for module in model.modules():
        for parameter in module.parameters(recurse=False):
            seen[id(parameter)] = seen.get(id(parameter), 0) + 1
    return {key for key, count in seen.items() if count > 1}
