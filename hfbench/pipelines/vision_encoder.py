"""The vision-encoder loader: image classifiers (ViT, DeiT, ConvNeXt ...), dual encoders (CLIP, SigLIP)
and bare backbones (ViTModel, DINOv2). Processors live in ``pipelines/processors/vision.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.pipelines.heads import Head, HeadLoader
from hfbench.pipelines.loader import hub_kwargs
from hfbench.pipelines.loading import call_transformers
from hfbench.pipelines.registry import register_loader
from hfbench.sources.resolve import resolve_model_source

_ZERO_SHOT = Capability.ZERO_SHOT_IMAGE_CLASSIFICATION.value
_CLASSIFY = Capability.IMAGE_CLASSIFICATION.value
_EMBED = Capability.IMAGE_EMBEDDINGS.value

VISION_HEADS: tuple[Head, ...] = (
    # CLIP, SigLIP ...: an image tower and a text tower in one shared space.
    Head(
        "zero-shot-image-classification",
        "MODEL_FOR_ZERO_SHOT_IMAGE_CLASSIFICATION_MAPPING_NAMES",
        "AutoModelForZeroShotImageClassification",
        (_ZERO_SHOT, _EMBED),
        trained=False,  # the whole checkpoint; nothing is added on top
    ),
    # ViTForImageClassification, ConvNextForImageClassification ...: a trained label head.
    Head(
        "image-classification",
        "MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES",
        "AutoModelForImageClassification",
        (_CLASSIFY, _EMBED),
    ),
    # ViTModel, Dinov2Model, CLIPVisionModel ...: a bare backbone, for embeddings only.
    Head("base", "MODEL_MAPPING_NAMES", "AutoModel", (_EMBED,), trained=False),
)


@register_loader(ModelArchitecture.VISION_ENCODER)
class VisionEncoderLoader(HeadLoader):
    """Loads vision encoders with the Auto class of the checkpoint's head (see ``VISION_HEADS``)."""

    heads = VISION_HEADS

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """``(tokenizer, AutoProcessor)`` for dual encoders, ``(None, AutoImageProcessor)`` otherwise.

        transformers picks its PIL image-processor backend when torchvision is not installed.
        """
        from transformers import AutoImageProcessor, AutoProcessor

        source = resolve_model_source(model_name)
        kwargs = hub_kwargs(config)
        hf_config = self.load_config(model_name, config)
        if VISION_HEADS[0].class_names(hf_config.model_type):
            processor = call_transformers(
                "processor", model_name, lambda: AutoProcessor.from_pretrained(source, **kwargs)
            )
            return getattr(processor, "tokenizer", None), processor
        image_processor = call_transformers(
            "image processor", model_name, lambda: AutoImageProcessor.from_pretrained(source, **kwargs)
        )
        return None, image_processor
