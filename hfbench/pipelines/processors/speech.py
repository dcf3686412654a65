"""Speech recognition: Whisper-style sequence-to-sequence models and CTC models (wav2vec 2.0, HuBERT).

Audio is resampled to the feature extractor's rate, then cut into windows of at most
``chunk_length_s`` seconds (Whisper: at most its 30 s input). Each cut is placed at the quietest
20 ms in the last seconds of the window, and windows do not overlap, so no words are transcribed
twice and few are split (see ``plan_windows``). Windows of every input are batched together and
the texts are joined per input; each window becomes a ``TranscriptChunk`` with its time span.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.core.errors import ConfigError, ModelLoadError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.media import MediaInput, resample
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.processors.vision import batch_size, to_model
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import ProcessResult, TranscriptChunk, TranscriptResult
from hfbench.pipelines.timing import timed_generate

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

CUT_SEARCH_S = 2.0
"""How far back from a window's end to look for a quiet place to cut (seconds)."""

CUT_FRAME_S = 0.02
"""The length of the frames compared when looking for the quietest place (seconds)."""

SILENCE_PEAK = 1e-3
"""Windows whose loudest sample is below this (-60 dBFS) are not transcribed: models such as
Whisper invent text ("Thank you.") for pure silence."""

_ENGLISH = {"en", "english", "<|en|>"}


def plan_windows(samples: np.ndarray, rate: int, window_s: float) -> list[tuple[int, int]]:
    """Cut audio into consecutive ``(start, end)`` sample spans of at most ``window_s`` seconds.

    Audio no longer than a window is one span. Otherwise each span ends at the quietest
    ``CUT_FRAME_S`` frame within its last ``CUT_SEARCH_S`` seconds (at most a fifth of the
    window), so cuts fall in pauses between words where there are any.
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


@dataclass
class _Window:
    """One span of one input, at the model's sampling rate."""

    index: int
    start: int
    end: int
    samples: np.ndarray


@dataclass
class _Decoded:
    """What the model made of one window."""

    text: str = ""
    output_tokens: int = 0
    frames: int = 0
    segments: list[TranscriptChunk] = field(default_factory=list)


@register_processor(Capability.SPEECH_RECOGNITION, architectures=[ModelArchitecture.SPEECH])
class SpeechRecognitionProcessor(CapabilityProcessor):
    """Transcribes audio; long audio in windows (see the module docstring).

    Reads: ``chunk_length_s``, ``return_timestamps``, ``language`` and ``task`` (multilingual
    Whisper), ``max_tokens`` and ``num_beams`` (sequence-to-sequence), ``batch_size``. Decoding
    is deterministic (greedy, or beam search with ``num_beams``): sampling only adds errors to a
    transcript, so ``temperature`` is not read.

    ``input_tokens`` counts encoder frames of the audio that was transcribed (``frames``, about 50
    per second for Whisper and wav2vec 2.0); ``output_tokens`` counts text tokens generated
    (sequence-to-sequence) or labels emitted (CTC).
    """

    accepts = ("audio",)
    streams = True

    # ---- public ------------------------------------------------------------------------------
    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Transcribe each audio input."""
        self._check_config(config)
        windows = [w for index, item in enumerate(inputs) for w in self._windows(index, item, config)]
        decoded = run_batched(windows, batch_size(config), lambda w: len(w.samples), self._run(config))
        per_input: list[list[tuple[_Window, _Decoded]]] = [[] for _ in inputs]
        for window, result in zip(windows, decoded, strict=True):
            per_input[window.index].append((window, result))
        return [self._result(parts, config) for parts in per_input]

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Yield the transcript window by window (a space before every piece but the first)."""
        import torch

        self._check_config(config)
        run = self._run(config)
        first = True
        for window in self._windows(0, item, config):
            with torch.inference_mode():
                (decoded,) = run([window])
            if decoded.text:
                yield decoded.text if first else " " + decoded.text
                first = False

    # ---- windows -----------------------------------------------------------------------------
    @property
    def feature_extractor(self) -> Any:
        """The processor's feature extractor (or the processor itself)."""
        if self.processor is None:
            raise ModelLoadError(f"{self.loaded.model_name} was loaded without a feature extractor.")
        return getattr(self.processor, "feature_extractor", self.processor)

    @property
    def sampling_rate(self) -> int:
        """The rate the model was trained on (Hz)."""
        return int(self.feature_extractor.sampling_rate)

    @property
    def is_seq2seq(self) -> bool:
        """True for encoder-decoder models (Whisper), False for CTC models."""
        return bool(getattr(self.model.config, "is_encoder_decoder", False))

    def window_seconds(self, config: Mapping[str, Any]) -> float:
        """``chunk_length_s``, capped at the model's input window (Whisper: 30 s)."""
        seconds = float(config.get("chunk_length_s") or 30.0)
        limit = getattr(self.feature_extractor, "chunk_length", None) if self.is_seq2seq else None
        return min(seconds, float(limit)) if limit else seconds

    def _windows(self, index: int, item: MediaInput, config: Mapping[str, Any]) -> list[_Window]:
        rate = self.sampling_rate
        samples = resample(item.as_audio(), int(item.sampling_rate or rate), rate)
        spans = plan_windows(samples, rate, self.window_seconds(config))
        return [_Window(index, start, end, samples[start:end]) for start, end in spans]

    def _result(self, parts: list[tuple[_Window, _Decoded]], config: Mapping[str, Any]) -> ProcessResult:
        rate = self.sampling_rate
        chunks: list[TranscriptChunk] = []
        want_segments = bool(config.get("return_timestamps"))
        for window, decoded in parts:
            offset, length = window.start / rate, len(window.samples) / rate
            if want_segments and decoded.segments:
                for s in decoded.segments:
                    # Timestamps are the model's guesses; keep them inside their window.
                    start = min(max(s.start_s, 0.0), length)
                    end = min(max(s.end_s, start), length)
                    chunks.append(TranscriptChunk(s.text, round(offset + start, 3), round(offset + end, 3)))
            else:
                chunks.append(TranscriptChunk(decoded.text, round(offset, 3), round(window.end / rate, 3)))
        if len(parts) == 1 and not want_segments:
            chunks = []  # one short clip: the text says it all
        text = " ".join(d.text for _, d in parts if d.text)
        duration = parts[-1][0].end / rate if parts else 0.0
        return TranscriptResult(
            capability=self.requested_capability,
            text=text,
            chunks=chunks,
            language=self._language(config),
            input_tokens=sum(d.frames for _, d in parts),
            input_unit="frames",
            output_tokens=sum(d.output_tokens for _, d in parts),
            processor=type(self).__name__,
            extra={
                "audio_s": round(duration, 3),
                "windows": len(parts),
                "skipped_silent_windows": sum(1 for w, _ in parts if _is_silent(w.samples)),
            },
        )

    # ---- running -----------------------------------------------------------------------------
    def _run(self, config: Mapping[str, Any]) -> Any:
        """A function from a batch of windows to their ``_Decoded``; silent windows are skipped."""
        decode = self._run_seq2seq if self.is_seq2seq else self._run_ctc

        def run(batch: list[_Window]) -> list[_Decoded]:
            out = [_Decoded() for _ in batch]
            audible = [i for i, w in enumerate(batch) if not _is_silent(w.samples)]
            if audible:
                for i, decoded in zip(audible, decode([batch[i] for i in audible], config), strict=True):
                    out[i] = decoded
            return out

        return run

    def _features(self, batch: list[_Window], **kwargs: Any) -> dict[str, Any]:
        encoded = self.feature_extractor(
            [w.samples for w in batch], sampling_rate=self.sampling_rate, return_tensors="pt", **kwargs
        )
        return to_model(encoded, self.model)

    def _run_seq2seq(self, batch: list[_Window], config: Mapping[str, Any]) -> list[_Decoded]:
        features = self._features(batch)
        want_segments = bool(config.get("return_timestamps")) and self._is_whisper
        kwargs = self._generate_kwargs(config, want_segments)
        frames = sum(self._frames(len(w.samples)) for w in batch)
        with timed_generate(self.model, kwargs, prompt_tokens=frames, batch_size=len(batch)):
            output = self.model.generate(**features, **kwargs)
        sequences = getattr(output, "sequences", output)
        tokenizer = self._tokenizer()
        special = set(tokenizer.all_special_ids)
        results: list[_Decoded] = []
        for window, row in zip(batch, sequences.tolist(), strict=True):
            segments: list[TranscriptChunk] = []
            if want_segments:
                decoded = tokenizer.decode(row, skip_special_tokens=True, output_offsets=True)
                text = str(decoded["text"])
                segments = [
                    TranscriptChunk(
                        str(o["text"]).strip(), float(o["timestamp"][0]), float(o["timestamp"][1])
                    )
                    for o in decoded.get("offsets", [])
                    if o["timestamp"][0] is not None and o["timestamp"][1] is not None
                ]
            else:
                text = tokenizer.decode(row, skip_special_tokens=True)
            results.append(
                _Decoded(
                    text=text.strip(),
                    output_tokens=sum(1 for t in row if t not in special),
                    frames=self._frames(len(window.samples)),
                    segments=segments,
                )
            )
        return results

    def _run_ctc(self, batch: list[_Window], config: Mapping[str, Any]) -> list[_Decoded]:
        import torch

        features = self._features(batch, padding="longest")
        logits = self.model(**features).logits
        predicted = torch.argmax(logits, dim=-1).cpu()
        tokenizer = self._tokenizer()
        special = set(tokenizer.all_special_ids)  # the blank is the pad token
        want_segments = bool(config.get("return_timestamps"))
        seconds_per_frame = self._ctc_frame_ratio() / self.sampling_rate
        results: list[_Decoded] = []
        for window, row in zip(batch, predicted, strict=True):
            # Padding frames of shorter windows in the batch are not part of this window.
            ids = row[: self._frames(len(window.samples))].tolist()
            emitted = sum(1 for token, _ in itertools.groupby(ids) if token not in special)
            segments: list[TranscriptChunk] = []
            if want_segments:
                decoded = tokenizer.decode(ids, skip_special_tokens=True, output_word_offsets=True)
                text = str(decoded["text"])
                segments = [
                    TranscriptChunk(
                        str(w["word"]),
                        round(w["start_offset"] * seconds_per_frame, 3),
                        round(w["end_offset"] * seconds_per_frame, 3),
                    )
                    for w in decoded.get("word_offsets", [])
                ]
            else:
                text = tokenizer.decode(ids, skip_special_tokens=True)
            results.append(_Decoded(text.strip(), emitted, len(ids), segments))
        return results

    # ---- helpers -----------------------------------------------------------------------------
    def _tokenizer(self) -> Any:
        tokenizer = self.tokenizer or getattr(self.processor, "tokenizer", None)
        if tokenizer is None:
            raise ModelLoadError(f"{self.loaded.model_name} was loaded without a tokenizer.")
        return tokenizer

    @property
    def _is_whisper(self) -> bool:
        return hasattr(self.model.generation_config, "no_timestamps_token_id")

    @property
    def _multilingual(self) -> bool:
        return bool(getattr(self.model.generation_config, "is_multilingual", False))

    def _check_config(self, config: Mapping[str, Any]) -> None:
        """Refuse ``language``/``task`` an English-only Whisper cannot honour."""
        if not (self.is_seq2seq and self._is_whisper) or self._multilingual:
            return
        language = config.get("language")
        if language is not None and str(language).lower() not in _ENGLISH:
            raise ConfigError(
                f"{self.loaded.model_name} is an English-only Whisper; language={language!r} needs "
                "a multilingual checkpoint (e.g. openai/whisper-base). Leave language unset or 'en'.",
                key_path="language",
            )
        if config.get("task") == "translate":
            raise ConfigError(
                f"{self.loaded.model_name} is an English-only Whisper and cannot translate; "
                "use task='transcribe' or a multilingual checkpoint.",
                key_path="task",
            )

    def _language(self, config: Mapping[str, Any]) -> str | None:
        language = config.get("language")
        if language is not None:
            return str(language)
        if self.is_seq2seq and self._is_whisper and not self._multilingual:
            return "en"
        return None  # detected by the model, not reported

    def _generate_kwargs(self, config: Mapping[str, Any], timestamps: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"do_sample": False}
        limit = getattr(self.model.config, "max_target_positions", None)
        max_tokens = config.get("max_tokens")
        if limit:
            # The decoder prompt (start, language, task, no-timestamps) shares the positions.
            room = int(limit) - 4
            max_tokens = min(int(max_tokens), room) if max_tokens else room
        if max_tokens:
            kwargs["max_new_tokens"] = int(max_tokens)
        if config.get("num_beams"):
            kwargs["num_beams"] = int(config["num_beams"])
        if self._is_whisper:
            if self._multilingual:
                if config.get("language"):
                    kwargs["language"] = str(config["language"])
                if config.get("task"):
                    kwargs["task"] = str(config["task"])
            kwargs["return_timestamps"] = timestamps
        return kwargs

    def _frames(self, num_samples: int) -> int:
        """Encoder frames for ``num_samples`` of audio."""
        if not self.is_seq2seq:
            lengths = getattr(self.model, "_get_feat_extract_output_lengths", None)
            if lengths is not None:
                return int(lengths(num_samples))
            return num_samples // self._ctc_frame_ratio()
        extractor = self.feature_extractor
        positions = getattr(self.model.config, "max_source_positions", None)
        window = getattr(extractor, "n_samples", None)
        if positions and window:  # Whisper: max_source_positions frames per padded window
            return math.ceil(num_samples * int(positions) / int(window))
        return num_samples // int(getattr(extractor, "hop_length", 160))

    def _ctc_frame_ratio(self) -> int:
        """Audio samples per CTC output frame (320 for wav2vec 2.0)."""
        strides = getattr(self.model.config, "conv_stride", None) or (320,)
        return int(math.prod(int(s) for s in strides))


def _is_silent(samples: np.ndarray) -> bool:
    return bool(len(samples) == 0 or float(abs(samples).max()) < SILENCE_PEAK)
