"""The results store: append-only, atomic lines, resumable, clear errors for lines it cannot read."""

from __future__ import annotations

import json
import logging
import multiprocessing
from pathlib import Path

import pytest

from hfbench.bench.store import RECORDS_FILE, SCHEMA_VERSION, ResultStore, json_safe
from hfbench.core.errors import ResultsError


def record(cell: str, hardware: str = "hw1", status: str = "ok", **extra: object) -> dict[str, object]:
    return {
        "schema": SCHEMA_VERSION,
        "cell_id": cell,
        "hardware_id": hardware,
        "status": status,
        "model": "m",
        "capability": "chat",
        **extra,
    }


def test_append_and_read_back_in_order(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results")
    for i in range(3):
        store.append(record(f"c{i}", value=i))
    assert [r["cell_id"] for r in store.records()] == ["c0", "c1", "c2"]
    lines = (tmp_path / "results" / RECORDS_FILE).read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["schema"] == SCHEMA_VERSION for line in lines)


def test_finished_cells_are_per_machine_and_latest_wins(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.append(record("a", status="failed"))
    store.append(record("b"))
    store.append(record("b", hardware="hw2", status="oom"))
    assert store.finished("hw1") == {"a", "b"}
    assert store.finished("hw1", retry_failed=True) == {"b"}
    assert store.finished("hw2") == {"b"}
    store.append(record("a", status="ok"))  # a forced re-run appends; readers take the latest
    assert store.latest()[("a", "hw1")]["status"] == "ok"
    assert len(store.records()) == 4  # nothing was rewritten


def test_a_partial_last_line_is_skipped_with_a_warning_and_the_next_append_is_clean(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ResultStore(tmp_path)
    store.append(record("a"))
    with store.path.open("a", encoding="utf-8") as handle:  # what a crash mid-write leaves
        handle.write('{"schema": 1, "cell_id": "b", "hardw')
    with caplog.at_level(logging.WARNING):
        assert [r["cell_id"] for r in store.records()] == ["a"]
    assert f"{RECORDS_FILE} line 2" in caplog.text
    store.append(record("c"))
    assert [r["cell_id"] for r in store.records()] == ["a", "c"]


def test_a_line_from_a_newer_hfbench_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.append(record("a"))
    with store.path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record("b") | {"schema": SCHEMA_VERSION + 1}) + "\n")
    with pytest.raises(ResultsError, match=rf"{RECORDS_FILE} line 2 has record schema {SCHEMA_VERSION + 1}"):
        store.records()


def test_records_are_checked_before_writing(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    with pytest.raises(ResultsError, match="cell_id"):
        store.append({"schema": SCHEMA_VERSION, "status": "ok"})
    assert not store.path.exists()


def test_json_safe_turns_nan_and_numpy_into_plain_json() -> None:
    import numpy as np

    value = json_safe({"a": float("nan"), "b": np.float32(1.5), "c": (1, np.arange(2)), "d": float("inf")})
    assert value == {"a": None, "b": 1.5, "c": [1, [0, 1]], "d": None}


def _append_many(folder: str, worker: int) -> None:
    store = ResultStore(folder)
    for i in range(50):
        store.append(record(f"w{worker}-{i}", payload="x" * 2000))


def test_concurrent_appenders_never_interleave_lines(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    records = ResultStore(tmp_path).records()
    assert len(records) == 150 and len({r["cell_id"] for r in records}) == 150
