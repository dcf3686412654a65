"""The eval set plans (package data): valid, within the quick suite's budget, and strictly checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.bench.quality import eval_set_builders, quality_plan, quality_plans
from hfbench.bench.quality.tasks import task_for
from hfbench.core.errors import ConfigError

#: Most items a quick cell may score, per capability (generative cells run at ~15 tokens/s).
QUICK_BUDGET = {
    "summarization": 10,
    "translation": 12,
    "question-answering": 30,
    "chat": 25,
    "text-generation": 25,
    "speech-recognition": 20,
}


def test_the_built_in_plans_cover_every_measured_capability() -> None:
    plans = quality_plans()
    assert {"summarization", "translation", "question-answering", "chat", "text-generation"} <= set(plans)
    assert {"text-classification", "zero-shot-classification", "embeddings"} <= set(plans)
    assert "speech-recognition" in plans
    assert "image-classification" in plans
    for capability, plan in plans.items():
        assert plan.eval_set in eval_set_builders()
        task_for(capability)
        assert 1 <= plan.size("quick") <= plan.size("standard")
        assert plan.size("quick") <= QUICK_BUDGET.get(capability, 200)


def test_a_plan_is_found_by_alias() -> None:
    plan = quality_plan("asr")
    assert (plan.capability, plan.eval_set, plan.metric) == ("speech-recognition", "asterisk-en", "wer")
    assert quality_plan("summarize").options == {"max_input_words": 200}


def test_an_invalid_plan_file_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "plans.toml"
    path.write_text(
        """version = 1
[capabilities.summarization]
eval_set = "xsun"
quick = 20
standard = 10
also = ["bleuu"]
options = { max_input_wrds = 100 }

[capabilities.telepathy]
eval_set = "xsum"
quick = 1
standard = 2
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        quality_plans(path)
    message = str(caught.value)
    assert str(path) in message
    assert "capabilities.summarization.eval_set" in message and "Did you mean 'xsum'" in message
    assert "capabilities.summarization.quick" in message and "must be <= standard" in message
    assert "unknown metric 'bleuu'" in message
    assert "capabilities.summarization.options.max_input_wrds" in message
    assert "no quality task for 'telepathy'" in message
    assert len(caught.value.problems) == 5


def test_an_unknown_suite_or_capability_gets_a_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'quick'"):
        quality_plan("summarization").size("quik")
    with pytest.raises(ConfigError, match="no quality plan"):
        quality_plan("fill-mask")
