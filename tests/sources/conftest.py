"""Fixtures for the sources tests: a private cache, fake catalogues, fake packages, a fake Hub cache.

Non-real tests point ``HFBENCH_CACHE`` at a per-test folder and use small importable packages
written into ``tmp_path``; Hub models are files laid out as huggingface_hub's cache lays them out
(the session runs with ``HF_HUB_OFFLINE=1``). ``real_model`` tests convert into the normal hfbench
cache (or ``$HFBENCH_REAL_MODEL_CACHE``) so the one-time conversions (Gemma ~1 min, SmolLM2
~40 s) are shared with ``hfbench setup`` and between sessions.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hfbench.sources.embedded import EmbeddedModel, get_embedded_model
from hfbench.sources.embedded.catalog import CATALOG_ENV, _cached_catalog
from hfbench.sources.embedded.packages import missing_modules


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty ``HFBENCH_CACHE`` for one test."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("HFBENCH_CACHE", str(cache))
    return cache


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def catalog_toml(entries: list[dict[str, Any]], version: int = 1) -> str:
    """Render catalogue entries as TOML (enough of TOML for these tests)."""
    lines = [f"version = {version}"]
    for entry in entries:
        lines.append("\n[[model]]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in entry.items())
    return "\n".join(lines) + "\n"


def _entry(**overrides: Any) -> dict[str, Any]:
    """A valid catalogue entry (a 'copy' model from the fake package), with overrides."""
    base: dict[str, Any] = {
        "name": "fake-bert",
        "hub_id": "hfbench-tests/fake-bert",
        "architecture": "encoder_only",
        "capabilities": ["embeddings"],
        "params": 1234,
        "dtype_on_disk": "float32",
        "format_on_disk": "safetensors-fp32",
        "converter": "copy",
        "license": "MIT",
        "packages": [{"name": "hfbench-fake-model", "version": "1.0", "module": "hfbench_fake_model"}],
        "folder": "hfbench_fake_model:model",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def catalog_entry() -> Callable[..., dict[str, Any]]:
    """``catalog_entry(**overrides)``: a valid 'copy' entry reading the fake package."""
    return _entry


@pytest.fixture
def use_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """``use_catalog(entries)`` writes a catalogue file and makes it the active one."""
    counter = iter(range(1000))

    def _use(entries: list[dict[str, Any]], version: int = 1) -> Path:
        path = tmp_path / f"catalog{next(counter)}.toml"
        path.write_text(catalog_toml(entries, version), encoding="utf-8")
        monkeypatch.setenv(CATALOG_ENV, str(path))
        return path

    yield _use
    _cached_catalog.cache_clear()


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """``fake_package(module, {relative_path: bytes})`` creates an importable package on sys.path."""
    site = tmp_path / "site"

    def _make(module: str, files: dict[str, bytes]) -> Path:
        root = site / module
        root.mkdir(parents=True, exist_ok=True)
        (root / "__init__.py").write_text('"""Test data package."""\n', encoding="utf-8")
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()
        return root

    yield _make
    for name in [m for m in sys.modules if m.startswith("hfbench_fake")]:
        del sys.modules[name]


@pytest.fixture
def fake_copy_model(fake_package: Callable[..., Path]) -> Path:
    """The fake package ``hfbench_fake_model`` with a small 'model' folder."""
    return fake_package(
        "hfbench_fake_model",
        {
            "model/config.json": b'{"model_type": "bert"}',
            "model/1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
        },
    )


# --------------------------------------------------------------------------- a fake Hub cache

HUB_COMMIT = "0" * 40


def write_hub_snapshot(hub: Path, repo_id: str, files: dict[str, str | bytes]) -> Path:
    """Lay ``files`` out as huggingface_hub caches ``repo_id`` at ``main``; returns the snapshot folder."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / HUB_COMMIT
    for name, content in files.items():
        path = snapshot / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(HUB_COMMIT)
    return snapshot


@pytest.fixture
def hub_cache(tmp_path: Path) -> Callable[..., Path]:
    """``hub_cache(repo_id, {name: content})`` writes a cached snapshot under ``tmp_path / "hub"``."""
    hub = tmp_path / "hub"
    hub.mkdir(exist_ok=True)

    def _write(repo_id: str, files: dict[str, str | bytes]) -> Path:
        return write_hub_snapshot(hub, repo_id, files)

    return _write


# --------------------------------------------------------------------------- real models


@pytest.fixture(scope="module")
def real_cache() -> Iterator[Path]:
    """The persistent cache real models convert into: ``$HFBENCH_REAL_MODEL_CACHE`` if set, else
    the normal hfbench cache (``$HFBENCH_CACHE``, ``$HF_HOME/hfbench`` …), the one ``hfbench
    setup`` fills."""
    from hfbench.sources.cache import cache_dir

    with pytest.MonkeyPatch.context() as mp:
        chosen = os.environ.get("HFBENCH_REAL_MODEL_CACHE")
        if chosen:
            mp.setenv("HFBENCH_CACHE", chosen)
        yield cache_dir()


def _require_packages(name: str) -> EmbeddedModel:
    model = get_embedded_model(name)
    missing = missing_modules(model)
    if missing:
        pytest.skip(f"{name} needs {', '.join(missing)}; install with: {model.install_command}")
    return model


@pytest.fixture(scope="session")
def require_packages() -> Callable[[str], EmbeddedModel]:
    """``require_packages(name)``: the catalogue entry, or skip with the install command."""
    return _require_packages
