"""Quick-suite cells on embedded real models, in cell processes: complete records, plausible figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.bench.runner import run
from hfbench.bench.suites import Suite

pytestmark = pytest.mark.real_model


def test_quick_cells_of_real_models_write_complete_records(tmp_path: Path) -> None:
    from hfbench.sources import prepare_model

    for model in ("embedded:all-minilm-l6-v2", "embedded:whisper-tiny.en"):
        prepare_model(model, progress=False)
    quick = Suite.quick()
    cells = [c for c in quick.cells() if c.short_model in ("all-minilm-l6-v2", "whisper-tiny.en")]
    suite = Suite.from_models(
        [c.model for c in cells], ["embeddings"], settings={"max_duration_s": 5.0}, name="real"
    )
    speech = Suite.from_models(
        ["embedded:whisper-tiny.en"], ["speech-recognition"], settings={"max_duration_s": 5.0}
    )
    records = run(suite.with_settings({}), results=tmp_path, progress=False).records
    records += run(speech, results=tmp_path, progress=False).records
    by_capability = {r["capability"]: r for r in records if r["status"] == "ok"}
    embeddings, asr = by_capability["embeddings"], by_capability["speech-recognition"]
    for record in (embeddings, asr):
        assert record["latency"]["e2e"]["median"] > 0 and record["memory"]["model_mb"] > 0
        assert record["memory"]["estimate"]["total_mb"] > 0 and record["quality"]["n"] > 0
        assert record["quality"]["provenance"]["hand_made"] is False
    assert embeddings["quality"]["metric"] == "spearman" and embeddings["quality"]["value"] > 0.3
    assert asr["quality"]["metric"] == "wer" and asr["quality"]["value"] < 0.3
    assert 0 < asr["latency"]["real_time_factor"] < 5
