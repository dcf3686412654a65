"""SpeechPipeline on tiny models: Whisper (seq2seq), wav2vec 2.0 and HuBERT (CTC); long audio.

Whisper's long-form decoding, languages and fallback are pinned in ``test_speech_whisper.py``.
"""

from __future__ import annotations

import gc
import itertools
import json
import shutil
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import (
    ConfigError,
    MediaInputError,
    PipelineNotLoadedError,
    UnsupportedCapabilityError,
)
from hfbench.pipelines import SpeechPipeline, pipeline_for
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processors.speech import WindowedSeq2SeqDecoder
from hfbench.pipelines.processors.speech_clips import Clip, plan_windows
from hfbench.pipelines.processors.speech_ctc import plan_strided_windows
from hfbench.pipelines.results import TranscriptResult
from hfbench.testing import synthetic_audio, synthetic_image

RATE = 16000
NO_FALLBACK: dict[str, Any] = dict.fromkeys(
    ("compression_ratio_threshold", "logprob_threshold", "no_speech_threshold")
)
SHORT: dict[str, Any] = {"max_tokens": 4, **NO_FALLBACK}
"""Random tiny decoders never stop on their own, and their improbable text would always be sent
to Whisper's temperature fallback (pinned in ``test_speech_whisper.py``)."""


def audio(seconds: float, seed: int = 0, rate: int = RATE) -> MediaInput:
    return MediaInput.audio(synthetic_audio(seconds, sampling_rate=rate, seed=seed), sampling_rate=rate)


def ctc_frames(pipe: SpeechPipeline, num_samples: int) -> int:
    """Output frames of a CTC model for ``num_samples`` (tiny models: 80 samples a frame)."""
    return int(pipe.loaded.model._get_feat_extract_output_lengths(num_samples))


def transcript(result: object) -> TranscriptResult:
    assert isinstance(result, TranscriptResult)
    return result


def _copy_with_config(source: Path, dest: Path, edit: Callable[[dict[str, object]], None], name: str) -> Path:
    shutil.copytree(source, dest, dirs_exist_ok=True)
    path = dest / name
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return dest


@pytest.fixture(scope="module")
def whisper(tiny_whisper: Path) -> SpeechPipeline:
    """The zoo's tiny Whisper: 30 s windows, like the real ones."""
    pipe = pipeline_for(str(tiny_whisper))
    assert isinstance(pipe, SpeechPipeline)
    return pipe.load()  # type: ignore[return-value]


@pytest.fixture(scope="module")
def short_whisper(tiny_whisper_3s: Path) -> SpeechPipeline:
    return SpeechPipeline().load(str(tiny_whisper_3s))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def wav2vec2(tiny_wav2vec2: Path) -> SpeechPipeline:
    return SpeechPipeline().load(str(tiny_wav2vec2))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def hubert(tiny_hubert: Path) -> SpeechPipeline:
    return SpeechPipeline().load(str(tiny_hubert))  # type: ignore[return-value]


# ---- loading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "model_class"),
    [
        ("whisper", "WhisperForConditionalGeneration"),
        ("wav2vec2", "Wav2Vec2ForCTC"),
        ("hubert", "HubertForCTC"),
    ],
)
def test_loader_picks_seq2seq_or_ctc_from_the_checkpoint(
    request: pytest.FixtureRequest, fixture: str, model_class: str
) -> None:
    pipe: SpeechPipeline = request.getfixturevalue(fixture)
    assert pipe.architecture is ModelArchitecture.SPEECH
    assert type(pipe.loaded.model).__name__ == model_class
    assert type(pipe.loaded.processor).__name__.endswith("Processor")
    assert pipe.loaded.tokenizer is pipe.loaded.processor.tokenizer
    assert pipe.capabilities.names() == ["speech-recognition"]


def test_a_checkpoint_without_a_ctc_head_is_refused_not_given_a_random_one(
    tmp_path: Path, tiny_wav2vec2: Path
) -> None:
    folder = _copy_with_config(
        tiny_wav2vec2, tmp_path, lambda d: d.update(architectures=["Wav2Vec2ForPreTraining"]), "config.json"
    )
    with pytest.raises(UnsupportedCapabilityError, match="Wav2Vec2ForPreTraining"):
        SpeechPipeline().load(str(folder))


# ---- overlapping windows (CTC) ----------------------------------------------------------------


def test_audio_no_longer_than_a_window_is_one_window_without_overlap() -> None:
    (window,) = plan_strided_windows(0, RATE * 5, RATE, 30.0, 5.0)
    assert (window.start, window.end, window.left, window.right) == (0, RATE * 5, 0, 0)


def test_overlapping_windows_keep_spans_that_tile_the_audio() -> None:
    total = RATE * 70
    windows = plan_strided_windows(0, total, RATE, 30.0, 5.0)
    assert [(w.start // RATE, w.end // RATE) for w in windows] == [(0, 30), (20, 50), (40, 70)]
    assert [w.kept for w in windows] == [(0, 25 * RATE), (25 * RATE, 45 * RATE), (45 * RATE, total)]
    for a, b in itertools.pairwise(windows):
        assert a.end - b.start == 2 * 5 * RATE  # neighbours share both strides
        assert a.kept[1] == b.kept[0]


def test_an_overlap_of_half_the_window_is_a_config_error(wav2vec2: SpeechPipeline) -> None:
    with pytest.raises(ConfigError, match=r"stride_length_s=1\.5") as err:
        wav2vec2.process([audio(1.0)], chunk_length_s=3.0, stride_length_s=1.5)
    assert err.value.key_path == "stride_length_s"


# ---- quiet-place windows (sequence-to-sequence models without long-form decoding) -------------


def test_audio_shorter_than_a_window_is_one_span() -> None:
    assert plan_windows(np.ones(RATE * 5, dtype=np.float32), RATE, 30.0) == [(0, RATE * 5)]


def test_long_audio_is_cut_into_consecutive_spans_no_longer_than_a_window() -> None:
    samples = synthetic_audio(70.0)
    spans = plan_windows(samples, RATE, 30.0)
    assert len(spans) == 3
    assert spans[0][0] == 0 and spans[-1][1] == len(samples)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end == start
    assert all(0 < end - start <= 30 * RATE for start, end in spans)


def test_cuts_fall_in_a_pause_near_the_window_end() -> None:
    rng = np.random.default_rng(0)
    samples = rng.uniform(-0.5, 0.5, size=RATE * 50).astype(np.float32)
    samples[int(28.6 * RATE) : int(28.8 * RATE)] = 0.0  # a pause 1.3 s before the 30 s mark
    (first_start, first_end), _ = plan_windows(samples, RATE, 30.0)
    assert first_start == 0
    assert 28.6 * RATE <= first_end <= 28.8 * RATE


def test_a_seq2seq_model_without_long_form_decodes_quiet_cut_windows(short_whisper: SpeechPipeline) -> None:
    """The Speech2Text path, run on the tiny Whisper's plain ``generate``."""
    loaded = short_whisper.loaded
    decoder = WindowedSeq2SeqDecoder(
        loaded.model, loaded.processor.feature_extractor, loaded.tokenizer, config={"max_tokens": 2}
    )
    clip = Clip(0, synthetic_audio(7.0), RATE)
    (found,) = decoder.transcribe([clip], batch_size=4)
    assert found.windows == 3 and len(found.segments) == 3
    assert found.segments[0].start_s == 0.0 and found.segments[-1].end_s == 7.0
    assert all(c.end_s - c.start_s <= 3.0 for c in found.segments)
    assert found.text == " ".join(c.text for c in found.segments if c.text)
    assert "".join(decoder.stream(clip)) == found.text


# ---- Whisper (sequence to sequence) -----------------------------------------------------------


def test_whisper_transcribes_a_short_clip_without_chunks(short_whisper: SpeechPipeline) -> None:
    result = transcript(short_whisper.process([audio(2.0)], **SHORT)[0])
    assert result.text and result.capability == "speech-recognition"
    assert result.chunks == []
    assert (result.input_tokens, result.input_unit) == (100, "frames")  # 50 encoder frames a second
    assert 0 < result.output_tokens <= SHORT["max_tokens"]
    assert result.extra["audio_s"] == 2.0 and result.extra["windows"] == 1


def test_audio_at_another_rate_is_resampled_to_the_feature_extractors(short_whisper: SpeechPipeline) -> None:
    at_8k = transcript(short_whisper.process([audio(2.0, rate=8000)], **SHORT)[0])
    at_44k = transcript(short_whisper.process([audio(2.0, rate=44100)], **SHORT)[0])
    assert at_8k.extra["audio_s"] == at_44k.extra["audio_s"] == 2.0
    assert at_8k.input_tokens == at_44k.input_tokens == 100


def test_int16_audio_transcribes_like_the_same_float_audio(short_whisper: SpeechPipeline) -> None:
    samples = synthetic_audio(1.0)
    pcm = np.round(samples * 32767).astype(np.int16)
    as_float = transcript(short_whisper.process([MediaInput.audio(samples, sampling_rate=RATE)], **SHORT)[0])
    as_int = transcript(short_whisper.process([MediaInput.audio(pcm, sampling_rate=RATE)], **SHORT)[0])
    assert as_int.text == as_float.text


def test_whisper_batches_come_back_in_input_order_as_if_alone(short_whisper: SpeechPipeline) -> None:
    items = [audio(seconds, seed=i) for i, seconds in enumerate([1.0, 2.5, 0.5, 7.0, 5.0])]
    batched = [transcript(r) for r in short_whisper.process(items, batch_size=3, **SHORT)]
    assert [r.extra["audio_s"] for r in batched] == [1.0, 2.5, 0.5, 7.0, 5.0]
    single = [transcript(short_whisper.process([item], batch_size=1, **SHORT)[0]) for item in items]
    assert [r.text for r in batched] == [r.text for r in single]
    assert [r.chunks for r in batched] == [r.chunks for r in single]
    assert [r.input_tokens for r in batched] == [50, 125, 25, 350, 250]
    assert [r.extra["windows"] for r in batched][:3] == [1, 1, 1]


def test_silence_is_not_transcribed(short_whisper: SpeechPipeline) -> None:
    silence = MediaInput.audio(np.zeros(RATE, dtype=np.float32), sampling_rate=RATE)
    quiet, spoken = (transcript(r) for r in short_whisper.process([silence, audio(1.0)], **SHORT))
    assert (quiet.text, quiet.output_tokens, quiet.input_tokens, quiet.chunks) == ("", 0, 0, [])
    assert quiet.extra["silent"] and not spoken.extra["silent"]
    assert spoken.text
    assert list(short_whisper.stream(silence, **SHORT)) == []


def test_text_or_image_inputs_are_media_errors(whisper: SpeechPipeline) -> None:
    with pytest.raises(MediaInputError, match="takes audio inputs, got text"):
        whisper.process(["hello"])
    with pytest.raises(MediaInputError, match="takes audio inputs, got image"):
        whisper.process([MediaInput.image(synthetic_image())])


# ---- CTC (wav2vec 2.0, HuBERT) ---------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["wav2vec2", "hubert"])
def test_ctc_greedy_decoding_gives_text_and_frame_counts(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    pipe: SpeechPipeline = request.getfixturevalue(fixture)
    result = transcript(pipe.process([audio(1.0)])[0])
    assert result.text and "<" not in result.text  # special tokens are not part of the text
    assert result.input_unit == "frames"
    assert result.input_tokens == ctc_frames(pipe, RATE)
    assert 0 < result.output_tokens <= result.input_tokens
    assert result.chunks == [] and result.language is None


def test_ctc_decoding_is_the_collapsed_argmax_of_the_logits(wav2vec2: SpeechPipeline) -> None:
    import torch

    samples = synthetic_audio(1.0)
    result = transcript(wav2vec2.process([MediaInput.audio(samples, sampling_rate=RATE)])[0])
    inputs = wav2vec2.loaded.processor(samples, sampling_rate=RATE, return_tensors="pt")
    with torch.inference_mode():
        ids = wav2vec2.loaded.model(**inputs).logits.argmax(-1)[0].tolist()
    tokenizer = wav2vec2.loaded.tokenizer
    collapsed = [t for t, _ in itertools.groupby(ids) if t not in set(tokenizer.all_special_ids)]
    assert result.output_tokens == len(collapsed)
    assert result.text == tokenizer.decode(ids, skip_special_tokens=True).strip()


def test_ctc_long_audio_merges_overlapping_windows_into_timed_chunks(wav2vec2: SpeechPipeline) -> None:
    result = transcript(wav2vec2.process([audio(7.0)], chunk_length_s=3.0, stride_length_s=0.5)[0])
    # Windows of 3 s every 2 s; each keeps its middle, the halves of the overlaps go to neither twice.
    assert [(c.start_s, c.end_s) for c in result.chunks] == [(0.0, 2.5), (2.5, 4.5), (4.5, 7.0)]
    assert result.extra["windows"] == 3
    assert result.text == " ".join(c.text for c in result.chunks if c.text)
    # The kept frames tile the clip: about as many as one pass over the whole of it.
    assert abs(result.input_tokens - ctc_frames(wav2vec2, 7 * RATE)) <= 3


def test_ctc_overlap_defaults_to_a_sixth_of_the_window(wav2vec2: SpeechPipeline) -> None:
    result = transcript(wav2vec2.process([audio(7.0)], chunk_length_s=3.0)[0])
    assert [(c.start_s, c.end_s) for c in result.chunks] == [(0.0, 2.5), (2.5, 4.5), (4.5, 7.0)]


def test_ctc_word_timestamps_are_absolute_and_in_order_across_windows(wav2vec2: SpeechPipeline) -> None:
    result = transcript(wav2vec2.process([audio(7.0)], chunk_length_s=3.0, return_timestamps=True)[0])
    assert result.chunks
    for chunk in result.chunks:
        assert 0.0 <= chunk.start_s <= chunk.end_s <= 7.0
    assert [c.start_s for c in result.chunks] == sorted(c.start_s for c in result.chunks)
    assert result.chunks[-1].end_s > 4.5  # words of the last window are placed after its start
    assert result.text == " ".join(c.text for c in result.chunks)


def test_ctc_word_timestamps_fall_inside_a_short_clip(wav2vec2: SpeechPipeline) -> None:
    result = transcript(wav2vec2.process([audio(2.0)], return_timestamps=True)[0])
    assert result.chunks
    for chunk in result.chunks:
        assert 0.0 <= chunk.start_s <= chunk.end_s <= 2.0


def test_ctc_streams_the_merged_text_word_by_word(wav2vec2: SpeechPipeline) -> None:
    item = audio(7.0)
    pieces = list(wav2vec2.stream(item, chunk_length_s=3.0))
    result = transcript(wav2vec2.process([item], chunk_length_s=3.0)[0])
    assert len(pieces) >= 2
    assert "".join(pieces) == result.text


def test_ctc_batches_come_back_in_input_order(hubert: SpeechPipeline) -> None:
    items = [audio(seconds, seed=i) for i, seconds in enumerate([0.5, 2.0, 1.0])]
    results = [transcript(r) for r in hubert.process(items, batch_size=3)]
    assert [r.extra["audio_s"] for r in results] == [0.5, 2.0, 1.0]
    # Padding frames of the shorter clips in the batch are not counted.
    assert [r.input_tokens for r in results] == [ctc_frames(hubert, int(s * RATE)) for s in (0.5, 2.0, 1.0)]


# ---- lifecycle -------------------------------------------------------------------------------


def test_unload_drops_the_model_and_processing_then_needs_a_load(tiny_wav2vec2: Path) -> None:
    pipe = SpeechPipeline().load(str(tiny_wav2vec2))
    pipe.process([audio(0.5)])
    model_ref = weakref.ref(pipe.loaded.model)
    processor_ref = weakref.ref(pipe.loaded.processor)
    pipe.unload()
    gc.collect()
    assert not pipe.is_loaded
    assert model_ref() is None and processor_ref() is None
    with pytest.raises(PipelineNotLoadedError):
        pipe.process([audio(0.5)])
