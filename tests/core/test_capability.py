"""Capabilities: canonical names, aliases, per-architecture priors, measured confidences."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import (
    Capability,
    ModelCapabilities,
    ModelCapability,
    canonical_capability,
    capability_lineage,
    capability_specs,
    primary_capability,
    register_capability,
    unregister_capability,
)
from hfbench.core.errors import UnsupportedCapabilityError

A = ModelArchitecture


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("automatic-speech-recognition", "speech-recognition"),
        ("ASR", "speech-recognition"),
        ("feature-extraction", "embeddings"),
        ("sentiment-analysis", "text-classification"),
        ("image-to-text", "image-captioning"),
        ("vqa", "visual-question-answering"),
        ("text_generation", "text-generation"),
        ("Summarize", "summarization"),
        (Capability.CHAT, "chat"),
    ],
)
def test_aliases_resolve_to_canonical_names(alias: str, canonical: str) -> None:
    assert canonical_capability(alias) == canonical


def test_typo_gets_did_you_mean() -> None:
    with pytest.raises(UnsupportedCapabilityError, match="Did you mean 'summarization'"):
        canonical_capability("sumarization")


def test_empty_name_is_rejected() -> None:
    with pytest.raises(UnsupportedCapabilityError, match="non-empty"):
        canonical_capability("  ")


def test_every_enum_member_has_a_spec_and_every_architecture_has_a_primary() -> None:
    specs = capability_specs()
    assert {c.value for c in Capability} <= set(specs)
    for arch in A:
        caps = ModelCapabilities(arch)
        assert caps.can_handle(primary_capability(arch)), arch


@pytest.mark.parametrize(
    ("arch", "can", "cannot"),
    [
        (A.ENCODER_ONLY, ["embeddings", "fill-mask", "text-classification", "question-answering"], ["chat"]),
        (A.DECODER_ONLY, ["text-generation", "chat", "summarization", "general"], ["image-classification"]),
        (A.ENCODER_DECODER, ["summarization", "translation"], ["speech-recognition"]),
        (
            A.VISION_ENCODER,
            ["image-classification", "zero-shot-image-classification", "image-embeddings"],
            ["text-generation"],
        ),
        (A.MULTIMODAL, ["image-captioning", "visual-question-answering"], ["speech-recognition"]),
        (A.SPEECH, ["speech-recognition"], ["summarization"]),
    ],
)
def test_architecture_priors(arch: ModelArchitecture, can: list[str], cannot: list[str]) -> None:
    caps = ModelCapabilities(arch)
    for name in can:
        assert caps.can_handle(name), name
        assert 0 < caps.get(name).confidence <= 1
        assert caps.get(name).source == "prior"
    for name in cannot:
        assert not caps.can_handle(name), name


def test_can_handle_rejects_typos_instead_of_answering_false() -> None:
    with pytest.raises(UnsupportedCapabilityError, match="Did you mean"):
        ModelCapabilities(A.DECODER_ONLY).can_handle("chta")


def test_get_config_returns_real_defaults_with_inheritance() -> None:
    caps = ModelCapabilities(A.ENCODER_DECODER)
    assert caps.get_config("summarization") == {
        "min_length": 10,
        "max_length": 128,
        "temperature": 0.0,
        "no_repeat_ngram_size": 3,
    }
    assert "tgt_lang" not in caps.get_config("translate")  # a translation names its target
    assert capability_lineage("chat") == ["text-generation", "chat"]


def test_get_config_for_unhandled_capability_logs_and_returns_defaults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO"):
        config = ModelCapabilities(A.SPEECH).get_config("summarization")
    assert config["max_length"] == 128
    assert "general processing" in caplog.text


def test_get_unservable_capability_lists_what_it_can_serve() -> None:
    with pytest.raises(UnsupportedCapabilityError, match="it can serve: speech-recognition"):
        ModelCapabilities(A.SPEECH).get("chat")


def test_apply_measured_replaces_prior_and_records_evidence() -> None:
    caps = ModelCapabilities(A.DECODER_ONLY)
    prior = caps.get("summarization").confidence
    measured = caps.apply_measured("summarize", 0.31, {"metric": "rougeL", "value": 0.31, "items": 50})
    assert measured.source == "measured" and measured.confidence == 0.31 != prior
    assert caps.get("summarization").evidence["metric"] == "rougeL"
    assert caps.to_dict()["summarization"]["source"] == "measured"


def test_confidence_out_of_range_is_rejected() -> None:
    with pytest.raises(UnsupportedCapabilityError, match=r"\[0, 1\]"):
        ModelCapability("chat", 1.5)


def test_add_and_remove_adapt_to_a_checkpoint() -> None:
    caps = ModelCapabilities(A.ENCODER_ONLY)
    caps.remove("fill-mask")
    assert not caps.can_handle("fill-mask")
    caps.add(ModelCapability("sentiment", 0.9, requires_finetuning=False))
    assert caps.get("text-classification").confidence == 0.9
    assert caps.names()[0] == "text-classification"


@pytest.fixture
def code_generation() -> Iterator[None]:
    register_capability(
        "code-generation",
        aliases=["codegen"],
        inherits="text-generation",
        parameters={"temperature": 0.2},
        architectures={"decoder_only": 0.7},
    )
    yield
    unregister_capability("code-generation")


@pytest.mark.usefixtures("code_generation")
def test_registered_capability_is_known_inherits_and_gets_priors() -> None:
    assert canonical_capability("codegen") == "code-generation"
    assert capability_lineage("code-generation") == ["text-generation", "code-generation"]
    caps = ModelCapabilities(A.DECODER_ONLY)
    assert caps.get("code-generation").confidence == 0.7
    assert caps.get_config("code-generation") == {"temperature": 0.2}
    assert not ModelCapabilities(A.ENCODER_ONLY).can_handle("code-generation")


@pytest.mark.usefixtures("code_generation")
def test_registering_a_taken_name_fails() -> None:
    with pytest.raises(UnsupportedCapabilityError, match="already names"):
        register_capability("summarize")


def test_builtin_capabilities_cannot_be_unregistered() -> None:
    with pytest.raises(UnsupportedCapabilityError, match="built in"):
        unregister_capability("chat")
