"""The results store: append-only JSON Lines, one record per measured cell, never rewritten.

``<results folder>/records.jsonl`` holds every record of every run on every machine. Only the
driver of a run appends (executors send records back to it). Each append writes one whole line
with one ``write`` under a file lock and ``fsync`` s it, so a crash can at worst leave a partial
*last* line: the next append starts on a fresh line, and reading skips such a line with a
warning naming the file and line. A line written by a newer hfbench (a higher ``schema``) raises
``ResultsError`` instead: it cannot be read correctly, and skipping it would lose data silently.

A re-run skips cells that already have a record for this machine (``finished``), so a killed run
resumes where it stopped; ``--force`` measures them again (the new record is appended, and
readers take the latest record of a cell).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfbench.core.errors import ResultsError

logger = logging.getLogger(__name__)

#: The record format this hfbench writes (and the newest it reads).
SCHEMA_VERSION = 1
#: The store's file inside a results folder.
RECORDS_FILE = "records.jsonl"
#: Keys every record has.
REQUIRED_KEYS = ("schema", "cell_id", "hardware_id", "status", "model", "capability")


@dataclass(frozen=True)
class StoredRecord:
    """A record as read back, with where it came from (for messages)."""

    record: dict[str, Any]
    file: Path
    line: int


def json_safe(value: Any) -> Any:
    """A copy of ``value`` that JSON can hold: NaN and infinities become None, tuples lists,
    numpy scalars and arrays plain numbers and lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalars and arrays
        return json_safe(value.tolist())
    return value


class ResultStore:
    """The records of one results folder.

    Args:
        folder: the results folder (created on the first append).

    Example:
        >>> store = ResultStore("results")
        >>> store.append({"schema": 1, "cell_id": "c1", "hardware_id": "h1", "status": "ok",
        ...               "model": "m", "capability": "chat"})  # doctest: +SKIP
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / RECORDS_FILE

    def __repr__(self) -> str:
        return f"ResultStore({str(self.folder)!r})"

    # ---- writing ------------------------------------------------------------------------------
    def append(self, record: Mapping[str, Any]) -> None:
        """Append one record as one line, atomically (file lock, one write, fsync).

        Raises:
            ResultsError: the record lacks a required key or has a schema this hfbench does not write.
        """
        missing = [k for k in REQUIRED_KEYS if k not in record]
        if missing:
            raise ResultsError(f"A record needs the keys {', '.join(missing)}; got {sorted(record)}.")
        if record["schema"] != SCHEMA_VERSION:
            raise ResultsError(f"This hfbench writes schema {SCHEMA_VERSION}, not {record['schema']!r}.")
        data = (json.dumps(json_safe(record), ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        from filelock import FileLock

        self.folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if not _ends_with_newline(self.path):
                    data = b"\n" + data  # a crash left a partial line: keep it on its own line
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)

    # ---- reading ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[StoredRecord]:
        """Every readable record, in the order written.

        Raises:
            ResultsError: a line written by a newer hfbench (naming the file and line).
        """
        if not self.path.is_file():
            return
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                record = _parse_line(text, self.path, number)
                if record is not None:
                    yield StoredRecord(record, self.path, number)

    def records(self) -> list[dict[str, Any]]:
        """Every readable record, in the order written (see ``__iter__``)."""
        return [stored.record for stored in self]

    def latest(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The latest record of each (cell id, hardware id)."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for stored in self:
            record = stored.record
            out[(str(record["cell_id"]), str(record["hardware_id"]))] = record
        return out

    def finished(self, hardware_id: str, *, retry_failed: bool = False) -> set[str]:
        """Cell ids that already have a record made on ``hardware_id`` (a re-run skips them).

        Args:
            retry_failed: do not count cells whose latest record failed (crash, timeout, error),
                so they run again; measured outcomes (``ok``, ``oom``, ``too_slow``) still count.
        """
        done: set[str] = set()
        for (cell_id, hw), record in self.latest().items():
            if hw != hardware_id:
                continue
            if retry_failed and record.get("status") == "failed":
                continue
            done.add(cell_id)
        return done


def _ends_with_newline(path: Path) -> bool:
    """True for an empty or missing file, or one whose last byte is a newline."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return True
    if size == 0:
        return True
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _parse_line(text: str, file: Path, number: int) -> dict[str, Any] | None:
    """One line's record; None (with a warning) for a line that is not a record."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        logger.warning(
            "%s line %d is not a JSON record (%s); skipping it. A crash while writing leaves such a "
            "line; every other record is kept.",
            file,
            number,
            exc.msg,
        )
        return None
    if not isinstance(record, dict) or any(k not in record for k in REQUIRED_KEYS):
        logger.warning("%s line %d is not a hfbench record; skipping it.", file, number)
        return None
    schema = record["schema"]
    if not isinstance(schema, int) or schema > SCHEMA_VERSION:
        raise ResultsError(
            f"{file} line {number} has record schema {schema!r}; this hfbench reads schema "
            f"{SCHEMA_VERSION} and older. Upgrade hfbench to read it (nothing was changed)."
        )
    return record
