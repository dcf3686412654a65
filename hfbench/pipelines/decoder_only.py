"""DecoderOnlyPipeline: loader and pipeline for DECODER_ONLY models (processors live in pipelines/processors/)."""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.base import BasePipeline, ModelLoader
from hfbench.pipelines.registry import register_pipeline


class DecoderOnlyLoader(ModelLoader):
    """Loads DECODER_ONLY models (to be completed)."""


@register_pipeline(ModelArchitecture.DECODER_ONLY)
class DecoderOnlyPipeline(BasePipeline):
    """Pipeline for DECODER_ONLY models."""

    architecture_type = ModelArchitecture.DECODER_ONLY
    loader_class = DecoderOnlyLoader
