"""``size_tier="auto"`` with ``HF_HUB_OFFLINE`` set: only a cached or embedded model, and it says so.

The test session runs with ``HF_HUB_OFFLINE=1`` (``tests/conftest.py``); each test points
``HF_HUB_CACHE`` and ``HFBENCH_CACHE`` at empty folders and adds what it needs: a tiny-zoo model
laid out as a Hub cache snapshot, or an embedded model that counts as prepared.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hfbench.core.errors import NoSuitableModelError
from hfbench.core.hub import hub_offline
from hfbench.providers.huggingface import HuggingFaceProvider
from hfbench.registry import hardware_profile
from hfbench.sources import embedded

LAPTOP = hardware_profile("laptop-16gb")


@pytest.fixture
def empty_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hub cache (named by ``HF_HUB_CACHE``) and no prepared embedded model."""
    hub = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "hfbench-cache"))
    return hub


def cache_as_hub_model(hub: Path, repo_id: str, folder: Path) -> Path:
    """Copy a local model folder into the Hub cache layout under ``repo_id``."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / ("1" * 40)
    shutil.copytree(folder, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("1" * 40)
    return snapshot


def prepared_only(name: str, folder: Path) -> Callable[[object], Path | None]:
    """A stand-in for ``converted_folder``: ``name`` is prepared (in ``folder``), no other model is."""

    def converted_folder(model: object) -> Path | None:
        return folder if str(model) == name else None

    return converted_folder


def test_the_session_is_offline() -> None:
    assert hub_offline()


def test_offline_auto_picks_a_cached_model_and_logs_it(
    empty_caches: Path, tiny_llama: Path, caplog: pytest.LogCaptureFixture
) -> None:
    snapshot = cache_as_hub_model(empty_caches, "Qwen/Qwen3-0.6B", tiny_llama)
    llm = HuggingFaceProvider({"size_tier": "auto"}, system=LAPTOP)
    with caplog.at_level(logging.INFO, logger="hfbench.providers.huggingface"):
        assert llm.get_model_for_capability("chat") == "Qwen/Qwen3-0.6B"
    assert "HF_HUB_OFFLINE is set: Qwen/Qwen3-0.6B for chat (tier auto) is hub cache" in caplog.text
    assert str(snapshot) in caplog.text
    assert llm.model_name == "Qwen/Qwen3-0.6B"


def test_offline_auto_never_picks_an_uncached_model(empty_caches: Path) -> None:
    llm = HuggingFaceProvider({"size_tier": "auto"}, system=LAPTOP)
    with pytest.raises(NoSuitableModelError) as info:
        llm.get_model_for_capability("chat")
    message = str(info.value)
    assert "offline" in message and "not in the Hub cache" in message and "network access once" in message
    assert "Qwen/Qwen3-1.7B" in message  # what it would have taken online, rejected for that reason


def test_offline_auto_falls_back_to_a_prepared_embedded_model(
    empty_caches: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        embedded, "converted_folder", prepared_only("smollm2-135m-instruct", tmp_path / "smollm2")
    )
    llm = HuggingFaceProvider({"size_tier": "auto"}, system=LAPTOP)
    with caplog.at_level(logging.INFO, logger="hfbench.providers.huggingface"):
        assert llm.get_model_for_capability("zero-shot-classification") == "embedded:smollm2-135m-instruct"
    assert "is embedded" in caplog.text


def test_a_named_tier_still_names_a_model_to_download(empty_caches: Path) -> None:
    llm = HuggingFaceProvider({"size_tier": "tiny"}, system=LAPTOP)
    assert llm.get_model_for_capability("summarization") == "facebook/bart-large-cnn"
