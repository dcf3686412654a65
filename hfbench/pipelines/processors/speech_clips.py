"""What the speech decoders share: one input's audio (``Clip``), what came of it (``Transcript``),
the model's parts (``DecoderParts``), silence, and quiet-place cuts for sequence-to-sequence
models that have no long-form algorithm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hfbench.pipelines.results import TranscriptChunk

if TYPE_CHECKING:
    import numpy as np

SILENCE_PEAK = 1e-3
"""Inputs whose loudest sample is below this (-60 dBFS) are not transcribed: Whisper invents text
("Thank you.") for pure silence, and there is nothing to find in it anyway."""

CUT_SEARCH_S = 2.0
"""How far back from a window's end ``plan_windows`` looks for a quiet place to cut (seconds)."""

CUT_FRAME_S = 0.02
"""The length of the frames ``plan_windows`` compares when looking for the quietest place (seconds)."""


@dataclass
class Clip:
    """One input's audio, mono float32 at the model's sampling rate.

    Attributes:
        index: the input's position in the batch given to ``process``.
        samples: the audio.
        rate: its sampling rate (Hz).
    """

    index: int
    samples: np.ndarray
    rate: int

    @property
    def seconds(self) -> float:
        """The clip's length in seconds."""
        return len(self.samples) / self.rate

    @property
    def silent(self) -> bool:
        """True when no sample reaches ``SILENCE_PEAK``."""
        return bool(len(self.samples) == 0 or float(abs(self.samples).max()) < SILENCE_PEAK)


@dataclass
class Transcript:
    """What a decoder made of one clip.

    Attributes:
        text: the whole transcript.
        segments: timed pieces in absolute seconds of the clip (Whisper segments, CTC words, or
            windows), empty when the decoder has none.
        output_tokens: text tokens generated (sequence-to-sequence) or labels emitted (CTC).
        frames: encoder frames of the clip's audio.
        windows: model windows the clip was decoded in.
        language: the language the model transcribed, when known (asked, or detected).
    """

    text: str = ""
    segments: list[TranscriptChunk] = field(default_factory=list)
    output_tokens: int = 0
    frames: int = 0
    windows: int = 0
    language: str | None = None


class DecoderParts:
    """What every speech decoder holds: the model, its feature extractor and its tokenizer."""

    def __init__(self, model: Any, feature_extractor: Any, tokenizer: Any) -> None:
        self.model = model
        self.feature_extractor = feature_extractor
        self.tokenizer = tokenizer

    @property
    def rate(self) -> int:
        """The sampling rate the model was trained on (Hz)."""
        return int(self.feature_extractor.sampling_rate)


def timed_chunk(text: str, start_s: float, end_s: float, duration_s: float) -> TranscriptChunk:
    """A ``TranscriptChunk`` with its span kept inside ``[0, duration_s]`` (model times are guesses)."""
    start = min(max(start_s, 0.0), duration_s)
    end = min(max(end_s, start), duration_s)
    return TranscriptChunk(text.strip(), round(start, 3), round(end, 3))


def plan_windows(samples: np.ndarray, rate: int, window_s: float) -> list[tuple[int, int]]:
    """Cut audio into consecutive ``(start, end)`` sample spans of at most ``window_s`` seconds.

    Audio no longer than a window is one span. Otherwise each span ends at the quietest
    ``CUT_FRAME_S`` frame within its last ``CUT_SEARCH_S`` seconds (at most a fifth of the
    window), so cuts fall in pauses between words where there are any. Used only for
    sequence-to-sequence models without a long-form algorithm or timestamps to merge by
    (Speech2Text); Whisper and CTC models do better (see ``speech.py``).
    """
    import numpy as np

    total = len(samples)
    window = max(int(window_s * rate), 1)
    if total <= window:
        return [(0, total)]
    frame = max(int(CUT_FRAME_S * rate), 1)
    search = max(min(int(CUT_SEARCH_S * rate), window // 5), frame)
    spans: list[tuple[int, int]] = []
    start = 0
    while total - start > window:
        end = start + window
        region = samples[end - search : end].astype(np.float64)
        count = len(region) // frame
        energy = (region[len(region) - count * frame :].reshape(count, frame) ** 2).mean(axis=1)
        quietest = count - 1 - int(np.argmin(energy[::-1]))  # the latest of equally quiet frames
        cut = end - (count - quietest) * frame + frame // 2
        spans.append((start, cut))
        start = cut
    spans.append((start, total))
    return spans
