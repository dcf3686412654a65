"""Architecture detection from a config in memory (pure), built from transformers' own config classes."""

from __future__ import annotations

import pytest
from transformers import AutoConfig

from hfbench.core.architecture import (
    ModelArchitecture,
    architecture_from_config,
    architecture_from_config_dict,
    model_type_table,
)
from hfbench.core.errors import ArchitectureDetectionError

A = ModelArchitecture

FAMILIES: dict[ModelArchitecture, list[str]] = {
    A.ENCODER_ONLY: [
        "bert",
        "roberta",
        "distilbert",
        "deberta",
        "deberta-v2",
        "electra",
        "xlm-roberta",
        "modernbert",
    ],
    A.DECODER_ONLY: [
        "gpt2",
        "llama",
        "mistral",
        "mixtral",
        "qwen2",
        "qwen3",
        "phi",
        "phi3",
        "gemma",
        "gemma2",
        "gemma3_text",
        "falcon",
        "gpt_neox",
        "olmo",
        "olmo2",
    ],
    A.ENCODER_DECODER: ["t5", "mt5", "bart", "mbart", "marian", "pegasus", "m2m_100"],
    A.VISION_ENCODER: ["vit", "deit", "convnext", "swin", "dinov2", "clip", "siglip"],
    A.MULTIMODAL: [
        "llava",
        "blip",
        "blip-2",
        "paligemma",
        "idefics",
        "idefics2",
        "idefics3",
        "qwen2_vl",
        "gemma3",
    ],
    A.SPEECH: ["whisper", "wav2vec2", "hubert", "speecht5"],
}


@pytest.mark.parametrize(
    ("model_type", "expected"),
    [(mt, arch) for arch, types in FAMILIES.items() for mt in types],
)
def test_detects_family_from_transformers_config_class(model_type: str, expected: ModelArchitecture) -> None:
    config = AutoConfig.for_model(model_type)
    assert architecture_from_config(config) is expected


def test_detects_from_a_loaded_model() -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16, n_positions=8))
    assert architecture_from_config(model) is A.DECODER_ONLY


def test_every_table_entry_is_a_known_transformers_model_type_or_documented() -> None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    unknown = [mt for mt in model_type_table() if mt not in CONFIG_MAPPING_NAMES]
    # A few newer/renamed types may be missing from this transformers version; keep it small.
    assert len(unknown) <= 10, unknown


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"model_type": "my_new_lm", "architectures": ["MyNewForCausalLM"]}, A.DECODER_ONLY),
        ({"model_type": "my_seq2seq", "is_encoder_decoder": True}, A.ENCODER_DECODER),
        ({"model_type": "x", "vision_config": {}, "text_config": {}}, A.MULTIMODAL),
        ({"model_type": "x", "num_mel_bins": 80}, A.SPEECH),
        ({"model_type": "x", "image_size": 224, "patch_size": 16}, A.VISION_ENCODER),
        ({"model_type": "x", "architectures": ["XForMaskedLM"]}, A.ENCODER_ONLY),
        ({"model_type": "x", "architectures": ["XForCTC"]}, A.SPEECH),
    ],
)
def test_fallbacks_for_unknown_model_types(config: dict, expected: ModelArchitecture) -> None:
    assert architecture_from_config_dict(config) is expected


def test_transformers_task_mappings_decide_types_missing_from_the_table() -> None:
    # 'bloom' is in the table; 'codegen' too — pick one transformers maps but the table lacks.
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    missing = [mt for mt in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES if mt not in model_type_table()]
    assert missing, "every causal LM type is in the table; nothing to check"
    assert architecture_from_config_dict({"model_type": missing[0]}) is A.DECODER_ONLY


def test_undecidable_config_falls_back_to_decoder_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        assert architecture_from_config_dict({"model_type": "mystery"}) is A.DECODER_ONLY
    assert "mystery" in caplog.text and "Pin it" in caplog.text


def test_wrong_source_type_raises() -> None:
    with pytest.raises(ArchitectureDetectionError, match="Cannot detect"):
        architecture_from_config(42)


def test_parse_accepts_values_names_and_aliases_with_did_you_mean() -> None:
    assert ModelArchitecture.parse("enc_dec") is A.ENCODER_DECODER
    assert ModelArchitecture.parse("ENCODER_DECODER") is A.ENCODER_DECODER
    assert ModelArchitecture.parse("seq2seq") is A.ENCODER_DECODER
    with pytest.raises(ArchitectureDetectionError, match="Did you mean 'decoder_only'"):
        ModelArchitecture.parse("decoder_onyl")


def test_enum_matches_the_seed() -> None:
    assert [a.value for a in A] == [
        "encoder_only",
        "decoder_only",
        "enc_dec",
        "vision_enc",
        "multimodal",
        "speech",
    ]
    assert isinstance(A.SPEECH, str)
