"""CTC models (wav2vec 2.0, HuBERT): long audio in overlapping windows, overlaps dropped on merge.

The approach of transformers' ASR pipeline (``chunk_length_s`` + ``stride_length_s``): windows of
``chunk_length_s`` seconds overlap their neighbours by ``stride_length_s`` on each side (default
a sixth of the window, as in transformers). A CTC model labels every 20 ms frame independently,
so merging needs no text alignment: each window's frame labels in its overlaps are dropped, the
kept frames tile the input exactly, and every kept frame was labelled with at least
``stride_length_s`` of audio on both sides (none is at a window's cut edge). The merged labels are
decoded once, so a word that spans two windows is collapsed and spelled whole.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hfbench.core.errors import ConfigError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.processors.speech_clips import Clip, DecoderParts, Transcript, timed_chunk
from hfbench.pipelines.processors.vision import to_model
from hfbench.pipelines.results import TranscriptChunk

DEFAULT_CHUNK_S = 30.0
"""Window length when ``chunk_length_s`` is unset (seconds)."""

STRIDE_FRACTION = 1 / 6
"""Overlap on each side as a fraction of the window when ``stride_length_s`` is unset (transformers')."""


@dataclass(frozen=True)
class StridedWindow:
    """One window of a clip: samples ``[start, end)``, of which ``left`` and ``right`` samples at
    its edges overlap the neighbouring windows and are dropped on merge."""

    clip: int
    start: int
    end: int
    left: int
    right: int

    @property
    def kept(self) -> tuple[int, int]:
        """The samples this window contributes to the merge."""
        return self.start + self.left, self.end - self.right


def window_lengths(config: Mapping[str, Any]) -> tuple[float, float]:
    """``(chunk_length_s, stride_length_s)`` of a config, with their defaults.

    Raises:
        ConfigError: the overlaps leave nothing of a window (``stride_length_s`` must be under half
            of ``chunk_length_s``).
    """
    chunk = float(config.get("chunk_length_s") or DEFAULT_CHUNK_S)
    stride = config.get("stride_length_s")
    stride_s = chunk * STRIDE_FRACTION if stride is None else float(stride)
    if 2 * stride_s >= chunk:
        raise ConfigError(
            f"stride_length_s={stride_s:g} overlaps both sides of a {chunk:g} s window "
            f"(chunk_length_s) and leaves nothing between; use less than {chunk / 2:g} s.",
            key_path="stride_length_s",
        )
    return chunk, stride_s


def plan_strided_windows(
    clip: int, total: int, rate: int, chunk_s: float, stride_s: float
) -> list[StridedWindow]:
    """Windows of ``chunk_s`` seconds over ``total`` samples, overlapping by ``stride_s`` on each side.

    Audio no longer than a window is one window with no overlap. Consecutive windows start
    ``chunk_s - 2 * stride_s`` seconds apart; the first has no left overlap and the last no right
    one, so the kept spans cover ``[0, total)`` end to end.
    """
    chunk, stride = int(chunk_s * rate), int(stride_s * rate)
    step = chunk - 2 * stride
    windows: list[StridedWindow] = []
    start = 0
    while True:
        last = start + chunk >= total
        end = min(start + chunk, total)
        windows.append(StridedWindow(clip, start, end, stride if start else 0, 0 if last else stride))
        if last:
            return windows
        start += step


class CTCDecoder(DecoderParts):
    """Transcribes clips with a CTC model (see the module docstring)."""

    def __init__(
        self, model: Any, feature_extractor: Any, tokenizer: Any, *, config: Mapping[str, Any]
    ) -> None:
        super().__init__(model, feature_extractor, tokenizer)
        self.chunk_s, self.stride_s = window_lengths(config)
        self.timestamps = bool(config.get("return_timestamps"))
        self.special = set(tokenizer.all_special_ids)  # the blank is the pad token

    @property
    def samples_per_frame(self) -> int:
        """Audio samples per output frame (320 for wav2vec 2.0: 20 ms at 16 kHz)."""
        import math

        strides = getattr(self.model.config, "conv_stride", None) or (320,)
        return int(math.prod(int(s) for s in strides))

    def frames(self, num_samples: int) -> int:
        """Output frames for ``num_samples`` of audio."""
        lengths = getattr(self.model, "_get_feat_extract_output_lengths", None)
        if lengths is not None:
            return int(lengths(num_samples))
        return num_samples // self.samples_per_frame

    def windows(self, clip: Clip) -> list[StridedWindow]:
        """The clip's overlapping windows."""
        return plan_strided_windows(clip.index, len(clip.samples), self.rate, self.chunk_s, self.stride_s)

    # ---- decoding ----------------------------------------------------------------------------
    def transcribe(self, clips: list[Clip], batch_size: int) -> list[Transcript]:
        """Transcripts of ``clips`` in their order; windows of all clips are batched together."""
        by_index = {clip.index: clip for clip in clips}
        windows = [w for clip in clips for w in self.windows(clip)]
        labels = run_batched(
            windows, batch_size, lambda w: w.end - w.start, lambda batch: self._labels(batch, by_index)
        )
        per_clip: dict[int, list[tuple[StridedWindow, list[int]]]] = {clip.index: [] for clip in clips}
        for window, kept in zip(windows, labels, strict=True):
            per_clip[window.clip].append((window, kept))
        return [self._transcript(clip, per_clip[clip.index]) for clip in clips]

    def stream(self, clip: Clip) -> Iterator[str]:
        """Yield the transcript word by word as windows are labelled.

        After each window, every word but the last of the merged labels so far is final (a word
        delimiter follows it); the last may go on in the next window, so it waits.
        """
        import torch

        ids: list[int] = []
        said = 0
        windows = self.windows(clip)
        for number, window in enumerate(windows, start=1):
            with torch.inference_mode():
                (kept,) = self._labels([window], {clip.index: clip})
            ids += kept
            words = [w["word"] for w in self._decode(ids, words=True)[1]]
            final = words if number == len(windows) else words[:-1]
            if len(final) > said:
                piece = " ".join(final[said:])
                yield piece if said == 0 else " " + piece
                said = len(final)

    def _labels(self, batch: list[StridedWindow], clips: Mapping[int, Clip]) -> list[list[int]]:
        """Each window's frame labels (argmax), its overlaps and batch padding cut off."""
        import torch

        encoded = self.feature_extractor(
            [clips[w.clip].samples[w.start : w.end] for w in batch],
            sampling_rate=self.rate,
            return_tensors="pt",
            padding="longest",
        )
        predicted = torch.argmax(self.model(**to_model(encoded, self.model)).logits, dim=-1).cpu()
        kept: list[list[int]] = []
        for window, row in zip(batch, predicted, strict=True):
            frames = self.frames(window.end - window.start)
            first = round(window.left / self.samples_per_frame)
            stop = min(frames, round((window.end - window.start - window.right) / self.samples_per_frame))
            kept.append(row[first:stop].tolist())
        return kept

    def _decode(self, ids: list[int], *, words: bool) -> tuple[str, list[dict[str, Any]]]:
        """The CTC decode of merged labels (repeats collapsed, blanks dropped), with word offsets."""
        if not words:
            return str(self.tokenizer.decode(ids, skip_special_tokens=True)), []
        decoded = self.tokenizer.decode(ids, skip_special_tokens=True, output_word_offsets=True)
        return str(decoded["text"]), list(decoded.get("word_offsets", []))

    def _transcript(self, clip: Clip, parts: list[tuple[StridedWindow, list[int]]]) -> Transcript:
        ids = [label for _, kept in parts for label in kept]
        text, words = self._decode(ids, words=self.timestamps or len(parts) > 1)
        seconds_per_frame = self.samples_per_frame / self.rate
        if self.timestamps:
            segments = [
                timed_chunk(
                    str(w["word"]),
                    w["start_offset"] * seconds_per_frame,
                    w["end_offset"] * seconds_per_frame,
                    clip.seconds,
                )
                for w in words
            ]
        else:
            segments = self._window_chunks(parts, words)
        return Transcript(
            text=text.strip(),
            segments=segments,
            output_tokens=sum(1 for label, _ in itertools.groupby(ids) if label not in self.special),
            frames=len(ids),
            windows=len(parts),
        )

    def _window_chunks(
        self, parts: list[tuple[StridedWindow, list[int]]], words: list[dict[str, Any]]
    ) -> list[TranscriptChunk]:
        """One chunk per window's kept span, holding the words that start in it."""
        chunks: list[TranscriptChunk] = []
        first_frame = 0
        for window, kept in parts:
            last_frame = first_frame + len(kept)
            text = " ".join(str(w["word"]) for w in words if first_frame <= w["start_offset"] < last_frame)
            start, end = window.kept
            chunks.append(TranscriptChunk(text, round(start / self.rate, 3), round(end / self.rate, 3)))
            first_frame = last_frame
        return chunks
