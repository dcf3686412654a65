"""Model recommendations per capability and size tier, with hardware-fit checks.

Nothing here imports torch or transformers at module level: recommendations, memory estimates
and what-if hardware work without loading a model.

Modules: ``tiers`` (size tiers, bytes per dtype), ``memory`` (estimates), ``speed`` (decode
speed estimates, bandwidth, minimum speeds), ``calibration`` (fitting the speed estimate to this
machine's measurements), ``recipes`` (dtype / quantization / runtime tried in order),
``availability`` (what runs offline), ``requirements`` (hardware requirements),
``recommendation`` (``ModelRecommendation``), ``files`` (recommendation files), ``profiles``
(what-if hardware), ``hardware`` (the registry's view of a machine), ``explanation`` (what a
lookup decided and why), ``capability_registry`` (``CapabilityRegistry``), ``tables`` (the
per-hardware table).
"""

from hfbench.registry.availability import Availability, model_availability
from hfbench.registry.calibration import SpeedCalibration, calibrate_speed, fit_speed, load_calibration
from hfbench.registry.capability_registry import CapabilityRegistry, model_catalog, recommendations_for
from hfbench.registry.explanation import CandidateCheck, LayerInfo, RecommendationExplanation, WhatIf
from hfbench.registry.files import (
    FILE_VERSION,
    RecommendationFile,
    load_recommendation_file,
    save_recommendation_file,
)
from hfbench.registry.hardware import HardwareFacts, hardware_facts
from hfbench.registry.memory import (
    DEFAULT_CONTEXT_TOKENS,
    MemoryEstimate,
    ModelShape,
    estimate_memory,
    estimate_memory_from_config,
)
from hfbench.registry.profiles import hardware_presets, hardware_profile, profile_from_dict
from hfbench.registry.recipes import Recipe, RecipeCheck, recipe_table
from hfbench.registry.recommendation import ModelRecommendation
from hfbench.registry.requirements import unmet_requirements
from hfbench.registry.speed import (
    Bandwidth,
    HardwareSpeed,
    SpeedEstimate,
    default_min_tokens_per_s,
    machine_bandwidth,
)
from hfbench.registry.tiers import (
    SIZE_TIERS,
    TierFit,
    check_tier,
    default_dtype,
    fitting_size_tier,
    tier_for_params,
    tiers_up_to,
    weights_memory_gb,
)

__all__ = [
    "DEFAULT_CONTEXT_TOKENS",
    "FILE_VERSION",
    "SIZE_TIERS",
    "Availability",
    "Bandwidth",
    "CandidateCheck",
    "CapabilityRegistry",
    "HardwareFacts",
    "HardwareSpeed",
    "LayerInfo",
    "MemoryEstimate",
    "ModelRecommendation",
    "ModelShape",
    "Recipe",
    "RecipeCheck",
    "RecommendationExplanation",
    "RecommendationFile",
    "SpeedCalibration",
    "SpeedEstimate",
    "TierFit",
    "WhatIf",
    "calibrate_speed",
    "check_tier",
    "default_dtype",
    "default_min_tokens_per_s",
    "estimate_memory",
    "estimate_memory_from_config",
    "fit_speed",
    "fitting_size_tier",
    "hardware_facts",
    "hardware_presets",
    "hardware_profile",
    "load_calibration",
    "load_recommendation_file",
    "machine_bandwidth",
    "model_availability",
    "model_catalog",
    "profile_from_dict",
    "recipe_table",
    "recommendations_for",
    "save_recommendation_file",
    "tier_for_params",
    "tiers_up_to",
    "unmet_requirements",
    "weights_memory_gb",
]
