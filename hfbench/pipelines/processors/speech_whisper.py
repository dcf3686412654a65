"""Whisper: the model's own sequential long-form decoding, its languages and its repetition fallback.

**Long audio.** Audio longer than the model's 30 s window goes to
``WhisperForConditionalGeneration.generate`` whole (log-mel features not truncated, the batch
padded to its longest input with an ``attention_mask``, timestamps on), which runs the long-form
algorithm of the Whisper paper (section 3.8) as openai-whisper's ``transcribe`` does: decode a
30 s window, keep the segments that the model closed with a timestamp, move the window to the end
of the last closed segment (or past the window when the model says the speech ended there), and
repeat. Chosen over the ASR pipeline's overlapping chunks (``chunk_length_s`` + ``stride_length_s``,
texts merged where their tokens agree) because:

- no word is lost or split at a window's end: the next window starts where the last finished
  segment ended, so an unfinished segment is decoded again, whole, with its audio in one window;
- it is the model's reference algorithm, so transcripts (and quality figures) are the ones a
  Whisper user gets from openai-whisper or transformers' long-form ``generate``; chunk merging
  is an approximation that drops or doubles words where the two chunks' texts disagree;
- Whisper's temperature fallback and no-speech test are defined on this algorithm's windows.

It still batches (each input of a batch keeps its own window position); what it gives up is
running the windows of one input side by side. Audio up to 30 s is one padded window
(transformers' short-form path), exactly as before. Batches hold only short or only long inputs,
so a transcript does not depend on what it was batched with.

**Repetition** (greedy decoding looping on a sentence). Whisper's own fallback, as openai-whisper
sets it: a window is decoded at temperature 0 (greedy, or ``num_beams``); when its tokens compress
too well (``compression_ratio_threshold``: a repeated phrase) or its mean log-probability is below
``logprob_threshold``, it is decoded again by sampling at the next temperature of
``TEMPERATURES``; a window whose no-speech probability is above ``no_speech_threshold`` while its
log-probability is below ``logprob_threshold`` is skipped as silence. Defaults (the
speech-recognition capability's parameters): ``logprob_threshold`` -1.0 and
``no_speech_threshold`` 0.6 as in openai-whisper; ``compression_ratio_threshold`` 1.35, not
openai-whisper's 2.4, because transformers compresses the tokens' bytes (two per token) where
openai-whisper compresses the text's UTF-8, and the scales differ: on the embedded models'
tokenizer, ordinary speech is 1.08 in tokens and 1.6-1.8 in text, and a sentence said three times
is 2.11 in tokens and 2.50 in text, so 2.4 in tokens would let a threefold repetition through;
1.35 is transformers' documented counterpart. ``None`` turns one test off;
``no_speech_threshold`` needs ``logprob_threshold`` (transformers judges silence by both).
Sampling draws from a generator seeded with ``seed`` (0 when unset), apart from torch's global
one, so a transcript is the same on every run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hfbench.core.errors import ConfigError, did_you_mean
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.encoder_reuse import encoder_reuse_scope
from hfbench.pipelines.processors.speech_clips import Clip, DecoderParts, Transcript, timed_chunk
from hfbench.pipelines.processors.vision import to_model
from hfbench.pipelines.timing import timed_generate

if TYPE_CHECKING:
    import numpy as np

TEMPERATURES: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
"""openai-whisper's temperature schedule for the fallback."""

FALLBACK_KEYS = ("compression_ratio_threshold", "logprob_threshold", "no_speech_threshold")
"""The config keys of Whisper's fallback, passed to ``generate`` by the same names."""

DEFAULT_SEED = 0
"""The fallback's sampling seed when the config's ``seed`` is unset."""


def is_whisper(model: Any) -> bool:
    """True for a Whisper checkpoint (its generation config knows the no-timestamps token)."""
    return hasattr(getattr(model, "generation_config", None), "no_timestamps_token_id")


def is_multilingual(model: Any) -> bool:
    """True for a multilingual Whisper (language and task tokens), False for ``*.en`` checkpoints."""
    return bool(getattr(model.generation_config, "is_multilingual", False))


def whisper_language(value: object, model: Any, model_name: str) -> str:
    """The code of the language ``value`` names, among the model's own languages.

    Takes a code (``fr``), an English name (``French``, also transformers' aliases such as
    ``castilian``) or a token (``<|fr|>``), in any case.

    Raises:
        ConfigError: the model does not know that language (with a did-you-mean), or it is
            English-only and the language is not English (key path ``language``).
    """
    from transformers.models.whisper.tokenization_whisper import LANGUAGES, TO_LANGUAGE_CODE

    key = str(value).strip().lower()
    if key.startswith("<|") and key.endswith("|>"):
        key = key[2:-2]
    code = key if key in LANGUAGES else TO_LANGUAGE_CODE.get(key)
    if not is_multilingual(model):
        if code == "en":
            return code
        raise ConfigError(
            f"{model_name} is an English-only Whisper; language={value!r} needs a multilingual "
            "checkpoint (e.g. openai/whisper-base). Leave language unset or 'en'.",
            key_path="language",
        )
    known = [token[2:-2] for token in getattr(model.generation_config, "lang_to_id", {})]
    if code in known:
        return str(code)
    names = [name for name, c in TO_LANGUAGE_CODE.items() if c in known]
    raise ConfigError(
        f"{model_name} does not know the language {value!r}; name one of its {len(known)} "
        f"languages by code or English name (e.g. 'fr' or 'french'; its codes: {', '.join(known)})."
        + did_you_mean(key, [*known, *names]),
        key_path="language",
    )


@dataclass(frozen=True)
class WhisperOptions:
    """The config keys Whisper reads, checked against the model.

    Attributes:
        language: the language code to transcribe (multilingual models); None detects it.
        task: ``transcribe`` or ``translate`` (multilingual models).
        timestamps: whether segment timestamps were asked for (long audio always has them).
        max_new_tokens: most tokens per 30 s window; None (``max_tokens`` at or above the
            decoder's 448 positions, the speech-recognition default) leaves the bound to the
            checkpoint's ``max_length``.
        num_beams: beam search width (None: greedy).
        thresholds: the fallback thresholds that are on (``FALLBACK_KEYS``).
        seed: the fallback's sampling seed.
    """

    language: str | None = None
    task: str | None = None
    timestamps: bool = False
    max_new_tokens: int | None = None
    num_beams: int | None = None
    thresholds: tuple[tuple[str, float], ...] = ()
    seed: int = DEFAULT_SEED

    @classmethod
    def from_config(cls, config: Mapping[str, Any], model: Any, model_name: str) -> WhisperOptions:
        """Read and check the config.

        Raises:
            ConfigError: an unknown or unsupported language, translation on an English-only
                model, or ``no_speech_threshold`` without ``logprob_threshold``.
        """
        multilingual = is_multilingual(model)
        language = config.get("language")
        code = whisper_language(language, model, model_name) if language is not None else None
        task = config.get("task")
        if task == "translate" and not multilingual:
            raise ConfigError(
                f"{model_name} is an English-only Whisper and cannot translate; "
                "use task='transcribe' or a multilingual checkpoint.",
                key_path="task",
            )
        thresholds = {key: float(config[key]) for key in FALLBACK_KEYS if config.get(key) is not None}
        if "no_speech_threshold" in thresholds and "logprob_threshold" not in thresholds:
            raise ConfigError(
                "no_speech_threshold needs logprob_threshold: Whisper skips a window as silence only "
                "when its no-speech probability is high and its log-probability low. Set "
                "logprob_threshold (default -1.0), or no_speech_threshold=None as well.",
                key_path="no_speech_threshold",
            )
        seed = config.get("seed")
        max_tokens = config.get("max_tokens")
        positions = int(getattr(model.config, "max_target_positions", 448))
        return cls(
            language=code if multilingual else None,
            task=str(task) if task and multilingual else None,
            timestamps=bool(config.get("return_timestamps")),
            max_new_tokens=int(max_tokens) if max_tokens and int(max_tokens) < positions else None,
            num_beams=int(config["num_beams"]) if config.get("num_beams") else None,
            thresholds=tuple(thresholds.items()),
            seed=DEFAULT_SEED if seed is None else int(seed),
        )

    @property
    def samples(self) -> bool:
        """True when the fallback may sample (a threshold that can send a window back is on)."""
        return any(key != "no_speech_threshold" for key, _ in self.thresholds)

    def generate_kwargs(self) -> dict[str, Any]:
        """Arguments for Whisper's ``generate`` (language and timestamps are added per call).

        Only what differs from the checkpoint's generation config is passed: ``max_new_tokens``
        only for a tighter bound than the checkpoint's ``max_length`` (448), since transformers
        warns on every window that both are set.
        """
        kwargs: dict[str, Any] = dict(self.thresholds)
        if self.samples:
            kwargs["temperature"] = TEMPERATURES
        if self.max_new_tokens:
            kwargs["max_new_tokens"] = self.max_new_tokens
        if self.num_beams:
            kwargs["num_beams"] = self.num_beams
        if self.task:
            kwargs["task"] = self.task
        return kwargs


class FallbackRandomness:
    """The random numbers the temperature fallback samples with: seeded once, carried from one
    ``generate`` call to the next, and kept apart from torch's global generators."""

    def __init__(self, seed: int, device: Any) -> None:
        self.seed = seed
        self.device = device
        self._states: tuple[Any, Any] | None = None

    @contextmanager
    def active(self) -> Iterator[None]:
        """Run the block with this generator state in place of torch's (restored afterwards)."""
        import torch

        cuda = self._cuda_index()
        with torch.random.fork_rng(devices=[] if cuda is None else [cuda]):
            if self._states is None:
                torch.default_generator.manual_seed(self.seed)
                if cuda is not None:
                    with torch.cuda.device(cuda):
                        torch.cuda.manual_seed(self.seed)
            else:
                cpu_state, cuda_state = self._states
                torch.set_rng_state(cpu_state)
                if cuda is not None:
                    torch.cuda.set_rng_state(cuda_state, cuda)
            try:
                yield
            finally:
                self._states = (
                    torch.get_rng_state(),
                    None if cuda is None else torch.cuda.get_rng_state(cuda),
                )

    def _cuda_index(self) -> int | None:
        """The CUDA device the model samples on, or None off CUDA."""
        if getattr(self.device, "type", "cpu") != "cuda":
            return None
        import torch

        index = getattr(self.device, "index", None)
        return int(torch.cuda.current_device() if index is None else index)


class WhisperDecoder(DecoderParts):
    """Transcribes clips with a ``WhisperForConditionalGeneration`` (see the module docstring)."""

    def __init__(self, model: Any, feature_extractor: Any, tokenizer: Any, options: WhisperOptions) -> None:
        super().__init__(model, feature_extractor, tokenizer)
        self.options = options
        generation = model.generation_config
        self.timestamp_begin = int(generation.no_timestamps_token_id) + 1
        self.special = set(tokenizer.all_special_ids)
        self.code_of = {
            int(i): token[2:-2] for token, i in (getattr(generation, "lang_to_id", None) or {}).items()
        }

    # ---- sizes -------------------------------------------------------------------------------
    @property
    def window_samples(self) -> int:
        """Samples in one input window (30 s for the real models)."""
        return int(self.feature_extractor.n_samples)

    @property
    def input_stride(self) -> int:
        """Log-mel frames per encoder position (2: the encoder's second convolution halves them)."""
        encoder = self.model.get_encoder()
        return int(encoder.conv1.stride[0] * encoder.conv2.stride[0])

    @property
    def segment_frames(self) -> int:
        """Log-mel frames in one window (3000 for the real models)."""
        return self.input_stride * int(self.model.config.max_source_positions)

    def frames(self, num_samples: int) -> int:
        """Encoder frames for ``num_samples`` of audio (50 a second for the real models)."""
        return math.ceil(num_samples * int(self.model.config.max_source_positions) / self.window_samples)

    # ---- decoding ----------------------------------------------------------------------------
    def transcribe(self, clips: list[Clip], batch_size: int) -> list[Transcript]:
        """Transcripts of ``clips`` in their order, decoded ``batch_size`` at a time."""

        def run(batch: list[Clip]) -> list[Transcript]:
            done: dict[int, Transcript] = {}
            for long in (True, False):
                part = [c for c in batch if (len(c.samples) > self.window_samples) == long]
                if part:
                    done.update(zip((c.index for c in part), self._batch(part, long=long), strict=True))
            return [done[c.index] for c in batch]

        return run_batched(clips, batch_size, lambda c: len(c.samples), run)

    def stream(self, clip: Clip) -> Iterator[str]:
        """Yield the transcript window by window, as the long-form algorithm finishes each.

        Runs the same algorithm as ``transcribe`` one window per ``generate`` call
        (``force_unique_generate_call``), moving the window as transformers does (see
        ``_advance``), so ``"".join(pieces)`` is ``transcribe``'s text.
        """
        import torch

        if len(clip.samples) <= self.window_samples:
            (transcript,) = self._batch([clip], long=False)
            if transcript.text:
                yield transcript.text
            return
        features = self._features([clip.samples], long=True)["input_features"]
        randomness = FallbackRandomness(self.options.seed, self.model.device)
        language: str | list[str] | None = None
        seek, first = 0, True
        while seek < features.shape[-1]:
            window = features[..., seek : seek + self.segment_frames]
            with torch.inference_mode():
                segments, language = self._one_window(window, language, randomness)
            seek += self._advance(segments, window.shape[-1])
            text = self.tokenizer.decode(self._tokens(segments), skip_special_tokens=True)
            if text.strip():
                yield text.lstrip() if first else text
                first = False

    def _one_window(
        self, window: Any, language: str | list[str] | None, randomness: FallbackRandomness
    ) -> tuple[list[dict[str, Any]], str | list[str] | None]:
        """One pass of the long-form algorithm over ``window``: its closed segments, and the
        language (detected on the first window, then kept)."""
        kwargs = self._kwargs(timestamps=True, force_unique_generate_call=True)
        frames = window.shape[-1] // self.input_stride
        with timed_generate(self.model, kwargs, prompt_tokens=frames, batch_size=1), randomness.active():
            language = language or self._languages(window)
            if language is not None:
                kwargs["language"] = language
            output = self.model.generate(input_features=window, **kwargs)
        return output["segments"][0], language

    def _batch(self, clips: list[Clip], *, long: bool) -> list[Transcript]:
        """One ``generate`` call: short clips as padded 30 s windows, or long ones with long-form."""
        inputs = self._features([c.samples for c in clips], long=long)
        passes = [0] * len(clips)

        def count_passes(progress: Any) -> None:  # (batch, 2): each input's window start and end
            for row, (seek, end) in enumerate(progress.tolist()):
                passes[row] += int(seek < end)

        kwargs = self._kwargs(timestamps=self.options.timestamps or long, monitor_progress=count_passes)
        frames = [self.frames(len(c.samples)) for c in clips]
        with (
            timed_generate(self.model, kwargs, prompt_tokens=sum(frames), batch_size=len(clips)),
            encoder_reuse_scope(self.model),  # language detection and generate encode the same features
        ):
            language = self._languages(inputs["input_features"])
            if language is not None:
                kwargs["language"] = language
            with FallbackRandomness(self.options.seed, self.model.device).active():
                output = self.model.generate(**inputs, **kwargs)
        languages = language if isinstance(language, list) else [language] * len(clips)
        return [
            self._transcript(clip, segments, frames=n, windows=p, language=lang)
            for clip, segments, n, p, lang in zip(
                clips, output["segments"], frames, passes, languages, strict=True
            )
        ]

    def _features(self, samples: list[np.ndarray], *, long: bool) -> dict[str, Any]:
        """Log-mel features: padded to one window, or (long) whole and padded to the longest."""
        extra: dict[str, Any] = {"truncation": False, "padding": "longest"} if long else {}
        encoded = self.feature_extractor(
            samples,
            sampling_rate=self.rate,
            return_tensors="pt",
            return_attention_mask=True,  # long-form needs it; short batches warn without it
            **extra,
        )
        return to_model(encoded, self.model)

    def _kwargs(self, *, timestamps: bool, **extra: Any) -> dict[str, Any]:
        return {
            **self.options.generate_kwargs(),
            "return_timestamps": timestamps,
            "return_segments": True,
            **extra,
        }

    def _languages(self, features: Any) -> str | list[str] | None:
        """The asked language, else each input's detected language (multilingual models only).

        Detection is what ``generate`` would do itself (on the first window); doing it here
        tells the result which language was transcribed.
        """
        if not is_multilingual(self.model):
            return None
        if self.options.language:
            return self.options.language
        ids = self.model.detect_language(input_features=features, num_segment_frames=self.segment_frames)
        return [self.code_of[int(i)] for i in ids.tolist()]

    def _advance(self, segments: list[dict[str, Any]], window_frames: int) -> int:
        """Log-mel frames to move the window by after one pass (transformers' ``_retrieve_segment``).

        When the pass ended with a timestamp pair, the tokens after it belonged to an unfinished
        segment and were dropped: the next window starts at the last closed segment's end. Otherwise
        (the model said the speech ended, no closed segment, or a window skipped as silence) the
        next window starts after this one.
        """
        if segments:
            last = segments[-1]["tokens"].tolist()
            if len(last) >= 2 and min(last[-2:]) >= self.timestamp_begin:
                advance = (last[-2] - self.timestamp_begin) * self.input_stride
                if advance > 0:
                    return int(advance)
        return window_frames

    def _tokens(self, segments: list[dict[str, Any]]) -> list[int]:
        return [int(t) for segment in segments for t in segment["tokens"].tolist()]

    def _transcript(
        self, clip: Clip, segments: list[dict[str, Any]], *, frames: int, windows: int, language: str | None
    ) -> Transcript:
        tokens = self._tokens(segments)
        chunks = [
            timed_chunk(
                self.tokenizer.decode(s["tokens"].tolist(), skip_special_tokens=True),
                float(s["start"]),
                float(s["end"]),
                clip.seconds,
            )
            for s in segments
        ]
        return Transcript(
            text=self.tokenizer.decode(tokens, skip_special_tokens=True).strip(),
            segments=[c for c in chunks if c.text],
            output_tokens=sum(1 for t in tokens if t < self.timestamp_begin and t not in self.special),
            frames=frames,
            windows=windows,
            language=language if is_multilingual(self.model) else "en",
        )
