"""EncoderOnlyPipeline on the tiny BERT zoo: masked LM, classifier, NLI, QA and a bare encoder."""

from __future__ import annotations

import gc
import json
import shutil
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from hfbench.core.errors import (
    ConfigError,
    MediaInputError,
    PipelineNotLoadedError,
    UnsupportedCapabilityError,
)
from hfbench.pipelines import EncoderOnlyPipeline, MediaInput, pipeline_for
from hfbench.pipelines.results import AnswerResult, ClassificationResult, EmbeddingResult

TEXTS = ["good", "the cat sat on the mat and looked at the bird in the tree", "a fine day"]
CONTEXT = "The cat sat on the mat. Paris is the capital of France. The dog ran in the park all day."


def _load(folder: Path, **kwargs: str) -> EncoderOnlyPipeline:
    pipe = pipeline_for(str(folder)).load(**kwargs)
    assert isinstance(pipe, EncoderOnlyPipeline)
    return pipe


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny models run faster on one thread (no intra-op fan-out cost, no oversubscription)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def bert(tiny_model: Callable[[str], Path]) -> EncoderOnlyPipeline:
    return _load(tiny_model("bert"))


@pytest.fixture(scope="module")
def classifier(tiny_model: Callable[[str], Path]) -> EncoderOnlyPipeline:
    return _load(tiny_model("bert-classifier"))


@pytest.fixture(scope="module")
def nli(tiny_model: Callable[[str], Path]) -> EncoderOnlyPipeline:
    return _load(tiny_model("bert-nli"))


@pytest.fixture(scope="module")
def qa(tiny_model: Callable[[str], Path]) -> EncoderOnlyPipeline:
    return _load(tiny_model("bert-qa"))


@pytest.fixture(scope="module")
def bare_bert(tiny_model: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare ``BertModel`` checkpoint (like sentence-transformers models)."""
    from transformers import AutoModel, AutoTokenizer

    source = tiny_model("bert")
    folder = tmp_path_factory.mktemp("bare-bert")
    AutoModel.from_pretrained(source).save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


# ---- loading: the Auto class follows the checkpoint head --------------------------------------


@pytest.mark.parametrize(
    ("kind", "model_class", "capabilities"),
    [
        ("bert", "BertForMaskedLM", {"embeddings", "fill-mask"}),
        ("bert-classifier", "BertForSequenceClassification", {"embeddings", "text-classification"}),
        (
            "bert-nli",
            "BertForSequenceClassification",
            {"embeddings", "text-classification", "zero-shot-classification"},
        ),
        ("bert-qa", "BertForQuestionAnswering", {"embeddings", "question-answering"}),
    ],
)
def test_loader_loads_the_checkpoint_head_and_keeps_what_it_serves(
    request: pytest.FixtureRequest, kind: str, model_class: str, capabilities: set[str]
) -> None:
    fixture = {"bert": "bert", "bert-classifier": "classifier", "bert-nli": "nli", "bert-qa": "qa"}[kind]
    pipe: EncoderOnlyPipeline = request.getfixturevalue(fixture)
    assert type(pipe.loaded.model).__name__ == model_class
    assert set(pipe.capabilities.names()) == capabilities
    for name in capabilities - {"embeddings"}:
        cap = pipe.capabilities.get(name)
        assert cap.evidence["head"] == model_class
        assert cap.requires_finetuning is False
    assert pipe.loaded.tokenizer.padding_side == "right"


def test_bare_encoder_loads_automodel_and_serves_embeddings_only(bare_bert: Path) -> None:
    pipe = _load(bare_bert)
    assert type(pipe.loaded.model).__name__ == "BertModel"
    assert pipe.capabilities.names() == ["embeddings"]
    with pytest.raises(UnsupportedCapabilityError, match="no masked-lm head"):
        pipe.process(["a [MASK] day"], "fill-mask")
    with pytest.raises(UnsupportedCapabilityError, match="no sequence-classification head"):
        pipe.process(["a day"], "text-classification")


def test_loading_for_a_capability_the_checkpoint_has_no_head_for_fails_before_weights(
    tiny_model: Callable[[str], Path],
) -> None:
    pipe = pipeline_for(str(tiny_model("bert")))
    with pytest.raises(UnsupportedCapabilityError, match=r"no sequence-classification head.*[Ff]ine-tune"):
        pipe.load(capability="sentiment-analysis")
    assert not pipe.is_loaded


def test_loading_for_embeddings_keeps_the_head_that_also_serves_embeddings(
    tiny_model: Callable[[str], Path],
) -> None:
    pipe = _load(tiny_model("bert"), capability="embeddings")
    assert type(pipe.loaded.model).__name__ == "BertForMaskedLM"
    qa_pipe = _load(tiny_model("bert-qa"), capability="question-answering")
    assert type(qa_pipe.loaded.model).__name__ == "BertForQuestionAnswering"


def test_missing_heads_explain_what_to_do(bert: EncoderOnlyPipeline, classifier: EncoderOnlyPipeline) -> None:
    with pytest.raises(
        UnsupportedCapabilityError, match=r"no sequence-classification head.*general prompting"
    ):
        bert.process(["good"], "text-classification")
    with pytest.raises(UnsupportedCapabilityError, match="no question-answering head"):
        bert.process([MediaInput.text("q?", context="c")], "qa")
    with pytest.raises(UnsupportedCapabilityError, match="no masked-lm head"):
        classifier.process(["a [MASK]"], "fill-mask")
    with pytest.raises(UnsupportedCapabilityError, match="not an NLI model"):
        classifier.process(["good"], "zero-shot-classification", labels=["a", "b"])
    with pytest.raises(UnsupportedCapabilityError, match="cannot serve 'text-generation'"):
        bert.process(["good"], "text-generation")


# ---- fill-mask -----------------------------------------------------------------------------


def test_fill_mask_returns_top_tokens_with_scores_and_filled_sequences(bert: EncoderOnlyPipeline) -> None:
    (result,) = bert.process(["the cat sat on the [MASK] ."], "fill-mask", top_labels=3)
    assert isinstance(result, ClassificationResult)
    assert len(result.labels) == 3
    scores = [s.score for s in result.labels]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1
    for candidate in result.labels:
        assert candidate.sequence is not None
        assert candidate.sequence.startswith("the cat sat on the")
        assert candidate.label.replace("##", "") in candidate.sequence
        assert "[MASK]" not in candidate.sequence
    assert result.input_tokens == len(bert.loaded.tokenizer("the cat sat on the [MASK] .")["input_ids"])


def test_fill_mask_accepts_either_mask_spelling_and_several_masks(bert: EncoderOnlyPipeline) -> None:
    a, b = bert.process(["the cat sat on the <mask> .", "the [MASK] sat on the [MASK] ."], "fill-mask")
    assert isinstance(a, ClassificationResult) and isinstance(b, ClassificationResult)
    assert len(a.labels) == 5  # the capability's default top_labels
    assert len(b.extra["masks"]) == 2
    assert all(len(m) == 5 for m in b.extra["masks"])


def test_fill_mask_without_a_mask_token_is_an_input_error(bert: EncoderOnlyPipeline) -> None:
    with pytest.raises(MediaInputError, match=r"\[MASK\]"):
        bert.process(["no mask here"], "fill-mask")


# ---- text classification -------------------------------------------------------------------


def test_text_classification_is_a_softmax_over_the_head_labels(classifier: EncoderOnlyPipeline) -> None:
    import torch

    results = classifier.process(TEXTS, "sentiment")
    tokenizer, model = classifier.loaded.tokenizer, classifier.loaded.model
    for text, result in zip(TEXTS, results, strict=True):
        assert isinstance(result, ClassificationResult)
        assert {s.label for s in result.labels} == {"NEGATIVE", "POSITIVE"}
        assert abs(sum(s.score for s in result.labels) - 1) < 1e-5
        with torch.inference_mode():
            probs = model(**tokenizer([text], return_tensors="pt")).logits.softmax(-1)[0]
        expected = {model.config.id2label[i]: float(p) for i, p in enumerate(probs)}
        for score in result.labels:
            assert abs(score.score - expected[score.label]) < 1e-5
        assert result.input_tokens == len(tokenizer(text)["input_ids"])
    (top1,) = classifier.process([TEXTS[0]], "text-classification", top_labels=1)
    assert isinstance(top1, ClassificationResult) and len(top1.labels) == 1


def test_text_classification_batches_keep_input_order(classifier: EncoderOnlyPipeline) -> None:
    batched = classifier.process(TEXTS, "text-classification", batch_size=2)
    single = [classifier.process([t], "text-classification", batch_size=1)[0] for t in TEXTS]
    for b, s in zip(batched, single, strict=True):
        assert isinstance(b, ClassificationResult) and isinstance(s, ClassificationResult)
        assert b.label == s.label and abs(b.score - s.score) < 1e-5


# ---- zero-shot classification --------------------------------------------------------------


def test_zero_shot_single_label_scores_sum_to_one(nli: EncoderOnlyPipeline) -> None:
    labels = ["sports", "politics", "cooking"]
    results = nli.process(TEXTS, "zero-shot", labels=labels)
    for result in results:
        assert isinstance(result, ClassificationResult)
        assert sorted(s.label for s in result.labels) == sorted(labels)
        assert abs(sum(s.score for s in result.labels) - 1) < 1e-5
    single = nli.process([TEXTS[1]], "zero-shot", labels=labels, batch_size=1)[0]
    assert isinstance(single, ClassificationResult) and isinstance(results[1], ClassificationResult)
    assert single.label == results[1].label and abs(single.score - results[1].score) < 1e-5


def test_zero_shot_multi_label_is_entailment_against_contradiction(nli: EncoderOnlyPipeline) -> None:
    import torch

    template = "It is about {}."
    (result,) = nli.process(
        [TEXTS[2]], "zero-shot", labels=["weather", "food"], multi_label=True, hypothesis_template=template
    )
    assert isinstance(result, ClassificationResult)
    tokenizer, model = nli.loaded.tokenizer, nli.loaded.model
    for score in result.labels:
        encoded = tokenizer([TEXTS[2]], [template.format(score.label)], return_tensors="pt")
        with torch.inference_mode():
            logits = model(**encoded).logits[0]
        expected = logits[[0, 2]].softmax(-1)[1]  # contradiction=0, entailment=2
        assert abs(score.score - float(expected)) < 1e-5
    assert result.extra["multi_label"] is True


def test_zero_shot_needs_labels(nli: EncoderOnlyPipeline) -> None:
    with pytest.raises(ConfigError, match="labels"):
        nli.process(["text"], "zero-shot-classification")


# ---- extractive question answering ---------------------------------------------------------


def test_extractive_answer_is_a_span_of_the_context(qa: EncoderOnlyPipeline) -> None:
    items = [
        MediaInput.text("What is the capital of France?", context=CONTEXT),
        MediaInput.text("Where did the dog run?", context="The dog ran in the park."),
    ]
    results = qa.process(items, "question-answering")
    for item, result in zip(items, results, strict=True):
        assert isinstance(result, AnswerResult)
        assert item.context is not None
        assert result.text == item.context[result.start : result.end]
        assert result.text.strip()
        assert 0 < result.score <= 1
    single = qa.process([items[1]], "qa", batch_size=1)[0]
    assert isinstance(single, AnswerResult)
    assert (single.text, single.start) == (results[1].text, results[1].start)


def test_max_answer_length_bounds_the_span(qa: EncoderOnlyPipeline) -> None:
    item = MediaInput.text("What is the capital?", context=CONTEXT)
    (result,) = qa.process([item], "qa", max_answer_length=1)
    assert isinstance(result, AnswerResult)
    assert len(qa.loaded.tokenizer(result.text, add_special_tokens=False)["input_ids"]) == 1


def test_long_contexts_are_read_in_overlapping_windows(qa: EncoderOnlyPipeline) -> None:
    context = " ".join([CONTEXT] * 6)
    (result,) = qa.process([MediaInput.text("Where?", context=context)], "qa", max_input_tokens=48)
    assert isinstance(result, AnswerResult)
    assert result.extra["windows"] > 1
    assert result.text == context[result.start : result.end]
    assert result.input_tokens > 48


def test_extractive_qa_needs_a_context(qa: EncoderOnlyPipeline) -> None:
    with pytest.raises(MediaInputError, match="context"):
        qa.process(["What is it?"], "qa")


# ---- embeddings ----------------------------------------------------------------------------


def test_embeddings_are_normalised_and_independent_of_batching(bert: EncoderOnlyPipeline) -> None:
    batched = bert.process(TEXTS, "embeddings", batch_size=2)
    single = [bert.process([t], "embeddings")[0] for t in TEXTS]
    for b, s in zip(batched, single, strict=True):
        assert isinstance(b, EmbeddingResult) and isinstance(s, EmbeddingResult)
        assert b.vector is not None and s.vector is not None
        assert b.vector.shape == (bert.loaded.hf_config.hidden_size,) and b.vector.dtype == np.float32
        assert abs(float(np.linalg.norm(b.vector)) - 1) < 1e-5
        assert np.allclose(b.vector, s.vector, atol=1e-5)
        assert b.extra["pooling"] == "mean"


def test_pooling_and_normalize_keys_change_the_vectors(bert: EncoderOnlyPipeline) -> None:
    vectors = {}
    for pooling in ("mean", "cls", "max", "last"):
        (result,) = bert.process([TEXTS[1]], "embeddings", pooling=pooling)
        assert isinstance(result, EmbeddingResult) and result.vector is not None
        vectors[pooling] = result.vector
    assert len({v.tobytes() for v in vectors.values()}) == 4
    (raw,) = bert.process([TEXTS[1]], "embeddings", normalize=False)
    assert isinstance(raw, EmbeddingResult) and raw.vector is not None
    assert abs(float(np.linalg.norm(raw.vector)) - 1) > 1e-3
    with pytest.raises(ConfigError, match="pooling"):
        bert.process([TEXTS[0]], "embeddings", pooling="average")


def test_sentence_transformers_pooling_config_is_used(bare_bert: Path, tmp_path: Path) -> None:
    folder = tmp_path / "st-model"
    shutil.copytree(bare_bert, folder)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": 32,
                "pooling_mode_cls_token": True,
                "pooling_mode_mean_tokens": False,
            }
        )
    )
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 4}))
    pipe = _load(folder)
    (auto,) = pipe.process([TEXTS[1]], "embeddings")
    (cls,) = pipe.process([TEXTS[1]], "embeddings", pooling="cls")
    assert isinstance(auto, EmbeddingResult) and isinstance(cls, EmbeddingResult)
    assert auto.extra["pooling"] == "cls"
    assert auto.vector is not None and cls.vector is not None
    assert np.allclose(auto.vector, cls.vector)
    assert auto.input_tokens == 4  # sentence-transformers' max_seq_length
    (longer,) = pipe.process([TEXTS[1]], "embeddings", max_input_tokens=8)
    assert longer.input_tokens == 8


# ---- lifecycle and errors ------------------------------------------------------------------


def test_process_before_load_raises(tiny_model: Callable[[str], Path]) -> None:
    with pytest.raises(PipelineNotLoadedError, match="load"):
        pipeline_for(str(tiny_model("bert"))).process(["hi"])


def test_capability_typo_suggests_the_right_name(bert: EncoderOnlyPipeline) -> None:
    with pytest.raises(UnsupportedCapabilityError, match="Did you mean 'embeddings'"):
        bert.process(["hi"], "embedings")


def test_an_image_input_is_refused(bert: EncoderOnlyPipeline) -> None:
    from PIL import Image

    with pytest.raises(MediaInputError, match="text"):
        bert.process([Image.new("RGB", (8, 8))], "embeddings")


def test_unload_drops_the_model(tiny_model: Callable[[str], Path]) -> None:
    pipe = _load(tiny_model("bert-qa"))
    pipe.process([MediaInput.text("q?", context="an answer")], "qa")
    pipe.process(["text"], "embeddings")
    ref = weakref.ref(pipe.loaded.model)
    pipe.unload()
    gc.collect()
    assert ref() is None
    with pytest.raises(PipelineNotLoadedError):
        pipe.process(["hi"])
