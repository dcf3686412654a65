"""Speech recognition: Whisper, other sequence-to-sequence models, and CTC models (wav2vec 2.0, HuBERT).

Audio is resampled to the feature extractor's rate; an input that is silence throughout (below
-60 dBFS) is not transcribed. How long audio is decoded depends on the model, each in its module:

- Whisper (``speech_whisper``): the model's own sequential long-form decoding in transformers —
  each 30 s window starts where the last segment the model finished ended, so no word is lost at
  a window's edge — with Whisper's temperature fallback against repetition;
- CTC models (``speech_ctc``): overlapping windows whose overlapped frames are dropped when the
  frame labels are merged, as transformers' ASR pipeline does;
- other sequence-to-sequence models (Speech2Text), which have neither timestamps nor a long-form
  algorithm to merge by: windows cut at the quietest place near their end (``plan_windows``).

Inputs are batched (``batch_size``), results come back in input order, and ``stream`` yields a
transcript as its windows are decoded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.core.errors import ModelLoadError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.media import MediaInput, resample
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.processors.speech_clips import Clip, DecoderParts, Transcript, plan_windows
from hfbench.pipelines.processors.speech_ctc import CTCDecoder
from hfbench.pipelines.processors.speech_whisper import WhisperDecoder, WhisperOptions, is_whisper
from hfbench.pipelines.processors.vision import batch_size, to_model
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import ProcessResult, TranscriptChunk, TranscriptResult
from hfbench.pipelines.timing import timed_generate


class SpeechDecoder(Protocol):
    """Turns clips into transcripts; one implementation per kind of model."""

    def transcribe(self, clips: list[Clip], batch_size: int) -> list[Transcript]:
        """Transcripts of ``clips``, in their order."""
        ...

    def stream(self, clip: Clip) -> Iterator[str]:
        """The transcript of one clip in pieces; ``"".join(pieces)`` is its text."""
        ...


@register_processor(Capability.SPEECH_RECOGNITION, architectures=[ModelArchitecture.SPEECH])
class SpeechRecognitionProcessor(CapabilityProcessor):
    """Transcribes audio; long audio as the module docstring says.

    Reads: ``return_timestamps``, ``batch_size``; Whisper: ``language`` and ``task``
    (multilingual checkpoints), ``compression_ratio_threshold``, ``logprob_threshold``,
    ``no_speech_threshold`` and ``seed`` (the fallback), ``max_tokens`` and ``num_beams``; CTC:
    ``chunk_length_s`` and ``stride_length_s``; other sequence-to-sequence models:
    ``chunk_length_s``, ``max_tokens`` and ``num_beams``. ``temperature`` is not read: only
    Whisper's fallback samples.

    ``input_tokens`` counts encoder frames of the audio (``frames``, about 50 per second for
    Whisper and wav2vec 2.0); ``output_tokens`` counts text tokens generated (sequence-to-sequence)
    or labels emitted (CTC).
    """

    accepts = ("audio",)
    streams = True

    # ---- public ------------------------------------------------------------------------------
    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Transcribe each audio input."""
        decoder = self._decoder(config)
        clips = [self._clip(index, item) for index, item in enumerate(inputs)]
        audible = [clip for clip in clips if not clip.silent]
        transcripts = dict(
            zip((c.index for c in audible), decoder.transcribe(audible, batch_size(config)), strict=True)
        )
        return [self._result(clip, transcripts.get(clip.index), config) for clip in clips]

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Yield the transcript piece by piece as windows are decoded (see the decoders)."""
        decoder = self._decoder(config)
        clip = self._clip(0, item)
        if not clip.silent:
            yield from decoder.stream(clip)

    # ---- parts -------------------------------------------------------------------------------
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

    def _tokenizer(self) -> Any:
        tokenizer = self.tokenizer or getattr(self.processor, "tokenizer", None)
        if tokenizer is None:
            raise ModelLoadError(f"{self.loaded.model_name} was loaded without a tokenizer.")
        return tokenizer

    def _decoder(self, config: Mapping[str, Any]) -> SpeechDecoder:
        """The decoder for this model, its config checked (``ConfigError`` before any work)."""
        parts = (self.model, self.feature_extractor, self._tokenizer())
        if not self.is_seq2seq:
            return CTCDecoder(*parts, config=config)
        if is_whisper(self.model):
            return WhisperDecoder(
                *parts, WhisperOptions.from_config(config, self.model, self.loaded.model_name)
            )
        return WindowedSeq2SeqDecoder(*parts, config=config)

    def _clip(self, index: int, item: MediaInput) -> Clip:
        rate = self.sampling_rate
        return Clip(index, resample(item.as_audio(), int(item.sampling_rate or rate), rate), rate)

    def _result(
        self, clip: Clip, transcript: Transcript | None, config: Mapping[str, Any]
    ) -> TranscriptResult:
        """The result of one input; ``transcript`` is None for silence."""
        found = transcript or Transcript()
        timed = bool(config.get("return_timestamps")) or found.windows > 1
        return TranscriptResult(
            capability=self.requested_capability,
            text=found.text,
            chunks=list(found.segments) if timed else [],
            language=found.language,
            input_tokens=found.frames,
            input_unit="frames",
            output_tokens=found.output_tokens,
            processor=type(self).__name__,
            extra={"audio_s": round(clip.seconds, 3), "windows": found.windows, "silent": transcript is None},
        )


class WindowedSeq2SeqDecoder(DecoderParts):
    """Sequence-to-sequence models without a long-form algorithm (Speech2Text): windows of at most
    ``chunk_length_s`` (and the feature extractor's own window) cut in quiet places, each decoded
    on its own, texts joined with spaces."""

    def __init__(
        self, model: Any, feature_extractor: Any, tokenizer: Any, *, config: Mapping[str, Any]
    ) -> None:
        super().__init__(model, feature_extractor, tokenizer)
        seconds = float(config.get("chunk_length_s") or 30.0)
        limit = getattr(feature_extractor, "chunk_length", None)
        self.window_s = min(seconds, float(limit)) if limit else seconds
        self.generate_kwargs: dict[str, Any] = {"do_sample": False}
        if config.get("max_tokens"):
            self.generate_kwargs["max_new_tokens"] = int(config["max_tokens"])
        if config.get("num_beams"):
            self.generate_kwargs["num_beams"] = int(config["num_beams"])

    def transcribe(self, clips: list[Clip], batch_size: int) -> list[Transcript]:
        """Transcripts of ``clips``; windows of all clips are batched together."""
        windows = [
            (clip, span) for clip in clips for span in plan_windows(clip.samples, clip.rate, self.window_s)
        ]
        texts = run_batched(windows, batch_size, lambda w: w[1][1] - w[1][0], self._texts)
        out: dict[int, Transcript] = {clip.index: Transcript() for clip in clips}
        for (clip, (start, end)), (text, tokens) in zip(windows, texts, strict=True):
            found = out[clip.index]
            found.text = f"{found.text} {text}".strip()
            found.segments.append(
                TranscriptChunk(text, round(start / clip.rate, 3), round(end / clip.rate, 3))
            )
            found.output_tokens += tokens
            found.frames += (end - start) // int(getattr(self.feature_extractor, "hop_length", 160))
            found.windows += 1
        return [out[clip.index] for clip in clips]

    def stream(self, clip: Clip) -> Iterator[str]:
        """Yield the transcript window by window."""
        import torch

        first = True
        for span in plan_windows(clip.samples, clip.rate, self.window_s):
            with torch.inference_mode():
                ((text, _),) = self._texts([(clip, span)])
            if text:
                yield text if first else " " + text
                first = False

    def _texts(self, batch: list[tuple[Clip, tuple[int, int]]]) -> list[tuple[str, int]]:
        """Each window's text and its count of text tokens."""
        encoded = self.feature_extractor(
            [clip.samples[start:end] for clip, (start, end) in batch],
            sampling_rate=self.rate,
            return_tensors="pt",
        )
        kwargs = dict(self.generate_kwargs)
        with timed_generate(self.model, kwargs, prompt_tokens=0, batch_size=len(batch)):
            output = self.model.generate(**to_model(encoded, self.model), **kwargs)
        special = set(self.tokenizer.all_special_ids)
        return [
            (
                str(self.tokenizer.decode(row, skip_special_tokens=True)).strip(),
                sum(1 for t in row if t not in special),
            )
            for row in output.tolist()
        ]
