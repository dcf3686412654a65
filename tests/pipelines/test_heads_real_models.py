"""The docs' table of what ``hfbench detect`` prints for the five embedded models matches what it prints.

The models are prepared first (into the normal hfbench cache, or ``$HFBENCH_REAL_MODEL_CACHE``),
since ``detect`` answers an unprepared one from its catalogue entry; a missing package skips with
the command that installs it, a failed conversion fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hfbench.cli import main

pytestmark = pytest.mark.real_model

DOCS = Path(__file__).resolve().parents[2] / "docs" / "pipelines.md"
MARKER = "<!-- embedded-detect-table"


def docs_table() -> dict[str, dict[str, str]]:
    """The table after ``MARKER`` in docs/pipelines.md: model -> row name -> cell."""
    lines = DOCS.read_text(encoding="utf-8").split(MARKER, 1)[1].splitlines()[1:]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    rows = rows[: next(i for i, r in enumerate(rows) if len(r) < 2)]
    header, body = rows[0], rows[2:]
    return {model: {r[0]: r[col] for r in body if r[col]} for col, model in enumerate(header) if col}


def detected(name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """``hfbench detect embedded:<name>`` as row name -> cell (confidences with two decimals)."""
    assert main(["detect", f"embedded:{name}", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    cells = {"architecture": data["architecture"]}
    cells.update({row["capability"]: f"{row['confidence']:.2f}" for row in data["capabilities"]})
    return cells


@pytest.mark.parametrize(
    "name", ["all-minilm-l6-v2", "smollm2-135m-instruct", "gemma-3-270m", "whisper-tiny.en", "whisper-base"]
)
def test_docs_table_is_what_detect_prints(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hfbench.sources import prepare_model
    from hfbench.sources.embedded import get_embedded_model
    from hfbench.sources.embedded.packages import missing_modules

    if os.environ.get("HFBENCH_REAL_MODEL_CACHE"):
        monkeypatch.setenv("HFBENCH_CACHE", os.environ["HFBENCH_REAL_MODEL_CACHE"])
    model = get_embedded_model(name)
    missing = missing_modules(model)
    if missing:
        pytest.skip(f"embedded:{name} needs {', '.join(missing)}; run: {model.install_command}")
    prepare_model(f"embedded:{name}", progress=False)
    assert detected(name, capsys) == docs_table()[name]
