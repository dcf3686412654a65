"""Quality of the embedded real models on established data: the figures must be clearly sensible.

Skipped with the install command when a model's packages are missing; run with ``-s`` to see
the figures.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import hfbench
from hfbench.bench.quality import EvalSet, QualityResult, run_planned_quality, run_quality
from hfbench.core.errors import EmbeddedModelError

pytestmark = pytest.mark.real_model

GetSet = Callable[..., EvalSet]


def real_pipeline(name: str) -> object:
    """The loaded pipeline of an embedded model (prepared first), or skip when it is not installed."""
    try:
        hfbench.prepare_model(f"embedded:{name}", progress=False)
    except EmbeddedModelError as exc:
        if "pip install" in str(exc):
            pytest.skip(str(exc))
        raise
    return hfbench.pipeline_for(f"embedded:{name}").load()


def report(label: str, r: QualityResult) -> None:
    """Print a measured figure (visible with ``pytest -s``)."""
    interval = f"[{r.ci_low:.3f}, {r.ci_high:.3f}]"
    print(f"\n[quality] {label}: {r.metric}={r.value:.3f} {interval} in {r.seconds:.1f} s")


def test_minilm_ranks_lee_document_pairs_like_people_do() -> None:
    result = run_planned_quality(real_pipeline("all-minilm-l6-v2"), "embeddings", suite="quick")
    report("all-minilm-l6-v2 on lee-similarity", result)
    assert result.n == 200
    assert result.value > 0.4 and result.ci_low > 0.2


def test_whisper_tiny_en_transcribes_asterisk_prompts(eval_set: GetSet) -> None:
    clips = eval_set("asterisk-en", n=10)
    result = run_quality(real_pipeline("whisper-tiny.en"), "speech-recognition", clips)
    report("whisper-tiny.en on asterisk-en", result)
    assert result.value < 0.3


def test_smollm2_perplexity_on_brown_is_that_of_a_language_model(eval_set: GetSet) -> None:
    passages = eval_set("brown-passages", n=10)
    result = run_quality(real_pipeline("smollm2-135m-instruct"), "text-generation", passages)
    report("smollm2-135m-instruct on brown-passages", result)
    assert 3 < result.value < 100
