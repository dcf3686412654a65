"""``EvalItem``, ``Provenance`` and ``EvalSet``: eval data with where it came from, as JSON Lines.

An eval set file is one header line ``{"hfbench_eval_set": 1, "set": {...}}`` (name, capability,
metric, labels and the provenance) followed by one item per line. Files are written to a
temporary sibling and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hfbench.core.errors import BenchmarkError

#: The eval set file format this hfbench writes and reads.
EVAL_SET_FORMAT = 1


@dataclass(frozen=True)
class EvalItem:
    """One item of an eval set.

    Attributes:
        id: a stable id taken from the source (SQuAD's question id, a file name, ``imdb-17``).
        inputs: the input fields (``text``, ``question``/``context``, ``audio_path`` ...).
        reference: the expected output (a label, a text, a list of acceptable answers, a
            similarity score; None for perplexity, where the text itself is the reference).
    """

    id: str
    inputs: dict[str, Any]
    reference: Any = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary."""
        return {"id": self.id, "inputs": self.inputs, "reference": self.reference}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalItem:
        """The item written by ``to_dict``."""
        return cls(id=str(data["id"]), inputs=dict(data["inputs"]), reference=data.get("reference"))


@dataclass(frozen=True)
class Provenance:
    """Where an eval set's items came from and how the subset was drawn.

    Attributes:
        package: the package that ships the data (``bigbench``, ``sentiment`` ... or ``hfbench``).
        version: its version.
        registry: ``pypi``, ``npm``, ``debian`` or ``hfbench`` (hand-made, in this package).
        archive: the downloaded file (``bigbench-1.0.0.tar.gz``), when one was.
        files: the file(s) inside the package the items were read from.
        licence: the data's licence.
        source: what the data is (``SQuAD v1.1 dev set``) and who made it.
        seed: the seed of the random subset.
        subset_size: how many items were drawn.
        total_items: how many usable items the source has.
        item_ids: the drawn items' ids, in order.
        hand_made: True when hfbench's authors wrote the items.
        how_made: for hand-made sets, how they were written and checked.
        builder_version: the builder's recipe version (a change rebuilds cached sets).
    """

    package: str
    version: str
    registry: str
    files: tuple[str, ...]
    licence: str
    source: str
    seed: int
    subset_size: int
    total_items: int
    item_ids: tuple[str, ...]
    hand_made: bool = False
    how_made: str = ""
    archive: str = ""
    builder_version: int = 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary (tuples become lists)."""
        data = asdict(self)
        data["files"] = list(self.files)
        data["item_ids"] = list(self.item_ids)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """The provenance written by ``to_dict``."""
        values = dict(data)
        values["files"] = tuple(values.get("files", ()))
        values["item_ids"] = tuple(values.get("item_ids", ()))
        return cls(**values)


@dataclass(frozen=True)
class EvalSet:
    """A seeded random subset of an established (or hand-made) eval data source.

    Attributes:
        name: the registered name (``squad-v1.1``).
        capability: the canonical capability it measures.
        metric: the default metric's registered name.
        items: the drawn items, in drawn order.
        provenance: where they came from.
        labels: the candidate labels, for classification sets.
    """

    name: str
    capability: str
    metric: str
    items: tuple[EvalItem, ...]
    provenance: Provenance
    labels: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.items)

    @property
    def ids(self) -> list[str]:
        """The items' ids, in order."""
        return [item.id for item in self.items]

    def header(self) -> dict[str, Any]:
        """The file's first line: everything but the items."""
        return {
            "hfbench_eval_set": EVAL_SET_FORMAT,
            "set": {
                "name": self.name,
                "capability": self.capability,
                "metric": self.metric,
                "labels": list(self.labels),
                "provenance": self.provenance.to_dict(),
            },
        }

    def write_jsonl(self, path: Path) -> Path:
        """Write the set as JSON Lines (header line, then one item per line), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps(self.header(), ensure_ascii=False) + "\n")
                for item in self.items:
                    out.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    @classmethod
    def read_jsonl(cls, path: Path) -> EvalSet:
        """Read a set written by ``write_jsonl``.

        Raises:
            BenchmarkError: the file is not an eval set file of this format.
        """
        lines = path.read_text(encoding="utf-8").splitlines()
        try:
            header = json.loads(lines[0]) if lines else {}
            if header.get("hfbench_eval_set") != EVAL_SET_FORMAT:
                raise ValueError(f"format {header.get('hfbench_eval_set')!r}, expected {EVAL_SET_FORMAT}")
            meta = header["set"]
            items = tuple(EvalItem.from_dict(json.loads(line)) for line in lines[1:] if line.strip())
            return cls(
                name=meta["name"],
                capability=meta["capability"],
                metric=meta["metric"],
                items=items,
                provenance=Provenance.from_dict(meta["provenance"]),
                labels=tuple(meta.get("labels", ())),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BenchmarkError(
                f"{path} is not a readable hfbench eval set ({exc}); delete it to rebuild it."
            ) from None
