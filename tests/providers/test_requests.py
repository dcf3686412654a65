"""One request type for every provider: building and checking it, media, multi-turn chat, load keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.core.errors import ConfigError, MediaInputError, UnsupportedCapabilityError
from hfbench.pipelines import MediaInput
from hfbench.providers import GenerationRequest
from hfbench.providers.huggingface import HuggingFaceProvider
from hfbench.providers.model_cache import ModelCache
from hfbench.testing import synthetic_image

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def cache() -> ModelCache:
    return ModelCache(max_models=2)


@pytest.fixture
def llm(tiny_llama: Path, cache: ModelCache) -> HuggingFaceProvider:
    return HuggingFaceProvider(
        {"model": str(tiny_llama), "temperature": 0.0, "max_tokens": 6}, model_cache=cache
    )


def test_build_takes_a_prompt_or_messages_and_splits_the_conversation() -> None:
    request = GenerationRequest.build(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "What is 2+2?"},
        ],
        max_tokens=5,
    )
    assert request.prompt == "What is 2+2?" and request.system_prompt == "Be brief."
    assert [m.role for m in request.messages] == ["user", "assistant"]
    assert request.params == {"max_tokens": 5}
    assert request.chat_messages()[0] == {"role": "system", "content": "Be brief."}
    assert request.chat_messages()[-1] == {"role": "user", "content": "What is 2+2?"}
    # a list given as the prompt is read as messages
    assert GenerationRequest.build([{"role": "user", "content": "x"}]).prompt == "x"


@pytest.mark.parametrize(
    ("kwargs", "key_path"),
    [
        ({"prompt": 3}, "prompt"),
        ({"prompt": "a", "messages": [{"role": "user", "content": "b"}]}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "system", "content": "y"}]}, "messages[1]"),
        (
            {
                "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}],
                "system_prompt": "t",
            },
            "system_prompt",
        ),
    ],
)
def test_malformed_requests_get_config_errors_with_key_paths(kwargs: dict, key_path: str) -> None:
    with pytest.raises(ConfigError) as info:
        GenerationRequest.build(**kwargs)
    assert info.value.key_path == key_path


def test_media_paths_are_read_by_file_type(tmp_path: Path) -> None:
    image_path = tmp_path / "photo.png"
    synthetic_image().save(image_path)
    (request_image,) = GenerationRequest.build("what is this?", media=str(image_path)).media
    assert request_image.kind == "image" and request_image.source == str(image_path)
    (request_audio,) = GenerationRequest.build("", media=FIXTURES / "quick_brown_fox.wav").media
    assert request_audio.kind == "audio" and request_audio.sampling_rate
    # a one-item list is one item
    assert len(GenerationRequest.build("x", media=[str(image_path)]).media) == 1


def test_bad_media_fails_before_any_model_runs(
    tmp_path: Path, llm: HuggingFaceProvider, cache: ModelCache
) -> None:
    corrupt = tmp_path / "photo.png"
    corrupt.write_text("this is not an image")
    with pytest.raises(MediaInputError, match="Cannot read"):
        llm.generate("what is this?", media=str(corrupt))
    unknown = tmp_path / "notes.xyz"
    unknown.write_text("plain text")
    with pytest.raises(MediaInputError, match="neither an image"):
        llm.generate("what is this?", media=unknown)
    with pytest.raises(MediaInputError, match="is not a file"):
        llm.generate("what is this?", media="photo-that-does-not-exist.png")
    with pytest.raises(MediaInputError, match="put text in the prompt"):
        llm.generate("what is this?", media=MediaInput.text("hello"))
    assert cache.stats.loads == 0


def test_several_media_items_are_refused_with_what_to_do_instead(llm: HuggingFaceProvider) -> None:
    image = MediaInput.image(synthetic_image())
    with pytest.raises(MediaInputError, match=r"2 media items.*process\(\)"):
        llm.generate("what is this?", media=[image, image])


def test_an_image_path_to_a_text_only_model_is_refused_not_ignored(
    tmp_path: Path, llm: HuggingFaceProvider, cache: ModelCache
) -> None:
    path = tmp_path / "photo.png"
    synthetic_image().save(path)
    with pytest.raises(UnsupportedCapabilityError) as info:
        llm.generate("what is this?", media=str(path))
    message = str(info.value)
    assert "cannot take image input" in message and "reads text only" in message
    assert "chat" in message  # what it serves
    assert "visual-question-answering" in message  # a model that would, from the registry
    assert cache.stats.loads == 0  # refused before loading anything


def test_audio_to_a_non_speech_model_names_speech_recognition(llm: HuggingFaceProvider) -> None:
    with pytest.raises(UnsupportedCapabilityError, match=r"cannot take audio input.*speech-recognition"):
        llm.generate("", media=FIXTURES / "quick_brown_fox.wav")


def test_multi_turn_messages_reach_the_chat_template(llm: HuggingFaceProvider) -> None:
    single = llm.generate("What is 2+2?")
    conversation = llm.generate(
        messages=[
            {"role": "user", "content": "Remember the number seven."},
            {"role": "assistant", "content": "I will remember seven."},
            {"role": "user", "content": "What is 2+2?"},
        ]
    )
    assert conversation.capability == "chat" and "conversation" in conversation.detection_reason
    assert conversation.input_tokens > single.input_tokens  # the earlier turns were in the prompt
    from hfbench.pipelines.processors.text_generation import chat_prompt

    tokenizer = llm.pipeline.loaded.tokenizer
    rendered = chat_prompt(tokenizer, "What is 2+2?", None, [("user", "Remember"), ("assistant", "OK")])
    assert rendered.index("Remember") < rendered.index("OK") < rendered.index("What is 2+2?")


def test_messages_with_a_non_chat_capability_are_refused(llm: HuggingFaceProvider) -> None:
    with pytest.raises(ConfigError, match="answered by chat"):
        llm.generate(
            messages=[
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
            ],
            capability="summarization",
        )


def test_load_keys_per_call_are_refused_and_provider_dtype_is_a_separate_model(
    llm: HuggingFaceProvider, tiny_llama: Path, cache: ModelCache
) -> None:
    with pytest.raises(ConfigError, match="is a load key"):
        llm.generate("hi", dtype="bfloat16")
    llm.generate("hi")
    bf16 = HuggingFaceProvider(
        {"model": str(tiny_llama), "max_tokens": 2, "dtype": "bf16"}, model_cache=cache
    )
    bf16.generate("hi")
    assert cache.stats.loads == 2
    import torch

    assert bf16.pipeline.loaded.model.dtype == torch.bfloat16
    assert llm.pipeline.loaded.model.dtype == torch.float32
    # 'fp32' and 'float32' (and 'auto' on a CPU) are the same loaded model
    HuggingFaceProvider(
        {"model": str(tiny_llama), "dtype": "fp32", "max_tokens": 2}, model_cache=cache
    ).generate("hi")
    assert cache.stats.loads == 2


def test_size_tier_is_checked_when_set(tiny_llama: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'medium'"):
        HuggingFaceProvider({"model": str(tiny_llama), "size_tier": "mediun"})
    llm = HuggingFaceProvider({"model": str(tiny_llama)})
    with pytest.raises(ConfigError, match="size_tier"):
        llm.set_config("size_tier", "huge")
    assert llm.get_config("size_tier") == "medium"  # the bad value was not kept


def test_a_request_object_and_the_stream_front_door(llm: HuggingFaceProvider) -> None:
    request = GenerationRequest.build("Once upon a time", capability="text-generation")
    full = llm.generate(request)
    assert "".join(llm.stream(request)) == full.text  # type: ignore[union-attr]
    assert "".join(llm.stream("Once upon a time", capability="text-generation")) == full.text  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="carries everything"):
        llm.generate(request, max_tokens=3)


def test_no_suitable_model_says_what_was_tried_and_what_would_work() -> None:
    from hfbench.core.errors import NoSuitableModelError
    from hfbench.registry import hardware_profile

    small_box = hardware_profile({"name": "small box", "ram_gb": 1})
    llm = HuggingFaceProvider({"size_tier": "small"}, system=small_box)
    with pytest.raises(NoSuitableModelError) as info:
        llm.get_model_for_capability("chat")
    message = str(info.value)
    assert "No suitable model for chat" in message and "rejected" in message
    assert "more than the 1.0 GiB available" in message and "hardware_profile(" in message
    assert isinstance(info.value, UnsupportedCapabilityError)  # what callers caught before
