"""How a user names a model: a Hub id, a local folder, or ``embedded:<name>`` (names only, no I/O).

Turning a name into files on disk (resolving, converting, downloading) is ``hfbench.sources``'
job; this module only reads the name.
"""

from __future__ import annotations

import os

#: The prefix of embedded real models: ``embedded:<name>`` (see docs/embedded-models.md).
EMBEDDED_PREFIX = "embedded:"


def is_embedded(source: str | os.PathLike[str]) -> bool:
    """True for ``embedded:<name>`` sources."""
    return isinstance(source, str) and source.strip().startswith(EMBEDDED_PREFIX)


def strip_prefix(name: str) -> str:
    """``embedded:whisper-base`` -> ``whisper-base`` (names without the prefix pass through)."""
    name = name.strip()
    return name[len(EMBEDDED_PREFIX) :] if name.startswith(EMBEDDED_PREFIX) else name
