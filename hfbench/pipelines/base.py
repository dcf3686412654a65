"""``BasePipeline``, ``ModelLoader`` and ``CapabilityProcessor``: the shape every architecture fills in."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability, ModelCapabilities, canonical_capability
from hfbench.core.config import ModelConfig
from hfbench.core.errors import (
    MediaInputError,
    PipelineNotLoadedError,
    UnsupportedCapabilityError,
)
from hfbench.core.model_source import resolve_model_source
from hfbench.pipelines.loading import (
    LoadOptions,
    call_transformers,
    from_pretrained_kwargs,
    place_model,
)
from hfbench.pipelines.media import MediaInput, MediaKind, as_media_inputs
from hfbench.pipelines.registry import processor_class, registered_processors
from hfbench.pipelines.results import ProcessResult

logger = logging.getLogger(__name__)


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
        options: the ``LoadOptions`` used.
        load_seconds: wall time of the load.
    """

    model_name: str
    source: str
    model: Any
    tokenizer: Any
    processor: Any
    hf_config: Any
    options: LoadOptions
    load_seconds: float

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

    def load_model(self, model_name: str, config: Mapping[str, Any], capability: str | None = None) -> Any:
        """Load the model for ``capability`` (or the checkpoint's own head) and place it."""
        source = resolve_model_source(model_name)
        options = LoadOptions.from_config(config)
        hf_config = self.load_config(model_name, config)
        auto_class = self.auto_class_for(hf_config, capability)
        kwargs = from_pretrained_kwargs(options)
        model = call_transformers(
            "weights",
            model_name,
            lambda: auto_class.from_pretrained(source, config=hf_config, **kwargs),
        )
        return place_model(model, options)

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """Return ``(tokenizer, processor)``; the default loads a tokenizer only."""
        from transformers import AutoTokenizer

        source = resolve_model_source(model_name)
        kwargs = hub_kwargs(config)
        tokenizer = call_transformers(
            "tokenizer", model_name, lambda: AutoTokenizer.from_pretrained(source, **kwargs)
        )
        return tokenizer, None

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


class CapabilityProcessor:
    """Runs one capability on a loaded model. Subclasses register with ``@register_processor``.

    Attributes:
        capability: set by the registration decorator.
        accepts: the input kinds it takes.
        streams: whether ``stream`` is implemented.
    """

    capability: ClassVar[str] = ""
    accepts: ClassVar[tuple[MediaKind, ...]] = ("text",)
    streams: ClassVar[bool] = False

    def __init__(self, loaded: LoadedModel, capability: str | None = None) -> None:
        self.loaded = loaded
        self.requested_capability = capability or self.capability

    @property
    def model(self) -> Any:
        """The loaded model."""
        return self.loaded.model

    @property
    def tokenizer(self) -> Any:
        """The loaded tokenizer (may be None for vision models)."""
        return self.loaded.tokenizer

    @property
    def processor(self) -> Any:
        """The loaded image processor / feature extractor / processor (may be None)."""
        return self.loaded.processor

    def check_inputs(self, inputs: list[MediaInput]) -> None:
        """Raise ``MediaInputError`` for an input kind this processor does not take."""
        for item in inputs:
            if item.kind not in self.accepts:
                raise MediaInputError(
                    f"{self.requested_capability} takes {' or '.join(self.accepts)} inputs, "
                    f"got {item.describe()}."
                )

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Run the capability on a batch of inputs; results come back in input order."""
        raise NotImplementedError

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Yield text pieces as they are generated (generative processors only)."""
        raise UnsupportedCapabilityError(
            f"{self.requested_capability} does not stream; call process() instead."
        )


class BasePipeline:
    """Simplified pipeline focusing on core functionality: load once, process any capability.

    Subclasses set ``architecture_type`` and ``loader_class`` and register with
    ``@register_pipeline``.
    """

    architecture_type: ClassVar[ModelArchitecture]
    loader_class: ClassVar[type[ModelLoader]] = ModelLoader

    def __init__(self, architecture: ModelArchitecture | str | None = None) -> None:
        arch = architecture if architecture is not None else type(self).architecture_type
        self.architecture = ModelArchitecture.parse(arch)
        self.capabilities = ModelCapabilities(self.architecture)
        self.config = ModelConfig()
        self.model_name: str | None = None
        self._loaded: LoadedModel | None = None
        self._processors: dict[str, CapabilityProcessor] = {}

    # ---- loading --------------------------------------------------------------------------
    @property
    def is_loaded(self) -> bool:
        """Whether ``load`` has run (and ``unload`` has not)."""
        return self._loaded is not None

    @property
    def loaded(self) -> LoadedModel:
        """The ``LoadedModel``.

        Raises:
            PipelineNotLoadedError: before ``load``.
        """
        if self._loaded is None:
            raise PipelineNotLoadedError(
                f"{type(self).__name__} has no model loaded; call .load(model_name) first."
            )
        return self._loaded

    def load(
        self,
        model_name: str | None = None,
        config: ModelConfig | Mapping[str, Any] | None = None,
        *,
        capability: str | None = None,
    ) -> BasePipeline:
        """Load model and processor with this architecture's loader; returns ``self``.

        Args:
            model_name: Hub id, local folder or ``embedded:<name>`` (default: the name given to
                ``pipeline_for``).
            config: a ``ModelConfig`` or a dictionary of its four levels.
            capability: load the head that serves this capability (default: the checkpoint's own).
        """
        name = model_name or self.model_name
        if not name:
            raise PipelineNotLoadedError("load() needs a model name (Hub id, folder or embedded:).")
        if isinstance(config, ModelConfig):
            self.config = config
        elif config is not None:
            self.config = ModelConfig.from_dict(config)
        cap = canonical_capability(capability) if capability else self.capabilities.primary
        merged = self.config.get_merged_config(cap)
        self.unload()
        loader = self._get_architecture_loader()
        start = time.perf_counter()
        model = loader.load_model(name, merged, capability)
        tokenizer, processor = loader.load_processor(name, merged)
        self._loaded = LoadedModel(
            model_name=name,
            source=resolve_model_source(name),
            model=model,
            tokenizer=tokenizer,
            processor=processor,
            hf_config=model.config,
            options=LoadOptions.from_config(merged),
            load_seconds=time.perf_counter() - start,
        )
        self.model_name = name
        self.capabilities = ModelCapabilities(self.architecture)
        loader.refine_capabilities(self._loaded, self.capabilities)
        return self

    def unload(self) -> None:
        """Drop the model and processors and free their memory (RAM, and VRAM on CUDA)."""
        if self._loaded is None:
            return
        self._processors.clear()
        self._loaded = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover
            pass

    # ---- processing -----------------------------------------------------------------------
    def process(
        self,
        inputs: Any,
        capability: str | Capability | None = None,
        config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[ProcessResult]:
        """Process inputs using the specified capability.

        Args:
            inputs: a list of ``MediaInput`` (plain strings count as text, PIL images as images).
            capability: canonical name or alias (default: the architecture's primary one).
            config: per-call overrides of the merged config (validated like any level).
            **kwargs: more per-call overrides (``max_tokens=20``, ``labels=[...]``).

        Returns:
            One typed result per input, in input order.

        Raises:
            PipelineNotLoadedError: before ``load``.
            UnsupportedCapabilityError: the capability is unknown or this model cannot serve it.
            ConfigError: an invalid override.
            MediaInputError: an input of the wrong kind.
        """
        self.loaded  # noqa: B018 - raises PipelineNotLoadedError before load
        cap = canonical_capability(capability) if capability else self.capabilities.primary
        merged = self.config.get_merged_config(cap, overrides={**(config or {}), **kwargs})
        processor = self._get_capability_processor(cap)
        items = as_media_inputs(inputs)
        processor.check_inputs(items)
        import torch

        with torch.inference_mode():
            return processor.process(items, merged)

    def stream(
        self,
        item: Any,
        capability: str | Capability | None = None,
        config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        """Yield the generated text of one input piece by piece (generative capabilities)."""
        self.loaded  # noqa: B018 - raises PipelineNotLoadedError before load
        cap = canonical_capability(capability) if capability else self.capabilities.primary
        merged = self.config.get_merged_config(cap, overrides={**(config or {}), **kwargs})
        processor = self._get_capability_processor(cap)
        (media,) = as_media_inputs([item])
        processor.check_inputs([media])
        yield from processor.stream(media, merged)

    def supported_capabilities(self) -> list[str]:
        """Capabilities this pipeline has a processor for (dedicated or general prompting)."""
        own = {cap for (arch, cap) in registered_processors() if arch == self.architecture}
        if "general" in own:
            own |= {c.name for c in self.capabilities}
        return sorted(own)

    def _get_architecture_loader(self) -> ModelLoader:
        return type(self).loader_class()

    def _get_capability_processor(self, capability: str) -> CapabilityProcessor:
        if capability in self._processors:
            return self._processors[capability]
        if self.is_loaded and capability not in {c.name for c in self.capabilities}:
            # refine_capabilities dropped it: the checkpoint lacks the head (never run a random one)
            loader = self._get_architecture_loader()
            raise loader.unservable_error(self.loaded, capability, self.capabilities)
        cls = processor_class(self.architecture, capability)
        if cls is None:
            general = processor_class(self.architecture, Capability.GENERAL.value)
            if general is None or capability not in {c.name for c in self.capabilities}:
                raise UnsupportedCapabilityError(
                    f"{self.model_name or 'This model'} ({self.architecture.value}) cannot serve "
                    f"{capability!r}; it serves: {', '.join(self.supported_capabilities())}."
                )
            logger.info("Using general processing (an instruction prompt) for %s", capability)
            cls = general
        processor = cls(self.loaded, capability)
        self._processors[capability] = processor
        return processor

    def __repr__(self) -> str:
        state = f"loaded {self.model_name!r}" if self.is_loaded else "not loaded"
        return f"{type(self).__name__}({self.architecture.value}, {state})"
