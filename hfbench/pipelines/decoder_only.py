"""The decoder-only loader: causal LMs (GPT-2, Llama, Gemma ...).

Text generation and chat run ``generate()``; any other text capability without a dedicated
processor runs as an instruction prompt (``GeneralProcessor``). Processors live in
``pipelines/processors/``.
"""

from __future__ import annotations

from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.pipelines.registry import register_loader
from hfbench.pipelines.text_loading import TextModelLoader


@register_loader(ModelArchitecture.DECODER_ONLY)
class DecoderOnlyLoader(TextModelLoader):
    """Loads causal LMs (``AutoModelForCausalLM``), or a decoder classifier by its head.

    The tokenizer pads on the LEFT, so every row of a batch ends where generation starts, and
    truncates on the left, so an over-long prompt keeps its end (the part next to the answer).
    """

    architecture = ModelArchitecture.DECODER_ONLY
    padding_side = "left"

    def load_processor(self, model_name: str, config: Any) -> tuple[Any, Any]:
        """The tokenizer, padding and truncating on the left; pad token = eos when it has none."""
        tokenizer, processor = super().load_processor(model_name, config)
        tokenizer.truncation_side = "left"
        return tokenizer, processor
