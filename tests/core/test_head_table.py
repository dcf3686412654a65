"""The head table (``core/data/heads.toml``): valid, consistent with the enum, transformers and detection."""

from __future__ import annotations

import pytest

from hfbench.core.architecture import ModelArchitecture, architecture_from_config_dict
from hfbench.core.capability import capability_specs
from hfbench.core.errors import HFBenchError
from hfbench.core.heads import (
    architecture_heads,
    auto_class_for,
    default_head,
    head_spec,
    head_table,
    parse_head_table,
)

A = ModelArchitecture

# Detection's fallbacks as they were written by hand in core/architecture.py before the table.
FORMER_MAPPING_ORDER = [
    ("MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES", A.SPEECH),
    ("MODEL_FOR_CTC_MAPPING_NAMES", A.SPEECH),
    ("MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", A.MULTIMODAL),
    # MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES stood here: transformers 5 has no such table.
    ("MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES", A.ENCODER_DECODER),
    ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", A.DECODER_ONLY),
    ("MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES", A.VISION_ENCODER),
    ("MODEL_FOR_MASKED_LM_MAPPING_NAMES", A.ENCODER_ONLY),
]
FORMER_CLASS_SUFFIXES = [
    ("ForSpeechSeq2Seq", A.SPEECH),
    ("ForCTC", A.SPEECH),
    ("ForAudioClassification", A.SPEECH),
    ("ForImageTextToText", A.MULTIMODAL),
    ("ForVision2Seq", A.MULTIMODAL),
    ("ForImageClassification", A.VISION_ENCODER),
    ("ForConditionalGeneration", A.ENCODER_DECODER),
    ("ForSeq2SeqLM", A.ENCODER_DECODER),
    ("ForCausalLM", A.DECODER_ONLY),
    ("LMHeadModel", A.DECODER_ONLY),
    ("ForMaskedLM", A.ENCODER_ONLY),
    ("ForSequenceClassification", A.ENCODER_ONLY),
    ("ForTokenClassification", A.ENCODER_ONLY),
    ("ForQuestionAnswering", A.ENCODER_ONLY),
]


def test_every_architecture_has_a_head_set_and_a_default_among_it() -> None:
    table = head_table()
    assert set(table.architecture_heads) == {a.value for a in A}
    for arch in A:
        assert default_head(arch) in architecture_heads(arch)
    assert architecture_heads(A.ENCODER_ONLY) == architecture_heads(A.DECODER_ONLY)  # one text set


def test_rows_name_canonical_capabilities_and_real_transformers_classes() -> None:
    import transformers
    from transformers.models.auto import modeling_auto

    known = set(capability_specs())
    for row in head_table().heads.values():
        assert set(row.capabilities) <= known, row.name
        assert hasattr(transformers, row.auto_class), row.auto_class
        assert hasattr(modeling_auto, row.mapping), row.mapping
        assert row.description and "(" not in row.description  # read inside "(it has a ... head: ...)"


def test_detection_fallbacks_are_the_former_hand_written_ones() -> None:
    from transformers.models.auto import modeling_auto

    assert not hasattr(modeling_auto, "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES")
    table = head_table()
    assert [(h.mapping, A(h.architecture)) for h in table.by_model_type] == FORMER_MAPPING_ORDER
    pairs = [(suffix, A(h.architecture)) for h in table.by_class_suffix for suffix in h.suffixes]
    assert sorted(pairs) == sorted(FORMER_CLASS_SUFFIXES)
    # No class name ends with two of them, so their order cannot change an answer.
    suffixes = [s for s, _ in pairs]
    assert not [(a, b) for a in suffixes for b in suffixes if a != b and a.endswith(b)]


@pytest.mark.parametrize(("suffix", "expected"), FORMER_CLASS_SUFFIXES)
def test_class_name_endings_decide_unknown_model_types(suffix: str, expected: ModelArchitecture) -> None:
    assert architecture_from_config_dict({"model_type": "x", "architectures": [f"X{suffix}"]}) is expected


def test_the_bare_rows_share_a_kind_and_say_plainly_what_they_are() -> None:
    text, vision = head_spec("text-base"), head_spec("vision-base")
    assert text.kind == vision.kind == "base"
    assert text.describe() == "bare model without a task head, for embeddings only"
    assert not text.trained and text.serves("embeddings") and not text.serves("fill-mask")
    assert head_spec("causal-lm").serves("summarization")  # prompted: any capability


@pytest.mark.parametrize(
    ("architecture", "class_name", "auto_class"),
    [
        (A.ENCODER_ONLY, "BertForMaskedLM", "AutoModelForMaskedLM"),
        (A.ENCODER_ONLY, "BertModel", "AutoModel"),
        (A.DECODER_ONLY, "GPT2LMHeadModel", "AutoModelForCausalLM"),
        (A.ENCODER_DECODER, "T5ForConditionalGeneration", "AutoModelForSeq2SeqLM"),
        (A.VISION_ENCODER, "CLIPModel", "AutoModel"),
        (A.MULTIMODAL, "BlipForQuestionAnswering", "AutoModelForVisualQuestionAnswering"),
        (A.MULTIMODAL, "LlavaForConditionalGeneration", "AutoModelForImageTextToText"),
        (A.SPEECH, "WhisperForConditionalGeneration", "AutoModelForSpeechSeq2Seq"),
        (A.SPEECH, "HubertForCTC", "AutoModelForCTC"),
        (A.SPEECH, None, "AutoModelForSpeechSeq2Seq"),
    ],
)
def test_auto_class_for_a_class_is_its_rows_else_the_default(
    architecture: ModelArchitecture, class_name: str | None, auto_class: str
) -> None:
    assert auto_class_for(architecture, class_name) == auto_class


def test_an_invalid_table_reports_every_problem_with_its_key_path() -> None:
    data = {
        "version": 1,
        "heads": {
            "a": {"mapping": "M", "auto_class": "AutoModel", "capabilities": ["x"], "description": "d"},
            "b": {"mapping": "M", "capabilities": "x", "description": "d", "architecture": "encoder"},
        },
        "head_sets": {"s": ["a", "c"]},
        "architectures": {"encoder_only": {"heads": "s", "default": "b"}},
        "detection": {"by_model_type": ["a"], "by_class_suffix": []},
    }
    with pytest.raises(HFBenchError) as info:
        parse_head_table(data, source="heads.toml")
    message = str(info.value)
    for fragment in (
        "Invalid head table heads.toml",
        "heads.b.auto_class",
        "heads.b.capabilities",
        "heads.b.architecture",
        "head_sets.s[1]",
        "architectures.encoder_only.default",
        "row 'a' has no 'architecture'",
    ):
        assert fragment in message, fragment
