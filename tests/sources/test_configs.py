"""Reading a model's config (folder, Hub cache, embedded catalogue) and the public ``detect_architecture``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from transformers import AutoConfig

import hfbench
from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import ArchitectureDetectionError, EmbeddedModelError, ModelNotFoundError
from hfbench.sources import detect_architecture, load_config_dict, resolve_model_source

A = ModelArchitecture


def test_the_top_level_name_is_the_sources_function() -> None:
    assert hfbench.detect_architecture is detect_architecture


def test_detects_from_a_local_folder(tmp_path: Path) -> None:
    AutoConfig.for_model("t5").save_pretrained(tmp_path)
    assert detect_architecture(tmp_path) is A.ENCODER_DECODER
    assert detect_architecture(str(tmp_path)) is A.ENCODER_DECODER


def test_detects_from_a_dict_a_config_and_a_loaded_model() -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16, n_positions=8)
    assert detect_architecture({"model_type": "t5"}) is A.ENCODER_DECODER
    assert detect_architecture(config) is A.DECODER_ONLY
    assert detect_architecture(GPT2LMHeadModel(config)) is A.DECODER_ONLY


def test_wrong_source_type_raises() -> None:
    with pytest.raises(ArchitectureDetectionError, match="Cannot detect"):
        detect_architecture(42)


def test_missing_hub_model_offline_raises_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        detect_architecture("some-org/surely-not-cached-model", cache_dir=str(tmp_path))


def test_folder_without_config_json_raises(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(ModelNotFoundError, match=r"no config\.json.*not a Hugging Face model folder"):
        detect_architecture(tmp_path)


def test_a_file_is_not_a_model_folder(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# hello")
    with pytest.raises(ModelNotFoundError, match="not a Hugging Face model folder"):
        detect_architecture(readme)


def test_reads_a_cached_hub_config_through_huggingface_hub(
    hub_cache: Callable[..., Path], tmp_path: Path
) -> None:
    """A config in the huggingface_hub cache layout is found offline by its Hub id."""
    hub_cache("acme/tiny-llama", {"config.json": json.dumps({"model_type": "llama"})})
    assert detect_architecture("acme/tiny-llama", cache_dir=str(tmp_path / "hub")) is A.DECODER_ONLY


# --------------------------------------------------------------------------- embedded: never prepared


def test_embedded_architecture_comes_from_the_catalogue_without_touching_the_cache(
    tmp_cache: Path,
) -> None:
    start = time.perf_counter()
    assert detect_architecture("embedded:whisper-base") is A.SPEECH
    assert detect_architecture("embedded:smollm2-135m-instruct") is A.DECODER_ONLY
    assert time.perf_counter() - start < 0.5
    assert not tmp_cache.exists()


def test_unknown_embedded_name_is_an_error_with_a_suggestion(tmp_cache: Path) -> None:
    with pytest.raises(EmbeddedModelError, match=r"Did you mean 'whisper-tiny\.en'"):
        detect_architecture("embedded:whisper-tiny")


def test_resolving_an_unprepared_embedded_model_says_how_to_prepare_it(tmp_cache: Path) -> None:
    with pytest.raises(EmbeddedModelError) as info:
        resolve_model_source("embedded:whisper-tiny.en")
    message = str(info.value)
    assert "not prepared yet" in message
    assert "hfbench setup whisper-tiny.en" in message
    assert "hfbench.prepare_model('embedded:whisper-tiny.en')" in message
    assert not tmp_cache.exists()


def test_config_of_an_unprepared_embedded_model_is_the_same_error(tmp_cache: Path) -> None:
    with pytest.raises(EmbeddedModelError, match="not prepared yet"):
        load_config_dict("embedded:all-minilm-l6-v2")
    assert not tmp_cache.exists()


def test_config_of_a_prepared_embedded_model_is_read_from_its_folder(
    tmp_cache: Path,
    use_catalog: Callable[..., Path],
    catalog_entry: Callable[..., dict[str, Any]],
    fake_copy_model: Path,
) -> None:
    use_catalog([catalog_entry()])
    hfbench.prepare_model("embedded:fake-bert", progress=False)
    assert load_config_dict("embedded:fake-bert")["model_type"] == "bert"
    assert resolve_model_source("embedded:fake-bert") == str(tmp_cache / "embedded" / "fake-bert")
