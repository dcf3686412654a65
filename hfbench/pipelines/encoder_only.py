"""The encoder-only loader: BERT-like encoders; every capability is served by a checkpoint head.

The head comes from the checkpoint (``config.architectures``): ``ForMaskedLM`` serves fill-mask,
``ForSequenceClassification`` text classification (and zero-shot when its labels are NLI labels),
``ForQuestionAnswering`` extractive question answering; every encoder serves embeddings through
its base model. Processors live in ``pipelines/processors/``.
"""

from __future__ import annotations

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.registry import register_loader
from hfbench.pipelines.text_loading import TextModelLoader


@register_loader(ModelArchitecture.ENCODER_ONLY)
class EncoderOnlyLoader(TextModelLoader):
    """Loads encoders by their head (bare ``BertModel`` -> ``AutoModel``); pads on the right."""

    architecture = ModelArchitecture.ENCODER_ONLY
    padding_side = "right"
