"""Task heads: which ``transformers`` Auto class loads a checkpoint, and what the loaded head can serve.

Every loader lists its architecture's heads as a table of ``Head`` rows (most specific first). A
model class belongs to the first row whose transformers task mapping names it (any ``model_type``,
so new model classes are found without code changes), else whose class-name ending it has (classes
from remote code). The checkpoint's own heads are the rows of the classes its
``config.architectures`` names; ``HeadLoader`` loads one of them, and the pipeline then serves
only what that head serves (``refine_capabilities`` drops the rest, and ``BasePipeline`` refuses
them with ``unservable_error`` instead of running a head that is not there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from hfbench.core.capability import ModelCapabilities, canonical_capability
from hfbench.core.errors import ModelLoadError, UnsupportedCapabilityError
from hfbench.pipelines.loader import LoadedModel, ModelLoader


@dataclass(frozen=True)
class Head:
    """One way to load a checkpoint, and the capabilities it serves.

    Attributes:
        kind: short name used in messages (``masked-lm``, ``image-classification``).
        mapping: name of a ``transformers.models.auto.modeling_auto.*_MAPPING_NAMES`` table.
        auto_class: the ``transformers`` Auto class that loads it.
        capabilities: canonical capabilities this head serves.
        trained: True when the head must come from the checkpoint (a classifier, a CTC layer);
            such a head is never built with random weights for a checkpoint that lacks it.
        prompted: True for a text-generating head, which serves any capability of its
            architecture by prompting (on top of ``capabilities``).
        suffixes: class-name endings that identify the head when no transformers table names
            the class (remote code).
        description: what the head does, for error messages (default: ``kind``).
    """

    kind: str
    mapping: str
    auto_class: str
    capabilities: tuple[str, ...]
    trained: bool = True
    prompted: bool = False
    suffixes: tuple[str, ...] = ()
    description: str = ""

    def class_names(self, model_type: str) -> tuple[str, ...]:
        """The model class names this head loads for ``model_type`` (empty if none)."""
        names = _mapping(self.mapping).get(model_type, ())
        return (names,) if isinstance(names, str) else tuple(names)

    def names_class(self, class_name: str) -> bool:
        """Whether this head's transformers table names ``class_name`` (for any model type)."""
        return class_name in _mapped_classes(self.mapping)

    def serves(self, capability: str) -> bool:
        """Whether this head serves ``capability`` (a prompted head serves any)."""
        return self.prompted or capability in self.capabilities

    def describe(self) -> str:
        """What the head does, for messages."""
        return self.description or self.kind

    def load_class(self) -> Any:
        """The Auto class object."""
        import transformers

        return getattr(transformers, self.auto_class)


@cache
def _mapping(name: str) -> Mapping[str, Any]:
    from transformers.models.auto import modeling_auto

    table: Mapping[str, Any] = getattr(modeling_auto, name, {})
    return table


@cache
def _mapped_classes(name: str) -> frozenset[str]:
    names: set[str] = set()
    for value in _mapping(name).values():
        names.update((value,) if isinstance(value, str) else value)
    return frozenset(names)


def head_for_class(class_name: str, heads: Sequence[Head]) -> Head | None:
    """The row of ``heads`` a model class belongs to: by transformers' tables, else by name ending."""
    found = next((h for h in heads if h.names_class(class_name)), None)
    if found is None:
        found = next((h for h in heads if h.suffixes and class_name.endswith(h.suffixes)), None)
    return found


def own_heads(hf_config: Any, heads: Sequence[Head]) -> list[Head]:
    """The rows of the classes ``config.architectures`` names, in its order (unknown classes skipped)."""
    found: list[Head] = []
    for name in getattr(hf_config, "architectures", None) or []:
        head = head_for_class(str(name), heads)
        if head is not None and head not in found:
            found.append(head)
    return found


def find_head(
    hf_config: Any, heads: Sequence[Head], capability: str | None = None, default: Head | None = None
) -> Head | None:
    """The head to load ``hf_config``'s checkpoint with, for ``capability`` (None: its own head).

    Order: a head whose class the checkpoint names (``config.architectures``) and that serves the
    capability; else an untrained head (a bare backbone) that knows the ``model_type``. A config
    that names no class gets ``default`` first, then, with no capability asked, the untrained heads
    that know its ``model_type``, or, with one asked, any head that knows it (trusting the request).
    Returns None when no head serves the capability.

    Raises:
        ModelLoadError: no head of the table knows this checkpoint.
    """
    model_type = str(getattr(hf_config, "model_type", "") or "")
    known = [h for h in heads if h.class_names(model_type)]
    own = own_heads(hf_config, heads)
    if getattr(hf_config, "architectures", None):
        candidates = own + [h for h in known if h not in own and not h.trained]
    else:
        first = [default] if default is not None else []
        if capability is None:  # no class named: prefer a head that adds no random weights
            known = [h for h in known if not h.trained] + [h for h in known if h.trained]
        candidates = first + [h for h in known if h is not default]
    if not known and not own and default is None:
        raise ModelLoadError(
            f"No transformers Auto class among {', '.join(sorted({h.auto_class for h in heads}))} "
            f"loads model_type={model_type!r}; this pipeline cannot load it."
        )
    return next((h for h in candidates if capability is None or h.serves(capability)), None)


def choose_head(
    hf_config: Any, heads: Sequence[Head], capability: str | None = None, default: Head | None = None
) -> Head:
    """``find_head``, raising ``no_head_error`` when no head serves the capability.

    Raises:
        UnsupportedCapabilityError: the checkpoint has no head for the capability.
        ModelLoadError: no head of the table knows this checkpoint.
    """
    head = find_head(hf_config, heads, capability, default)
    if head is None:
        raise no_head_error(hf_config, heads, capability)
    return head


def no_head_error(
    hf_config: Any, heads: Sequence[Head], capability: str | None
) -> UnsupportedCapabilityError:
    """The error for a checkpoint none of whose heads serves ``capability``, listing what it serves."""
    archs = getattr(hf_config, "architectures", None) or []
    model_type = str(getattr(hf_config, "model_type", "") or "")
    known = [h for h in heads if h.class_names(model_type)]
    offered = own_heads(hf_config, heads) or ([h for h in known if not h.trained] if archs else known)
    served = sorted({c for h in offered for c in h.capabilities})
    named = ", ".join(sorted(archs)) or model_type
    return UnsupportedCapabilityError(
        f"The checkpoint ({named}) has no head for {capability!r}; it can serve: "
        f"{', '.join(served) or 'nothing this pipeline offers'}."
    )


class HeadLoader(ModelLoader):
    """A ``ModelLoader`` that picks the Auto class from a table of ``heads``."""

    heads: ClassVar[tuple[Head, ...]] = ()

    def default_head(self) -> Head | None:
        """The head for a config that names no class (None: the first that adds no random weights)."""
        return None

    def choose_head(self, hf_config: Any, capability: str | None, model_name: str = "this model") -> Head:
        """The checkpoint's head that serves ``capability`` (None: its own head).

        Raises:
            UnsupportedCapabilityError: from ``no_head_error``.
        """
        cap = canonical_capability(capability) if capability is not None else None
        head = find_head(hf_config, self.heads, cap, self.default_head())
        if head is None:
            raise self.no_head_error(hf_config, str(cap), model_name)
        return head

    def no_head_error(self, hf_config: Any, capability: str, model_name: str) -> UnsupportedCapabilityError:
        """The error for a checkpoint with no head for ``capability`` (override to say what to do)."""
        return no_head_error(hf_config, self.heads, capability)

    def auto_class_for(self, hf_config: Any, capability: str | None) -> Any:
        """The Auto class of the checkpoint's head that serves ``capability``."""
        return self.choose_head(hf_config, capability).load_class()

    def load_weights(
        self, model_name: str, config: Mapping[str, Any], capability: str | None, hf_config: Any
    ) -> Any:
        """Read the weights; a capability the checkpoint has no head for fails before any are read."""
        if capability is not None:
            self.choose_head(hf_config, capability, model_name)
        return super().load_weights(model_name, config, capability, hf_config)

    def head_of(self, loaded: LoadedModel) -> Head | None:
        """The head the loaded model came from (by its class; else by its config)."""
        head = head_for_class(type(loaded.model).__name__, self.heads)
        if head is None:
            try:
                head = find_head(loaded.hf_config, self.heads, default=self.default_head())
            except ModelLoadError:
                return None
        return head

    def serves(self, loaded: LoadedModel, head: Head, capability: str) -> bool:
        """Whether the loaded model, whose head is ``head``, serves ``capability``."""
        return head.serves(capability)

    def refine_capabilities(self, loaded: LoadedModel, capabilities: ModelCapabilities) -> None:
        """Drop the architecture's capabilities this checkpoint's head cannot serve."""
        head = self.head_of(loaded)
        if head is None:
            return
        for capability in list(capabilities):
            if not self.serves(loaded, head, capability.name):
                capabilities.remove(capability.name)
