"""``HuggingFaceProvider``: one Hugging Face model behind the provider-neutral interface."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability, ModelCapabilities, canonical_capability
from hfbench.core.config import ModelConfig
from hfbench.core.config_schema import config_keys
from hfbench.core.errors import ConfigError, HFBenchError, RecommendationError, UnsupportedCapabilityError
from hfbench.core.hardware import SystemInfo, system_info
from hfbench.pipelines import BasePipeline, MediaInput, pipeline_for
from hfbench.pipelines.loading import LoadOptions
from hfbench.pipelines.registry import registered_processors
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
from hfbench.providers.request import GenerationRequest
from hfbench.sources import detect_architecture
from hfbench.sources.tokenizer_files import TokenizerFacts, tokenizer_facts

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
        if "size_tier" in keys:
            self._check_size_tier(self._config.get("size_tier", "medium"))
        if "model" in keys and not isinstance(self._config.get("model") or "", str):
            raise ConfigError(
                f"expected a Hub id, a folder or embedded:<name>, got {self._config['model']!r}.",
                key_path="model",
            )
        if keys & _REGISTRY_KEYS:
            self._registry = self._build_registry()
        if keys & {"model", "architecture"}:
            self._architecture = None
            self._pipeline = None
        if keys - _REGISTRY_KEYS - {"size_tier"}:
            self._model_config = None
            self._pipeline = None  # loading options may have changed; the cache keeps old loads
            self.model_config  # noqa: B018 - validate the new values now, not at the first call

    @staticmethod
    def _check_size_tier(tier: Any) -> None:
        from hfbench.registry.tiers import AUTO_TIER, check_tier

        if tier == AUTO_TIER:
            return
        try:
            check_tier(tier)
        except RecommendationError as exc:
            raise ConfigError(str(exc), key_path="size_tier") from None

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

        ``auto`` walks down from the largest tier, each model tried with the recipes that fit
        this machine and fast enough (see ``CapabilityRegistry``); with ``HF_HUB_OFFLINE`` set it
        takes only a model that is cached, embedded and prepared, or a folder, and an INFO log
        line says which and where. A named tier answers as the registry does (a hint may name a
        model to download).

        Raises:
            NoSuitableModelError: no suitable model at this tier or below (an
                ``UnsupportedCapabilityError``); the message says which models were tried, why
                each was rejected, and what would work instead.
        """
        from hfbench.core.hub import hub_offline
        from hfbench.registry.tiers import AUTO_TIER

        tier = str(self._config.get("size_tier", "medium"))
        name = canonical_capability(capability)
        registry = self._registry
        offline = tier == AUTO_TIER and hub_offline()
        if offline:
            registry = registry.copy()
            registry.offline = True
        rec = registry.require_recommendation(name, tier, self._system_info)
        if offline:
            from hfbench.registry import model_availability

            logger.info(
                "HF_HUB_OFFLINE is set: %s for %s (tier %s) is %s; models neither cached nor "
                "embedded were skipped.",
                rec.model_name,
                name,
                tier,
                model_availability(rec.model_name).describe(),
            )
        return str(rec.model_name)

    # ---- the model ------------------------------------------------------------------------
    def _cache_key(self) -> tuple[Any, ...]:
        """(model, every load option): the same model loaded another way is another entry."""
        return (self.model_name, *LoadOptions.from_config(self.model_config.load_config()).cache_key())

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
        """What this model's checkpoint can serve, with confidences: refined by its head from its
        config before loading (the same set as after), and measured where a tuned recommendation
        file loaded into this provider has measurements of this model (``source="measured"``)."""
        if self._pipeline is not None and self._pipeline.is_loaded:
            capabilities = self._pipeline.capabilities
        else:
            from hfbench.pipelines.checkpoint import checkpoint_capabilities

            capabilities = checkpoint_capabilities(
                self.model_name, architecture=self._config.get("architecture") or self.architecture
            )
        self._apply_measured(capabilities)
        return capabilities.to_dict()

    def _apply_measured(self, capabilities: ModelCapabilities) -> None:
        """Replace priors by the confidences a tuned file measured for this model (and hardware)."""
        measured = getattr(self._registry, "measured_capabilities", None)
        if measured is None:
            return
        for name, (confidence, evidence) in measured(self.model_name).items():
            capabilities.apply_measured(name, confidence, evidence)

    # ---- detection ------------------------------------------------------------------------
    def detect_capability(self, prompt: str = "", media: Any = None, **kwargs: Any) -> CapabilityDetection:
        """Which capability a request asks for, and why (see ``providers.detection``)."""
        request = GenerationRequest.build(prompt, media=media, **kwargs)
        return self._detect(request)

    _detect_capability = detect_capability

    def _detect(self, request: GenerationRequest) -> CapabilityDetection:
        if request.capability is not None:
            return CapabilityDetection(request.capability, "asked for explicitly")
        if request.messages:
            return CapabilityDetection(Capability.CHAT.value, "a conversation (messages) was given")
        facts = self._tokenizer_facts()
        return detect_capability(
            request.prompt,
            architecture=self.architecture,
            media_kinds=request.media_kinds,
            kwargs={"context": request.context, **request.params},
            has_chat_template=facts.chat_template,
            mask_token=facts.mask_token,
        )

    def _tokenizer_facts(self) -> TokenizerFacts:
        """Chat template and mask token: from the loaded tokenizer, else from its files (so
        detection answers the same before and after loading)."""
        if self._pipeline is not None and self._pipeline.is_loaded:
            tokenizer = self._pipeline.loaded.tokenizer or self._pipeline.loaded.processor
            return TokenizerFacts(
                chat_template=bool(getattr(tokenizer, "chat_template", None)),
                mask_token=getattr(tokenizer, "mask_token", None),
            )
        return tokenizer_facts(self.model_name, revision=self.model_config.load_config().get("revision"))

    def _recommended_for(self, capability: str) -> str:
        """`` A model that serves it at the <tier> tier: <name>.`` (empty when none is found)."""
        with contextlib.suppress(HFBenchError):  # no recommendation is no error of its own here
            model = self.get_model_for_capability(capability)
            return f" A model that serves it at the {self.size_tier!r} tier: {model} ({capability})."
        return ""

    def _check_media(self, request: GenerationRequest) -> None:
        """Refuse media this model's architecture cannot take, before anything is loaded."""
        takes = media_kinds_for(self.architecture)
        for kind in dict.fromkeys(request.media_kinds):
            if kind in takes:
                continue
            wanted = (
                Capability.SPEECH_RECOGNITION.value
                if kind == "audio"
                else (
                    Capability.VISUAL_QUESTION_ANSWERING.value
                    if request.prompt.strip()
                    else Capability.IMAGE_CAPTIONING.value
                )
            )
            reads = " and ".join(["text", *sorted(takes)])
            served = ", ".join(self.get_capabilities())
            raise UnsupportedCapabilityError(
                f"{self.model_name} ({self.architecture.value}) cannot take {kind} input: it reads "
                f"{reads} only (it serves: {served}).{self._recommended_for(wanted)}"
            )

    def _check_servable(self, pipe: BasePipeline, detection: CapabilityDetection) -> None:
        served = pipe.supported_capabilities()
        if detection.capability in served:
            return
        hint = self._recommended_for(detection.capability)
        raise UnsupportedCapabilityError(
            f"{self.model_name} ({self.architecture.value}) cannot serve {detection.capability!r} "
            f"({detection.reason}); it serves: {', '.join(served)}.{hint}"
        )

    # ---- generation -----------------------------------------------------------------------
    def _prepare(
        self, request: GenerationRequest
    ) -> tuple[BasePipeline, CapabilityDetection, list[MediaInput], dict[str, Any]]:
        """Check the request, load the model (once), and build the inputs and the merged config."""
        self._check_media(request)
        pipe = self._setup_pipeline()
        detection = self._detect(request)
        self._check_servable(pipe, detection)
        if request.messages and detection.capability != Capability.CHAT.value:
            raise ConfigError(
                f"a conversation (messages) is answered by chat, but {detection.capability!r} was "
                "asked for; send only the last message as the prompt.",
                key_path="messages",
            )
        overrides = {**detection.params, **request.params}
        if request.system_prompt is not None:
            overrides["system_prompt"] = request.system_prompt
        history = tuple((m.role, m.content) for m in request.messages)
        inputs = (
            [_with_prompt(item, request.prompt) for item in request.media]
            if request.media
            else [MediaInput.text(request.prompt, context=request.context, history=history)]
        )
        merged = self.model_config.get_merged_config(detection.capability, overrides)
        return pipe, detection, inputs, merged

    def generate_request(self, request: GenerationRequest) -> GenerationResponse:
        """Answer one request: detect the capability, run its processor, return a typed response.

        Raises:
            UnsupportedCapabilityError: the model cannot take the media or serve the capability
                (the message names what it serves and a model that would).
            ConfigError: an invalid per-call value (or a load key per call).
        """
        pipe, detection, inputs, merged = self._prepare(request)
        logger.info("%s: %s", self.model_name, detection)
        start = time.perf_counter()
        (result,) = pipe.run(inputs, detection.capability, merged)
        latency = time.perf_counter() - start
        return _response(result, self.model_name, latency, detection)

    def stream_request(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the answer to one request as it is generated."""
        pipe, detection, inputs, merged = self._prepare(request)
        return pipe.run_stream(inputs[0], detection.capability, merged)


def media_kinds_for(architecture: ModelArchitecture) -> frozenset[str]:
    """The media kinds (``image``, ``audio``) an architecture's processors take, besides text."""
    return frozenset(
        kind
        for (arch, _), processor in registered_processors().items()
        if arch == architecture
        for kind in processor.accepts
        if kind != "text"
    )


def _with_prompt(item: MediaInput, prompt: str) -> MediaInput:
    if item.kind == "text" or not prompt.strip() or item.prompt:
        return item
    return dataclasses.replace(item, prompt=prompt)


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
