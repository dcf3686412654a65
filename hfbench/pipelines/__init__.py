"""Architecture pipelines: a loader per architecture and capability processors that call the model.

``pipeline_for(model)`` picks the pipeline from the detected architecture.
"""

from __future__ import annotations

from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.architectures import (
    DecoderOnlyPipeline,
    EncoderDecoderPipeline,
    EncoderOnlyPipeline,
    MultimodalPipeline,
    SpeechPipeline,
    VisionEncoderPipeline,
    pipeline_class,
    register_pipeline,
)
from hfbench.pipelines.base import BasePipeline
from hfbench.pipelines.loader import LoadedModel, ModelLoader
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.registry import load_builtins, register_loader, register_processor
from hfbench.sources.configs import detect_architecture

__all__ = [
    "BasePipeline",
    "CapabilityProcessor",
    "DecoderOnlyPipeline",
    "EncoderDecoderPipeline",
    "EncoderOnlyPipeline",
    "LoadedModel",
    "MediaInput",
    "ModelLoader",
    "MultimodalPipeline",
    "SpeechPipeline",
    "VisionEncoderPipeline",
    "pipeline_for",
    "register_loader",
    "register_pipeline",
    "register_processor",
]

load_builtins()  # every loader, named pipeline and processor, in this process and any child


def pipeline_for(
    model: str | ModelArchitecture,
    *,
    architecture: ModelArchitecture | str | None = None,
    **detect_kwargs: Any,
) -> BasePipeline:
    """The (not yet loaded) pipeline for a model or an architecture.

    Args:
        model: a Hub id, local folder, ``embedded:<name>``, or a ``ModelArchitecture``.
        architecture: pin the architecture instead of detecting it from the model's config.
        **detect_kwargs: ``revision``, ``cache_dir``, ``local_files_only`` for detection.

    Example:
        >>> pipe = pipeline_for("embedded:all-minilm-l6-v2")   # EncoderOnlyPipeline
        >>> pipe.load().process(["a sentence"], capability="embeddings")
    """
    if isinstance(model, ModelArchitecture):
        return pipeline_class(model)()
    arch = (
        ModelArchitecture.parse(architecture)
        if architecture is not None
        else detect_architecture(model, **detect_kwargs)
    )
    pipe = pipeline_class(arch)()
    pipe.model_name = model
    return pipe
