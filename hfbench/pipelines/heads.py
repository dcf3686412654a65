"""Task heads: which ``transformers`` Auto class loads a checkpoint, and what the loaded head can serve.

A loader lists its architecture's heads as a table of ``Head`` rows (most specific first). The
checkpoint's own head is the row whose transformers task mapping names a class listed in the
checkpoint's ``config.architectures``; ``HeadLoader`` loads that row, and the pipeline then serves
only that row's capabilities (``refine_capabilities`` drops the rest, and ``BasePipeline`` refuses
them with a clear error instead of running a head that is not there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from hfbench.core.capability import ModelCapabilities
from hfbench.core.errors import ModelLoadError, UnsupportedCapabilityError
from hfbench.pipelines.base import LoadedModel, ModelLoader


@dataclass(frozen=True)
class Head:
    """One way to load a checkpoint, and the capabilities it serves.

    Attributes:
        mapping: name of a ``transformers.models.auto.modeling_auto.*_MAPPING_NAMES`` table.
        auto_class: the ``transformers`` Auto class that loads it.
        capabilities: canonical capabilities this head serves.
        trained: True when the head must come from the checkpoint (a classifier, a CTC layer);
            such a head is never built with random weights for a checkpoint that lacks it.
    """

    mapping: str
    auto_class: str
    capabilities: tuple[str, ...]
    trained: bool = True

    def class_names(self, model_type: str) -> tuple[str, ...]:
        """The model class names this head loads for ``model_type`` (empty if none)."""
        from transformers.models.auto import modeling_auto

        table: dict[str, Any] = getattr(modeling_auto, self.mapping, {})
        names = table.get(model_type, ())
        return (names,) if isinstance(names, str) else tuple(names)

    def load_class(self) -> Any:
        """The Auto class object."""
        import transformers

        return getattr(transformers, self.auto_class)


def choose_head(hf_config: Any, heads: Sequence[Head], capability: str | None = None) -> Head:
    """The head to load ``hf_config``'s checkpoint with, for ``capability`` (None: its own head).

    Order: a head whose class is the checkpoint's own (``config.architectures``) and serves the
    capability; else, for a checkpoint that names its class, an untrained head (a bare backbone)
    that serves it. A config without ``architectures`` gets the first head that knows its
    ``model_type`` and serves the capability (untrained heads first when none is asked for).

    Raises:
        UnsupportedCapabilityError: the checkpoint has no head for the capability.
        ModelLoadError: no head of the table knows this ``model_type``.
    """
    model_type = str(getattr(hf_config, "model_type", "") or "")
    archs = set(getattr(hf_config, "architectures", None) or [])
    known = [h for h in heads if h.class_names(model_type)]
    if not known:
        raise ModelLoadError(
            f"No transformers Auto class among {', '.join(sorted({h.auto_class for h in heads}))} "
            f"loads model_type={model_type!r}; this pipeline cannot load it."
        )

    def serves(head: Head) -> bool:
        return capability is None or capability in head.capabilities

    own = [h for h in known if archs & set(h.class_names(model_type))]
    if archs:
        candidates = own + [h for h in known if h not in own and not h.trained]
    elif capability is None:  # no class named: prefer a head that adds no random weights
        candidates = [h for h in known if not h.trained] + [h for h in known if h.trained]
    else:  # no class named, but a capability asked for: trust the request
        candidates = known
    for head in candidates:
        if serves(head):
            return head
    offered = own or ([h for h in known if not h.trained] if archs else known)
    served = sorted({c for h in offered for c in h.capabilities})
    named = ", ".join(sorted(archs)) or model_type
    raise UnsupportedCapabilityError(
        f"The checkpoint ({named}) has no head for {capability!r}; it can serve: "
        f"{', '.join(served) or 'nothing this pipeline offers'}."
    )


def loaded_head(model: Any, heads: Sequence[Head]) -> Head | None:
    """The row of ``heads`` that the loaded ``model``'s class belongs to (None if none)."""
    model_type = str(getattr(model.config, "model_type", "") or "")
    name = type(model).__name__
    return next((h for h in heads if name in h.class_names(model_type)), None)


class HeadLoader(ModelLoader):
    """A ``ModelLoader`` that picks the Auto class from a table of ``heads``."""

    heads: ClassVar[tuple[Head, ...]] = ()

    def auto_class_for(self, hf_config: Any, capability: str | None) -> Any:
        """The Auto class of the checkpoint's head that serves ``capability``."""
        return choose_head(hf_config, self.heads, capability).load_class()

    def head_of(self, loaded: LoadedModel) -> Head | None:
        """The head the loaded model came from (by its class; else by its config, for classes
        from remote code that transformers' tables do not name)."""
        head = loaded_head(loaded.model, self.heads)
        if head is None:
            try:
                head = choose_head(loaded.hf_config, self.heads)
            except (UnsupportedCapabilityError, ModelLoadError):
                return None
        return head

    def served_capabilities(self, loaded: LoadedModel) -> set[str] | None:
        """Capabilities the loaded model can serve (None: unknown, keep the architecture's)."""
        head = self.head_of(loaded)
        return set(head.capabilities) if head is not None else None

    def refine_capabilities(self, loaded: LoadedModel, capabilities: ModelCapabilities) -> None:
        """Drop the architecture's capabilities this checkpoint's head cannot serve."""
        served = self.served_capabilities(loaded)
        if served is None:
            return
        for capability in list(capabilities):
            if capability.name not in served:
                capabilities.remove(capability.name)
