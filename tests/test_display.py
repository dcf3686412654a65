"""``hfbench.display``: HTML for hfbench's objects, registered with IPython by name, and a light
``import hfbench`` in a notebook."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from synthetic_records import MACHINE, make_record

from hfbench import display
from hfbench.bench.report import report
from hfbench.bench.runner import RunSummary
from hfbench.bench.tune import tune
from hfbench.core.capability import ModelCapabilities
from hfbench.registry import CapabilityRegistry, ModelRecommendation, hardware_profile


def formatter() -> Any:
    """A fresh IPython display formatter, as a shell has."""
    from IPython.core.formatters import DisplayFormatter

    return DisplayFormatter()


@pytest.mark.parametrize(("module", "name", "function"), display.HTML_FORMATTERS + display.PNG_FORMATTERS)
def test_every_formatter_names_a_class_that_exists_where_it_says(
    module: str, name: str, function: Any
) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert cls.__module__ == module, f"{name} moved to {cls.__module__}: update display.HTML_FORMATTERS"


def test_installed_formatters_show_hfbench_objects_as_html_and_figures_as_png() -> None:
    from matplotlib.figure import Figure

    shell = SimpleNamespace(display_formatter=formatter())
    assert display.install_formatters(shell)
    data, _ = shell.display_formatter.format(hardware_profile("laptop-16gb"))
    assert "hfbench-system" in data["text/html"]
    fig = Figure()
    fig.add_subplot().plot([1, 2], [3, 4])
    data, _ = shell.display_formatter.format(fig)
    assert data["image/png"][:4] == b"\x89PNG"


def test_install_formatters_outside_ipython_does_nothing() -> None:
    assert display.install_formatters() is False  # no running shell in a test process


def test_system_info_html_names_the_machine_and_its_memory() -> None:
    text = display.system_info_html(hardware_profile("consumer-gpu-24gb"))
    assert "consumer-gpu-24gb — cuda, 23.5 GiB for models" in text
    assert "what-if profile" in text and "hardware id" in text and "RTX" in text


def test_recommendation_html_escapes_and_shows_the_tuned_figures() -> None:
    rec = ModelRecommendation(
        "org/<b>model</b>",
        1.5,
        ["chat"],
        notes="a & b",
        measured={
            "chat": {
                "confidence": 0.45,
                "evidence": {
                    "metric": "squad-exact-match",
                    "value": 45.0,
                    "ci_low": 25.0,
                    "ci_high": 70.0,
                    "n": 20,
                },
                "latency_median_s": 1.41,
                "model_mb": 595.0,
            }
        },
        recipe={"dtype": "float32", "device": "cpu", "batch_size": 1},
    )
    text = display.recommendation_html(rec)
    assert "org/&lt;b&gt;model&lt;/b&gt;" in text and "<b>model</b>" not in text
    assert "a &amp; b" in text and "tier tiny" in text and "measured" in text
    assert "latency 1.41s · 595 MiB · EM 45.0 [25.0,70.0] (n=20) · conf 0.45" in text
    assert "dtype=float32, device=cpu, batch_size=1" in text


def test_explanation_html_lists_every_candidate_with_its_verdict() -> None:
    registry = CapabilityRegistry()
    chosen = registry.explain_recommendation("summarization", "xlarge", hardware_profile("consumer-gpu-24gb"))
    text = display.explanation_html(chosen)
    assert text.count("hfbench-badge-bad") == len(chosen.rejected)
    assert chosen.chosen is not None and chosen.chosen.model_name in text and "fell back" in text

    nothing = CapabilityRegistry(defaults=False)
    nothing.update_model(
        "chat", "xlarge", {"model_name": "org/huge", "params_b": 70.0, "capabilities": ["chat"]}
    )
    text = display.explanation_html(
        nothing.explain_recommendation("chat", "auto", hardware_profile("laptop-16gb"))
    )
    assert "nothing suitable" in text and "What would work" in text


def test_capabilities_html_shows_confidences_and_measured_evidence() -> None:
    caps = ModelCapabilities("decoder_only")
    caps.apply_measured("chat", 0.45, {"metric": "squad-exact-match", "value": 45.0, "n": 20})
    text = display.capabilities_html(caps)
    assert "decoder_only" in text and "measured" in text and "squad-exact-match 45 (n=20)" in text
    assert text.index("text-generation") < text.index("chat")  # most confident first


def test_run_summary_report_and_tune_result_html(tmp_path: Path) -> None:
    records = [
        make_record("org/a", "summarization", level=3, params_b=0.5),
        make_record("org/b", "summarization", status="oom", error="does not fit at batch 8"),
    ]
    summary = RunSummary("synthetic", tmp_path, cells=2, skipped=0, records=records, wall_s=3.0)
    text = display.run_summary_html(summary)
    assert "synthetic: 2 cells" in text and "does not fit at batch 8" in text
    assert "hfbench-badge-ok" in text and "hfbench-badge-warn" in text

    text = display.report_html(report(records))
    assert "2 cells on hardware" in text and "Failures and limits" in text and "rougeL" in text
    assert "Settings compared" not in text and "Served endpoints" not in text
    swept = [make_record("org/a", "embeddings", settings={"optimize": o}) for o in ("exact", "fast")]
    text = display.report_html(report(swept))
    assert "Settings compared" in text and "optimize=fast" in text

    result = tune(records, system_info=MACHINE, output=tmp_path / "tuned.json")
    text = display.tune_result_html(result)
    assert "summarization" in text and "org/a" in text and "tuned.json" in text


def test_load_ipython_extension_installs_the_formatters() -> None:
    shell = SimpleNamespace(display_formatter=formatter())
    display.load_ipython_extension(shell)
    deferred = shell.display_formatter.formatters["text/html"].deferred_printers
    assert ("hfbench.core.hardware", "SystemInfo") in deferred


def test_import_hfbench_in_ipython_installs_formatters_and_stays_light() -> None:
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "import hfbench\n"
        "html = shell.display_formatter.formatters['text/html']\n"
        "print(('hfbench.core.hardware', 'SystemInfo') in html.deferred_printers)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'matplotlib', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["True", "[]"]
