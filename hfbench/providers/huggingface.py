"""``HuggingFaceProvider``: one Hugging Face model behind the provider-neutral interface."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture, detect_architecture
from hfbench.core.capability import ModelCapabilities, canonical_capability
from hfbench.core.config import ModelConfig
from hfbench.core.config_schema import config_keys
from hfbench.core.errors import ConfigError, HFBenchError, UnsupportedCapabilityError
from hfbench.core.hardware import SystemInfo, system_info
from hfbench.pipelines import BasePipeline, MediaInput, pipeline_for
from hfbench.pipelines.loading import LoadOptions
from hfbench.pipelines.results import (
    ClassificationResult,
    EmbeddingResult,
    ProcessResult,
    TextResult,
)
from hfbench.providers.detection import CapabilityDetection, detect_capability
from hfbench.providers.factory import register_provider
from hfbench.providers.interface import AbstractLLMInterface, GenerationResponse
from hfbench.providers.model_cache import ModelCache, default_model_cache

logger = logging.getLogger(__name__)

_REGISTRY_KEYS = frozenset(
    {"model_recommendations", "merge_recommendations", "recommendations_file", "tuned_recommendations"}
)

PROVIDER_KEYS = frozenset(
    {
        "model",  # Hub id, local folder or embedded:<name>; default: the registry's pick
        "architecture",  # pin the architecture instead of detecting it
        "size_tier",  # small | medium | large | xlarge | auto
        "model_recommendations",  # {capability: {tier: recommendation}}
        "merge_recommendations",  # merge them over the defaults (True) or replace (False)
        "recommendations_file",  # a user overlay file
        "tuned_recommendations",  # a file from the benchmark's tuning (used on matching hardware)
        "config_file",  # a ModelConfig TOML/JSON file
        "base",
        "capabilities",
        "model_specific",  # the ModelConfig levels, inline
    }
)


@register_provider("huggingface")
class HuggingFaceProvider(AbstractLLMInterface):
    """Model-centric Hugging Face provider.

    Config keys: the ones in ``PROVIDER_KEYS``, plus any ``ModelConfig`` parameter
    (``temperature``, ``max_tokens``, ``device``, ``dtype`` …) at the top level, which sets the
    base level of the model's config tree.

    Example:
        >>> llm = HuggingFaceProvider({"model": "embedded:smollm2-135m-instruct", "temperature": 0})
        >>> llm.generate("What is the capital of France?").text
    """

    CONFIG_KEYS = PROVIDER_KEYS | frozenset(config_keys())

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        model_cache: ModelCache | None = None,
        system: SystemInfo | None = None,
    ) -> None:
        self._cache = model_cache if model_cache is not None else default_model_cache()
        self._system_info = system if system is not None else system_info()
        self._registry: Any = None  # built by _on_config_change: merge_recommendations is always set
        self._architecture: ModelArchitecture | None = None
        self._model_config: ModelConfig | None = None
        self._pipeline: BasePipeline | None = None
        self.CONFIG_KEYS = PROVIDER_KEYS | frozenset(config_keys())
        super().__init__({"size_tier": "medium", "merge_recommendations": True, **dict(config or {})})

    # ---- configuration --------------------------------------------------------------------
    def _on_config_change(self, keys: set[str]) -> None:
        if keys & _REGISTRY_KEYS:
            self._registry = self._build_registry()
        if keys & {"model", "architecture"}:
            self._architecture = None
            self._pipeline = None
        if keys - _REGISTRY_KEYS - {"size_tier"}:
            self._model_config = None
            self._pipeline = None  # loading options may have changed; the cache keeps old loads
            self.model_config  # noqa: B018 - validate the new values now, not at the first call

    @property
    def size_tier(self) -> str:
        """The configured size tier; ``auto`` becomes the largest tier that fits this machine."""
        tier = str(self._config.get("size_tier", "medium"))
        if tier == "auto":
            from hfbench.registry.tiers import fitting_size_tier

            return fitting_size_tier(self._system_info).tier or "small"
        return tier

    @property
    def model_name(self) -> str:
        """The model this provider runs: the configured one, else the registry's recommendation."""
        model = self._config.get("model")
        if model:
            return str(model)
        return self.get_model_for_capability("text-generation")

    @property
    def architecture(self) -> ModelArchitecture:
        """The pinned architecture, else the one detected from the model's config."""
        if self._architecture is None:
            pinned = self._config.get("architecture")
            self._architecture = (
                ModelArchitecture.parse(pinned) if pinned else detect_architecture(self.model_name)
            )
        return self._architecture

    @property
    def model_config(self) -> ModelConfig:
        """The model's config tree: the config file, then the inline levels and top-level keys."""
        if self._model_config is None:
            tree = ModelConfig()
            if self._config.get("config_file"):
                tree = ModelConfig.from_file(self._config["config_file"])
            shortcuts = {k: v for k, v in self._config.items() if k in config_keys()}
            inline = ModelConfig(
                base={**self._config.get("base", {}), **shortcuts},
                capabilities=dict(self._config.get("capabilities", {})),
                model_specific=dict(self._config.get("model_specific", {})),
                source="provider config",
            )
            self._model_config = tree.merge(inline)
        return self._model_config

    # ---- recommendations ------------------------------------------------------------------
    def _build_registry(self) -> Any:
        """Package defaults < a tuned file made on this hardware < the user's overlay < inline updates."""
        from hfbench.registry import CapabilityRegistry

        registry = CapabilityRegistry(
            tuned=self._config.get("tuned_recommendations"),
            overlay=self._config.get("recommendations_file"),
            system_info=self._system_info,
        )
        if self._config.get("model_recommendations"):
            registry.update_recommendations(
                self._config["model_recommendations"],
                merge=bool(self._config.get("merge_recommendations", True)),
            )
        return registry

    @property
    def registry(self) -> Any:
        """The provider's ``CapabilityRegistry``."""
        return self._registry

    def update_model_recommendations(self, updates: Mapping[str, Any], merge: bool = True) -> None:
        """Update model recommendations without touching configuration files."""
        self._registry.update_recommendations(updates, merge=merge)

    def get_model_for_capability(self, capability: str) -> str:
        """The recommended model for a capability at this provider's size tier and hardware.

        Raises:
            UnsupportedCapabilityError: no suitable model at this tier or below.
        """
        rec = self._registry.get_recommendation(
            canonical_capability(capability), self.size_tier, self._system_info
        )
        if rec is None:
            raise UnsupportedCapabilityError(
                f"No suitable model found for {capability} at {self.size_tier} tier"
            )
        return str(rec.model_name)

    # ---- the model ------------------------------------------------------------------------
    def _cache_key(self) -> tuple[Any, ...]:
        merged = self.model_config.get_merged_config(ModelCapabilities(self.architecture).primary)
        return (self.model_name, *LoadOptions.from_config(merged).cache_key())

    def _setup_pipeline(self) -> BasePipeline:
        """The loaded pipeline, from the model cache (loaded on the first call only)."""
        if self._pipeline is None or not self._pipeline.is_loaded:
            name, arch, tree = self.model_name, self.architecture, self.model_config

            def load() -> BasePipeline:
                return pipeline_for(name, architecture=arch).load(name, tree)

            self._pipeline = self._cache.get_or_load(self._cache_key(), load)
        return self._pipeline

    @property
    def pipeline(self) -> BasePipeline:
        """The loaded pipeline (loads the model on first use)."""
        return self._setup_pipeline()

    def unload(self) -> None:
        """Drop this provider's model from the model cache and free its memory."""
        self._cache.unload(self.model_name)
        self._pipeline = None

    def get_capabilities(self) -> dict[str, dict[str, Any]]:
        """The model's capabilities with confidences (the loaded checkpoint's, once loaded)."""
        if self._pipeline is not None and self._pipeline.is_loaded:
            return self._pipeline.capabilities.to_dict()
        return ModelCapabilities(self.architecture).to_dict()

    # ---- detection ------------------------------------------------------------------------
    def detect_capability(self, prompt: str = "", media: Any = None, **kwargs: Any) -> CapabilityDetection:
        """Which capability a request asks for, and why (see ``providers.detection``)."""
        tokenizer = None
        if self._pipeline is not None and self._pipeline.is_loaded:
            tokenizer = self._pipeline.loaded.tokenizer or self._pipeline.loaded.processor
        template = bool(getattr(tokenizer, "chat_template", None))
        return detect_capability(
            prompt,
            architecture=self.architecture,
            media_kinds=[m.kind for m in _media_list(media)],
            kwargs=kwargs,
            has_chat_template=template,
            mask_token=getattr(tokenizer, "mask_token", None),
        )

    _detect_capability = detect_capability

    def _check_servable(self, pipe: BasePipeline, capability: str, why: str) -> None:
        served = pipe.supported_capabilities()
        if capability in served:
            return
        hint = ""
        with contextlib.suppress(HFBenchError):  # no recommendation is no error of its own here
            hint = f" A model that serves it: {self.get_model_for_capability(capability)}."
        raise UnsupportedCapabilityError(
            f"{self.model_name} ({self.architecture.value}) cannot serve {capability!r} ({why}); "
            f"it serves: {', '.join(served)}.{hint}"
        )

    # ---- generation -----------------------------------------------------------------------
    def generate(
        self,
        prompt: str,
        capability: str | None = None,
        system_prompt: str | None = None,
        media: Any = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> GenerationResponse | Iterator[str]:
        """Generate output using the model's capabilities.

        Args:
            prompt: the text (a question about the media, when media is given).
            capability: force a capability (aliases accepted); detected when omitted.
            system_prompt: system message for chat models.
            media: an image or audio (``MediaInput``, PIL image, path via ``MediaInput``) or a list.
            stream: yield text pieces instead of returning a response (generative capabilities).
            **kwargs: per-call config overrides (``max_tokens``, ``temperature``, ``labels`` …)
                and ``context`` (the passage for question answering).

        Raises:
            UnsupportedCapabilityError: the model cannot serve the capability (names one that can).
            ConfigError: an invalid per-call value.
        """
        if not isinstance(prompt, str):
            raise ConfigError(f"prompt must be a str, got {type(prompt).__name__}.", key_path="prompt")
        context = kwargs.pop("context", None)
        items = _media_list(media)
        pipe = self._setup_pipeline()
        if capability is not None:
            detection = CapabilityDetection(canonical_capability(capability), "asked for explicitly")
        else:
            detection = self.detect_capability(prompt, items, context=context, **kwargs)
        self._check_servable(pipe, detection.capability, detection.reason)
        overrides = {**detection.params, **kwargs}
        if system_prompt is not None:
            overrides["system_prompt"] = system_prompt
        inputs = (
            [MediaInput.text(prompt, context=context)]
            if not items
            else [_with_prompt(item, prompt) for item in items]
        )
        merged = self.model_config.get_merged_config(detection.capability, overrides)
        if stream:
            return pipe.stream(inputs[0], detection.capability, config=merged)
        start = time.perf_counter()
        results = pipe.process(inputs, detection.capability, config=merged)
        latency = time.perf_counter() - start
        return _response(results[0], self.model_name, latency, detection)


def _media_list(media: Any) -> list[MediaInput]:
    if media is None:
        return []
    items = media if isinstance(media, (list, tuple)) else [media]
    return [MediaInput.coerce(item) for item in items]


def _with_prompt(item: MediaInput, prompt: str) -> MediaInput:
    if item.kind == "text" or not prompt.strip() or item.prompt:
        return item
    return MediaInput(
        kind=item.kind, value=item.value, prompt=prompt, sampling_rate=item.sampling_rate, source=item.source
    )


def _response(
    result: ProcessResult, model: str, latency: float, detection: CapabilityDetection
) -> GenerationResponse:
    if isinstance(result, TextResult):
        text = result.text
    elif isinstance(result, ClassificationResult):
        text = result.label
    elif isinstance(result, EmbeddingResult):
        text = ""
    else:
        text = str(result)
    return GenerationResponse(
        text=text,
        capability=result.capability or detection.capability,
        model=model,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        latency_s=latency,
        detection_reason=detection.reason,
        raw=result,
    )
