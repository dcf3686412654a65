"""MultimodalPipeline on tiny models: LLaVA (chat template), BLIP captioning, BLIP VQA and ViLT VQA."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import MediaInputError, PipelineNotLoadedError, UnsupportedCapabilityError
from hfbench.pipelines import MultimodalPipeline, pipeline_for
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processors.multimodal import DEFAULT_CAPTION_INSTRUCTION
from hfbench.pipelines.results import TextResult
from hfbench.testing import synthetic_audio, synthetic_image

GREEDY: dict[str, Any] = {"temperature": 0.0, "max_tokens": 6}
IMAGE_TOKENS = 16  # 32x32 images in 8x8 patches
ALL = {"image-captioning", "visual-question-answering", "text-generation", "chat", "general"}
VQA_ANSWERS = ("yes", "no", "two", "red")


@pytest.fixture(scope="module")
def llava(tiny_llava: Path) -> MultimodalPipeline:
    pipe = pipeline_for(str(tiny_llava))
    assert isinstance(pipe, MultimodalPipeline)
    return pipe.load()  # type: ignore[return-value]


@pytest.fixture(scope="module")
def blip(tiny_blip: Path) -> MultimodalPipeline:
    return MultimodalPipeline().load(str(tiny_blip))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def blip_vqa(tiny_blip_vqa: Path) -> MultimodalPipeline:
    return MultimodalPipeline().load(str(tiny_blip_vqa))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def vilt(tiny_vilt: Path) -> MultimodalPipeline:
    return MultimodalPipeline().load(str(tiny_vilt))  # type: ignore[return-value]


def image(seed: int = 0, prompt: str | None = None) -> MediaInput:
    return MediaInput.image(synthetic_image(seed=seed), prompt=prompt)


def text_of(result: object) -> str:
    assert isinstance(result, TextResult)
    return result.text


# ---- loading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "model_class", "capabilities"),
    [
        ("llava", "LlavaForConditionalGeneration", ALL),
        ("blip", "BlipForConditionalGeneration", {"image-captioning"}),
        ("blip_vqa", "BlipForQuestionAnswering", {"visual-question-answering"}),
        ("vilt", "ViltForQuestionAnswering", {"visual-question-answering"}),
    ],
)
def test_loader_picks_the_checkpoints_head_and_keeps_only_what_it_serves(
    request: pytest.FixtureRequest, fixture: str, model_class: str, capabilities: set[str]
) -> None:
    pipe: MultimodalPipeline = request.getfixturevalue(fixture)
    assert pipe.architecture is ModelArchitecture.MULTIMODAL
    assert type(pipe.loaded.model).__name__ == model_class
    assert set(pipe.capabilities.names()) == capabilities


def test_generative_heads_pad_prompts_on_the_left(
    llava: MultimodalPipeline, blip_vqa: MultimodalPipeline
) -> None:
    assert llava.loaded.tokenizer.padding_side == "left"
    assert blip_vqa.loaded.tokenizer.padding_side == "right"  # a bidirectional question encoder


@pytest.mark.parametrize(
    ("fixture", "capability"),
    [("blip", "chat"), ("blip", "visual-question-answering"), ("blip_vqa", "image-captioning")],
)
def test_capabilities_the_checkpoint_lacks_are_refused(
    request: pytest.FixtureRequest, fixture: str, capability: str
) -> None:
    pipe: MultimodalPipeline = request.getfixturevalue(fixture)
    with pytest.raises(UnsupportedCapabilityError, match="cannot serve"):
        pipe.process([image(prompt="what?")], capability=capability)


# ---- captioning ------------------------------------------------------------------------------


def test_llava_caption_counts_image_and_text_tokens(llava: MultimodalPipeline) -> None:
    (result,) = llava.process([image()], capability="image-captioning", **GREEDY)
    assert isinstance(result, TextResult)
    assert result.text and result.capability == "image-captioning"
    assert 0 < result.output_tokens <= GREEDY["max_tokens"]
    assert result.extra["image_tokens"] == IMAGE_TOKENS
    assert result.input_tokens == IMAGE_TOKENS + result.extra["text_tokens"]
    assert result.input_unit == "tokens"


def test_llava_caption_asks_through_the_chat_template(llava: MultimodalPipeline) -> None:
    processor = llava._get_capability_processor("image-captioning")
    prompt = processor.prompt_for(image(), {})  # type: ignore[attr-defined]
    assert prompt.text.startswith("<s><|im_start|>user\n<image>")
    assert DEFAULT_CAPTION_INSTRUCTION in prompt.text
    assert prompt.text.endswith("<|im_start|>assistant\n")
    custom = processor.prompt_for(image(), {"caption_prompt": "Name the colours."})  # type: ignore[attr-defined]
    assert "Name the colours." in custom.text and DEFAULT_CAPTION_INSTRUCTION not in custom.text


def test_blip_captions_from_the_image_alone_and_strips_a_caption_prefix(blip: MultimodalPipeline) -> None:
    (plain,) = blip.process([image()], capability="caption", **GREEDY)
    assert isinstance(plain, TextResult)
    assert plain.text and plain.extra == {"image_tokens": IMAGE_TOKENS, "text_tokens": 0}
    (prefixed,) = blip.process([image()], capability="caption", caption_prompt="a picture of", **GREEDY)
    assert isinstance(prefixed, TextResult)
    assert prefixed.extra["text_tokens"] > 0
    assert not prefixed.text.startswith("a picture of")  # only what the model added
    assert 0 < prefixed.output_tokens <= GREEDY["max_tokens"]


def test_caption_batches_come_back_in_input_order(llava: MultimodalPipeline) -> None:
    items = [image(seed=s) for s in range(3)]
    batched = llava.process(items, capability="image-captioning", batch_size=3, **GREEDY)
    single = [text_of(llava.process([i], capability="image-captioning", **GREEDY)[0]) for i in items]
    assert [text_of(r) for r in batched] == single
    assert len(set(single)) > 1  # the images really give different captions


# ---- visual question answering ---------------------------------------------------------------


def test_vqa_reads_the_question_from_the_input_or_the_config(llava: MultimodalPipeline) -> None:
    (from_input,) = llava.process([image(prompt="What colour is it?")], capability="vqa", **GREEDY)
    (from_config,) = llava.process([image()], capability="vqa", question="What colour is it?", **GREEDY)
    assert text_of(from_input) == text_of(from_config)


def test_vqa_without_a_question_says_where_to_put_one(llava: MultimodalPipeline) -> None:
    with pytest.raises(MediaInputError, match=r"needs a question.*prompt=.*question="):
        llava.process([image()], capability="visual-question-answering")


def test_blip_vqa_generates_an_answer(blip_vqa: MultimodalPipeline) -> None:
    results = blip_vqa.process([image(s, "how many?") for s in range(2)], capability="vqa", **GREEDY)
    for result in results:
        assert isinstance(result, TextResult)
        assert result.text and 0 < result.output_tokens <= GREEDY["max_tokens"]
        assert result.extra["image_tokens"] == IMAGE_TOKENS and result.extra["text_tokens"] > 0


def test_vilt_vqa_answers_with_its_best_label(vilt: MultimodalPipeline) -> None:
    (result,) = vilt.process([image(prompt="how many?")], capability="vqa")
    assert isinstance(result, TextResult)
    answers = result.extra["answers"]
    assert result.text == answers[0]["label"] and result.text in VQA_ANSWERS
    assert [a["score"] for a in answers] == sorted((a["score"] for a in answers), reverse=True)
    assert result.output_tokens == 0
    assert list(vilt.stream(image(prompt="how many?"), capability="vqa")) == [result.text]


# ---- text generation and chat, with or without an image ---------------------------------------


def test_chat_without_an_image_uses_the_template_and_no_image_tokens(llava: MultimodalPipeline) -> None:
    (result,) = llava.process(["Hello, who are you?"], capability="chat", **GREEDY)
    assert isinstance(result, TextResult)
    assert result.extra["image_tokens"] == 0 and result.input_tokens == result.extra["text_tokens"]
    assert 0 < result.output_tokens <= GREEDY["max_tokens"]


def test_system_prompt_goes_into_the_chat_turns(llava: MultimodalPipeline) -> None:
    (plain,) = llava.process(["Hi"], capability="chat", **GREEDY)
    (system,) = llava.process(["Hi"], capability="chat", system_prompt="You are terse.", **GREEDY)
    assert system.input_tokens > plain.input_tokens


def test_text_generation_continues_the_raw_text(llava: MultimodalPipeline) -> None:
    processor = llava._get_capability_processor("text-generation")
    assert processor.prompt_for(MediaInput.text("Once upon"), {}).text == "Once upon"  # type: ignore[attr-defined]
    with_image = processor.prompt_for(image(prompt="This picture"), {})  # type: ignore[attr-defined]
    assert with_image.text == "<image>\nThis picture" and with_image.image is not None
    (result,) = llava.process([image(prompt="This picture")], capability="text-generation", **GREEDY)
    assert result.extra["image_tokens"] == IMAGE_TOKENS


def test_mixed_text_and_image_chat_batches_come_back_in_input_order(llava: MultimodalPipeline) -> None:
    items: list[object] = [
        "Hi there",
        image(1, "What is this?"),
        "Tell me a long story about a cat",
        image(2),
    ]
    batched = llava.process(items, capability="chat", batch_size=4, **GREEDY)
    single = [text_of(llava.process([i], capability="chat", **GREEDY)[0]) for i in items]
    assert [text_of(r) for r in batched] == single
    assert [r.extra["image_tokens"] for r in batched] == [0, IMAGE_TOKENS, 0, IMAGE_TOKENS]


def test_seeded_sampling_is_reproducible(llava: MultimodalPipeline) -> None:
    sampled: dict[str, Any] = {"temperature": 1.0, "max_tokens": 8, "seed": 7}
    first = llava.process(["Hi"], capability="chat", **sampled)
    again = llava.process(["Hi"], capability="chat", **sampled)
    assert text_of(first[0]) == text_of(again[0])


# ---- streaming == processing under greedy decoding -------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "capability", "item"),
    [
        ("llava", "image-captioning", lambda: image(1)),
        ("llava", "visual-question-answering", lambda: image(2, "What is this?")),
        ("llava", "chat", lambda: image(3, "Describe it.")),
        ("llava", "chat", lambda: MediaInput.text("Hello there")),
        ("llava", "text-generation", lambda: MediaInput.text("Once upon a time")),
        ("blip", "image-captioning", lambda: image(1)),
        ("blip_vqa", "visual-question-answering", lambda: image(1, "how many?")),
    ],
)
def test_streamed_text_equals_processed_text_under_greedy_decoding(
    request: pytest.FixtureRequest, fixture: str, capability: str, item: Callable[[], MediaInput]
) -> None:
    pipe: MultimodalPipeline = request.getfixturevalue(fixture)
    pieces = list(pipe.stream(item(), capability=capability, **GREEDY))
    (result,) = pipe.process([item()], capability=capability, **GREEDY)
    assert pieces
    assert "".join(pieces).strip() == text_of(result)


# ---- inputs and lifecycle --------------------------------------------------------------------


@pytest.mark.parametrize("capability", ["image-captioning", "visual-question-answering"])
def test_text_inputs_to_image_capabilities_are_media_errors(
    llava: MultimodalPipeline, capability: str
) -> None:
    with pytest.raises(MediaInputError, match="takes image inputs, got text"):
        llava.process(["just text"], capability=capability)


def test_audio_inputs_to_chat_are_media_errors(llava: MultimodalPipeline) -> None:
    audio = MediaInput.audio(synthetic_audio(0.1), sampling_rate=16000)
    with pytest.raises(MediaInputError, match="takes text or image inputs, got audio"):
        llava.process([audio], capability="chat")


def test_unload_drops_the_model_and_processing_then_needs_a_load(tiny_blip: Path) -> None:
    pipe = MultimodalPipeline().load(str(tiny_blip))
    pipe.process([image()], **GREEDY)
    model_ref = weakref.ref(pipe.loaded.model)
    processor_ref = weakref.ref(pipe.loaded.processor)
    pipe.unload()
    gc.collect()
    assert not pipe.is_loaded
    assert model_ref() is None and processor_ref() is None
    with pytest.raises(PipelineNotLoadedError):
        pipe.process([image()])
