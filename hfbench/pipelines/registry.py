"""Registries: architecture -> loader, (architecture, capability) -> processor.

Filled by decorators where the classes are defined (like lm-eval's ``@register_model``), so a
new loader or processor is added without touching an if-chain. The built-in ones are listed
module by module in ``BUILTIN_MODULES`` and imported on first lookup — never as a side effect of
importing something else — so every process that imports ``hfbench.pipelines`` (a benchmark's
child process, a Ray worker) sees the same registry.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability, canonical_capability
from hfbench.core.errors import UnsupportedCapabilityError

if TYPE_CHECKING:
    from hfbench.pipelines.loader import ModelLoader
    from hfbench.pipelines.processor import CapabilityProcessor

L = TypeVar("L", bound="type[ModelLoader]")
C = TypeVar("C", bound="type[CapabilityProcessor]")

_LOADERS: dict[ModelArchitecture, type[ModelLoader]] = {}
_PROCESSORS: dict[tuple[ModelArchitecture, str], type[CapabilityProcessor]] = {}

#: Modules that register hfbench's own loaders, pipeline classes and processors.
BUILTIN_MODULES: tuple[str, ...] = (
    # loaders, one per architecture (with their checkpoint-head tables)
    "hfbench.pipelines.encoder_only",
    "hfbench.pipelines.decoder_only",
    "hfbench.pipelines.encoder_decoder",
    "hfbench.pipelines.vision_encoder",
    "hfbench.pipelines.multimodal",
    "hfbench.pipelines.speech",
    # capability processors
    "hfbench.pipelines.processors.text_generation",
    "hfbench.pipelines.processors.general",
    "hfbench.pipelines.processors.summarization",
    "hfbench.pipelines.processors.translation",
    "hfbench.pipelines.processors.question_answering",
    "hfbench.pipelines.processors.classification",
    "hfbench.pipelines.processors.fill_mask",
    "hfbench.pipelines.processors.embeddings",
    "hfbench.pipelines.processors.vision",
    "hfbench.pipelines.processors.multimodal",
    "hfbench.pipelines.processors.speech",
)
_builtins_lock = threading.Lock()
_builtins_loaded = False


def load_builtins() -> None:
    """Import every module of ``BUILTIN_MODULES`` once (they register themselves)."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _builtins_lock:
        if not _builtins_loaded:
            for module in BUILTIN_MODULES:
                importlib.import_module(module)
            _builtins_loaded = True


def register_loader(architecture: ModelArchitecture | str) -> Callable[[L], L]:
    """Class decorator: the ``ModelLoader`` of an architecture."""
    arch = ModelArchitecture.parse(architecture)

    def decorate(cls: L) -> L:
        _LOADERS[arch] = cls
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


def loader_class(architecture: ModelArchitecture | str) -> type[ModelLoader]:
    """The registered loader class of an architecture.

    Raises:
        UnsupportedCapabilityError: no loader is registered for it.
    """
    load_builtins()
    arch = ModelArchitecture.parse(architecture)
    if arch not in _LOADERS:
        raise UnsupportedCapabilityError(f"No loader is registered for {arch.value} models.")
    return _LOADERS[arch]


def processor_class(
    architecture: ModelArchitecture | str, capability: str
) -> type[CapabilityProcessor] | None:
    """The dedicated processor for (architecture, capability), or None when there is none."""
    load_builtins()
    return _PROCESSORS.get((ModelArchitecture.parse(architecture), canonical_capability(capability)))


def registered_processors() -> dict[tuple[ModelArchitecture, str], type[CapabilityProcessor]]:
    """Every registered (architecture, capability) -> processor class."""
    load_builtins()
    return dict(_PROCESSORS)
