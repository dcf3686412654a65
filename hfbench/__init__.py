"""hfbench: which Hugging Face model to run for a job on this machine, and how good and fast it is.

The front door. Names are imported lazily on first use, so ``import hfbench`` does not import
torch or transformers.

Example:
    >>> import hfbench as hb
    >>> hb.detect_architecture({"model_type": "t5"})
    <ModelArchitecture.ENCODER_DECODER: 'enc_dec'>
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # core
    "ModelArchitecture": "hfbench.core.architecture",
    "Capability": "hfbench.core.capability",
    "ModelCapability": "hfbench.core.capability",
    "ModelCapabilities": "hfbench.core.capability",
    "canonical_capability": "hfbench.core.capability",
    "register_capability": "hfbench.core.capability",
    "ModelConfig": "hfbench.core.config",
    "ConfigKey": "hfbench.core.config_schema",
    "register_config_key": "hfbench.core.config_schema",
    "config_keys": "hfbench.core.config_schema",
    "SystemInfo": "hfbench.core.hardware",
    "system_info": "hfbench.core.hardware",
    # sources: preparing models (the one step that converts or downloads)
    "PreparedModel": "hfbench.sources",
    "prepare_model": "hfbench.sources",
    "detect_architecture": "hfbench.sources",
    "cache_dir": "hfbench.sources",
    "embedded_models": "hfbench.sources",
    "embedded_model_path": "hfbench.sources",
    "setup_embedded": "hfbench.sources",
    # errors
    "HFBenchError": "hfbench.core.errors",
    "ConfigError": "hfbench.core.errors",
    "UnsupportedCapabilityError": "hfbench.core.errors",
    "ArchitectureDetectionError": "hfbench.core.errors",
    "ModelNotFoundError": "hfbench.core.errors",
    "ModelLoadError": "hfbench.core.errors",
    "EmbeddedModelError": "hfbench.core.errors",
    "MediaInputError": "hfbench.core.errors",
    "PipelineNotLoadedError": "hfbench.core.errors",
    "DependencyMissingError": "hfbench.core.errors",
    "RecommendationError": "hfbench.core.errors",
    "ProviderError": "hfbench.core.errors",
    "OutOfMemoryError": "hfbench.core.errors",
    "NoSuitableModelError": "hfbench.core.errors",
    "ResultsError": "hfbench.core.errors",
    "BenchmarkError": "hfbench.core.errors",
    # pipelines
    "BasePipeline": "hfbench.pipelines",
    "MediaInput": "hfbench.pipelines",
    "pipeline_for": "hfbench.pipelines",
    "checkpoint_capabilities": "hfbench.pipelines.checkpoint",
    "register_processor": "hfbench.pipelines",
    "register_pipeline": "hfbench.pipelines",
    # providers
    "AbstractLLMInterface": "hfbench.providers",
    "GenerationResponse": "hfbench.providers",
    "GenerationRequest": "hfbench.providers",
    "HuggingFaceProvider": "hfbench.providers",
    "create_provider": "hfbench.providers",
    "register_provider": "hfbench.providers",
    "ModelCache": "hfbench.providers.model_cache",
    # registry
    "CapabilityRegistry": "hfbench.registry",
    "ModelRecommendation": "hfbench.registry",
    "hardware_profile": "hfbench.registry",
    "recommendations_for": "hfbench.registry",
    "SIZE_TIERS": "hfbench.registry.tiers",
    "fitting_size_tier": "hfbench.registry.tiers",
}

__all__ = sorted([*_EXPORTS, "__version__", "bench", "plots", "widgets"])


#: Subpackages reached as attributes (``hb.bench.run(...)``), imported on first use.
_SUBMODULES = ("bench", "plots", "testing", "widgets")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        submodule = importlib.import_module(f"hfbench.{name}")
        globals()[name] = submodule
        return submodule
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hfbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if "IPython" in sys.modules:  # a notebook or an IPython shell: HTML for hfbench's objects
    from hfbench.display import install_formatters

    install_formatters()


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from hfbench.core.architecture import ModelArchitecture
    from hfbench.core.capability import (
        Capability,
        ModelCapabilities,
        ModelCapability,
        canonical_capability,
        register_capability,
    )
    from hfbench.core.config import ModelConfig
    from hfbench.core.config_schema import ConfigKey, config_keys, register_config_key
    from hfbench.core.errors import (
        ArchitectureDetectionError,
        BenchmarkError,
        ConfigError,
        DependencyMissingError,
        EmbeddedModelError,
        HFBenchError,
        MediaInputError,
        ModelLoadError,
        ModelNotFoundError,
        NoSuitableModelError,
        OutOfMemoryError,
        PipelineNotLoadedError,
        ProviderError,
        RecommendationError,
        ResultsError,
        UnsupportedCapabilityError,
    )
    from hfbench.core.hardware import SystemInfo, system_info
    from hfbench.pipelines import (
        BasePipeline,
        MediaInput,
        pipeline_for,
        register_pipeline,
        register_processor,
    )
    from hfbench.pipelines.checkpoint import checkpoint_capabilities
    from hfbench.providers import (
        AbstractLLMInterface,
        GenerationRequest,
        GenerationResponse,
        HuggingFaceProvider,
        create_provider,
        register_provider,
    )
    from hfbench.providers.model_cache import ModelCache
    from hfbench.registry import (
        CapabilityRegistry,
        ModelRecommendation,
        hardware_profile,
        recommendations_for,
    )
    from hfbench.registry.tiers import SIZE_TIERS, fitting_size_tier
    from hfbench.sources import (
        PreparedModel,
        cache_dir,
        detect_architecture,
        embedded_model_path,
        embedded_models,
        prepare_model,
        setup_embedded,
    )
