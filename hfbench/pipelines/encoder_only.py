"""EncoderOnlyPipeline: loader and pipeline for ENCODER_ONLY models (processors live in pipelines/processors/)."""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.base import BasePipeline, ModelLoader
from hfbench.pipelines.registry import register_pipeline


class EncoderOnlyLoader(ModelLoader):
    """Loads ENCODER_ONLY models (to be completed)."""


@register_pipeline(ModelArchitecture.ENCODER_ONLY)
class EncoderOnlyPipeline(BasePipeline):
    """Pipeline for ENCODER_ONLY models."""

    architecture_type = ModelArchitecture.ENCODER_ONLY
    loader_class = EncoderOnlyLoader
