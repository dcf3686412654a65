"""Multimodal processors: image captioning, visual question answering, and text generation / chat on
an image-text model, with or without an image.

How a prompt is put to the model:

* chat-style requests (captioning, questions, ``chat``, ``general``) use the processor's chat
  template when it has one: one user turn holding the image and the text, after an optional
  ``system_prompt`` (LLaVA style); else the tokenizer's template with the image token in the text;
* ``text-generation`` continues the raw text (after the image token when there is an image);
* models without a template get the bare text: a caption prefix for BLIP (none by default), the
  question for BLIP VQA, or the format in ``NO_TEMPLATE_VQA_PROMPTS``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.core.errors import MediaInputError, ModelLoadError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.generation import cut_at_stop, generation_kwargs, seed_if_asked, stream_generate
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.processors.vision import batch_size, patch_count, to_model
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import LabelScore, ProcessResult, TextResult
from hfbench.pipelines.timing import timed_generate

DEFAULT_CAPTION_INSTRUCTION = "Describe this image in one sentence."
"""What a chat model is asked for a caption when the config sets no ``caption_prompt``."""

NO_TEMPLATE_VQA_PROMPTS: dict[str, str] = {
    # model_type -> how the question is written for a model without a chat template.
    "blip-2": "Question: {} Answer:",  # the format of the BLIP-2 paper and model cards
}

_MULTIMODAL = [ModelArchitecture.MULTIMODAL]


def chat_template_of(processor: Any, tokenizer: Any) -> str | None:
    """The processor's chat template, else the tokenizer's, else None."""
    for owner in (processor, tokenizer):
        template = getattr(owner, "chat_template", None)
        if template:
            return str(template)
    return None


@dataclass(frozen=True)
class Prompt:
    """What one input becomes: the text for the processor (None: image only) and the image."""

    text: str | None
    image: Any = None


class ImageTextGenerator(CapabilityProcessor):
    """Shared by the multimodal processors: render prompts, encode, generate, decode, count.

    Reads: ``max_tokens``, ``temperature``/``top_p``/``top_k``/``do_sample``/``seed``,
    ``repetition_penalty``, ``num_beams``, ``stop``, ``system_prompt`` (chat templates),
    ``batch_size``.
    """

    streams = True
    chat: bool = True  # chat-style request (template) rather than a raw continuation

    def prompt_for(self, item: MediaInput, config: Mapping[str, Any]) -> Prompt:
        """The prompt for one input (subclasses)."""
        raise NotImplementedError

    # ---- public ------------------------------------------------------------------------------
    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Generate for each input; inputs with and without images are batched apart."""
        seed_if_asked(config)
        prompts = [self.prompt_for(item, config) for item in inputs]
        results: list[ProcessResult | None] = [None] * len(prompts)
        for with_image in (True, False):
            indices = [i for i, p in enumerate(prompts) if (p.image is not None) is with_image]
            if not indices:
                continue
            outputs = run_batched(
                [prompts[i] for i in indices],
                batch_size(config),
                lambda p: len(p.text or ""),
                lambda batch: self._generate(batch, config),
            )
            for i, output in zip(indices, outputs, strict=True):
                results[i] = output
        return cast("list[ProcessResult]", results)  # every index was in one of the two groups

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Yield the generated text piece by piece."""
        seed_if_asked(config)
        encoded = self._encode([self.prompt_for(item, config)])
        yield from stream_generate(self.model, self.processor, encoded, self._generation_kwargs(config))

    # ---- prompts -----------------------------------------------------------------------------
    def render(self, text: str, image: Any, config: Mapping[str, Any], *, chat: bool) -> str | None:
        """The text to give the processor for ``text`` (and an image, if ``image`` is not None)."""
        image_token = self._image_token()
        if chat and getattr(self.processor, "chat_template", None):
            content: list[dict[str, Any]] = [{"type": "image"}] if image is not None else []
            content.append({"type": "text", "text": text})
            messages = [*self._system(config), {"role": "user", "content": content}]
            return str(
                self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            )
        joined = f"{image_token}\n{text}" if image is not None and image_token else text
        tokenizer = self.tokenizer
        if chat and getattr(tokenizer, "chat_template", None):
            messages = [*self._system(config), {"role": "user", "content": joined}]
            return str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
        return joined or None

    def _system(self, config: Mapping[str, Any]) -> list[dict[str, Any]]:
        system = config.get("system_prompt")
        return [{"role": "system", "content": [{"type": "text", "text": str(system)}]}] if system else []

    def _image_token(self) -> str | None:
        token = getattr(self.processor, "image_token", None)
        return str(token) if token else None

    # ---- running -----------------------------------------------------------------------------
    def _encode(self, prompts: list[Prompt]) -> dict[str, Any]:
        if self.processor is None:
            raise ModelLoadError(f"{self.loaded.model_name} was loaded without a processor.")
        kwargs: dict[str, Any] = {"return_tensors": "pt"}
        images = [p.image for p in prompts if p.image is not None]
        if images:
            kwargs["images"] = images
        texts = [p.text for p in prompts]
        if any(t is not None for t in texts):
            kwargs["text"] = [t or "" for t in texts]
            kwargs["padding"] = True
            bos = getattr(self.tokenizer, "bos_token", None)
            if bos and all(t and t.startswith(bos) for t in texts):
                kwargs["add_special_tokens"] = False  # the chat template wrote it already
        return to_model(self.processor(**kwargs), self.model)

    def _generation_kwargs(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return generation_kwargs(config, self.tokenizer)

    def _generate(self, batch: list[Prompt], config: Mapping[str, Any]) -> list[ProcessResult]:
        encoded = self._encode(batch)
        kwargs = self._generation_kwargs(config)
        input_counts = self._input_counts(encoded)
        total = sum(c["tokens"] for c in input_counts)
        with timed_generate(self.model, kwargs, prompt_tokens=total, batch_size=len(batch)) as timing:
            output = self.model.generate(**encoded, **kwargs)
        sequences = getattr(output, "sequences", output)
        new_tokens = sequences[:, _echoed_length(encoded.get("input_ids"), sequences) :]
        special = set(getattr(self.tokenizer, "all_special_ids", []) or [])
        texts = self.processor.batch_decode(new_tokens, skip_special_tokens=True)
        results: list[ProcessResult] = []
        for row, text, counts in zip(new_tokens.tolist(), texts, input_counts, strict=True):
            results.append(
                TextResult(
                    capability=self.requested_capability,
                    text=cut_at_stop(str(text), config.get("stop")).strip(),
                    input_tokens=counts["tokens"],
                    output_tokens=sum(1 for t in row if t not in special),
                    input_unit="tokens",
                    processor=type(self).__name__,
                    extra={"image_tokens": counts["image"], "text_tokens": counts["text"]},
                    timing=timing,
                )
            )
        return results

    def _input_counts(self, encoded: Mapping[str, Any]) -> list[dict[str, int]]:
        """Per input: text tokens, image tokens (patches when the image is not in the text), total."""
        ids = encoded.get("input_ids")
        mask = encoded.get("attention_mask")
        pixels = encoded.get("pixel_values")
        rows = int(ids.shape[0]) if ids is not None else int(pixels.shape[0]) if pixels is not None else 0
        image_id = self._image_token_id()
        counts: list[dict[str, int]] = []
        for r in range(rows):
            text = int(mask[r].sum()) if mask is not None else int(ids.shape[1]) if ids is not None else 0
            image = 0
            if ids is not None and image_id is not None:
                image = int((ids[r] == image_id).sum())
                text -= image
            elif pixels is not None:
                image = patch_count(self.model.config, pixels)[0]
            counts.append({"text": text, "image": image, "tokens": text + image})
        return counts

    def _image_token_id(self) -> int | None:
        token = self._image_token()
        if token is None or self.tokenizer is None:
            return None
        token_id = self.tokenizer.convert_tokens_to_ids(token)
        return (
            int(token_id) if isinstance(token_id, int) and token_id != self.tokenizer.unk_token_id else None
        )


def _echoed_length(input_ids: Any, sequences: Any) -> int:
    """How many leading tokens of ``sequences`` repeat the prompt (decoder-only models echo it;
    BLIP echoes it with its first token swapped for [DEC] and its last [SEP] dropped)."""
    import torch

    if input_ids is None:
        return 0
    length = int(input_ids.shape[1])
    for echoed in (length, length - 1):
        head = sequences[:, 1:echoed].cpu()
        if echoed > 1 and sequences.shape[1] >= echoed and torch.equal(head, input_ids[:, 1:echoed].cpu()):
            return echoed
    return 0


@register_processor(Capability.IMAGE_CAPTIONING, architectures=_MULTIMODAL)
class ImageCaptioningProcessor(ImageTextGenerator):
    """Describes an image.

    Reads ``caption_prompt``: the instruction for chat models (default
    ``DEFAULT_CAPTION_INSTRUCTION``) or the caption's start for BLIP (default: none). An input's
    own ``prompt`` wins over both.
    """

    accepts = ("image",)

    def prompt_for(self, item: MediaInput, config: Mapping[str, Any]) -> Prompt:
        """The caption instruction or prefix, with the image."""
        image = item.as_image()
        has_template = chat_template_of(self.processor, self.tokenizer) is not None
        default = DEFAULT_CAPTION_INSTRUCTION if has_template else ""
        text = item.prompt or str(config.get("caption_prompt") or default)
        return Prompt(self.render(text, image, config, chat=True), image)


@register_processor(Capability.VISUAL_QUESTION_ANSWERING, architectures=_MULTIMODAL)
class VisualQuestionAnsweringProcessor(ImageTextGenerator):
    """Answers a question about an image.

    Reads ``question`` when the input has no ``prompt`` of its own. Generative models write the
    answer; classifier models (ViLT) return their best answer label, with the scores of the
    ``top_labels`` best in ``extra["answers"]``.
    """

    accepts = ("image",)

    def prompt_for(self, item: MediaInput, config: Mapping[str, Any]) -> Prompt:
        """The question, rendered for this model, with the image."""
        image = item.as_image()
        question = item.prompt or config.get("question")
        if not question:
            raise MediaInputError(
                f"{self.requested_capability} needs a question: MediaInput.image(img, prompt='What is "
                "in the picture?') or question='...' in the config."
            )
        if chat_template_of(self.processor, self.tokenizer) is None:
            template = NO_TEMPLATE_VQA_PROMPTS.get(self.model.config.model_type, "{}")
            return Prompt(template.format(question), image)
        return Prompt(self.render(str(question), image, config, chat=True), image)

    def _generate(self, batch: list[Prompt], config: Mapping[str, Any]) -> list[ProcessResult]:
        if self.model.can_generate():
            return super()._generate(batch, config)
        return self._classify(batch, config)

    def _classify(self, batch: list[Prompt], config: Mapping[str, Any]) -> list[ProcessResult]:
        """ViLT-style VQA: a sigmoid score per answer label."""
        import torch

        encoded = self._encode(batch)
        logits = self.model(**encoded).logits.float()
        id2label = dict(self.model.config.id2label)
        top = min(int(config.get("top_labels") or 5), len(id2label))
        values, indices = torch.sigmoid(logits).topk(top, dim=-1)
        counts = self._input_counts(encoded)
        results: list[ProcessResult] = []
        for row_v, row_i, count in zip(values.tolist(), indices.tolist(), counts, strict=True):
            answers = [
                LabelScore(str(id2label.get(i, i)), float(v)) for v, i in zip(row_v, row_i, strict=True)
            ]
            results.append(
                TextResult(
                    capability=self.requested_capability,
                    text=answers[0].label,
                    input_tokens=count["tokens"],
                    input_unit="tokens",
                    processor=type(self).__name__,
                    extra={
                        "image_tokens": count["image"],
                        "text_tokens": count["text"],
                        "answers": [{"label": a.label, "score": a.score} for a in answers],
                    },
                )
            )
        return results

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Yield the answer piece by piece (at once for classifier models)."""
        if self.model.can_generate():
            yield from super().stream(item, config)
            return
        import torch

        with torch.inference_mode():
            (result,) = self._classify([self.prompt_for(item, config)], config)
        yield str(getattr(result, "text", ""))


@register_processor(Capability.TEXT_GENERATION, architectures=_MULTIMODAL)
class MultimodalTextGenerationProcessor(ImageTextGenerator):
    """Continues a text (raw, no chat template); an image input continues its ``prompt`` after the
    image token."""

    accepts = ("text", "image")
    chat = False

    def prompt_for(self, item: MediaInput, config: Mapping[str, Any]) -> Prompt:
        """The text (and image) of one input."""
        if item.kind == "image":
            image = item.as_image()
            return Prompt(self.render(item.prompt or "", image, config, chat=self.chat), image)
        return Prompt(self.render(item.as_text(), None, config, chat=self.chat))


@register_processor(Capability.CHAT, architectures=_MULTIMODAL)
class MultimodalChatProcessor(MultimodalTextGenerationProcessor):
    """Answers one user turn (the chat template), with or without an image."""

    chat = True


@register_processor(Capability.GENERAL, architectures=_MULTIMODAL)
class MultimodalGeneralProcessor(MultimodalChatProcessor):
    """Any instruction, as one chat turn (with or without an image)."""
