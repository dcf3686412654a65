"""The notebooks: committed without outputs, parameterised, and executed top to bottom in a real
Jupyter kernel (nbclient) in CI mode — tiny random-weight models, a reduced suite — offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK_DIR = Path(__file__).parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_explore_models.ipynb",
    "02_pick_a_model.ipynb",
    "03_benchmark_this_machine.ipynb",
    "04_tune_recommendations.ipynb",
]
#: The longest one cell may run in CI mode (a reduced suite runs in about 15 s on 2 cores).
CELL_TIMEOUT_S = 180


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_the_four_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    for index, cell in enumerate(read(path)["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {index} is committed with outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {index} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_a_parameters_cell_that_reads_the_mode(path: Path) -> None:
    tagged = [c for c in read(path)["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs one cell tagged 'parameters' (papermill)"
    assert "HFBENCH_NOTEBOOK_MODE" in "".join(tagged[0]["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_links_point_at_notebooks_that_exist(path: Path) -> None:
    text = "".join("".join(c["source"]) for c in read(path)["cells"] if c["cell_type"] == "markdown")
    for name in {
        part.split(")")[0] for part in text.split("](")[1:] if part.split(")")[0].endswith(".ipynb")
    }:
        assert (NOTEBOOK_DIR / name).is_file(), f"{path.name} links to a missing notebook {name}"


def execute(path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> Any:
    """Run a notebook in a fresh kernel, in CI mode, with ``workdir`` as its working folder (its
    ``results`` land there); the executed copy is saved beside, as a test artifact."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("HFBENCH_NOTEBOOK_MODE", "ci")
    monkeypatch.setenv("HFBENCH_CACHE", str(cache))  # the session's tiny zoo, built once
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute()
    finally:
        executed = workdir / path.name
        nbformat.write(notebook, executed)
        print(f"executed notebook: {executed}")
    return notebook


def mime_types(notebook: Any) -> list[set[str]]:
    """Per code cell, the MIME types of its rich outputs."""
    return [
        {kind for output in cell.get("outputs", []) for kind in output.get("data", {})}
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def html_outputs(notebook: Any) -> str:
    return "\n".join(
        str(output["data"]["text/html"])
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_in_a_kernel(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hfbench_cache: Path
) -> None:
    notebook = execute(path, tmp_path, monkeypatch, hfbench_cache)
    errors = [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    html = html_outputs(notebook)
    if path.name.startswith("01"):
        for css in (
            "hfbench-system",
            "hfbench-capabilities",
            "hfbench-recommendation",
            "hfbench-explanation",
        ):
            assert css in html, f"no rich display of {css}"
    if path.name.startswith("02"):
        views = [t for t in mime_types(notebook) if "application/vnd.jupyter.widget-view+json" in t]
        assert len(views) == 2, "the two pickers render as widgets"
        assert "hfbench-run-summary" in html
    if path.name.startswith("03"):
        pngs = [t for t in mime_types(notebook) if "image/png" in t]
        assert len(pngs) == 4, "pareto (twice), memory and throughput show as PNG"
        assert "hfbench-report" in html
        assert sorted(p.name for p in (tmp_path / "results" / "plots").glob("*.png")) == [
            "memory.png",
            "pareto-chat.png",
            "pareto-text-generation.png",
            "throughput.png",
        ]
    if path.name.startswith("04"):
        assert "hfbench-tune-result" in html
        assert list((tmp_path / "results" / "recommendations").glob("*.json"))
