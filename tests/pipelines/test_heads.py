"""What a checkpoint can serve, known from its config before loading, and refusals whose advice is true.

``checkpoint_capabilities`` (and ``hfbench detect``) must give what ``pipeline_for(model).load()``
gives: a bare encoder serves embeddings only, a masked-LM BERT fill-mask and embeddings, a
classifier its classification capabilities.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hfbench.cli import main
from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import UnsupportedCapabilityError
from hfbench.pipelines import pipeline_for
from hfbench.pipelines.checkpoint import CATALOGUE_EVIDENCE, checkpoint_capabilities
from hfbench.pipelines.heads import default_head_of, head_for_class, heads_of
from hfbench.pipelines.text_loading import missing_head_error, prompting_architectures
from hfbench.testing import TINY_MODEL_KINDS, TINY_MODEL_SPECS

TinyModel = Callable[[str], Path]


@pytest.fixture(scope="module")
def bare_bert(tiny_model: TinyModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare ``BertModel`` checkpoint (a sentence-embedding encoder) with the zoo's tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    source = tiny_model("bert")
    folder = tmp_path_factory.mktemp("bare-bert")
    BertModel(BertConfig.from_pretrained(source)).save_pretrained(folder)  # names BertModel
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


def _detected(folder: Path | str, capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    """What ``hfbench detect`` prints: capability -> confidence."""
    assert main(["detect", str(folder), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["capabilities"]
    return {row["capability"]: float(row["confidence"]) for row in rows}


# ---- detect and checkpoint_capabilities: what the head serves ---------------------------------


def test_detect_lists_embeddings_only_for_a_bare_encoder(
    bare_bert: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert json.loads((bare_bert / "config.json").read_text())["architectures"] == ["BertModel"]
    assert _detected(bare_bert, capsys) == {"embeddings": 0.85}
    assert checkpoint_capabilities(bare_bert).names() == ["embeddings"]


def test_detect_lists_fill_mask_and_embeddings_for_a_masked_lm(
    tiny_model: TinyModel, capsys: pytest.CaptureFixture[str]
) -> None:
    assert set(_detected(tiny_model("bert"), capsys)) == {"fill-mask", "embeddings"}
    caps = checkpoint_capabilities(tiny_model("bert"))
    assert caps.get("fill-mask").evidence == {"head": "BertForMaskedLM"}
    assert caps.get("fill-mask").requires_finetuning is False


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("bert-classifier", {"text-classification", "embeddings"}),
        ("bert-nli", {"text-classification", "zero-shot-classification", "embeddings"}),
        ("bert-qa", {"question-answering", "embeddings"}),
    ],
)
def test_detect_lists_a_classifiers_own_capabilities(
    kind: str, expected: set[str], tiny_model: TinyModel, capsys: pytest.CaptureFixture[str]
) -> None:
    assert set(_detected(tiny_model(kind), capsys)) == expected


@pytest.mark.parametrize("kind", TINY_MODEL_KINDS)
def test_capabilities_before_loading_are_those_after_loading(kind: str, tiny_model: TinyModel) -> None:
    folder = tiny_model(kind)
    before = checkpoint_capabilities(folder).to_dict()
    after = pipeline_for(str(folder)).load(progress=False).capabilities.to_dict()
    assert before == after


def test_a_bare_encoder_before_and_after_loading(bare_bert: Path) -> None:
    pipe = pipeline_for(str(bare_bert)).load(progress=False)
    assert checkpoint_capabilities(bare_bert).to_dict() == pipe.capabilities.to_dict()


def test_a_config_alone_is_enough(tiny_model: TinyModel) -> None:
    from transformers import AutoConfig

    folder = tiny_model("bert-classifier")
    data = json.loads((folder / "config.json").read_text())
    assert set(checkpoint_capabilities(data).names()) == {"text-classification", "embeddings"}
    config = AutoConfig.from_pretrained(folder)
    assert set(checkpoint_capabilities(config).names()) == {"text-classification", "embeddings"}
    pinned = checkpoint_capabilities({"model_type": "bert"}, architecture="encoder_only")
    assert pinned.names() == ["embeddings"]  # no class named: the bare encoder


def test_an_unprepared_embedded_model_is_answered_from_its_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "cache"))
    caps = checkpoint_capabilities("embedded:smollm2-135m-instruct")
    assert set(caps.names()) == {"chat", "text-generation"}
    assert all(c.evidence[CATALOGUE_EVIDENCE] == "embedded:smollm2-135m-instruct" for c in caps)
    assert set(_detected("embedded:all-minilm-l6-v2", capsys)) == {"embeddings"}
    assert main(["detect", "embedded:all-minilm-l6-v2"]) == 0
    assert "hfbench setup all-minilm-l6-v2" in capsys.readouterr().out
    assert not (tmp_path / "cache").exists()  # nothing was prepared


# ---- refusals say what is true ----------------------------------------------------------------


def test_fill_mask_on_a_decoder_gives_no_prompting_advice(tiny_model: TinyModel) -> None:
    pipe = pipeline_for(str(tiny_model("gpt2"))).load(progress=False)
    with pytest.raises(UnsupportedCapabilityError) as info:
        pipe.process(["the [MASK] sat"], "fill-mask")
    message = str(info.value)
    assert "no masked-lm head" in message and "ForMaskedLM" in message
    assert "prompting" not in message and "decoder" not in message


def test_fill_mask_on_a_bare_encoder_names_its_head_plainly(bare_bert: Path) -> None:
    pipe = pipeline_for(str(bare_bert)).load(progress=False)
    with pytest.raises(UnsupportedCapabilityError) as info:
        pipe.process(["a [MASK] day"], "fill-mask")
    message = str(info.value)
    assert "it has a base head: bare model without a task head, for embeddings only" in message
    assert "task (bare encoder)" not in message and "prompting" not in message


def test_prompting_advice_follows_what_serves_the_capability() -> None:
    A = ModelArchitecture
    assert prompting_architectures("fill-mask") == []
    assert prompting_architectures("text-classification") == [A.DECODER_ONLY, A.ENCODER_DECODER]
    advice = str(missing_head_error("m", "sequence-classification", "text-classification", "base"))
    assert "decoder_only or enc_dec model, which serves it via general prompting" in advice
    generator = str(missing_head_error("m", "causal-lm", "text-generation", "masked-lm"))
    assert "ForCausalLM" in generator and "prompting" not in generator


# ---- the head rows the loaders use ------------------------------------------------------------


@pytest.mark.parametrize("kind", TINY_MODEL_KINDS)
def test_every_zoo_class_has_a_row_of_its_architectures_heads(kind: str) -> None:
    spec = TINY_MODEL_SPECS[kind]
    head = head_for_class(spec.model_class, heads_of(spec.architecture))
    assert head is not None
    assert head.load_class() is not None


def test_every_architecture_has_a_default_among_its_heads() -> None:
    for arch in ModelArchitecture:
        assert default_head_of(arch) in heads_of(arch)
