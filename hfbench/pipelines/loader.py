"""``ModelLoader`` and ``LoadedModel``: how an architecture loads a checkpoint, and what it holds.

Every architecture's loader (registered with ``@register_loader``) fills in the ``Auto*`` class
per checkpoint head and the tokenizer/processor type; ``BasePipeline.load`` runs its steps one
by one so each loading phase is timed apart (``LoadedModel.load_phases``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hfbench.core.capability import ModelCapabilities
from hfbench.core.errors import UnsupportedCapabilityError
from hfbench.pipelines.loading import (
    LoadOptions,
    call_transformers,
    from_pretrained_kwargs,
    place_model,
    quiet_progress,
)
from hfbench.sources.resolve import resolve_model_source

if TYPE_CHECKING:
    from hfbench.pipelines.optimize import OptimizationReport


@dataclass
class LoadedModel:
    """A loaded model with everything a processor needs.

    Attributes:
        model_name: what the user asked for (Hub id, folder or ``embedded:<name>``).
        source: the local folder or Hub id it was loaded from.
        model: the ``transformers`` model, in eval mode, on its device.
        tokenizer: the text tokenizer, if the model reads text.
        processor: the image processor / feature extractor / ``AutoProcessor``, if any.
        hf_config: the model's ``PretrainedConfig``.
        options: the ``LoadOptions`` used (after the ``optimize`` level's changes: ``fast`` on
            CUDA sets ``quantization``).
        load_seconds: wall time of the load (all phases; preparation not included).
        load_phases: seconds per loading phase: ``config``, ``weights``, ``placement``,
            ``optimize`` (the level's steps), ``tokenizer`` (tokenizer and processor).
        prepare_seconds: seconds spent preparing the model just before this load (converting an
            embedded model, downloading a Hub snapshot); 0.0 when it was ready.
        optimization: what the ``optimize`` level did (steps, lossy or not); None when the
            model was loaded without ``BasePipeline.load``.
    """

    model_name: str
    source: str
    model: Any
    tokenizer: Any
    processor: Any
    hf_config: Any
    options: LoadOptions
    load_seconds: float
    load_phases: dict[str, float] = field(default_factory=dict)
    prepare_seconds: float = 0.0
    optimization: OptimizationReport | None = None

    @property
    def device(self) -> Any:
        """The device of the model's first parameter."""
        return next(self.model.parameters()).device


class ModelLoader:
    """Loads a model and its tokenizer/processor for one architecture.

    Subclasses choose the ``Auto*`` class per capability and checkpoint head
    (``auto_class_for``) and the processor type (``load_processor``).
    """

    def auto_class_for(self, hf_config: Any, capability: str | None) -> Any:
        """The ``transformers`` Auto class to load with (override per architecture)."""
        raise NotImplementedError

    def load_config(self, model_name: str, config: Mapping[str, Any]) -> Any:
        """The checkpoint's ``PretrainedConfig`` (through the Hub cache for Hub ids)."""
        from transformers import AutoConfig

        source = resolve_model_source(model_name)
        kwargs = hub_kwargs(config)
        return call_transformers("config", model_name, lambda: AutoConfig.from_pretrained(source, **kwargs))

    def load_weights(
        self, model_name: str, config: Mapping[str, Any], capability: str | None, hf_config: Any
    ) -> Any:
        """Read the weights for ``capability`` (or the checkpoint's own head), not yet placed."""
        source = resolve_model_source(model_name)
        auto_class = self.auto_class_for(hf_config, capability)
        kwargs = from_pretrained_kwargs(LoadOptions.from_config(config))
        with quiet_progress():
            return call_transformers(
                "weights",
                model_name,
                lambda: auto_class.from_pretrained(source, config=hf_config, **kwargs),
            )

    def load_model(self, model_name: str, config: Mapping[str, Any], capability: str | None = None) -> Any:
        """Load the model for ``capability`` (or the checkpoint's own head) and place it: config,
        weights and placement in one call (``BasePipeline.load`` times them one by one)."""
        hf_config = self.load_config(model_name, config)
        model = self.load_weights(model_name, config, capability, hf_config)
        return place_model(model, LoadOptions.from_config(config), model_name)

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """Return ``(tokenizer, processor)``; the default loads a tokenizer only."""
        return load_pretrained("tokenizer", "AutoTokenizer", model_name, config), None

    def refine_capabilities(self, loaded: LoadedModel, capabilities: ModelCapabilities) -> None:
        """Adjust the architecture's capabilities to this checkpoint (e.g. drop a missing head)."""

    def unservable_error(
        self, loaded: LoadedModel, capability: str, capabilities: ModelCapabilities
    ) -> UnsupportedCapabilityError:
        """The error for a capability ``refine_capabilities`` dropped (override to say what to do)."""
        return UnsupportedCapabilityError(
            f"{loaded.model_name} ({type(loaded.model).__name__}) cannot serve {capability!r}; "
            f"this checkpoint serves: {', '.join(capabilities.names()) or 'nothing'}."
        )


def hub_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    """The Hub-related ``from_pretrained`` options (for tokenizers and processors)."""
    kwargs = from_pretrained_kwargs(LoadOptions.from_config(config))
    return {k: kwargs[k] for k in ("trust_remote_code", "revision", "cache_dir", "local_files_only")}


def load_pretrained(what: str, auto_class: str, model_name: str, config: Mapping[str, Any]) -> Any:
    """``transformers.<auto_class>.from_pretrained`` for a model's tokenizer or processor, with its
    Hub options, transformers' errors turned into hfbench's (``what`` names it in messages)."""
    import transformers

    source = resolve_model_source(model_name)
    kwargs = hub_kwargs(config)
    cls = getattr(transformers, auto_class)
    return call_transformers(what, model_name, lambda: cls.from_pretrained(source, **kwargs))
