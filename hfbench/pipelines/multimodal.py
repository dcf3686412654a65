"""The multimodal loader: image + text models (LLaVA-style chat models, BLIP, BLIP VQA, ViLT).
Processors live in ``pipelines/processors/multimodal.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.pipelines.heads import Head, HeadLoader, choose_head
from hfbench.pipelines.loader import LoadedModel, hub_kwargs
from hfbench.pipelines.loading import call_transformers
from hfbench.pipelines.processors import multimodal as _processors
from hfbench.pipelines.registry import register_loader
from hfbench.sources.resolve import resolve_model_source

_CAPTION = Capability.IMAGE_CAPTIONING.value
_VQA = Capability.VISUAL_QUESTION_ANSWERING.value
_TEXT = (Capability.TEXT_GENERATION.value, Capability.CHAT.value, Capability.GENERAL.value)

MULTIMODAL_HEADS: tuple[Head, ...] = (
    # LlavaForConditionalGeneration, BlipForConditionalGeneration, Blip2..., Qwen2VL...: generate
    # text from an image and a prompt. What each checkpoint can be asked is narrowed below.
    Head(
        "image-text-to-text",
        "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
        "AutoModelForImageTextToText",
        (_CAPTION, _VQA, *_TEXT),
    ),
    # BlipForQuestionAnswering (generates answers), ViltForQuestionAnswering (picks one of its labels).
    Head(
        "visual-question-answering",
        "MODEL_FOR_VISUAL_QUESTION_ANSWERING_MAPPING_NAMES",
        "AutoModelForVisualQuestionAnswering",
        (_VQA,),
    ),
)


@register_loader(ModelArchitecture.MULTIMODAL)
class MultimodalLoader(HeadLoader):
    """Loads image-text models with the Auto class of the checkpoint's head (``MULTIMODAL_HEADS``)."""

    heads = MULTIMODAL_HEADS

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """``(tokenizer, AutoProcessor)``; generative heads pad prompts on the left."""
        from transformers import AutoProcessor

        source = resolve_model_source(model_name)
        kwargs = hub_kwargs(config)
        processor = call_transformers(
            "processor", model_name, lambda: AutoProcessor.from_pretrained(source, **kwargs)
        )
        tokenizer = getattr(processor, "tokenizer", None)
        hf_config = self.load_config(model_name, config)
        if tokenizer is not None and choose_head(hf_config, self.heads) is MULTIMODAL_HEADS[0]:
            # Batched generation continues every prompt from its last token.
            tokenizer.padding_side = "left"
        return tokenizer, processor

    def serves(self, loaded: LoadedModel, head: Head, capability: str) -> bool:
        """A generative head serves chat and text generation only when it has a chat template
        (LLaVA-style models; BLIP needs an image and has no turns), and visual questions only
        with a chat template or a known question format (``NO_TEMPLATE_VQA_PROMPTS``)."""
        if head is not MULTIMODAL_HEADS[0] or _processors.chat_template_of(
            loaded.processor, loaded.tokenizer
        ):
            return head.serves(capability)
        return capability == _CAPTION or (
            capability == _VQA and loaded.hf_config.model_type in _processors.NO_TEMPLATE_VQA_PROMPTS
        )
