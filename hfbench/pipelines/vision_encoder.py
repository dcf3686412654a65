"""The vision-encoder loader: image classifiers (ViT, DeiT, ConvNeXt ...), dual encoders (CLIP, SigLIP)
and bare backbones (ViTModel, DINOv2). Processors live in ``pipelines/processors/vision.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.heads import Head, HeadLoader, head_named, heads_of
from hfbench.pipelines.loader import load_pretrained
from hfbench.pipelines.registry import register_loader

VISION_HEADS: tuple[Head, ...] = heads_of(ModelArchitecture.VISION_ENCODER)
"""Dual encoders (CLIP, SigLIP), image classifiers, bare backbones: the head table's vision set."""

_DUAL_ENCODER = head_named("zero-shot-image-classification")


@register_loader(ModelArchitecture.VISION_ENCODER)
class VisionEncoderLoader(HeadLoader):
    """Loads vision encoders with the Auto class of the checkpoint's head (see ``VISION_HEADS``)."""

    architecture = ModelArchitecture.VISION_ENCODER

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """``(tokenizer, AutoProcessor)`` for dual encoders, ``(None, AutoImageProcessor)`` otherwise.

        transformers picks its PIL image-processor backend when torchvision is not installed.
        """
        hf_config = self.load_config(model_name, config)
        if _DUAL_ENCODER.class_names(hf_config.model_type):
            processor = load_pretrained("processor", "AutoProcessor", model_name, config)
            return getattr(processor, "tokenizer", None), processor
        return None, load_pretrained("image processor", "AutoImageProcessor", model_name, config)
