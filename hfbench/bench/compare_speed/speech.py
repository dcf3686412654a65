"""Speech runners: raw transformers Whisper ``generate`` (the baseline), ``pipeline()``, hfbench
``exact``/``fast``, and faster-whisper (CTranslate2) at float32 and int8 when it is installed.

Every runner transcribes the same seeded clips (``speech_clips``) per call, greedy (one beam),
English, no timestamps; the figure is seconds of audio per second of wall time (the inverse of
the real-time factor), and each row carries its transcripts' word error rate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hfbench.bench.compare_speed.core import (
    SkipRunner,
    Timed,
    Workload,
    fp32_pipeline,
    quiet_load,
    register_levels,
    register_runner,
    timed_pipeline,
)
from hfbench.bench.compare_speed.speech_clips import SAMPLING_RATE_HZ
from hfbench.core.errors import HFBenchError


def _measure_clips(call: Callable[[], list[str]], workload: Workload) -> tuple[list[float], list[str]]:
    """Audio seconds per second of each timed call, and the last call's transcripts."""
    measured = workload.measure(call, workload.rule)
    audio_s = sum(len(clip) for clip in workload.clips) / SAMPLING_RATE_HZ
    return [audio_s / s for s in measured.values_s], [str(t).strip() for t in measured.outputs[-1]]


def _english(model: Any) -> dict[str, Any]:
    """``language``/``task`` for a multilingual Whisper (the clips are English); none for ``*.en``."""
    return {"language": "en", "task": "transcribe"} if model.generation_config.is_multilingual else {}


@register_runner("speech", "raw", "transformers generate fp32", baseline=True)
def _raw_transcribe(workload: Workload) -> Timed:
    import torch
    from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

    with quiet_load():
        processor = AutoProcessor.from_pretrained(workload.folder)
        model: Any = AutoModelForSpeechSeq2Seq.from_pretrained(workload.folder, dtype=torch.float32)
    model = model.to(workload.device).eval()
    kwargs = {**_english(model), "num_beams": 1, "do_sample": False}

    def call() -> list[str]:
        texts = []
        with torch.inference_mode():
            for clip in workload.clips:
                features = processor(clip, sampling_rate=SAMPLING_RATE_HZ, return_tensors="pt")
                tokens = model.generate(features.input_features.to(workload.device), **kwargs)
                texts.append(processor.batch_decode(tokens, skip_special_tokens=True)[0])
        return texts

    values, texts = _measure_clips(call, workload)
    return Timed(values, texts, note="eager, fp32, one clip per generate call")


@register_runner("speech", "pipeline", "transformers pipeline() fp32")
def _pipeline_transcribe(workload: Workload) -> Timed:
    asr = fp32_pipeline("automatic-speech-recognition", workload)
    kwargs = {**_english(asr.model), "num_beams": 1, "do_sample": False}

    def call() -> list[str]:
        # new dicts each call: the pipeline pops "raw" out of the dict it is given
        inputs = [{"raw": clip, "sampling_rate": SAMPLING_RATE_HZ} for clip in workload.clips]
        return [str(out["text"]) for out in asr(inputs, generate_kwargs=kwargs)]

    values, texts = _measure_clips(call, workload)
    return Timed(values, texts, note="eager, fp32, one clip at a time")


def _hfbench_transcribe(workload: Workload, level: str, one_by_one: bool = False) -> Timed:
    from hfbench.pipelines import pipeline_for
    from hfbench.pipelines.media import MediaInput
    from hfbench.pipelines.processors.vision import batch_size

    base = {"optimize": level, "device": workload.device}
    pipe = pipeline_for(workload.model).load(workload.model, {"base": base}, progress=False)
    multilingual = bool(pipe.loaded.model.generation_config.is_multilingual)
    overrides: dict[str, Any] = {"language": "en"} if multilingual else {}
    if one_by_one:
        overrides["batch_size"] = 1
    merged = pipe.config.get_merged_config("speech-recognition", overrides)
    inputs = [MediaInput.audio(clip, sampling_rate=SAMPLING_RATE_HZ) for clip in workload.clips]

    def call() -> list[str]:
        return [str(getattr(r, "text", "")) for r in pipe.run(inputs, "speech-recognition", merged)]

    timed = timed_pipeline(pipe, lambda: _measure_clips(call, workload))
    timed.note = f"batch_size={batch_size(merged)}, Whisper's fallback on; {timed.note}"
    return timed


register_levels("speech", _hfbench_transcribe)


@register_runner("speech", "hfbench-fast-1", "hfbench fast, one clip per call")
def _hfbench_fast_one_by_one(workload: Workload) -> Timed:
    """``fast`` without batching: what batching adds, apart from the other steps (faster-whisper
    transcribes one file per call; its batched pipeline batches the chunks of one long file)."""
    return _hfbench_transcribe(workload, "fast", one_by_one=True)


def _faster_whisper(workload: Workload, compute_type: str) -> Timed:
    import importlib.util

    if importlib.util.find_spec("faster_whisper") is None:
        raise SkipRunner("not installed: pip install faster-whisper")
    folder = _ctranslate2_folder(workload.model)
    from faster_whisper import WhisperModel

    device, _, index = workload.device.partition(":")
    model = WhisperModel(
        str(folder),
        device=device,
        device_index=int(index or 0),
        compute_type=compute_type,
        cpu_threads=workload.threads,
    )
    english = {"language": "en"} if model.model.is_multilingual else {}

    def call() -> list[str]:
        texts = []
        for clip in workload.clips:
            segments, _ = model.transcribe(clip, beam_size=1, without_timestamps=True, **english)
            texts.append("".join(segment.text for segment in segments))
        return texts

    values, texts = _measure_clips(call, workload)
    return Timed(
        values,
        texts,
        lossy=compute_type != "float32",
        note=f"CTranslate2 {compute_type}, one clip per transcribe call, its fallback on",
    )


@register_runner("speech", "faster-whisper-fp32", "faster-whisper float32")
def _faster_whisper_fp32(workload: Workload) -> Timed:
    return _faster_whisper(workload, "float32")


@register_runner("speech", "faster-whisper-int8", "faster-whisper int8")
def _faster_whisper_int8(workload: Workload) -> Timed:
    return _faster_whisper(workload, "int8")


def _ctranslate2_folder(model: str) -> Any:
    """The CTranslate2 folder an embedded Whisper ships in (``sources.embedded.originals``).

    Raises:
        SkipRunner: the model is not an embedded model shipped as CTranslate2.
    """
    from hfbench.sources.embedded.catalog import get_embedded_model
    from hfbench.sources.embedded.originals import original_folder

    if not model.startswith("embedded:"):
        raise SkipRunner(
            "faster-whisper runs here only on an embedded Whisper shipped as CTranslate2 (for a Hub "
            "model, convert it with ct2-transformers-converter first)"
        )
    name = model.split(":", 1)[1]
    if not get_embedded_model(name).format_on_disk.startswith("ctranslate2"):
        raise SkipRunner(f"{model} is not shipped as CTranslate2")
    try:
        return original_folder(name)
    except HFBenchError as exc:
        raise SkipRunner(f"the CTranslate2 folder could not be staged: {exc}") from None
