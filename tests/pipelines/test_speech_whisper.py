"""Whisper on the tiny zoo: long-form decoding, streaming, languages and the repetition fallback.

The zoo's ``whisper-3s`` has a 3 s window, so a 7 s clip is "long audio" for it (three windows or
more) at a tenth of the cost of the real 30 s window.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from hfbench.core.errors import ConfigError
from hfbench.pipelines import SpeechPipeline
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processors.speech_whisper import TEMPERATURES
from hfbench.pipelines.results import TranscriptResult
from hfbench.pipelines.timing import record_timings
from hfbench.testing import synthetic_audio

RATE = 16000
NO_FALLBACK: dict[str, Any] = dict.fromkeys(
    ("compression_ratio_threshold", "logprob_threshold", "no_speech_threshold")
)
SHORT: dict[str, Any] = {"max_tokens": 4, **NO_FALLBACK}
"""Random tiny decoders never stop on their own, and their improbable text would always be sent
to the temperature fallback (tested on its own below)."""


def audio(seconds: float, seed: int = 0) -> MediaInput:
    return MediaInput.audio(synthetic_audio(seconds, seed=seed), sampling_rate=RATE)


def transcript(result: object) -> TranscriptResult:
    assert isinstance(result, TranscriptResult)
    return result


@pytest.fixture(scope="module")
def short_whisper(tiny_whisper_3s: Path) -> SpeechPipeline:
    return SpeechPipeline().load(str(tiny_whisper_3s))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def english_whisper(tmp_path_factory: pytest.TempPathFactory, tiny_whisper_3s: Path) -> SpeechPipeline:
    """The short tiny Whisper marked English-only, like the ``*.en`` checkpoints."""
    folder = tmp_path_factory.mktemp("whisper-en")
    shutil.copytree(tiny_whisper_3s, folder, dirs_exist_ok=True)
    config = folder / "generation_config.json"
    data = json.loads(config.read_text())
    data.update(is_multilingual=False)
    for key in ("lang_to_id", "task_to_id"):
        data.pop(key, None)
    config.write_text(json.dumps(data))
    return SpeechPipeline().load(str(folder))  # type: ignore[return-value]


# ---- long audio --------------------------------------------------------------------------------


def test_long_audio_is_one_long_form_generate_call_with_absolute_segment_times(
    short_whisper: SpeechPipeline,
) -> None:
    with record_timings() as recorder:
        result = transcript(short_whisper.process([audio(7.0)], **SHORT)[0])
    assert len(recorder.calls) == 1  # transformers' long-form loop, not a call per window
    assert result.extra["windows"] >= 3  # 3 s windows over 7 s
    assert result.input_tokens == 350
    assert result.chunks, "long audio always has segments"
    assert result.chunks[0].start_s == 0.0
    for chunk in result.chunks:
        assert 0.0 <= chunk.start_s <= chunk.end_s <= 7.0
    assert [c.start_s for c in result.chunks] == sorted(c.start_s for c in result.chunks)
    assert result.chunks[-1].start_s >= 3.0  # later windows' times are offset by where they start
    assert 0 < result.output_tokens <= SHORT["max_tokens"] * result.extra["windows"]


def test_long_inputs_of_a_batch_each_keep_their_own_windows(short_whisper: SpeechPipeline) -> None:
    items = [audio(7.0, seed=1), audio(4.0, seed=2)]
    with record_timings() as recorder:
        batched = [transcript(r) for r in short_whisper.process(items, batch_size=2, **SHORT)]
    assert len(recorder.calls) == 1 and recorder.calls[0].batch_size == 2
    alone = [transcript(short_whisper.process([item], **SHORT)[0]) for item in items]
    assert [r.text for r in batched] == [r.text for r in alone]
    assert [r.chunks for r in batched] == [r.chunks for r in alone]
    assert batched[1].chunks[-1].end_s <= 4.0


def test_whisper_streams_the_long_form_text_window_by_window(short_whisper: SpeechPipeline) -> None:
    item = audio(7.0)
    with record_timings() as recorder:
        pieces = list(short_whisper.stream(item, **SHORT))
    assert len(pieces) >= 3 and len(recorder.calls) == len(pieces)  # one generate call per window
    result = transcript(short_whisper.process([item], **SHORT)[0])
    assert "".join(pieces) == result.text


def test_a_short_clip_streams_as_one_piece(short_whisper: SpeechPipeline) -> None:
    item = audio(2.0)
    result = transcript(short_whisper.process([item], **SHORT)[0])
    assert list(short_whisper.stream(item, **SHORT)) == [result.text]


def test_timestamps_of_a_short_clip_stay_inside_it(short_whisper: SpeechPipeline) -> None:
    result = transcript(short_whisper.process([audio(2.5)], return_timestamps=True, **SHORT)[0])
    assert result.chunks
    for chunk in result.chunks:
        assert 0.0 <= chunk.start_s <= chunk.end_s <= 2.5


def test_max_tokens_bounds_each_window(short_whisper: SpeechPipeline) -> None:
    result = transcript(short_whisper.process([audio(1.0)], max_tokens=2)[0])
    assert 0 < result.output_tokens <= 2


# ---- languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "French", "FRENCH", "<|fr|>"])
def test_multilingual_whisper_takes_a_language_by_code_or_name(
    short_whisper: SpeechPipeline, language: str
) -> None:
    result = transcript(short_whisper.process([audio(1.0)], language=language, task="translate", **SHORT)[0])
    assert result.language == "fr"


def test_the_detected_language_is_reported(short_whisper: SpeechPipeline) -> None:
    import torch

    samples = synthetic_audio(1.0)
    result = transcript(short_whisper.process([MediaInput.audio(samples, sampling_rate=RATE)], **SHORT)[0])
    loaded = short_whisper.loaded
    features = loaded.processor(samples, sampling_rate=RATE, return_tensors="pt").input_features
    with torch.inference_mode():
        (detected,) = loaded.model.detect_language(features, num_segment_frames=300).tolist()
    assert result.language == loaded.tokenizer.convert_ids_to_tokens(detected).strip("<|>")


def test_an_unknown_language_is_a_config_error_with_a_suggestion(short_whisper: SpeechPipeline) -> None:
    with pytest.raises(
        ConfigError, match=r"does not know the language 'frnch'.*Did you mean 'french'"
    ) as err:
        short_whisper.process([audio(1.0)], language="frnch")
    assert err.value.key_path == "language"


def test_english_only_whisper_refuses_other_languages_and_translation(
    english_whisper: SpeechPipeline,
) -> None:
    for language in ("en", "English", None):
        result = transcript(english_whisper.process([audio(1.0)], language=language, **SHORT)[0])
        assert result.language == "en"
    with pytest.raises(ConfigError, match=r"English-only.*language='fr'") as err:
        english_whisper.process([audio(1.0)], language="fr")
    assert err.value.key_path == "language"
    with pytest.raises(ConfigError, match="cannot translate") as err:
        english_whisper.process([audio(1.0)], task="translate")
    assert err.value.key_path == "task"


# ---- repetition fallback -------------------------------------------------------------------------


def steps(pipe: SpeechPipeline, item: MediaInput, **config: Any) -> tuple[int, str]:
    """Decoding steps of all ``generate`` calls, and the text."""
    with record_timings() as recorder:
        result = transcript(pipe.process([item], **config)[0])
    return sum(call.steps for call in recorder.calls), result.text


def test_a_window_that_fails_a_threshold_is_decoded_again_at_higher_temperatures(
    short_whisper: SpeechPipeline,
) -> None:
    item = audio(1.0)
    plain, _ = steps(short_whisper, item, **SHORT)
    # Every text compresses better than this: each temperature of the schedule is tried.
    retried, _ = steps(short_whisper, item, **{**SHORT, "compression_ratio_threshold": 0.01})
    assert plain <= SHORT["max_tokens"]
    assert retried > (len(TEMPERATURES) - 2) * plain


def test_the_fallback_samples_reproducibly_and_leaves_the_global_generator_alone(
    short_whisper: SpeechPipeline,
) -> None:
    import torch

    item = audio(1.0)
    config = {**SHORT, "compression_ratio_threshold": 0.01}
    state = torch.get_rng_state()
    first = steps(short_whisper, item, **config)
    assert torch.equal(torch.get_rng_state(), state)
    assert steps(short_whisper, item, **config) == first
    assert steps(short_whisper, item, **config, seed=1) != first


def test_the_fallback_is_on_by_default_with_openai_whispers_thresholds(short_whisper: SpeechPipeline) -> None:
    merged = short_whisper.config.get_merged_config("speech-recognition")
    assert merged["logprob_threshold"] == -1.0 and merged["no_speech_threshold"] == 0.6
    assert merged["compression_ratio_threshold"] == 1.35  # 2.4 of openai-whisper, in token bytes
    # Random weights make improbable text: the default logprob_threshold sends it back.
    defaults, _ = steps(short_whisper, audio(1.0), max_tokens=4)
    plain, _ = steps(short_whisper, audio(1.0), **SHORT)
    assert defaults > plain


def test_no_speech_threshold_without_logprob_threshold_is_a_config_error(
    short_whisper: SpeechPipeline,
) -> None:
    with pytest.raises(ConfigError, match="needs logprob_threshold") as err:
        short_whisper.process([audio(1.0)], logprob_threshold=None, max_tokens=4)
    assert err.value.key_path == "no_speech_threshold"
