"""The multimodal loader: image + text models (LLaVA-style chat models, BLIP, BLIP VQA, ViLT).
Processors live in ``pipelines/processors/multimodal.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.pipelines.heads import Checkpoint, Head, HeadLoader, choose_head, head_named, heads_of
from hfbench.pipelines.loader import load_pretrained
from hfbench.pipelines.processors import multimodal as _processors
from hfbench.pipelines.registry import register_loader

_CAPTION = Capability.IMAGE_CAPTIONING.value
_VQA = Capability.VISUAL_QUESTION_ANSWERING.value

MULTIMODAL_HEADS: tuple[Head, ...] = heads_of(ModelArchitecture.MULTIMODAL)
"""Image-text-to-text generators (LLaVA, BLIP, Qwen2-VL ...) and visual question answering (BLIP VQA,
ViLT): the head table's multimodal set. What a generator serves is narrowed by ``serves``."""

_GENERATOR = head_named("image-text-to-text")


@register_loader(ModelArchitecture.MULTIMODAL)
class MultimodalLoader(HeadLoader):
    """Loads image-text models with the Auto class of the checkpoint's head (``MULTIMODAL_HEADS``)."""

    architecture = ModelArchitecture.MULTIMODAL

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """``(tokenizer, AutoProcessor)``; generative heads pad prompts on the left."""
        processor = load_pretrained("processor", "AutoProcessor", model_name, config)
        tokenizer = getattr(processor, "tokenizer", None)
        hf_config = self.load_config(model_name, config)
        if tokenizer is not None and choose_head(hf_config, self.heads) is _GENERATOR:
            # Batched generation continues every prompt from its last token.
            tokenizer.padding_side = "left"
        return tokenizer, processor

    def serves(self, checkpoint: Checkpoint, head: Head, capability: str) -> bool:
        """A generative head serves chat and text generation only when it has a chat template
        (LLaVA-style models; BLIP needs an image and has no turns), and visual questions only
        with a chat template or a known question format (``NO_TEMPLATE_VQA_PROMPTS``). Without
        a known answer (a config alone), the head's row decides."""
        if head is not _GENERATOR or checkpoint.chat_template is not False:
            return head.serves(capability)
        return capability == _CAPTION or (
            capability == _VQA and checkpoint.hf_config.model_type in _processors.NO_TEMPLATE_VQA_PROMPTS
        )
