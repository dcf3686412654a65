"""No transformers warnings from what hfbench passes to Whisper: on the tiny zoo and the embedded models.

The issue's noise was three warnings on every Whisper call: "Both `max_new_tokens` and
`max_length`" (hfbench passed a bound the checkpoint already has), "The attention mask is not set"
(a batch without the feature extractor's mask), and "Passing `generation_config` together with
generation-related arguments", which transformers 5.24's own Whisper ``generate`` emits whatever
it is given (pinned below, so that the day it stops, the checks take it in).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hfbench.pipelines import SpeechPipeline
from hfbench.pipelines.media import MediaInput
from hfbench.testing import synthetic_audio

RATE = 16000
SENTENCE = Path(__file__).resolve().parents[1] / "fixtures" / "quick_brown_fox.wav"
NO_FALLBACK: dict[str, Any] = dict.fromkeys(
    ("compression_ratio_threshold", "logprob_threshold", "no_speech_threshold")
)


def audio(seconds: float, seed: int = 0) -> MediaInput:
    return MediaInput.audio(synthetic_audio(seconds, seed=seed), sampling_rate=RATE)


def length_or_mask_warnings(messages: list[str]) -> list[str]:
    return [m for m in messages if "max_new_tokens" in m or "attention mask" in m]


@pytest.fixture
def transformers_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """A function giving every warning transformers logged or raised so far in the test (its
    ``warning_once`` cache cleared first, so a warning seen by an earlier test counts again)."""
    from transformers.utils import logging as hf_logging

    hf_logging.warning_once.cache_clear()  # type: ignore[attr-defined]
    library = logging.getLogger("transformers")
    library.addHandler(caplog.handler)  # transformers' root logger does not propagate
    try:
        with caplog.at_level(logging.WARNING), warnings.catch_warnings(record=True) as raised:
            warnings.simplefilter("always")
            yield (
                lambda: (
                    [str(w.message) for w in raised]
                    + [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
                )
            )
    finally:
        library.removeHandler(caplog.handler)


@pytest.fixture(scope="module")
def short_whisper(tiny_whisper_3s: Path) -> SpeechPipeline:
    return SpeechPipeline().load(str(tiny_whisper_3s))  # type: ignore[return-value]


@pytest.fixture(scope="module", params=["whisper-tiny.en", "whisper-base"])
def embedded_whisper(request: pytest.FixtureRequest) -> SpeechPipeline:
    from hfbench.sources import prepare_model
    from hfbench.sources.embedded import get_embedded_model
    from hfbench.sources.embedded.packages import missing_modules

    model = get_embedded_model(request.param)
    missing = missing_modules(model)
    if missing:  # only a missing package skips; a failed conversion fails
        pytest.skip(f"embedded:{request.param} needs {', '.join(missing)}; run: {model.install_command}")
    prepare_model(model.source_id, progress=False)
    return SpeechPipeline().load(model.source_id)  # type: ignore[return-value]


def test_a_plain_call_on_the_zoo_gets_no_length_or_attention_mask_warning(
    short_whisper: SpeechPipeline, transformers_warnings: Callable[[], list[str]]
) -> None:
    """Short and long (long-form) batches; the fallback is off only to keep random weights quick."""
    short_whisper.process([audio(1.0), audio(2.0, seed=1)], batch_size=2, **NO_FALLBACK)
    short_whisper.process([audio(4.0), audio(5.0, seed=1)], batch_size=2, **NO_FALLBACK)
    assert length_or_mask_warnings(transformers_warnings()) == []
    # The check does see warnings: a tighter max_tokens is passed as max_new_tokens, and warned about.
    short_whisper.process([audio(1.0)], max_tokens=4, **NO_FALLBACK)
    assert length_or_mask_warnings(transformers_warnings())


@pytest.mark.real_model
@pytest.mark.slow
def test_a_plain_call_on_an_embedded_whisper_gets_no_length_or_attention_mask_warning(
    embedded_whisper: SpeechPipeline, transformers_warnings: Callable[[], list[str]]
) -> None:
    embedded_whisper.process([MediaInput.audio(SENTENCE), MediaInput.audio(SENTENCE)], batch_size=2)
    assert length_or_mask_warnings(transformers_warnings()) == []


@pytest.mark.real_model
@pytest.mark.slow
def test_the_generation_config_warning_is_transformers_own(
    embedded_whisper: SpeechPipeline, transformers_warnings: Callable[[], list[str]]
) -> None:
    """transformers 5.24's ``generate_with_fallback`` passes ``suppress_tokens`` and
    ``begin_suppress_tokens`` beside ``generation_config`` to ``GenerationMixin.generate``, which
    warns about exactly that. When this fails, transformers stopped: check for it above too."""
    import soundfile as sf
    import torch

    if embedded_whisper.loaded.model_name.endswith("whisper-base"):
        pytest.skip("transformers' code, the same for every Whisper: one model shows it")
    samples, rate = sf.read(SENTENCE, dtype="float32")
    loaded = embedded_whisper.loaded
    features = loaded.processor(samples, sampling_rate=rate, return_tensors="pt").input_features
    with torch.inference_mode():
        loaded.model.generate(features)  # nothing but the audio
    assert any("Passing `generation_config` together" in m for m in transformers_warnings())
