"""EncoderDecoderPipeline: sequence-to-sequence models (T5, BART, Marian, mBART, NLLB ...).

Summarization and translation have dedicated processors (task prefixes, language codes);
text generation feeds the prompt to the encoder; any other text capability runs as an
instruction prompt (``GeneralProcessor``). Processors live in ``pipelines/processors/``.
"""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.base import BasePipeline
from hfbench.pipelines.processors import (  # noqa: F401 - importing registers the text processors
    classification,
    embeddings,
    general,
    question_answering,
    summarization,
    text_generation,
    translation,
)
from hfbench.pipelines.registry import register_pipeline
from hfbench.pipelines.text_loading import TextModelLoader


class EncoderDecoderLoader(TextModelLoader):
    """Loads ``AutoModelForSeq2SeqLM`` (or a classifier such as ``BartForSequenceClassification``)."""

    architecture = ModelArchitecture.ENCODER_DECODER
    padding_side = "right"


@register_pipeline(ModelArchitecture.ENCODER_DECODER)
class EncoderDecoderPipeline(BasePipeline):
    """Pipeline for ENCODER_DECODER models."""

    architecture_type = ModelArchitecture.ENCODER_DECODER
    loader_class = EncoderDecoderLoader
