"""hfbench ``exact`` and ``fast`` beside the libraries people would use instead, on the embedded
real models, one pytest-benchmark group per model: pytest-benchmark's table prints each row's
ratio to the group's fastest in brackets, all measured in the same session.

    pytest benchmarks/test_side_by_side.py --benchmark-only --benchmark-group-by=group

Every case times one whole call of the same work — SmolLM2: 64 forced greedy tokens from the same
prompt; MiniLM: 256 seeded Brown Corpus texts at batch size 32; Whisper tiny.en: 20 seeded
English clips — after one warm-up round; models load outside the timings. ``hfbench
compare-speed`` measures the same runners with the field's figures (decode tokens/s, sentences/s,
audio seconds per second) and each row's quality change; this file is the pytest-benchmark view
of the same comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.real_model

ROUNDS: dict[str, int] = {"rounds": 3, "warmup_rounds": 1, "iterations": 1}
SMOLLM2 = "embedded:smollm2-135m-instruct"
MINILM = "embedded:all-minilm-l6-v2"
WHISPER = "embedded:whisper-tiny.en"
NEW_TOKENS = 64
SENTENCES, BATCH = 256, 32
CLIPS = 20


def _workload(model: str, kind: str) -> Any:
    """The inputs ``hfbench compare-speed`` gives every runner of ``kind``."""
    from hfbench.bench.compare_speed.core import Workload
    from hfbench.bench.compare_speed.sentences import sample_sentences
    from hfbench.bench.compare_speed.speech_clips import sample_clips
    from hfbench.core.hardware import usable_cpu_cores
    from hfbench.sources import prepare_model
    from hfbench.sources.resolve import resolve_model_source

    prepare_model(model, progress=False)
    workload = Workload(model, resolve_model_source(model), "cpu", kind, threads=usable_cpu_cores())  # type: ignore[arg-type]
    if kind == "embeddings":
        workload.sentences, workload.batch_size = sample_sentences(SENTENCES).texts, BATCH
    if kind == "speech":
        clips = sample_clips(CLIPS)
        workload.clips, workload.references = list(clips.audio), list(clips.references)
    return workload


# ---- SmolLM2: 64 greedy tokens ---------------------------------------------------------------
@pytest.fixture(scope="module")
def smollm2() -> Any:
    return _workload(SMOLLM2, "generation")


def _generate_call(level: str) -> Callable[[], str]:
    from hfbench.bench.workloads import speed_workload
    from hfbench.pipelines import pipeline_for

    pipe = pipeline_for(SMOLLM2).load(SMOLLM2, {"base": {"optimize": level, "device": "cpu"}}, progress=False)
    speed = speed_workload("text-generation", {"speed_tokens": NEW_TOKENS})
    merged = pipe.config.get_merged_config("text-generation", speed.overrides)
    return lambda: pipe.run(speed.inputs, "text-generation", merged)[0].text  # type: ignore[attr-defined]


@pytest.mark.benchmark(group="smollm2-135m: 64 greedy tokens")
def test_smollm2_raw_model_generate_fp32(benchmark: Any, smollm2: Any) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2.folder)
    model = AutoModelForCausalLM.from_pretrained(smollm2.folder, dtype=torch.float32).eval()
    encoded = tokenizer(smollm2.prompt, return_tensors="pt")
    kwargs = {"max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS, "do_sample": False}

    def call() -> Any:
        with torch.inference_mode():
            return model.generate(**encoded, **kwargs, pad_token_id=tokenizer.eos_token_id)

    output = benchmark.pedantic(call, **ROUNDS)
    assert output.shape[1] == encoded["input_ids"].shape[1] + NEW_TOKENS


@pytest.mark.parametrize("level", ["exact", "fast"])
@pytest.mark.benchmark(group="smollm2-135m: 64 greedy tokens")
def test_smollm2_hfbench(benchmark: Any, smollm2: Any, level: str) -> None:
    assert benchmark.pedantic(_generate_call(level), **ROUNDS)


# ---- MiniLM: 256 sentences -------------------------------------------------------------------
@pytest.fixture(scope="module")
def minilm() -> Any:
    return _workload(MINILM, "embeddings")


@pytest.mark.benchmark(group="all-minilm-l6-v2: 256 sentences")
def test_minilm_sentence_transformers_encode(benchmark: Any, minilm: Any) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(minilm.folder, device="cpu")
    vectors = benchmark.pedantic(
        lambda: model.encode(minilm.sentences, batch_size=BATCH, convert_to_numpy=True), **ROUNDS
    )
    assert len(vectors) == SENTENCES


@pytest.mark.parametrize("level", ["exact", "fast"])
@pytest.mark.benchmark(group="all-minilm-l6-v2: 256 sentences")
def test_minilm_hfbench(benchmark: Any, minilm: Any, level: str) -> None:
    from hfbench.pipelines import pipeline_for
    from hfbench.pipelines.media import MediaInput

    config = {"base": {"optimize": level, "device": "cpu"}}
    pipe = pipeline_for(MINILM).load(MINILM, config, capability="embeddings", progress=False)
    merged = pipe.config.get_merged_config("embeddings", {"batch_size": BATCH})
    inputs = [MediaInput.text(s) for s in minilm.sentences]
    results = benchmark.pedantic(lambda: pipe.run(inputs, "embeddings", merged), **ROUNDS)
    assert len(results) == SENTENCES


# ---- Whisper tiny.en: 20 clips ---------------------------------------------------------------
@pytest.fixture(scope="module")
def whisper() -> Any:
    return _workload(WHISPER, "speech")


@pytest.mark.benchmark(group="whisper-tiny.en: 20 clips")
def test_whisper_raw_generate_fp32(benchmark: Any, whisper: Any) -> None:
    import torch
    from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

    processor = AutoProcessor.from_pretrained(whisper.folder)
    model = AutoModelForSpeechSeq2Seq.from_pretrained(whisper.folder, dtype=torch.float32).eval()

    def call() -> list[str]:
        texts = []
        with torch.inference_mode():
            for clip in whisper.clips:
                features = processor(clip, sampling_rate=16000, return_tensors="pt").input_features
                texts.append(processor.batch_decode(model.generate(features), skip_special_tokens=True)[0])
        return texts

    assert len(benchmark.pedantic(call, **ROUNDS)) == CLIPS


@pytest.mark.parametrize("level", ["exact", "fast"])
@pytest.mark.benchmark(group="whisper-tiny.en: 20 clips")
def test_whisper_hfbench(benchmark: Any, whisper: Any, level: str) -> None:
    from hfbench.pipelines import pipeline_for
    from hfbench.pipelines.media import MediaInput

    pipe = pipeline_for(WHISPER).load(WHISPER, {"base": {"optimize": level, "device": "cpu"}}, progress=False)
    merged = pipe.config.get_merged_config("speech-recognition", {})
    inputs = [MediaInput.audio(clip, sampling_rate=16000) for clip in whisper.clips]
    assert len(benchmark.pedantic(lambda: pipe.run(inputs, "speech-recognition", merged), **ROUNDS)) == CLIPS


@pytest.mark.benchmark(group="whisper-tiny.en: 20 clips")
def test_whisper_faster_whisper_int8(benchmark: Any, whisper: Any) -> None:
    pytest.importorskip("faster_whisper", reason="pip install faster-whisper")
    from faster_whisper import WhisperModel

    from hfbench.sources.embedded.originals import original_folder

    model = WhisperModel(
        str(original_folder("whisper-tiny.en")),
        device="cpu",
        compute_type="int8",
        cpu_threads=whisper.threads,
    )

    def call() -> list[str]:
        return [
            "".join(s.text for s in model.transcribe(clip, beam_size=1, without_timestamps=True)[0])
            for clip in whisper.clips
        ]

    assert len(benchmark.pedantic(call, **ROUNDS)) == CLIPS
