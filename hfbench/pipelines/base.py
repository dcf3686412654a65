"""``BasePipeline``: load a model once with its architecture's loader, then run any capability it serves.

The loader comes from the architecture's row in the loader registry (``@register_loader``);
capability processors from the processor registry (``@register_processor``). The named
pipelines of the seed (``EncoderOnlyPipeline`` ...) are that table's rows
(``pipelines.architectures``).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability, ModelCapabilities, canonical_capability
from hfbench.core.config import ModelConfig
from hfbench.core.errors import ConfigError, PipelineNotLoadedError, UnsupportedCapabilityError
from hfbench.pipelines.batch_tuning import reporting_batch_sizes
from hfbench.pipelines.loader import LoadedModel, ModelLoader
from hfbench.pipelines.loading import LoadOptions, place_model
from hfbench.pipelines.media import MediaInput, as_media_inputs
from hfbench.pipelines.optimize import optimization_plan
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.registry import loader_class, processor_class, registered_processors
from hfbench.pipelines.results import ProcessResult
from hfbench.sources.resolve import resolve_model_source

logger = logging.getLogger(__name__)


class BasePipeline:
    """Simplified pipeline focusing on core functionality: load once, process any capability.

    ``BasePipeline(architecture)`` works for every architecture (its loader comes from the
    loader registry); the seed's named subclasses set ``architecture_type`` instead.
    """

    architecture_type: ClassVar[ModelArchitecture | None] = None

    def __init__(self, architecture: ModelArchitecture | str | None = None) -> None:
        arch = architecture if architecture is not None else type(self).architecture_type
        if arch is None:
            valid = ", ".join(a.value for a in ModelArchitecture)
            raise ConfigError(f"BasePipeline needs an architecture ({valid}).", key_path="architecture")
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
        progress: bool = True,
    ) -> BasePipeline:
        """Prepare (once), then load model and processor with this architecture's loader.

        Preparation (converting an embedded model, downloading a Hub snapshot) runs first and is
        timed apart (``loaded.prepare_seconds``); loading is timed per phase
        (``loaded.load_phases``: config, weights, placement, optimize, tokenizer). The config's
        ``optimize`` level (``pipelines/data/optimize.toml``) is applied around the weights and
        recorded in ``loaded.optimization``.

        Args:
            model_name: Hub id, local folder or ``embedded:<name>`` (default: the name given to
                ``pipeline_for``).
            config: a ``ModelConfig`` or a dictionary of its four levels; its load keys (dtype,
                device ...) decide how the model is loaded.
            capability: load the head that serves this capability (default: the checkpoint's own).
            progress: show a progress bar when preparation has work to do.

        Returns:
            ``self``.

        Raises:
            PipelineNotLoadedError: no model name.
            ModelNotFoundError, EmbeddedModelError: the model cannot be prepared.
            OutOfMemoryError: it does not fit (a ``ModelLoadError``).
            ModelLoadError: anything else that failed while loading.
        """
        from hfbench.sources import prepare_model

        name = model_name or self.model_name
        if not name:
            raise PipelineNotLoadedError("load() needs a model name (Hub id, folder or embedded:).")
        if isinstance(config, ModelConfig):
            self.config = config
        elif config is not None:
            self.config = ModelConfig.from_dict(config)
        load_config = self.config.load_config()
        options = LoadOptions.from_config(load_config)
        plan = optimization_plan(options)
        load_config = plan.configure(load_config)  # e.g. fast on CUDA: 16-bit weights
        options = LoadOptions.from_config(load_config)
        self.unload()
        prepared = prepare_model(
            name, progress=progress, revision=options.revision, cache_dir=options.cache_dir
        )
        loader = self._get_architecture_loader()
        phases: dict[str, float] = {}
        with _timed(phases, "config"):
            hf_config = loader.load_config(name, load_config)
        with _timed(phases, "weights"):
            model = loader.load_weights(name, load_config, capability, hf_config)
        with _timed(phases, "placement"):
            model = place_model(model, options, name)
        with _timed(phases, "optimize"):
            optimization = plan.apply(model, options)
        with _timed(phases, "tokenizer"):
            tokenizer, processor = loader.load_processor(name, load_config)
        self._loaded = LoadedModel(
            model_name=name,
            source=resolve_model_source(name),
            model=model,
            tokenizer=tokenizer,
            processor=processor,
            hf_config=model.config,
            options=options,
            load_seconds=sum(phases.values()),
            load_phases=phases,
            prepare_seconds=prepared.seconds,
            optimization=optimization,
        )
        self.model_name = name
        self.capabilities = ModelCapabilities(self.architecture)
        loader.refine_capabilities(self._loaded, self.capabilities)
        logger.info(
            "Loaded %s (%s, %s) from %s on %s in %.2f s: %s",
            name,
            self.architecture.value,
            type(model).__name__,
            self._loaded.source,
            self._loaded.device,
            self._loaded.load_seconds,
            ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in phases.items()),
        )
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
        return self.run(as_media_inputs(inputs), cap, merged)

    def run(self, items: list[MediaInput], capability: str, merged: Mapping[str, Any]) -> list[ProcessResult]:
        """Run a capability with an already merged config (what ``process`` does after merging).

        For callers that merge with their own config tree (a provider sharing this loaded model
        with others, the benchmark harness); ``merged`` is not validated again. With
        ``batch_size="auto"``, each result's ``extra`` says the batch size the call ended with
        (``batch_size``) and how it was found (``batch_size_tuning``: see ``batch_tuning``).
        """
        processor = self._get_capability_processor(capability)
        items = processor.prepare_inputs(items)
        import torch

        with torch.inference_mode(), reporting_batch_sizes() as batch_sizes:
            results = processor.process(items, dict(merged))
        batch_sizes.annotate(results)
        return results

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
        (media,) = as_media_inputs([item])
        return self.run_stream(media, cap, merged)

    def run_stream(self, item: MediaInput, capability: str, merged: Mapping[str, Any]) -> Iterator[str]:
        """``stream`` with an already merged config (see ``run``); inputs are checked before it returns."""
        processor = self._get_capability_processor(capability)
        (item,) = processor.prepare_inputs([item])
        return processor.stream(item, dict(merged))

    def supported_capabilities(self) -> list[str]:
        """Capabilities this pipeline has a processor for (dedicated or general prompting)."""
        own = {cap for (arch, cap) in registered_processors() if arch == self.architecture}
        if "general" in own:
            own |= {c.name for c in self.capabilities}
        return sorted(own)

    def _get_architecture_loader(self) -> ModelLoader:
        return loader_class(self.architecture)()

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


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    """Add the wall time of the ``with`` block to ``phases[name]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
