"""The pipeline class of each architecture: the seed's named pipelines, one table row each.

Every pipeline is a ``BasePipeline`` with its architecture's loader (``@register_loader``); the
names below exist because the design names them and because ``isinstance(p, SpeechPipeline)``
reads well. A row is all there is to one: nothing about an architecture lives in its class.
``@register_pipeline`` replaces a row's class with a subclass of your own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.base import BasePipeline

P = TypeVar("P", bound=type[BasePipeline])

_PIPELINES: dict[ModelArchitecture, type[BasePipeline]] = {}


def register_pipeline(architecture: ModelArchitecture | str) -> Callable[[P], P]:
    """Class decorator: the pipeline class ``pipeline_for`` returns for an architecture.

    Built-in architectures need none (``BasePipeline`` with the architecture's loader); register
    a subclass to change how a pipeline behaves beyond its loader.
    """
    arch = ModelArchitecture.parse(architecture)

    def decorate(cls: P) -> P:
        _PIPELINES[arch] = cls
        return cls

    return decorate


def pipeline_class(architecture: ModelArchitecture | str) -> type[BasePipeline]:
    """The pipeline class of an architecture (a registered one, else the built-in named class)."""
    return _PIPELINES[ModelArchitecture.parse(architecture)]


A = ModelArchitecture

#: architecture -> (class name, docstring)
PIPELINE_ROWS: dict[ModelArchitecture, tuple[str, str]] = {
    A.ENCODER_ONLY: ("EncoderOnlyPipeline", "Pipeline for encoder-only models (BERT, RoBERTa, MiniLM ...)."),
    A.DECODER_ONLY: ("DecoderOnlyPipeline", "Pipeline for decoder-only models (GPT-2, Llama, Gemma ...)."),
    A.ENCODER_DECODER: ("EncoderDecoderPipeline", "Pipeline for encoder-decoder models (T5, BART ...)."),
    A.VISION_ENCODER: ("VisionEncoderPipeline", "Pipeline for vision encoders (ViT, CLIP, DINOv2 ...)."),
    A.MULTIMODAL: ("MultimodalPipeline", "Pipeline for image-text models (LLaVA-style chat, BLIP ...)."),
    A.SPEECH: ("SpeechPipeline", "Pipeline for speech models (Whisper, wav2vec 2.0, HuBERT ...)."),
}


def _pipeline_class(architecture: ModelArchitecture, name: str, doc: str) -> type[BasePipeline]:
    cls = type(
        name, (BasePipeline,), {"architecture_type": architecture, "__doc__": doc, "__module__": __name__}
    )
    return register_pipeline(architecture)(cls)


PIPELINE_CLASSES: dict[ModelArchitecture, type[BasePipeline]] = {
    arch: _pipeline_class(arch, name, doc) for arch, (name, doc) in PIPELINE_ROWS.items()
}

EncoderOnlyPipeline = PIPELINE_CLASSES[A.ENCODER_ONLY]
DecoderOnlyPipeline = PIPELINE_CLASSES[A.DECODER_ONLY]
EncoderDecoderPipeline = PIPELINE_CLASSES[A.ENCODER_DECODER]
VisionEncoderPipeline = PIPELINE_CLASSES[A.VISION_ENCODER]
MultimodalPipeline = PIPELINE_CLASSES[A.MULTIMODAL]
SpeechPipeline = PIPELINE_CLASSES[A.SPEECH]
