"""EncoderDecoderPipeline: loader and pipeline for ENCODER_DECODER models (processors live in pipelines/processors/)."""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.base import BasePipeline, ModelLoader
from hfbench.pipelines.registry import register_pipeline


class EncoderDecoderLoader(ModelLoader):
    """Loads ENCODER_DECODER models (to be completed)."""


@register_pipeline(ModelArchitecture.ENCODER_DECODER)
class EncoderDecoderPipeline(BasePipeline):
    """Pipeline for ENCODER_DECODER models."""

    architecture_type = ModelArchitecture.ENCODER_DECODER
    loader_class = EncoderDecoderLoader
