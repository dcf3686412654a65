"""Task heads: which ``transformers`` Auto class loads a checkpoint, and what the loaded head can serve.

The rows are the head table's (``hfbench.core.heads``, ``core/data/heads.toml``); this module adds
what needs transformers: a row's model classes (its ``*_MAPPING_NAMES`` table) and its Auto class.
Every loader chooses among its architecture's head set (most specific first). A model class
belongs to the first row whose transformers task table names it (any ``model_type``, so new model
classes are found without code changes), else whose class-name ending it has (classes from remote
code). The checkpoint's own heads are the rows of the classes its ``config.architectures`` names;
``HeadLoader`` loads one of them, and the pipeline then serves only what that head serves
(``refine`` drops the rest, before loading from the config alone or after it from the loaded
model, and ``BasePipeline`` refuses them with ``unservable_error`` instead of running a head that
is not there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, ClassVar

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import ModelCapabilities, canonical_capability
from hfbench.core.errors import ModelLoadError, UnsupportedCapabilityError
from hfbench.core.heads import HeadSpec, architecture_heads, default_head, head_by_suffix, head_spec
from hfbench.pipelines.loader import LoadedModel, ModelLoader


@dataclass(frozen=True)
class Head(HeadSpec):
    """A row of the head table, with what needs transformers: its model classes and Auto class."""

    @classmethod
    def of(cls, spec: HeadSpec) -> Head:
        """The ``Head`` of a ``HeadSpec`` row."""
        return cls(**{f.name: getattr(spec, f.name) for f in fields(spec)})

    def class_names(self, model_type: str) -> tuple[str, ...]:
        """The model class names this head loads for ``model_type`` (empty if none)."""
        names = _mapping(self.mapping).get(model_type, ())
        return (names,) if isinstance(names, str) else tuple(names)

    def names_class(self, class_name: str) -> bool:
        """Whether this head's transformers table names ``class_name`` (for any model type)."""
        return class_name in _mapped_classes(self.mapping)

    def load_class(self) -> Any:
        """The Auto class object."""
        import transformers

        return getattr(transformers, self.auto_class)


@cache
def head_named(name: str) -> Head:
    """The ``Head`` of the table's row ``name`` (one object per row, so ``is`` compares rows)."""
    return Head.of(head_spec(name))


def heads_of(architecture: ModelArchitecture) -> tuple[Head, ...]:
    """The heads ``architecture``'s loader chooses from, most specific first."""
    return tuple(head_named(spec.name) for spec in architecture_heads(architecture.value))


def default_head_of(architecture: ModelArchitecture) -> Head:
    """The head ``architecture`` loads a config with that names no model class."""
    return head_named(default_head(architecture.value).name)


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
    return found if found is not None else head_by_suffix(class_name, heads)


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
    that names no class gets ``default`` first (when it knows the ``model_type``, or when no head
    does and the config maps its classes itself: remote code's ``auto_map``), then, with no
    capability asked, the untrained heads that know its ``model_type``, or, with one asked, any
    head that knows it (trusting the request). Returns None when no head serves the capability.

    Raises:
        ModelLoadError: no head of the table knows this checkpoint.
    """
    model_type = str(getattr(hf_config, "model_type", "") or "")
    known = [h for h in heads if h.class_names(model_type)]
    own = own_heads(hf_config, heads)
    remote = bool(getattr(hf_config, "auto_map", None))
    trusted = default is not None and (default in known or (not known and remote))
    if getattr(hf_config, "architectures", None):
        candidates = own + [h for h in known if h not in own and not h.trained]
    else:
        first = [default] if trusted and default is not None else []
        if capability is None:  # no class named: prefer a head that adds no random weights
            known = [h for h in known if not h.trained] + [h for h in known if h.trained]
        candidates = first + [h for h in known if h is not default]
    if not known and not own and not trusted:
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


@dataclass(frozen=True)
class Checkpoint:
    """What refining capabilities by head reads of a checkpoint: a loaded one, or its config alone.

    Attributes:
        hf_config: the checkpoint's ``PretrainedConfig`` (or anything with its attributes).
        model_class: the model class it loads as (``type(model).__name__`` once loaded; before,
            the class its head's Auto class builds); None when not known.
        chat_template: whether its tokenizer or processor has a chat template (None: not known).
    """

    hf_config: Any
    model_class: str | None = None
    chat_template: bool | None = None

    @classmethod
    def of_loaded(cls, loaded: LoadedModel) -> Checkpoint:
        """The checkpoint a loaded model came from."""
        template = any(getattr(o, "chat_template", None) for o in (loaded.processor, loaded.tokenizer))
        return cls(loaded.hf_config, type(loaded.model).__name__, template)


class HeadLoader(ModelLoader):
    """A ``ModelLoader`` that picks the Auto class from its architecture's heads (the head table)."""

    architecture: ClassVar[ModelArchitecture]

    @property
    def heads(self) -> tuple[Head, ...]:
        """The heads this loader chooses from, most specific first."""
        return heads_of(self.architecture)

    def default_head(self) -> Head | None:
        """The head for a config that names no class (the architecture's default)."""
        return default_head_of(self.architecture)

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

    def model_class_for(self, hf_config: Any) -> str | None:
        """The model class loading ``hf_config`` without a capability builds (None: not known).

        The own head's Auto class builds its transformers table's class for the ``model_type``
        (the one ``config.architectures`` names, when the table lists several); a head no table
        knows the ``model_type`` of (remote code) builds the class the config names.
        """
        try:
            head = find_head(hf_config, self.heads, default=self.default_head())
        except ModelLoadError:
            return None
        if head is None:
            return None
        named = [str(n) for n in getattr(hf_config, "architectures", None) or []]
        built = head.class_names(str(getattr(hf_config, "model_type", "") or ""))
        if built:
            return next((n for n in named if n in built), built[0])
        return next((n for n in named if head_for_class(n, self.heads) is head), None)

    def checkpoint(self, hf_config: Any, chat_template: bool | None = None) -> Checkpoint:
        """The ``Checkpoint`` a config describes, before any weights are loaded."""
        return Checkpoint(hf_config, self.model_class_for(hf_config), chat_template)

    def checkpoint_head(self, checkpoint: Checkpoint) -> Head | None:
        """The head of a checkpoint: its model class's row; else the one its config chooses."""
        head = head_for_class(checkpoint.model_class, self.heads) if checkpoint.model_class else None
        if head is None:
            try:
                head = find_head(checkpoint.hf_config, self.heads, default=self.default_head())
            except ModelLoadError:
                return None
        return head

    def head_of(self, loaded: LoadedModel) -> Head | None:
        """The head the loaded model came from (by its class; else by its config)."""
        return self.checkpoint_head(Checkpoint.of_loaded(loaded))

    def serves(self, checkpoint: Checkpoint, head: Head, capability: str) -> bool:
        """Whether the checkpoint, whose head is ``head``, serves ``capability``."""
        return head.serves(capability)

    def refine(self, checkpoint: Checkpoint, capabilities: ModelCapabilities) -> None:
        """Drop the architecture's capabilities this checkpoint's head cannot serve."""
        head = self.checkpoint_head(checkpoint)
        if head is None:
            return
        for capability in list(capabilities):
            if not self.serves(checkpoint, head, capability.name):
                capabilities.remove(capability.name)

    def refine_capabilities(self, loaded: LoadedModel, capabilities: ModelCapabilities) -> None:
        """``refine`` for a loaded model (what ``BasePipeline.load`` calls)."""
        self.refine(Checkpoint.of_loaded(loaded), capabilities)
