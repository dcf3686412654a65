"""Capability detection: every rule, in its order of precedence."""

from __future__ import annotations

import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.providers.detection import detect_capability

A = ModelArchitecture


@pytest.mark.parametrize(
    ("prompt", "arch", "media", "kwargs", "chat", "expected"),
    [
        ("", A.SPEECH, ["audio"], {}, False, "speech-recognition"),
        ("what is said?", A.MULTIMODAL, ["audio"], {}, False, "speech-recognition"),
        ("", A.MULTIMODAL, ["image"], {}, False, "image-captioning"),
        ("What colour is the car?", A.MULTIMODAL, ["image"], {}, True, "visual-question-answering"),
        ("", A.VISION_ENCODER, ["image"], {}, False, "image-classification"),
        (
            "",
            A.VISION_ENCODER,
            ["image"],
            {"labels": ["cat", "dog"]},
            False,
            "zero-shot-image-classification",
        ),
        ("Bonjour", A.ENCODER_DECODER, [], {"tgt_lang": "en"}, False, "translation"),
        ("I loved it", A.ENCODER_ONLY, [], {"labels": ["pos", "neg"]}, False, "zero-shot-classification"),
        ("Who wrote it?", A.ENCODER_ONLY, [], {"context": "Tolkien wrote it."}, False, "question-answering"),
        ("Summarize: the cat sat on the mat.", A.DECODER_ONLY, [], {}, True, "summarization"),
        ("please summarise this", A.ENCODER_DECODER, [], {}, False, "summarization"),
        ("TL;DR the meeting notes", A.DECODER_ONLY, [], {}, True, "summarization"),
        ("Translate 'good morning' to German", A.DECODER_ONLY, [], {}, True, "translation"),
        ("Paris is the [MASK] of France.", A.ENCODER_ONLY, [], {}, False, "fill-mask"),
        ("Hello there", A.DECODER_ONLY, [], {}, True, "chat"),
        ("Once upon a time", A.DECODER_ONLY, [], {}, False, "text-generation"),
        ("Hello", A.ENCODER_DECODER, [], {}, False, "text-generation"),
        ("a sentence", A.ENCODER_ONLY, [], {}, False, "embeddings"),
    ],
)
def test_detection_rules(
    prompt: str, arch: ModelArchitecture, media: list[str], kwargs: dict, chat: bool, expected: str
) -> None:
    found = detect_capability(
        prompt,
        architecture=arch,
        media_kinds=media,
        kwargs=kwargs,
        has_chat_template=chat,
        mask_token="[MASK]",
    )
    assert found.capability == expected
    assert found.reason


def test_translation_prompt_yields_language_codes() -> None:
    found = detect_capability("Translate from English into French: hello", architecture=A.DECODER_ONLY)
    assert found.capability == "translation"
    assert found.params == {"tgt_lang": "fr", "src_lang": "en"}


def test_media_wins_over_prompt_words() -> None:
    found = detect_capability("Summarize this picture", architecture=A.MULTIMODAL, media_kinds=["image"])
    assert found.capability == "visual-question-answering"


def test_mask_token_only_means_fill_mask_on_encoders() -> None:
    found = detect_capability("the [MASK] sat", architecture=A.DECODER_ONLY, mask_token="[MASK]")
    assert found.capability == "text-generation"
