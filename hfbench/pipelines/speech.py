"""The speech loader: speech recognition with sequence-to-sequence models (Whisper, Speech2Text) and CTC
models (wav2vec 2.0, HuBERT). Processors live in ``pipelines/processors/speech.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.heads import Head, HeadLoader, heads_of
from hfbench.pipelines.loader import load_pretrained
from hfbench.pipelines.registry import register_loader

SPEECH_HEADS: tuple[Head, ...] = heads_of(ModelArchitecture.SPEECH)
"""Sequence-to-sequence (Whisper, Speech2Text) and CTC (wav2vec 2.0, HuBERT): the head table's speech set.
A checkpoint without a trained CTC layer (e.g. ``Wav2Vec2ForPreTraining``) is refused rather than
given a random one."""


@register_loader(ModelArchitecture.SPEECH)
class SpeechLoader(HeadLoader):
    """Loads speech models with the Auto class of the checkpoint's head (see ``SPEECH_HEADS``)."""

    architecture = ModelArchitecture.SPEECH

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """``(tokenizer, AutoProcessor)``: the processor holds the feature extractor and tokenizer."""
        processor = load_pretrained("processor", "AutoProcessor", model_name, config)
        return getattr(processor, "tokenizer", None), processor
