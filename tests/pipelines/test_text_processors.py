"""The text processors' pure parts: prompts, label parsing, stop cutting, counting, spans, pooling, heads."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.config import ModelConfig
from hfbench.core.errors import ConfigError, UnsupportedCapabilityError
from hfbench.pipelines.encoder_decoder import EncoderDecoderLoader
from hfbench.pipelines.encoder_only import EncoderOnlyLoader
from hfbench.pipelines.generation import cut_at_stop
from hfbench.pipelines.languages import resolve_language
from hfbench.pipelines.processors.embeddings import pool, pooling_from_st_config
from hfbench.pipelines.processors.general import parse_labels
from hfbench.pipelines.processors.prompts import parse_templates, prompt_for, prompt_templates
from hfbench.pipelines.processors.question_answering import best_span
from hfbench.pipelines.processors.text_generation import count_generated, cut_stream_at_stop
from hfbench.pipelines.processors.translation import model_language_code
from hfbench.pipelines.text_loading import (
    DEFAULT_BATCH_SIZE,
    checkpoint_heads,
    head_of_class,
    head_serves,
)

# ---- prompts.toml --------------------------------------------------------------------------


def test_package_prompts_cover_the_text_capabilities() -> None:
    templates = prompt_templates()
    for name in (
        "general",
        "default",
        "summarization",
        "translation",
        "question-answering",
        "text-classification",
        "zero-shot-classification",
    ):
        assert name in templates
    assert prompt_for("code-review").name == "default"  # a capability without its own template


def test_templates_render_chat_and_raw_variants() -> None:
    template = prompt_for("question-answering")
    fields = {"text": "Who?", "context": "Bob."}
    raw = template.render(fields, chat=False)
    assert raw.endswith("\n\nAnswer:") and "Context: Bob." in raw
    assert not template.render(fields, chat=True).endswith("Answer:")
    assert "Context" not in template.render({"text": "Who?"}, chat=True, has_context=False)
    multi = prompt_for("zero-shot-classification").render(
        {"text": "t", "labels": "a, b"}, chat=True, multi_label=True
    )
    assert "every label that applies" in multi and "a, b" in multi


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"general": {"instruction": "{text}"}}, "templates.default"),
        ({"general": {"instruction": "{text}"}, "default": {"instruction": "no input"}}, r"\{text\}"),
        ({"general": {"instruction": "{text} {colour}"}, "default": {"instruction": "{text}"}}, "colour"),
        ({"general": {"instruction": "{text}", "shape": 1}, "default": {"instruction": "{text}"}}, "shape"),
        (
            {"general": {"instruction": "{text}", "max_tokens": 0}, "default": {"instruction": "{text}"}},
            "max_tokens",
        ),
    ],
)
def test_invalid_prompt_files_are_config_errors(table: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_templates({"templates": table}, file="prompts.toml")


def test_prompt_template_key_is_validated_by_the_config_tree() -> None:
    config = ModelConfig(capabilities={"summarization": {"prompt_template": "Sum up: {text}"}})
    assert config.get_merged_config("summarization")["prompt_template"] == "Sum up: {text}"
    with pytest.raises(ConfigError, match="prompt_template"):
        ModelConfig(base={"prompt_template": "no placeholder"})


# ---- parsing labels ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("positive", ["positive"]),
        ("Positive.", ["positive"]),
        ("The sentiment is negative.", ["negative"]),
        ("negative, though parts are positive", ["negative"]),
        ("postive", ["positive"]),
        ("I cannot tell.", []),
        ("", []),
    ],
)
def test_parse_labels_finds_the_named_label(answer: str, expected: list[str]) -> None:
    assert parse_labels(answer, ["positive", "negative"]) == expected


def test_parse_labels_prefers_longer_labels_and_returns_all_for_multi_label() -> None:
    labels = ["sports", "motor sports", "politics"]
    assert parse_labels("motor sports", labels) == ["motor sports"]
    assert parse_labels("It is about motor sports and politics", labels) == ["motor sports"]
    assert parse_labels("politics, motor sports", labels, multi_label=True) == ["politics", "motor sports"]


# ---- stop sequences and token counts -------------------------------------------------------


@pytest.mark.parametrize(
    ("pieces", "stop"),
    [
        (["Hello wor", "ld. Bye", " now"], "ld. B"),
        (["ab", "c", "def"], ["cd", "abx"]),
        (["a", "b", "c"], ["abc", "b"]),
        (["no ", "stop ", "here"], ["zz"]),
        (["x", "yz", "END", "more"], "END"),
        (["tail ", "ab"], "abc"),
    ],
)
def test_streamed_text_is_cut_like_the_whole_text(pieces: list[str], stop: str | list[str]) -> None:
    streamed = list(cut_stream_at_stop(iter(pieces), stop))
    assert "".join(streamed) == cut_at_stop("".join(pieces), stop)


def test_stream_cutter_drains_the_pieces_after_a_stop() -> None:
    consumed: list[str] = []

    def pieces() -> object:
        for piece in ["a", "STOP", "b", "c"]:
            consumed.append(piece)
            yield piece

    assert "".join(cut_stream_at_stop(pieces(), "STOP")) == "a"  # type: ignore[arg-type]
    assert consumed == ["a", "STOP", "b", "c"]


def test_count_generated_stops_at_eos_and_skips_padding() -> None:
    assert count_generated([5, 6, 2, 3, 3], {2}, 3) == (3, True)  # eos counted, padding not
    assert count_generated([5, 6, 7], {2}, 3) == (3, False)
    assert count_generated([5, 6, 3, 3], {2}, 3) == (2, False)  # stopped on a stop string
    assert count_generated([0, 0, 0], {1}, None) == (3, False)  # generated pads are tokens too


# ---- translation languages -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["fr", "FR", "fra", "French", "french", "fr_XX", "fra_Latn"])
def test_languages_resolve_from_codes_and_names(value: str) -> None:
    language = resolve_language(value)
    assert (language.code, language.name, language.mbart, language.nllb) == (
        "fr",
        "French",
        "fr_XX",
        "fra_Latn",
    )


def test_unknown_language_names_the_key_and_suggests() -> None:
    with pytest.raises(ConfigError, match=r"src_lang.*'englsh'.*Did you mean 'english'"):
        resolve_language("englsh", "src_lang")


def test_model_language_codes_per_family() -> None:
    fr = resolve_language("fr")
    assert model_language_code("mbart", fr, "fr") == "fr_XX"
    assert model_language_code("nllb", fr, "French") == "fra_Latn"
    assert model_language_code("m2m100", fr, "fr_XX") == "fr"


# ---- spans and pooling ---------------------------------------------------------------------


def test_best_span_respects_the_context_mask_and_max_length() -> None:
    import torch

    start = torch.tensor([9.0, 0.0, 5.0, 0.0, 0.0, 0.0])
    end = torch.tensor([9.0, 0.0, 0.0, 0.0, 6.0, 1.0])
    context = torch.tensor([False, True, True, True, True, True])
    span = best_span(start, end, context, max_answer_length=30)
    assert (span.start, span.end) == (2, 4)  # position 0 (the question/CLS) is never chosen
    short = best_span(start, end, context, max_answer_length=2)
    assert short.end - short.start <= 1
    assert 0 < span.score <= 1


def test_pooling_ignores_padding_on_either_side() -> None:
    import torch

    hidden = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    right = torch.tensor([[1, 1, 0], [1, 1, 1]])
    left = torch.tensor([[0, 1, 1], [1, 1, 1]])
    shifted = hidden.clone()
    shifted[0, 1:] = hidden[0, :2]
    for mode in ("mean", "max", "cls", "last"):
        assert torch.allclose(pool(hidden, right, mode)[0], pool(shifted, left, mode)[0]), mode
    assert torch.allclose(pool(hidden, right, "cls")[0], hidden[0, 0])
    assert torch.allclose(pool(hidden, right, "last")[0], hidden[0, 1])
    assert torch.allclose(pool(hidden, right, "mean")[0], hidden[0, :2].mean(0))


def test_sentence_transformers_pooling_modes_map_to_hfbench_ones() -> None:
    assert pooling_from_st_config({"pooling_mode_mean_tokens": True}) == "mean"
    assert (
        pooling_from_st_config({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}) == "cls"
    )
    assert pooling_from_st_config({"pooling_mode_lasttoken": True}) == "last"
    assert pooling_from_st_config({"pooling_mode": "lasttoken"}) == "last"
    assert pooling_from_st_config({}) is None


# ---- heads ---------------------------------------------------------------------------------


def test_heads_come_from_class_names() -> None:
    assert head_of_class("BertForMaskedLM") == "masked-lm"
    assert head_of_class("RobertaForSequenceClassification") == "sequence-classification"
    assert head_of_class("DistilBertForQuestionAnswering") == "question-answering"
    assert head_of_class("GPT2LMHeadModel") == "causal-lm"
    assert head_of_class("T5ForConditionalGeneration") == "seq2seq-lm"
    assert head_of_class("BertModel") == "base"
    assert checkpoint_heads(SimpleNamespace(architectures=None), ModelArchitecture.ENCODER_ONLY) == ["base"]
    assert checkpoint_heads(SimpleNamespace(), ModelArchitecture.DECODER_ONLY) == ["causal-lm"]


def test_head_tables_say_what_each_head_serves() -> None:
    enc = ModelArchitecture.ENCODER_ONLY
    assert head_serves(enc, "masked-lm", "fill-mask")
    assert head_serves(enc, "token-classification", "embeddings")
    assert not head_serves(enc, "base", "text-classification")
    assert head_serves(ModelArchitecture.DECODER_ONLY, "causal-lm", "zero-shot-classification")
    assert not head_serves(ModelArchitecture.ENCODER_DECODER, "sequence-classification", "summarization")
    assert DEFAULT_BATCH_SIZE[enc] > DEFAULT_BATCH_SIZE[ModelArchitecture.DECODER_ONLY]


def test_auto_class_follows_head_and_capability() -> None:
    loader = EncoderOnlyLoader()
    mlm = SimpleNamespace(architectures=["BertForMaskedLM"])
    assert loader.auto_class_for(mlm, None).__name__ == "AutoModelForMaskedLM"
    assert loader.auto_class_for(mlm, "embeddings").__name__ == "AutoModelForMaskedLM"
    assert loader.auto_class_for(SimpleNamespace(architectures=["BertModel"]), None).__name__ == "AutoModel"
    tok = SimpleNamespace(architectures=["BertForTokenClassification"])
    assert loader.auto_class_for(tok, None).__name__ == "AutoModelForTokenClassification"
    qa = SimpleNamespace(architectures=["BertForQuestionAnswering"])
    assert loader.auto_class_for(qa, "qa").__name__ == "AutoModelForQuestionAnswering"
    with pytest.raises(UnsupportedCapabilityError, match="no masked-lm head"):
        loader.auto_class_for(qa, "fill-mask")
    seq2seq = EncoderDecoderLoader()
    nli = SimpleNamespace(architectures=["BartForSequenceClassification"])
    assert seq2seq.auto_class_for(nli, "zero-shot").__name__ == "AutoModelForSequenceClassification"
    generator = SimpleNamespace(architectures=["BartForConditionalGeneration"])
    assert seq2seq.auto_class_for(generator, "zero-shot").__name__ == "AutoModelForSeq2SeqLM"


def test_text_pipeline_modules_do_not_import_torch() -> None:
    code = (
        "import sys, hfbench.pipelines.encoder_only, hfbench.pipelines.decoder_only, "
        "hfbench.pipelines.encoder_decoder; "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
