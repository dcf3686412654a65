"""MultimodalPipeline: loader and pipeline for MULTIMODAL models (processors live in pipelines/processors/)."""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.base import BasePipeline, ModelLoader
from hfbench.pipelines.registry import register_pipeline


class MultimodalLoader(ModelLoader):
    """Loads MULTIMODAL models (to be completed)."""


@register_pipeline(ModelArchitecture.MULTIMODAL)
class MultimodalPipeline(BasePipeline):
    """Pipeline for MULTIMODAL models."""

    architecture_type = ModelArchitecture.MULTIMODAL
    loader_class = MultimodalLoader
