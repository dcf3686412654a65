"""Turn what a user names as a model into files on this machine — looking only, never preparing.

``resolve_model_source`` answers from what is already there: a folder, a prepared embedded
model, or the Hub id unchanged (huggingface_hub's cache is transformers' business). Converting
and downloading are ``prepare_model``'s job.
"""

from __future__ import annotations

import os
from pathlib import Path

from hfbench.core.errors import ModelNotFoundError
from hfbench.core.model_source import is_embedded
from hfbench.sources.embedded.prepare import prepared_folder
from hfbench.sources.prepared import SourceKind


def source_kind(source: str | os.PathLike[str]) -> SourceKind:
    """``embedded`` for ``embedded:<name>``, ``local`` for an existing path, else ``hub``."""
    if is_embedded(source):
        return "embedded"
    if Path(source).expanduser().exists():
        return "local"
    return "hub"


def check_model_folder(folder: Path) -> Path:
    """``folder`` if it is a Hugging Face model folder (a folder with ``config.json``).

    Raises:
        ModelNotFoundError: it is a file, or a folder without ``config.json``.
    """
    if not (folder / "config.json").is_file():
        what = "folder" if folder.is_dir() else "path"
        raise ModelNotFoundError(
            f"The {what} {folder} has no config.json, so it is not a Hugging Face model folder; "
            "pass a model folder, a Hub id (owner/name) or embedded:<name>."
        )
    return folder


def resolve_model_source(source: str | os.PathLike[str]) -> str:
    """A local folder for ``embedded:`` names and existing paths, else the Hub id unchanged.

    Never converts or downloads anything.

    Raises:
        EmbeddedModelError: an ``embedded:`` model that is not prepared yet (the message says
            how: ``hfbench setup <name>`` or ``hfbench.prepare_model("embedded:<name>")``).
    """
    kind = source_kind(source)
    if kind == "embedded":
        return str(prepared_folder(str(source)))
    if kind == "local":
        return str(Path(source).expanduser())
    return str(source)
