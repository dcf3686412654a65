"""``run_quality``: measure a loaded pipeline on an eval set, and compare two such measurements.

The model runs through the same pipeline a user calls (``pipeline.process``; perplexity reads
``pipeline.loaded``), via the capability's registered task; the predictions are scored by the
eval set's metric (or the one asked for) with a bootstrap interval, and mapped to a confidence.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from hfbench.bench.quality.bootstrap import (
    CI_METHOD,
    DEFAULT_RESAMPLES,
    PairedComparison,
    bootstrap_ci,
    paired_bootstrap,
)
from hfbench.bench.quality.confidence import confidence_from_metric
from hfbench.bench.quality.items import EvalSet
from hfbench.bench.quality.metrics import Metric, get_metric
from hfbench.bench.quality.result import ItemRecord, MetricValue, QualityResult
from hfbench.bench.quality.tasks import Progress, TaskCall, task_for
from hfbench.core.errors import BenchmarkError


def score_predictions(
    metric: str | Metric,
    predictions: Sequence[Any],
    references: Sequence[Any],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> MetricValue:
    """A metric's corpus value on the items and its bootstrap 95 % interval.

    Raises:
        ConfigError: an unknown metric.
    """
    found = get_metric(metric)
    value = found.value(predictions, references)
    low, high = bootstrap_ci(found, predictions, references, n_resamples=n_resamples, seed=seed)
    return MetricValue(value=value, ci_low=low, ci_high=high)


def run_quality(
    pipeline: Any,
    capability: str,
    eval_set: EvalSet,
    overrides: Mapping[str, Any] | None = None,
    *,
    metric: str | None = None,
    other_metrics: Sequence[str] = (),
    options: Mapping[str, Any] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    progress: Progress | None = None,
) -> QualityResult:
    """Measure a loaded pipeline's quality on one capability with an eval set.

    Args:
        pipeline: a loaded hfbench pipeline (``hfbench.pipeline_for(model).load()``).
        capability: the capability to run (canonical name or alias).
        eval_set: the items (``build_eval_set(...)``).
        overrides: per-call config for every item (``max_length``, ``system_prompt`` ...); the
            task's own (the set's ``labels``) come first and per-item ones (languages) last.
        metric: the primary metric (default: the eval set's).
        other_metrics: more metrics computed on the same predictions.
        options: task options (``max_input_words``, ``text_template``, ``max_tokens``).
        n_resamples: bootstrap resamples per interval.
        seed: the bootstrap's seed.
        progress: called with the number of items done.

    Returns:
        A ``QualityResult`` (``to_dict()`` is JSON-able).

    Raises:
        ConfigError: no task for the capability, or an unknown metric.
        BenchmarkError: an empty eval set.
        HFBenchError: whatever the pipeline raises (unsupported capability, bad input ...).
    """
    from hfbench.core.capability import canonical_capability

    task = task_for(capability)
    cap = canonical_capability(capability)
    primary = get_metric(metric or eval_set.metric)
    extra = [get_metric(name) for name in other_metrics]
    if not eval_set.items:
        raise BenchmarkError(f"The eval set {eval_set.name!r} has no items.")
    call_overrides = {**task.default_overrides(eval_set), **(overrides or {})}
    task_options = dict(options or {})

    start = time.perf_counter()
    predictions = task.predict(TaskCall(pipeline, cap, eval_set, call_overrides, task_options, progress))
    references = [item.reference for item in eval_set.items]
    scored = score_predictions(primary, predictions, references, n_resamples=n_resamples, seed=seed)
    others = {
        m.name: score_predictions(m, predictions, references, n_resamples=n_resamples, seed=seed)
        for m in extra
    }
    scores: list[float | None] = [None] * len(predictions)
    if primary.mean_of_items:
        prepared = primary.prepare(predictions, references)
        scores = [float(s) for s in primary.item_scores(*prepared)]
    seconds = time.perf_counter() - start

    records = tuple(
        ItemRecord(id=item.id, prediction=pred, reference=item.reference, score=score)
        for item, pred, score in zip(eval_set.items, predictions, scores, strict=True)
    )
    return QualityResult(
        capability=cap,
        eval_set=eval_set.name,
        metric=primary.name,
        higher_is_better=primary.higher_is_better,
        value=scored.value,
        ci_low=scored.ci_low,
        ci_high=scored.ci_high,
        n=len(records),
        confidence=confidence_from_metric(primary, scored.value),
        seconds=seconds,
        ci_method=f"{CI_METHOD}; {n_resamples} resamples, seed {seed}",
        records=records,
        provenance=eval_set.provenance.to_dict(),
        other_metrics=others,
        options=task_options,
        overrides=dict(overrides or {}),
        model=getattr(pipeline, "model_name", None),
    )


def compare_results(
    result_a: QualityResult,
    result_b: QualityResult,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> PairedComparison:
    """Paired bootstrap of two models' results on the same eval set (items matched by id).

    Args:
        result_a, result_b: two ``QualityResult`` s with the same metric and eval set.
        n_resamples, seed: as in ``paired_bootstrap``.

    Returns:
        The comparison A - B over the items both results scored.

    Raises:
        BenchmarkError: different metrics or eval sets, or no item in common.
    """
    if result_a.metric != result_b.metric or result_a.eval_set != result_b.eval_set:
        raise BenchmarkError(
            f"Cannot compare {result_a.metric} on {result_a.eval_set} with {result_b.metric} on "
            f"{result_b.eval_set}: a paired comparison needs the same metric and eval set."
        )
    by_id = {r.id: r for r in result_b.records}
    common = [r for r in result_a.records if r.id in by_id]
    if not common:
        raise BenchmarkError(
            f"The two results on {result_a.eval_set} share no items; draw them with the same seed."
        )
    return paired_bootstrap(
        result_a.metric,
        [r.prediction for r in common],
        [by_id[r.id].prediction for r in common],
        [r.reference for r in common],
        n_resamples=n_resamples,
        seed=seed,
    )
