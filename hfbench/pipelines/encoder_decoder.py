"""The encoder-decoder loader: sequence-to-sequence models (T5, BART, Marian, mBART, NLLB ...).

Summarization and translation have dedicated processors (task prefixes, language codes);
text generation feeds the prompt to the encoder; any other text capability runs as an
instruction prompt (``GeneralProcessor``). Processors live in ``pipelines/processors/``.
"""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.registry import register_loader
from hfbench.pipelines.text_loading import TextModelLoader


@register_loader(ModelArchitecture.ENCODER_DECODER)
class EncoderDecoderLoader(TextModelLoader):
    """Loads ``AutoModelForSeq2SeqLM`` (or a classifier such as ``BartForSequenceClassification``)."""

    architecture = ModelArchitecture.ENCODER_DECODER
    padding_side = "right"
