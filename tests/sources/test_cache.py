"""hfbench's own cache folder, and folders built once, atomically, across processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.sources.cache import build_folder_atomically, cache_dir, is_complete


def test_cache_dir_respects_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HFBENCH_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert cache_dir() == tmp_path / "hf" / "hfbench"
    monkeypatch.delenv("HF_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "hfbench"
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "own"))
    assert cache_dir() == tmp_path / "own"


def test_build_folder_atomically_builds_once_and_rebuilds_half_written(tmp_path: Path) -> None:
    calls: list[Path] = []

    def build(folder: Path) -> None:
        calls.append(folder)
        (folder / "weights").write_text("w")

    target = tmp_path / "model"
    build_folder_atomically(target, build)
    build_folder_atomically(target, build)
    assert len(calls) == 1 and is_complete(target) and (target / "weights").read_text() == "w"

    half = tmp_path / "killed"
    half.mkdir()
    (half / "partial").write_text("?")  # no completion marker: a killed build
    build_folder_atomically(half, build)
    assert len(calls) == 2 and not (half / "partial").exists() and is_complete(half)


def test_failed_build_leaves_no_target(tmp_path: Path) -> None:
    def broken(folder: Path) -> None:
        (folder / "x").write_text("x")
        raise RuntimeError("conversion failed")

    with pytest.raises(RuntimeError):
        build_folder_atomically(tmp_path / "m", broken)
    assert not (tmp_path / "m").exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_a_folder_the_ready_check_calls_stale_is_rebuilt(tmp_path: Path) -> None:
    calls: list[str] = []

    def build(folder: Path) -> None:
        calls.append("built")
        (folder / "version").write_text(str(len(calls)))

    target = tmp_path / "model"
    build_folder_atomically(target, build)
    build_folder_atomically(target, build, is_ready=lambda f: (f / "version").read_text() == "2")
    assert calls == ["built", "built"] and (target / "version").read_text() == "2"
