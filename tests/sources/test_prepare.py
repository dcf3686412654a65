"""``prepare_model``: the explicit, timed step for embedded models, local folders and Hub ids."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hfbench
from hfbench.core.errors import EmbeddedModelError, ModelNotFoundError
from hfbench.sources import PreparedModel, hub_snapshot, prepare_model, source_kind
from hfbench.sources.hub_snapshot import files_to_fetch, is_loadable_snapshot

CONFIG = json.dumps({"model_type": "llama"})


def test_prepared_model_is_a_small_frozen_record(tmp_path: Path) -> None:
    prepared = PreparedModel(source="acme/m", kind="hub", path=tmp_path, hub_id="acme/m")
    with pytest.raises(AttributeError):
        prepared.seconds = 1.0  # type: ignore[misc]
    assert (prepared.seconds, prepared.did_work) == (0.0, False)
    assert "already prepared" in prepared.summary()
    assert hfbench.PreparedModel is PreparedModel and hfbench.prepare_model is prepare_model


def test_source_kinds(tmp_path: Path) -> None:
    assert source_kind("embedded:whisper-base") == "embedded"
    assert source_kind(tmp_path) == "local"
    assert source_kind("acme/model") == "hub"


# --------------------------------------------------------------------------- embedded


@pytest.fixture
def fake_bert(
    tmp_cache: Path,
    use_catalog: Callable[..., Path],
    catalog_entry: Callable[..., dict[str, Any]],
    fake_copy_model: Path,
) -> Path:
    use_catalog([catalog_entry()])
    return tmp_cache / "embedded" / "fake-bert"


def test_first_preparation_converts_timed_with_a_log_line(
    fake_bert: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hfbench"):
        prepared = prepare_model("embedded:fake-bert", progress=False)
    assert prepared == PreparedModel(
        source="embedded:fake-bert",
        kind="embedded",
        path=fake_bert,
        seconds=prepared.seconds,
        did_work=True,
    )
    assert prepared.seconds > 0.0
    assert "Preparing embedded:fake-bert (converting once" in caplog.text


def test_preparing_a_converted_model_again_does_nothing_and_costs_nothing(fake_bert: Path) -> None:
    prepare_model("embedded:fake-bert", progress=False)
    start = time.perf_counter()
    again = prepare_model("embedded:fake-bert", progress=False)
    assert time.perf_counter() - start < 0.5
    assert again.seconds == 0.0 and again.did_work is False and again.path == fake_bert


def test_a_progress_bar_shows_the_conversion_steps(
    fake_bert: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare_model("embedded:fake-bert", progress=True)
    err = capsys.readouterr().err
    assert "embedded:fake-bert" in err and "3/3" in err


def test_resolving_and_detecting_never_prepare(fake_bert: Path) -> None:
    from hfbench.sources import resolve_model_source

    assert hfbench.detect_architecture("embedded:fake-bert").value == "encoder_only"
    with pytest.raises(EmbeddedModelError, match="not prepared yet"):
        resolve_model_source("embedded:fake-bert")
    assert not fake_bert.exists()


def test_unknown_embedded_name_is_reported_before_anything_runs(tmp_cache: Path) -> None:
    with pytest.raises(EmbeddedModelError, match="Did you mean"):
        prepare_model("embedded:whisper-tiny", progress=False)
    assert not tmp_cache.exists()


# --------------------------------------------------------------------------- local folders


def test_a_local_model_folder_needs_no_work(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(CONFIG)
    prepared = prepare_model(tmp_path)
    assert prepared == PreparedModel(source=str(tmp_path), kind="local", path=tmp_path)


def test_a_local_folder_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not a Hugging Face model folder"):
        prepare_model(tmp_path)


# --------------------------------------------------------------------------- Hub ids (offline here)


def test_a_cached_hub_model_is_found_offline_with_no_work(
    hub_cache: Callable[..., Path], tmp_path: Path
) -> None:
    snapshot = hub_cache(
        "acme/tiny", {"config.json": CONFIG, "model.safetensors": b"w", "tokenizer.json": "{}"}
    )
    prepared = prepare_model("acme/tiny", cache_dir=str(tmp_path / "hub"))
    assert prepared == PreparedModel(source="acme/tiny", kind="hub", path=snapshot, hub_id="acme/tiny")


def test_a_sharded_cached_model_needs_every_shard(hub_cache: Callable[..., Path], tmp_path: Path) -> None:
    index = json.dumps(
        {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
    )
    files = {
        "config.json": CONFIG,
        "model.safetensors.index.json": index,
        "model-00001-of-00002.safetensors": b"1",
    }
    snapshot = hub_cache("acme/sharded", files)
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        prepare_model("acme/sharded", cache_dir=str(tmp_path / "hub"))
    (snapshot / "model-00002-of-00002.safetensors").write_bytes(b"2")
    assert prepare_model("acme/sharded", cache_dir=str(tmp_path / "hub")).did_work is False


def test_an_uncached_hub_model_offline_says_what_offline_means(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"not in the Hub cache.*HF_HUB_OFFLINE is set"):
        prepare_model("acme/not-cached", cache_dir=str(tmp_path))


def test_a_cached_config_without_weights_is_not_prepared(
    hub_cache: Callable[..., Path], tmp_path: Path
) -> None:
    hub_cache("acme/config-only", {"config.json": CONFIG})  # what detect_architecture leaves behind
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        prepare_model("acme/config-only", cache_dir=str(tmp_path / "hub"))


def test_online_preparation_fetches_only_what_loading_needs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The download path, with huggingface_hub's two calls replaced (no network here)."""
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo_files = ["config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5", "onnx/model.onnx"]
    calls: list[dict[str, Any]] = []

    def fake_snapshot_download(repo_id: str, **kwargs: Any) -> str:
        calls.append(kwargs)
        if kwargs.get("local_files_only"):
            raise LocalEntryNotFoundError("not cached")
        folder = tmp_path / "snapshot"
        folder.mkdir()
        for name in kwargs["allow_patterns"]:
            (folder / name).write_text(CONFIG if name == "config.json" else "w")
        return str(folder)

    monkeypatch.setattr(hub_snapshot, "hub_offline", lambda: False)
    monkeypatch.setattr(huggingface_hub, "list_repo_files", lambda repo_id, revision=None: repo_files)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    prepared = prepare_model("acme/online", progress=False)
    assert prepared.did_work is True and prepared.kind == "hub" and prepared.hub_id == "acme/online"
    assert calls[-1]["allow_patterns"] == ["config.json", "model.safetensors"]


# --------------------------------------------------------------------------- what loading needs


def test_files_to_fetch_prefers_safetensors_and_skips_other_frameworks() -> None:
    files = [
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "merges.txt",
        "vocab.json",
        "spiece.model",
        "chat_template.jinja",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
        "pytorch_model.bin.index.json",
        "pytorch_model-00001-of-00002.bin",
        "training_args.bin",
        "tf_model.h5",
        "flax_model.msgpack",
        "model.gguf",
        "README.md",
        "onnx/model.onnx",
        "original/params.json",
    ]
    assert files_to_fetch(files) == sorted(
        [
            "chat_template.jinja",
            "config.json",
            "generation_config.json",
            "merges.txt",
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json",
            "special_tokens_map.json",
            "spiece.model",
            "tokenizer.json",
            "tokenizer_config.json",
            "vocab.json",
        ]
    )


def test_files_to_fetch_takes_pytorch_weights_only_without_safetensors() -> None:
    files = ["config.json", "pytorch_model.bin", "training_args.bin", "tf_model.h5"]
    assert files_to_fetch(files) == ["config.json", "pytorch_model.bin"]


def test_a_snapshot_is_loadable_with_a_config_and_complete_weights(tmp_path: Path) -> None:
    assert not is_loadable_snapshot(tmp_path)
    (tmp_path / "config.json").write_text(CONFIG)
    assert not is_loadable_snapshot(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"w")
    assert is_loadable_snapshot(tmp_path)
