"""``run_quality`` end to end on the tiny zoo: the real pipeline path runs and the result is complete.

Quality on random weights means nothing; these pin that every capability's path runs, that the
result holds what the store and the tuner need, and that it survives JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hfbench
from hfbench.bench.quality import (
    EvalSet,
    QualityResult,
    compare_results,
    confidence_from_metric,
    quality_plan,
    run_planned_quality,
    run_quality,
)
from hfbench.core.errors import ConfigError

GetSet = Callable[..., EvalSet]


def loaded(folder: Path) -> Any:
    return hfbench.pipeline_for(str(folder)).load()


def check_complete(result: QualityResult, eval_set: EvalSet) -> None:
    """Everything a record needs is there, consistent, and JSON-able."""
    assert result.n == len(eval_set) == len(result.records)
    assert [r.id for r in result.records] == eval_set.ids
    assert result.provenance == eval_set.provenance.to_dict()
    assert 0.0 <= result.confidence <= 1.0
    assert result.confidence == confidence_from_metric(result.metric, result.value)
    assert result.ci_low <= result.value + 1e-9 and result.value <= result.ci_high + 1e-9
    assert result.seconds > 0 and "bootstrap" in result.ci_method
    text = json.dumps(result.to_dict())
    again = QualityResult.from_dict(json.loads(text))
    assert again.value == result.value and again.records == result.records


def test_embeddings_on_lee_pairs(tiny_bert: Path, eval_set: GetSet) -> None:
    pairs = eval_set("lee-similarity", n=30)
    result = run_quality(loaded(tiny_bert), "embeddings", pairs)
    check_complete(result, pairs)
    assert result.metric == "spearman" and -1 <= result.value <= 1
    assert all(-1.0001 <= r.prediction <= 1.0001 for r in result.records)


def test_perplexity_on_brown_passages(tiny_llama: Path, eval_set: GetSet) -> None:
    passages = eval_set("brown-passages", n=4)
    result = run_quality(loaded(tiny_llama), "text-generation", passages, options={"max_tokens": 32})
    check_complete(result, passages)
    assert result.metric == "perplexity" and result.value > 1 and not result.higher_is_better
    assert all(r.prediction["tokens"] == 31 for r in result.records)


def test_sentiment_by_prompting_predicts_one_of_the_labels(tiny_llama: Path, eval_set: GetSet) -> None:
    reviews = eval_set("uci-sentiment", n=6)
    done: list[int] = []
    result = run_quality(
        loaded(tiny_llama), "text-classification", reviews, other_metrics=["macro-f1"], progress=done.append
    )
    check_complete(result, reviews)
    assert done[-1] == 6 and done == sorted(done)
    assert {r.prediction for r in result.records} <= {"negative", "positive"}
    assert set(result.other_metrics) == {"macro-f1"}


def test_a_classifier_head_label_is_mapped_to_the_sets_spelling(
    tiny_bert_classifier: Path, eval_set: GetSet
) -> None:
    reviews = eval_set("uci-sentiment", n=6)
    result = run_quality(loaded(tiny_bert_classifier), "sentiment", reviews)
    assert {r.prediction for r in result.records} <= {"negative", "positive"}  # head says NEGATIVE


def test_chat_exact_answers_with_the_planned_settings(tiny_llama: Path) -> None:
    plan = quality_plan("chat")
    assert plan.eval_set == "chat-exact-answers"
    result = run_planned_quality(loaded(tiny_llama), "chat", overrides={"max_tokens": 4})
    assert result.hand_made and result.metric == "squad-exact-match"
    assert result.overrides == {"max_tokens": 4, "temperature": 0.0}
    assert result.n == plan.size("quick") and set(result.other_metrics) == {"squad-f1"}


def test_translation_passes_each_items_languages(tiny_t5: Path, eval_set: GetSet) -> None:
    french, german = eval_set("udhr-en-fr", n=2), eval_set("udhr-en-de", n=2)
    mixed = dataclasses.replace(french, items=french.items + german.items)
    pipeline = loaded(tiny_t5)
    asked: list[str] = []

    class Recording:
        """The pipeline, noting the target language of each call."""

        model_name = "tiny-t5"

        def process(self, inputs: list, capability: str, **overrides: object) -> list:
            asked.append(str(overrides["tgt_lang"]))
            return pipeline.process(inputs, capability, **overrides)

    result = run_quality(Recording(), "translation", mixed, {"max_length": 8}, other_metrics=["bleu"])
    check_complete(result, mixed)
    assert asked == ["fr", "de"]
    assert result.metric == "chrf" and 0 <= result.value <= 100 and "bleu" in result.other_metrics


def test_extractive_qa_and_speech_and_images_run(
    tiny_bert_qa: Path, tiny_whisper: Path, tiny_vit: Path, eval_set: GetSet
) -> None:
    qa = run_quality(loaded(tiny_bert_qa), "question-answering", eval_set("squad-v1.1", n=4))
    assert qa.metric == "squad-f1" and all(isinstance(r.prediction, str) for r in qa.records)
    clips = eval_set("asterisk-en", n=2)
    speech = run_quality(loaded(tiny_whisper), "speech-recognition", clips, {"max_tokens": 8})
    check_complete(speech, clips)
    assert speech.metric == "wer" and speech.value >= 0
    images = eval_set("cifar10", n=4)
    vision = run_quality(loaded(tiny_vit), "image-classification", images)
    check_complete(vision, images)
    assert {r.prediction for r in vision.records} <= set(images.labels)


def test_a_result_compared_with_itself_is_a_tie(tiny_llama: Path, eval_set: GetSet) -> None:
    reviews = eval_set("uci-sentiment", n=6)
    result = run_quality(loaded(tiny_llama), "text-classification", reviews)
    comparison = compare_results(result, result)
    assert comparison.difference == 0.0 and not comparison.significant and comparison.n == 6


def test_an_unmeasured_capability_gets_a_clear_error(tiny_bert: Path, eval_set: GetSet) -> None:
    with pytest.raises(ConfigError, match="no quality task for capability 'fill-mask'"):
        run_quality(loaded(tiny_bert), "fill-mask", eval_set("xsum", n=2))
    assert not math.isnan(confidence_from_metric("accuracy", 0.5))
