"""Model architectures (the six interaction patterns) and their detection from a config in memory.

The fallbacks after the ``model_type`` table (transformers' task tables, class-name endings) come
from the head table (``hfbench.core.heads``). Pure: nothing here reads a model's files or the Hub.
Reading a model's config from a folder, the Hub or the embedded catalogue is
``hfbench.sources.configs`` (``hfbench.detect_architecture``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import Enum
from functools import lru_cache
from typing import Any

from hfbench.core.datafiles import read_package_toml
from hfbench.core.errors import ArchitectureDetectionError, did_you_mean
from hfbench.core.heads import head_by_suffix, head_table

logger = logging.getLogger(__name__)


class ModelArchitecture(str, Enum):
    """Core model architectures determining interaction patterns."""

    ENCODER_ONLY = "encoder_only"  # BERT, RoBERTa
    DECODER_ONLY = "decoder_only"  # GPT, LLaMA
    ENCODER_DECODER = "enc_dec"  # T5, BART
    VISION_ENCODER = "vision_enc"  # ViT, CLIP
    MULTIMODAL = "multimodal"  # LLaVA, BLIP
    SPEECH = "speech"  # Whisper, SpeechT5

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | ModelArchitecture) -> ModelArchitecture:
        """Turn a value, member name or common alias into a ``ModelArchitecture``.

        Raises:
            ArchitectureDetectionError: the value names no architecture (with a did-you-mean).
        """
        if isinstance(value, ModelArchitecture):
            return value
        key = str(value).strip().lower().replace("-", "_")
        for member in cls:
            if key in (member.value, member.name.lower()):
                return member
        if key in _ARCHITECTURE_ALIASES:
            return _ARCHITECTURE_ALIASES[key]
        valid = [m.value for m in cls]
        raise ArchitectureDetectionError(
            f"Unknown architecture {value!r}; valid values are {', '.join(valid)}."
            + did_you_mean(key, valid + list(_ARCHITECTURE_ALIASES))
        )


_ARCHITECTURE_ALIASES: dict[str, ModelArchitecture] = {
    "encoder": ModelArchitecture.ENCODER_ONLY,
    "decoder": ModelArchitecture.DECODER_ONLY,
    "causal_lm": ModelArchitecture.DECODER_ONLY,
    "encoder_decoder": ModelArchitecture.ENCODER_DECODER,
    "seq2seq": ModelArchitecture.ENCODER_DECODER,
    "vision": ModelArchitecture.VISION_ENCODER,
    "vision_encoder": ModelArchitecture.VISION_ENCODER,
    "vlm": ModelArchitecture.MULTIMODAL,
    "audio": ModelArchitecture.SPEECH,
}


@lru_cache(maxsize=1)
def model_type_table() -> dict[str, ModelArchitecture]:
    """The package's ``model_type`` -> architecture table (``core/data/architectures.toml``)."""
    data = read_package_toml("architectures.toml")
    table: dict[str, ModelArchitecture] = {}
    for arch_value, model_types in data["model_types"].items():
        arch = ModelArchitecture(arch_value)
        for model_type in model_types:
            table[model_type] = arch
    return table


def _from_transformers_mappings(model_type: str) -> ModelArchitecture | None:
    """Fallback 1: transformers' own task tables, in the head table's ``by_model_type`` order."""
    try:
        from transformers.models.auto import modeling_auto as ma
    except ImportError:  # pragma: no cover - transformers is a hard dependency
        return None
    for head in head_table().by_model_type:
        mapping = getattr(ma, head.mapping, None)
        if mapping is not None and model_type in mapping:
            return ModelArchitecture(head.architecture)
    return None


def _from_class_names(class_names: Any) -> ModelArchitecture | None:
    """Fallback 3: class-name endings in ``architectures``, in the head table's ``by_class_suffix`` order."""
    for class_name in class_names or []:
        head = head_by_suffix(str(class_name), head_table().by_class_suffix)
        if head is not None:
            return ModelArchitecture(head.architecture)
    return None


def _from_config_keys(config: Mapping[str, Any]) -> ModelArchitecture | None:
    """Fallback 2: strong hints in the config's keys (sub-configs, audio and vision sizes)."""
    if "vision_config" in config and "text_config" in config:
        return ModelArchitecture.MULTIMODAL
    if "num_mel_bins" in config or "conv_kernel" in config or "audio_config" in config:
        return ModelArchitecture.SPEECH
    if "vision_config" in config or (
        "image_size" in config and "patch_size" in config and "vocab_size" not in config
    ):
        return ModelArchitecture.VISION_ENCODER
    return None


def architecture_from_config_dict(config: Mapping[str, Any]) -> ModelArchitecture:
    """Decide the architecture from a config dictionary (what ``config.json`` holds).

    Order: the package table by ``model_type``; transformers' own task mappings; config-key
    hints (vision/text sub-configs, audio sizes); the ``architectures`` class-name endings;
    ``is_encoder_decoder``; finally ``DECODER_ONLY`` with a warning
    (most unknown new Hub models are causal LMs; pin ``architecture`` in the config to override).
    """
    model_type = str(config.get("model_type") or "")
    table = model_type_table()
    if model_type in table:
        return table[model_type]
    if model_type:
        mapped = _from_transformers_mappings(model_type)
        if mapped is not None:
            return mapped
    hinted = _from_config_keys(config)
    if hinted is not None:
        return hinted
    named = _from_class_names(config.get("architectures"))
    if named is not None:
        return named
    if config.get("is_encoder_decoder"):
        return ModelArchitecture.ENCODER_DECODER
    logger.warning(
        "Could not decide the architecture of model_type=%r from its config; assuming %s. "
        "Pin it: pipeline_for(model, architecture='encoder_only'), or the provider's "
        "'architecture' key (create_provider('huggingface', {'model': ..., 'architecture': ...})).",
        model_type or None,
        ModelArchitecture.DECODER_ONLY.value,
    )
    return ModelArchitecture.DECODER_ONLY


def architecture_from_config(config: Any) -> ModelArchitecture:
    """Decide the architecture of a config already in memory (no file or Hub is read).

    Args:
        config: a config dictionary, a ``transformers.PretrainedConfig`` or a loaded model
            (anything with ``.config``).

    Raises:
        ArchitectureDetectionError: ``config`` is of a type that carries no config.

    Example:
        >>> architecture_from_config({"model_type": "llama"})
        <ModelArchitecture.DECODER_ONLY: 'decoder_only'>
    """
    if isinstance(config, Mapping):
        return architecture_from_config_dict(config)
    to_dict = getattr(getattr(config, "config", config), "to_dict", None)
    if callable(to_dict):
        return architecture_from_config_dict(to_dict())
    raise ArchitectureDetectionError(
        f"Cannot detect an architecture from a {type(config).__name__}; pass a Hub id, a local "
        "folder, an embedded:<name>, a config dict, a transformers PretrainedConfig or a loaded model."
    )
