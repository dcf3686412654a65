"""``PreparedModel``: what ``prepare_model`` hands back — where a model's files are, and what it cost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: Where a model comes from: an ``embedded:<name>``, a Hub id, or a local folder.
SourceKind = Literal["embedded", "hub", "local"]


@dataclass(frozen=True)
class PreparedModel:
    """A model whose files are all on this machine, ready for ``from_pretrained``.

    Attributes:
        source: the source as given (``embedded:whisper-base``, ``acme/model``, a folder).
        kind: ``embedded``, ``hub`` or ``local``.
        path: the local folder to load from (for a Hub id, its snapshot in huggingface_hub's cache).
        seconds: wall time spent preparing in this call (0.0 when nothing had to be done).
        did_work: whether anything was converted or downloaded in this call.
        hub_id: the Hub id, for ``kind == "hub"`` (else None).
    """

    source: str
    kind: SourceKind
    path: Path
    seconds: float = 0.0
    did_work: bool = False
    hub_id: str | None = None

    def summary(self) -> str:
        """One line for people: the source, the folder, and what preparing it took."""
        done = f"prepared in {self.seconds:.1f} s" if self.did_work else "already prepared"
        return f"{self.source:<32} {done:<22} {self.path}"
