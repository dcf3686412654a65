"""A served cell — one endpoint, model, workload and concurrency level — and its record.

Each concurrency level of a serving benchmark is one record in the same append-only store as the
local cells, told apart by ``kind = "served"`` (``speed_workload.kind`` is ``served`` too, so
``load_results``' ``workload`` column says it). The record holds the endpoint's URL (never a
key), what the server reports about itself (models, version, headers), the client's hardware
fingerprint (``hardware_id`` is the client's: the server's hardware is not visible from it), the
level's figures (``metrics``), every request's timings, and how tokens were counted and the
output length fixed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from hfbench.bench.store import SCHEMA_VERSION

#: The record marker of served cells (local cells have no ``kind``; readers treat them as ``local``).
SERVED_KIND = "served"


def record_kind(record: Mapping[str, Any]) -> str:
    """``served`` for a serving benchmark's record, ``local`` for any other."""
    return str(record.get("kind") or "local")


def now_utc() -> str:
    """The time now, UTC, to the second (as local records)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ServedCell:
    """One concurrency level of a served workload.

    Attributes:
        endpoint: the API's base URL, without credentials.
        model: the served model's name (as the server lists it).
        capability: ``chat`` (chat completions) or ``text-generation`` (completions).
        concurrency: requests in flight at once.
        input_tokens, output_tokens: the prompts' and answers' fixed lengths.
        requests: requests the level sends (at most).
        max_duration_s: no new request after this long.
        seed: the prompt draw's seed.
        fixed_output: how the output length is fixed (``auto`` or a method's name).
        label: the user's name for the server's setup (``continuous-batching``), part of the id.
        suite: the suite it came from (``served`` for ``hfbench run --endpoint`` alone).
    """

    endpoint: str
    model: str
    capability: str
    concurrency: int
    input_tokens: int
    output_tokens: int
    requests: int
    max_duration_s: float
    seed: int = 0
    fixed_output: str = "auto"
    label: str = ""
    suite: str = SERVED_KIND

    @property
    def identity(self) -> dict[str, Any]:
        """What is measured (the request count and duration cap are the procedure, left out)."""
        return {
            "kind": SERVED_KIND,
            "endpoint": self.endpoint,
            "model": self.model,
            "capability": self.capability,
            "settings": {
                "concurrency": self.concurrency,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "seed": self.seed,
                "fixed_output": self.fixed_output,
                "label": self.label,
            },
        }

    @property
    def cell_id(self) -> str:
        """A stable id of ``identity``: the store's resume key."""
        canonical = json.dumps(self.identity, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def settings(self) -> dict[str, Any]:
        """The record's ``settings``."""
        data = asdict(self)
        for key in ("endpoint", "model", "capability", "suite"):
            data.pop(key)
        return data

    def label_text(self) -> str:
        """``smollm2-135m-instruct · chat · c=4`` (progress lines, tables)."""
        short = self.model.rstrip("/").rsplit("/", 1)[-1]
        extra = f" · {self.label}" if self.label else ""
        return f"{short} · {self.capability} · c={self.concurrency}{extra}"


def served_record(
    cell: ServedCell,
    *,
    hardware: Mapping[str, Any],
    endpoint: Mapping[str, Any],
    serving: Mapping[str, Any],
    started_at: str,
    wall_s: float,
    error: str | None = None,
) -> dict[str, Any]:
    """The level's record (status ``ok`` when a request succeeded, else ``failed`` with the first error)."""
    completed = int((serving.get("metrics") or {}).get("completed") or 0)
    status = "ok" if completed and not error else "failed"
    failure = None
    if status == "failed":
        failure = {"type": "ServingError", "message": error or "no request succeeded", "phase": "serving"}
    return {
        "schema": SCHEMA_VERSION,
        "kind": SERVED_KIND,
        "cell_id": cell.cell_id,
        "hardware_id": hardware["hardware_id"],
        "model": cell.model,
        "capability": cell.capability,
        "settings": cell.settings,
        "suite": cell.suite,
        "size": SERVED_KIND,
        "status": status,
        "error": failure,
        "started_at": started_at,
        "finished_at": now_utc(),
        "wall_s": wall_s,
        "hardware": dict(hardware),
        "endpoint": dict(endpoint),
        "speed_workload": {
            "kind": SERVED_KIND,
            "inputs": 1,
            "source": f"{cell.input_tokens} prompt tokens, {cell.output_tokens} output tokens",
        },
        "serving": dict(serving),
    }
