"""Registries: architecture -> pipeline class, (architecture, capability) -> processor class.

Filled by decorators where the classes are defined (like lm-eval's ``@register_model``), so a
new pipeline or processor is added without touching an if-chain.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability, canonical_capability

if TYPE_CHECKING:
    from hfbench.pipelines.base import BasePipeline, CapabilityProcessor

P = TypeVar("P", bound="type[BasePipeline]")
C = TypeVar("C", bound="type[CapabilityProcessor]")

_PIPELINES: dict[ModelArchitecture, type[BasePipeline]] = {}
_PROCESSORS: dict[tuple[ModelArchitecture, str], type[CapabilityProcessor]] = {}

# Modules that register built-in pipelines and processors when imported.
_BUILTIN_MODULES = (
    "hfbench.pipelines.encoder_only",
    "hfbench.pipelines.decoder_only",
    "hfbench.pipelines.encoder_decoder",
    "hfbench.pipelines.vision_encoder",
    "hfbench.pipelines.multimodal",
    "hfbench.pipelines.speech",
)
_loaded_builtins = False


def _ensure_builtins() -> None:
    global _loaded_builtins
    if _loaded_builtins:
        return
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
    _loaded_builtins = True


def register_pipeline(architecture: ModelArchitecture | str) -> Callable[[P], P]:
    """Class decorator: the pipeline class for an architecture."""
    arch = ModelArchitecture.parse(architecture)

    def decorate(cls: P) -> P:
        _PIPELINES[arch] = cls
        return cls

    return decorate


def register_processor(
    capability: str | Capability, architectures: Iterable[ModelArchitecture | str]
) -> Callable[[C], C]:
    """Class decorator: the processor for a capability on the given architectures."""
    name = canonical_capability(capability)
    archs = [ModelArchitecture.parse(a) for a in architectures]

    def decorate(cls: C) -> C:
        cls.capability = name
        for arch in archs:
            _PROCESSORS[(arch, name)] = cls
        return cls

    return decorate


def pipeline_class(architecture: ModelArchitecture | str) -> type[BasePipeline]:
    """The registered pipeline class for an architecture."""
    _ensure_builtins()
    return _PIPELINES[ModelArchitecture.parse(architecture)]


def processor_class(
    architecture: ModelArchitecture | str, capability: str
) -> type[CapabilityProcessor] | None:
    """The dedicated processor for (architecture, capability), or None when there is none."""
    _ensure_builtins()
    return _PROCESSORS.get((ModelArchitecture.parse(architecture), canonical_capability(capability)))


def registered_processors() -> dict[tuple[ModelArchitecture, str], type[CapabilityProcessor]]:
    """Every registered (architecture, capability) -> processor class."""
    _ensure_builtins()
    return dict(_PROCESSORS)
