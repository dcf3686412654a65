"""VisionEncoderPipeline: loader and pipeline for VISION_ENCODER models (processors live in pipelines/processors/)."""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.base import BasePipeline, ModelLoader
from hfbench.pipelines.registry import register_pipeline


class VisionEncoderLoader(ModelLoader):
    """Loads VISION_ENCODER models (to be completed)."""


@register_pipeline(ModelArchitecture.VISION_ENCODER)
class VisionEncoderPipeline(BasePipeline):
    """Pipeline for VISION_ENCODER models."""

    architecture_type = ModelArchitecture.VISION_ENCODER
    loader_class = VisionEncoderLoader
