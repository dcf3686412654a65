"""The vision-encoder loader: image classifiers (ViT, DeiT, ConvNeXt ...), dual encoders (CLIP, SigLIP)
and bare backbones (ViTModel, DINOv2). Processors live in ``pipelines/processors/vision.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.heads import Head, HeadLoader, head_named, heads_of
from hfbench.pipelines.loader import hub_kwargs
from hfbench.pipelines.loading import call_transformers
from hfbench.pipelines.registry import register_loader
from hfbench.sources.resolve import resolve_model_source

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
        from transformers import AutoImageProcessor, AutoProcessor

        source = resolve_model_source(model_name)
        kwargs = hub_kwargs(config)
        hf_config = self.load_config(model_name, config)
        if _DUAL_ENCODER.class_names(hf_config.model_type):
            processor = call_transformers(
                "processor", model_name, lambda: AutoProcessor.from_pretrained(source, **kwargs)
            )
            return getattr(processor, "tokenizer", None), processor
        image_processor = call_transformers(
            "image processor", model_name, lambda: AutoImageProcessor.from_pretrained(source, **kwargs)
        )
        return None, image_processor
