"""Turn what a user names as a model (Hub id, folder, ``embedded:<name>``) into a loadable source."""

from __future__ import annotations

import os
from pathlib import Path

EMBEDDED_PREFIX = "embedded:"


def is_embedded(source: str | os.PathLike[str]) -> bool:
    """True for ``embedded:<name>`` sources."""
    return isinstance(source, str) and source.startswith(EMBEDDED_PREFIX)


def resolve_model_source(source: str | os.PathLike[str]) -> str:
    """Return a local folder for ``embedded:`` names and existing paths, else the Hub id unchanged.

    Embedded models are converted into the cache on first use (see ``hfbench.core.embedded``).
    """
    if is_embedded(source):
        from hfbench.core.embedded import embedded_model_path

        return str(embedded_model_path(str(source)[len(EMBEDDED_PREFIX) :]))
    path = Path(source).expanduser()
    if path.exists():
        return str(path)
    return str(source)
