"""Architecture pipelines: a loader per architecture and capability processors that call the model.

``pipeline_for(model)`` picks the pipeline from the detected architecture.
"""

from __future__ import annotations

from typing import Any

from hfbench.core.architecture import ModelArchitecture, detect_architecture
from hfbench.pipelines.base import BasePipeline, CapabilityProcessor, LoadedModel, ModelLoader
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.registry import pipeline_class, register_pipeline, register_processor

__all__ = [
    "BasePipeline",
    "CapabilityProcessor",
    "LoadedModel",
    "MediaInput",
    "ModelLoader",
    "pipeline_for",
    "register_pipeline",
    "register_processor",
]


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
