"""EncoderDecoderPipeline on the tiny T5 and BART models (and tiny mBART / BART-NLI built here)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hfbench.core.errors import (
    ConfigError,
    MediaInputError,
    PipelineNotLoadedError,
    UnsupportedCapabilityError,
)
from hfbench.pipelines import EncoderDecoderPipeline, MediaInput, pipeline_for
from hfbench.pipelines.results import ClassificationResult, EmbeddingResult, TextResult

GREEDY: dict[str, Any] = {"temperature": 0.0, "max_tokens": 8}
TEXTS = [
    "short one",
    "The committee met on Tuesday to discuss the budget for the next year and agreed on it.",
    "A medium length sentence here.",
]


def _load(folder: Path) -> EncoderDecoderPipeline:
    pipe = pipeline_for(str(folder)).load()
    assert isinstance(pipe, EncoderDecoderPipeline)
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
def t5(tiny_model: Callable[[str], Path]) -> EncoderDecoderPipeline:
    return _load(tiny_model("t5"))


@pytest.fixture(scope="module")
def bart(tiny_model: Callable[[str], Path]) -> EncoderDecoderPipeline:
    return _load(tiny_model("bart"))


@pytest.fixture(params=["t5", "bart"])
def seq2seq(request: pytest.FixtureRequest) -> EncoderDecoderPipeline:
    pipe: EncoderDecoderPipeline = request.getfixturevalue(request.param)
    return pipe


def _bart_config_kwargs(tokenizer: Any) -> dict[str, Any]:
    return {
        "vocab_size": len(tokenizer),
        "d_model": 32,
        "encoder_layers": 1,
        "decoder_layers": 1,
        "encoder_attention_heads": 4,
        "decoder_attention_heads": 4,
        "encoder_ffn_dim": 64,
        "decoder_ffn_dim": 64,
        "max_position_embeddings": 128,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "decoder_start_token_id": tokenizer.eos_token_id,
    }


@pytest.fixture(scope="module")
def mbart(
    tiny_model: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> EncoderDecoderPipeline:
    """A tiny mBART: the BART tokenizer plus three mBART-50 language tokens."""
    import torch
    from transformers import AutoTokenizer, MBartConfig, MBartForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(tiny_model("bart"))
    tokenizer.add_special_tokens({"additional_special_tokens": ["en_XX", "fr_XX", "de_DE"]})
    torch.manual_seed(0)
    model = MBartForConditionalGeneration(MBartConfig(**_bart_config_kwargs(tokenizer)))
    folder = tmp_path_factory.mktemp("tiny-mbart")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return _load(folder)


@pytest.fixture(scope="module")
def bart_nli(tiny_model: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BART NLI classifier, like facebook/bart-large-mnli."""
    import torch
    from transformers import AutoTokenizer, BartConfig, BartForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tiny_model("bart"))
    labels = {0: "contradiction", 1: "neutral", 2: "entailment"}
    config = BartConfig(
        **_bart_config_kwargs(tokenizer), id2label=labels, label2id={v: k for k, v in labels.items()}
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bart-nli")
    BartForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# ---- loading -------------------------------------------------------------------------------


def test_loader_loads_seq2seq_lm_with_right_padding(seq2seq: EncoderDecoderPipeline) -> None:
    assert type(seq2seq.loaded.model).__name__.endswith("ForConditionalGeneration")
    assert seq2seq.loaded.tokenizer.padding_side == "right"
    assert {"text-generation", "summarization", "translation", "general", "embeddings"} <= set(
        seq2seq.capabilities.names()
    )


# ---- generation ----------------------------------------------------------------------------


def test_text_generation_counts_tokens_without_the_decoder_start(t5: EncoderDecoderPipeline) -> None:
    import torch

    tokenizer, model = t5.loaded.tokenizer, t5.loaded.model
    results = t5.process(TEXTS, "text-generation", **GREEDY)
    for text, result in zip(TEXTS, results, strict=True):
        assert isinstance(result, TextResult)
        assert result.input_tokens == len(tokenizer(text)["input_ids"])
        encoded = tokenizer([text], return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(**encoded, max_new_tokens=8, do_sample=False)
        assert result.output_tokens == out.shape[1] - 1  # the decoder start token is not generated
        assert result.text == tokenizer.decode(out[0, 1:], skip_special_tokens=True)


def test_batched_generation_equals_one_by_one(seq2seq: EncoderDecoderPipeline) -> None:
    batched = seq2seq.process(TEXTS, "text-generation", batch_size=2, **GREEDY)
    single = [seq2seq.process([t], "text-generation", batch_size=1, **GREEDY)[0] for t in TEXTS]
    assert [(r.text, r.output_tokens, r.input_tokens) for r in batched] == [
        (r.text, r.output_tokens, r.input_tokens) for r in single
    ]


def test_streaming_yields_the_same_text_as_process(seq2seq: EncoderDecoderPipeline) -> None:
    for capability in ("text-generation", "summarization", "chat"):
        config = {**GREEDY, "min_length": 1, "max_length": 8}
        (result,) = seq2seq.process([TEXTS[1]], capability, **config)
        assert "".join(seq2seq.stream(TEXTS[1], capability, **config)) == result.text


# ---- summarization -------------------------------------------------------------------------


def test_t5_summaries_get_the_task_prefix(t5: EncoderDecoderPipeline) -> None:
    processor = t5._get_capability_processor("summarization")
    assert processor.render(MediaInput.text("Text."), {}).text == "summarize: Text."
    (result,) = t5.process([TEXTS[1]], "summarization", min_length=4, max_length=6, temperature=0.0)
    assert isinstance(result, TextResult)
    assert result.processor == "SummarizationProcessor"
    assert result.input_tokens == len(t5.loaded.tokenizer("summarize: " + TEXTS[1])["input_ids"])
    assert 4 <= result.output_tokens <= 6


def test_bart_summaries_have_no_prefix(bart: EncoderDecoderPipeline) -> None:
    processor = bart._get_capability_processor("summarization")
    assert processor.render(MediaInput.text("Text."), {}).text == "Text."
    results = bart.process(TEXTS, "summarization", min_length=3, max_length=5, temperature=0.0)
    assert all(3 <= r.output_tokens <= 5 for r in results)


def test_min_length_above_max_length_is_a_config_error(t5: EncoderDecoderPipeline) -> None:
    with pytest.raises(ConfigError, match="min_length"):
        t5.process(["x"], "summarization", min_length=9, max_length=3)


# ---- translation ---------------------------------------------------------------------------


def test_t5_translation_prefix_is_built_from_the_language_names(t5: EncoderDecoderPipeline) -> None:
    processor = t5._get_capability_processor("translation")
    render = processor.render
    assert render(MediaInput.text("Hi."), {"src_lang": "en", "tgt_lang": "fr"}).text == (
        "translate English to French: Hi."
    )
    assert render(MediaInput.text("Hi."), {"src_lang": "English", "tgt_lang": "de_DE"}).text == (
        "translate English to German: Hi."
    )
    assert render(MediaInput.text("Hi."), {"src_lang": "de", "tgt_lang": "it"}).text == (
        "translate German to Italian: Hi."
    )
    (result,) = t5.process(["Hello."], "translation", tgt_lang="fr", temperature=0.0, max_length=5)
    assert isinstance(result, TextResult) and result.extra["style"] == "t5"
    assert result.output_tokens <= 5


def test_unknown_language_codes_are_config_errors(t5: EncoderDecoderPipeline) -> None:
    with pytest.raises(ConfigError, match=r"tgt_lang.*unknown language 'frr'.*Did you mean"):
        t5.process(["Hello."], "translation", tgt_lang="frr")


def test_bart_without_language_mechanism_translates_by_instruction(bart: EncoderDecoderPipeline) -> None:
    processor = bart._get_capability_processor("translation")
    prompt = processor.render(MediaInput.text("Hello."), {"src_lang": "en", "tgt_lang": "es"})
    assert "from English to Spanish" in prompt.text and prompt.text.endswith("Spanish:")
    (result,) = bart.process(["Hello."], "translation", tgt_lang="es", temperature=0.0, max_length=4)
    assert isinstance(result, TextResult) and result.extra["style"] == "prompt"


def test_mbart_sets_the_source_language_and_forces_the_target_token(mbart: EncoderDecoderPipeline) -> None:
    tokenizer = mbart.loaded.tokenizer
    processor = mbart._get_capability_processor("translation")
    assert processor.style == "mbart"
    assert processor.render(MediaInput.text("Hello."), {}).text == "Hello."
    kwargs = processor.extra_generate_kwargs({"src_lang": "en", "tgt_lang": "fr"})
    assert kwargs == {"forced_bos_token_id": tokenizer.convert_tokens_to_ids("fr_XX")}
    kwargs = processor.extra_generate_kwargs({"src_lang": "en_XX", "tgt_lang": "German"})
    assert kwargs == {"forced_bos_token_id": tokenizer.convert_tokens_to_ids("de_DE")}
    results = mbart.process(
        TEXTS[:2], "translation", src_lang="en", tgt_lang="fr", temperature=0.0, max_length=4
    )
    assert all(r.output_tokens <= 4 for r in results)
    with pytest.raises(UnsupportedCapabilityError, match="no language token 'es_XX'"):
        mbart.process(["Hello."], "translation", tgt_lang="es")


# ---- general prompting and classification --------------------------------------------------


def test_question_answering_runs_as_a_prompt_with_the_context(t5: EncoderDecoderPipeline) -> None:
    item = MediaInput.text("Who left?", context="Bob left early.")
    processor = t5._get_capability_processor("question-answering").fallback()
    prompt = processor.render(item, {})
    assert "Context: Bob left early." in prompt.text and prompt.text.endswith("Answer:")
    (result,) = t5.process([item], "qa", **GREEDY)
    assert isinstance(result, TextResult) and result.processor == "GeneralProcessor"


def test_general_capability_prompts_the_text_itself(bart: EncoderDecoderPipeline) -> None:
    processor = bart._get_capability_processor("general")
    assert processor.render(MediaInput.text("Say hi."), {}).text == "Say hi."
    (result,) = bart.process(["Say hi."], "general", **GREEDY)
    assert isinstance(result, TextResult) and result.output_tokens <= 8


def test_prompted_classification_scores_labels_as_decoder_outputs(seq2seq: EncoderDecoderPipeline) -> None:
    import torch

    labels = ["positive", "negative"]
    batched = seq2seq.process(TEXTS, "sentiment", labels=labels, batch_size=3)
    single = [seq2seq.process([t], "sentiment", labels=labels, batch_size=1)[0] for t in TEXTS]
    for b, s in zip(batched, single, strict=True):
        assert isinstance(b, ClassificationResult) and isinstance(s, ClassificationResult)
        assert b.extra["method"] == "likelihood"
        assert abs(sum(x.score for x in b.labels) - 1) < 1e-5
        assert b.label == s.label and abs(b.score - s.score) < 1e-4
    processor = seq2seq._get_capability_processor("text-classification").fallback()
    prompt = processor.render(MediaInput.text(TEXTS[0]), {"labels": labels})
    (row,), (n_in,) = processor._seq2seq_logprobs([prompt], ["positive"], {})
    tokenizer, model = seq2seq.loaded.tokenizer, seq2seq.loaded.model
    target = tokenizer(["positive"], return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        loss = model(**tokenizer([prompt.text], return_tensors="pt"), labels=target).loss
    assert abs(row[0] - float(-loss * target.shape[1])) < 1e-3
    assert n_in == len(tokenizer(prompt.text)["input_ids"])


def test_nli_classifier_checkpoint_does_zero_shot_with_its_head(bart_nli: Path) -> None:
    pipe = _load(bart_nli)
    assert type(pipe.loaded.model).__name__ == "BartForSequenceClassification"
    assert "summarization" not in pipe.capabilities
    assert "zero-shot-classification" in pipe.capabilities
    results = pipe.process(TEXTS, "zero-shot", labels=["finance", "sport"])
    for result in results:
        assert isinstance(result, ClassificationResult)
        assert result.processor == "ZeroShotClassificationProcessor"
        assert abs(sum(s.score for s in result.labels) - 1) < 1e-5
    with pytest.raises(UnsupportedCapabilityError, match="no seq2seq-lm head"):
        pipe.process(["hi"], "summarization")


def test_every_capability_of_an_encoder_decoder_runs(seq2seq: EncoderDecoderPipeline) -> None:
    from hfbench.pipelines.results import ProcessResult

    item = MediaInput.text("Is this good?", context="It was very good.")
    extra = {"labels": ["yes", "no"], "src_lang": "en", "tgt_lang": "de", "min_length": 1, "max_length": 4}
    for capability in [*seq2seq.capabilities.names(), "chat"]:
        (result,) = seq2seq.process([item], capability, **{**GREEDY, "max_tokens": 4}, **extra)
        assert isinstance(result, ProcessResult), capability
        assert result.capability == capability and result.input_tokens > 0
        assert result.output_tokens <= 4


# ---- embeddings ----------------------------------------------------------------------------


def test_embeddings_come_from_the_encoder(seq2seq: EncoderDecoderPipeline) -> None:
    batched = seq2seq.process(TEXTS, "embeddings")
    single = [seq2seq.process([t], "embeddings")[0] for t in TEXTS]
    for b, s in zip(batched, single, strict=True):
        assert isinstance(b, EmbeddingResult) and isinstance(s, EmbeddingResult)
        assert b.vector is not None and s.vector is not None
        assert b.vector.shape == (seq2seq.loaded.hf_config.d_model,)
        assert np.allclose(b.vector, s.vector, atol=1e-5)


# ---- lifecycle and errors ------------------------------------------------------------------


def test_process_before_load_raises(tiny_model: Callable[[str], Path]) -> None:
    with pytest.raises(PipelineNotLoadedError):
        pipeline_for(str(tiny_model("t5"))).process(["hi"], "summarization")


def test_capability_typo_suggests_the_right_name(t5: EncoderDecoderPipeline) -> None:
    with pytest.raises(UnsupportedCapabilityError, match=r"Did you mean 'summarize'|Did you mean 'summary'"):
        t5.process(["hi"], "sumarize")


def test_an_image_input_is_refused(t5: EncoderDecoderPipeline) -> None:
    from PIL import Image

    with pytest.raises(MediaInputError, match="text"):
        t5.process([Image.new("RGB", (8, 8))], "summarization")


def test_unload_drops_the_model(tiny_model: Callable[[str], Path]) -> None:
    pipe = _load(tiny_model("bart"))
    pipe.process(["hi"], "summarization", min_length=1, max_length=2, temperature=0.0)
    ref = weakref.ref(pipe.loaded.model)
    pipe.unload()
    gc.collect()
    assert ref() is None
