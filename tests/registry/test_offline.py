"""Offline: only cached or embedded models, and the embedded set covers what it can serve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import ModelCapabilities
from hfbench.registry import CapabilityRegistry, hardware_profile, model_availability
from hfbench.registry.availability import hub_cache_dir
from hfbench.sources.embedded import embedded_catalog, embedded_folder
from hfbench.sources.embedded.converters import CONVERTERS
from hfbench.sources.embedded.prepare import METADATA_FILE

LAPTOP = "laptop-16gb"


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hub cache and an empty hfbench cache: nothing is available until a test adds it."""
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "hfbench-cache"))
    return home


def cache_hub_model(home: Path, repo_id: str, *, weights: bool = True) -> Path:
    """Lay a snapshot out as huggingface_hub caches it (config, and weights when asked)."""
    repo = home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps({"model_type": "qwen3"}))
    if weights:
        (snapshot / "model.safetensors").write_bytes(b"weights")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    return snapshot


def prepare_embedded(name: str) -> Path:
    """A converted folder as ``hfbench setup`` leaves it (its files are not read here)."""
    model = next(m for m in embedded_catalog() if m.name == name)
    folder = embedded_folder(model)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / METADATA_FILE).write_text(
        json.dumps({"converter_version": CONVERTERS[model.converter].version})
    )
    (folder / ".hfbench-complete").write_text("")
    return folder


def test_availability_reads_the_caches_the_environment_names(hf_home: Path, tmp_path: Path) -> None:
    assert hub_cache_dir() == hf_home / "hub"
    assert not model_availability("Qwen/Qwen3-0.6B").available
    cache_hub_model(hf_home, "Qwen/Qwen3-0.6B", weights=False)  # what detect_architecture leaves
    assert not model_availability("Qwen/Qwen3-0.6B").available
    cache_hub_model(hf_home, "Qwen/Qwen3-1.7B")
    found = model_availability("Qwen/Qwen3-1.7B")
    assert found.available and found.where == "hub cache"
    assert not model_availability("embedded:smollm2-135m-instruct").available
    prepare_embedded("smollm2-135m-instruct")
    assert model_availability("embedded:smollm2-135m-instruct").where == "embedded"
    folder = tmp_path / "mine"
    folder.mkdir()
    assert not model_availability(str(folder)).available
    (folder / "config.json").write_text("{}")
    assert model_availability(str(folder)).where == "folder"


def test_offline_auto_never_picks_an_uncached_model(hf_home: Path) -> None:
    registry = CapabilityRegistry(offline=True)
    laptop = hardware_profile(LAPTOP)
    assert registry.get_recommendation("chat", "auto", laptop) is None
    explanation = registry.explain_recommendation("chat", "auto", laptop, what_if=True)
    assert all(c.failed_checks[0] == "unavailable" for c in explanation.candidates)
    assert "network access once" in explanation.advice()
    cache_hub_model(hf_home, "Qwen/Qwen3-0.6B")
    chosen = registry.get_recommendation("chat", "auto", laptop)
    assert chosen is not None and chosen.model_name == "Qwen/Qwen3-0.6B"
    explanation = registry.explain_recommendation("chat", "auto", laptop)
    assert all(
        model_availability(c.recommendation.model_name).available
        == (c.recommendation.model_name == chosen.model_name)
        for c in explanation.candidates
    )
    assert "[hub cache" in explanation.candidates[-1].describe()
    assert CapabilityRegistry().get_recommendation("chat", "auto", laptop).model_name != "Qwen/Qwen3-0.6B"  # type: ignore[union-attr]


def test_offline_falls_back_to_a_prepared_embedded_model(hf_home: Path) -> None:
    prepare_embedded("smollm2-135m-instruct")
    chosen = CapabilityRegistry(offline=True).get_recommendation("chat", "auto", hardware_profile(LAPTOP))
    assert chosen is not None and chosen.model_name == "embedded:smollm2-135m-instruct"
    zero_shot = CapabilityRegistry(offline=True).get_recommendation(
        "zero-shot-classification", "auto", hardware_profile(LAPTOP)
    )
    assert zero_shot is not None and zero_shot.model_name == "embedded:smollm2-135m-instruct"


def test_offline_defaults_cover_every_capability_an_embedded_model_serves() -> None:
    """By its head, or by prompting a model that generates text (zero-shot on SmolLM2)."""
    offline = CapabilityRegistry.offline_defaults()
    prompted = {
        ModelArchitecture.DECODER_ONLY: set(ModelCapabilities(ModelArchitecture.DECODER_ONLY).names())
        - {"embeddings"},  # a decoder's hidden states are not sentence embeddings
    }
    for model in embedded_catalog():
        serves = set(model.capabilities) | prompted.get(model.architecture, set())
        if model.name == "gemma-3-270m":
            serves -= {"chat", "general"}  # a base model: no chat template
        for capability in serves:
            found = offline.get_recommendation(capability, "tiny")
            assert found is not None and found.model_name.startswith("embedded:"), (model.name, capability)
    assert offline.get_recommendation("zero-shot-classification", "tiny").model_name == (  # type: ignore[union-attr]
        "embedded:smollm2-135m-instruct"
    )
