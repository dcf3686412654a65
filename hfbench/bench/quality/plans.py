"""Quality plans: per capability, the default eval set, its metrics and its size per suite (data).

Read from ``hfbench/bench/data/eval_sets.toml`` (or a user's TOML/JSON file of the same shape)
and validated on load with ``hfbench.core.validation``: every problem in the file is reported at
once, with its key path.

Example:
    >>> plan = quality_plan("summarization")
    >>> plan.eval_set, plan.metric, plan.size("quick")
    ('xsum', 'rouge-l', 8)
    >>> result = run_planned_quality(pipeline, "summarization", suite="quick")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hfbench.bench.quality.datasets import build_eval_set, eval_set_builders
from hfbench.bench.quality.items import EvalSet
from hfbench.bench.quality.metrics import metric_names
from hfbench.bench.quality.result import QualityResult
from hfbench.bench.quality.tasks import capability_name, task_capabilities, task_for
from hfbench.core.errors import ConfigError, did_you_mean
from hfbench.core.validation import Field, Problem, at_least, check_table, join_path

#: The built-in plan file, in ``hfbench/bench/data``.
PLANS_FILE = "eval_sets.toml"
#: The suites a plan has sizes for.
SUITES = ("quick", "standard")


@dataclass(frozen=True)
class QualityPlan:
    """How one capability's quality is measured.

    Attributes:
        capability: canonical capability name.
        eval_set: the eval set's registered name.
        metric: the primary metric.
        also: more metrics on the same predictions.
        seed: the subset's seed.
        sizes: items per suite (``quick``, ``standard``).
        options: task options.
        overrides: per-call pipeline config.
    """

    capability: str
    eval_set: str
    metric: str
    seed: int
    sizes: dict[str, int]
    also: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)

    def size(self, suite: str) -> int:
        """Items for ``suite``.

        Raises:
            ConfigError: an unknown suite (with a did-you-mean).
        """
        if suite not in self.sizes:
            raise ConfigError(
                f"unknown suite {suite!r}; quality plans have sizes for {', '.join(self.sizes)}."
                + did_you_mean(suite, self.sizes),
                key_path="suite",
            )
        return self.sizes[suite]

    def build(self, suite: str = "quick") -> EvalSet:
        """The eval set for ``suite`` (built once, then read from the cache)."""
        return build_eval_set(self.eval_set, self.size(suite), self.seed)


def _plan_fields() -> dict[str, Field]:
    metrics = tuple(metric_names(aliases=True))
    return {
        "eval_set": Field(
            (str,), "Registered eval set.", required=True, choices=tuple(sorted(eval_set_builders()))
        ),
        "metric": Field((str,), "Primary metric (default: the eval set's).", choices=metrics),
        "also": Field((list,), "More metrics on the same predictions."),
        "seed": Field((int,), "Seed of the random subset.", check=at_least(0)),
        "quick": Field((int,), "Items in the quick suite.", required=True, check=at_least(1)),
        "standard": Field((int,), "Items in the standard suite.", required=True, check=at_least(1)),
        "options": Field((dict,), "Task options."),
        "overrides": Field((dict,), "Per-call pipeline config."),
    }


def _check_plan(
    capability: str, table: Mapping[str, Any], key_path: str
) -> tuple[QualityPlan | None, list[Problem]]:
    """One capability's plan and its problems (None when it cannot be built)."""
    from hfbench.core.capability import canonical_capability
    from hfbench.core.errors import UnsupportedCapabilityError

    values, problems = check_table(table, _plan_fields(), key_path=key_path)
    try:
        cap = canonical_capability(capability)
        task = task_for(cap)
    except (UnsupportedCapabilityError, ConfigError):
        known = task_capabilities()
        problems.append(
            Problem(
                key_path,
                f"no quality task for {capability!r}; valid: {', '.join(known)}."
                + did_you_mean(capability, known),
            )
        )
        return None, problems
    also = values.get("also", [])
    for i, name in enumerate(also):
        if name not in metric_names(aliases=True):
            problems.append(
                Problem(
                    join_path(key_path, f"also[{i}]"),
                    f"unknown metric {name!r}." + did_you_mean(str(name), metric_names()),
                )
            )
    options, option_problems = check_table(
        values.get("options", {}), task.option_fields, key_path=join_path(key_path, "options")
    )
    problems += option_problems
    if "quick" in values and "standard" in values and values["quick"] > values["standard"]:
        problems.append(Problem(join_path(key_path, "quick"), f"must be <= standard ({values['standard']})"))
    if problems or "eval_set" not in values:
        return None, problems
    builder = eval_set_builders()[values["eval_set"]]
    plan = QualityPlan(
        capability=cap,
        eval_set=values["eval_set"],
        metric=values.get("metric", builder.metric),
        seed=values.get("seed", 0),
        sizes={"quick": values["quick"], "standard": values["standard"]},
        also=tuple(also),
        options=options,
        overrides=dict(values.get("overrides", {})),
    )
    return plan, problems


def parse_quality_plans(
    data: Mapping[str, Any], *, file: str | os.PathLike[str] | None = None
) -> dict[str, QualityPlan]:
    """Validate a plans table (``{"version": 1, "capabilities": {...}}``) into plans by capability.

    Raises:
        ConfigError: every problem found, one line each with its key path.
    """
    top, problems = check_table(
        data,
        {
            "version": Field((int,), "File format version.", required=True, choices=(1,)),
            "capabilities": Field((dict,), "Plans by capability.", required=True),
        },
    )
    plans: dict[str, QualityPlan] = {}
    for capability, table in top.get("capabilities", {}).items():
        plan, found = _check_plan(str(capability), table, join_path("capabilities", capability))
        problems += found
        if plan is not None:
            plans[plan.capability] = plan
    if problems:
        raise ConfigError.from_problems(problems, file=None if file is None else str(file))
    return plans


@lru_cache(maxsize=1)
def _builtin_plans() -> dict[str, QualityPlan]:
    from hfbench.core.datafiles import read_package_toml

    return parse_quality_plans(
        read_package_toml(PLANS_FILE, package="hfbench.bench"), file=f"hfbench/bench/data/{PLANS_FILE}"
    )


def quality_plans(path: str | os.PathLike[str] | None = None) -> dict[str, QualityPlan]:
    """The quality plans by capability: the built-in ones, or those of a user's TOML/JSON file.

    Raises:
        ConfigError: the file is missing, unreadable or invalid (every problem listed).
    """
    if path is None:
        return dict(_builtin_plans())
    from hfbench.core.datafiles import read_data_file

    return parse_quality_plans(
        read_data_file(Path(path), what="quality plan file", error=ConfigError), file=path
    )


def quality_plan(capability: str, path: str | os.PathLike[str] | None = None) -> QualityPlan:
    """The quality plan of one capability (canonical name or alias).

    Raises:
        ConfigError: no plan for it (with a did-you-mean).
    """
    plans = quality_plans(path)
    name = capability_name(capability)
    if name not in plans:
        raise ConfigError(
            f"no quality plan for {capability!r}; planned: {', '.join(sorted(plans))}."
            + did_you_mean(capability, plans),
            key_path="capability",
        )
    return plans[name]


def run_planned_quality(
    pipeline: Any,
    capability: str,
    *,
    suite: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> QualityResult:
    """Measure a loaded pipeline with its capability's planned eval set, metrics and size for ``suite``.

    Args:
        pipeline: a loaded hfbench pipeline.
        capability: the capability to measure.
        suite: ``quick`` or ``standard``.
        overrides: per-call config on top of the plan's.
        path: a user's plan file (default: the built-in one).

    Returns:
        The ``QualityResult``.
    """
    from hfbench.bench.quality.runner import run_quality

    plan = quality_plan(capability, path)
    return run_quality(
        pipeline,
        plan.capability,
        plan.build(suite),
        {**plan.overrides, **(overrides or {})},
        metric=plan.metric,
        other_metrics=plan.also,
        options=plan.options,
    )
