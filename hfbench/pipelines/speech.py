"""SpeechPipeline: loader and pipeline for SPEECH models (processors live in pipelines/processors/)."""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.base import BasePipeline, ModelLoader
from hfbench.pipelines.registry import register_pipeline


class SpeechLoader(ModelLoader):
    """Loads SPEECH models (to be completed)."""


@register_pipeline(ModelArchitecture.SPEECH)
class SpeechPipeline(BasePipeline):
    """Pipeline for SPEECH models."""

    architecture_type = ModelArchitecture.SPEECH
    loader_class = SpeechLoader
