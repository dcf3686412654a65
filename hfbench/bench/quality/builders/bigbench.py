"""Eval sets from BIG-bench's PyPI source tarball: XSum, SQuAD v1.1 dev, VitaminC, CIFAR-10.

``bigbench`` 1.0.0 is a 358 MB sdist (never installed); each task file is read once from it with
``tarfile`` and kept under the raw cache's ``members/`` folder. The BIG-bench task files are
Apache-2.0; the data inside them keeps its own licence (named per set).
"""

from __future__ import annotations

import json
from typing import Any

from hfbench.bench.quality.datasets import SourceData, register_eval_set
from hfbench.bench.quality.fetch import PackageSpec, package_file_name, package_member
from hfbench.bench.quality.items import EvalItem

BIGBENCH = PackageSpec("pypi", "bigbench", "1.0.0")
#: Where the task files are inside the sdist.
TASKS = "bigbench-1.0.0/bigbench/benchmark_tasks/"


def read_task(path: str) -> Any:
    """A BIG-bench task file (JSON), by its path under ``benchmark_tasks/``."""
    return json.loads(package_member(BIGBENCH, TASKS + path).read_text(encoding="utf-8"))


def _source(items: list[EvalItem], path: str, licence: str, source: str, **extra: Any) -> SourceData:
    return SourceData(
        items=items,
        package=BIGBENCH.name,
        version=str(BIGBENCH.version),
        registry=BIGBENCH.registry,
        archive=package_file_name(BIGBENCH),
        files=(TASKS + path,),
        licence=licence,
        source=source,
        **extra,
    )


def best_label(target_scores: dict[str, float]) -> str:
    """The label with the highest target score (BIG-bench's multiple-choice answer)."""
    return max(target_scores, key=lambda label: target_scores[label])


@register_eval_set("xsum", capability="summarization", metric="rouge-l")
def xsum() -> SourceData:
    """XSum test articles with their one-sentence BBC summaries (GEM slice in BIG-bench)."""
    path = "gem/xsum/task.json"
    examples = read_task(path)["examples"]
    items = [EvalItem(e["comment"], {"text": e["input"]}, e["target"]) for e in examples]
    return _source(
        items,
        path,
        "XSum (Narayan et al., 2018): BBC articles for research use, GEM/XSum terms; task file Apache-2.0",
        "XSum test split, 1,001 articles as sampled by GEM for BIG-bench",
    )


@register_eval_set("squad-v1.1", capability="question-answering", metric="squad-f1")
def squad() -> SourceData:
    """SQuAD v1.1 dev set: a question, its Wikipedia paragraph and the crowd-sourced answer spans."""
    path = "squad_shifts/squaddev_v1.1.json"
    data = read_task(path)
    items = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                inputs = {
                    "question": qa["question"],
                    "context": paragraph["context"],
                    "title": article["title"],
                }
                items.append(EvalItem(qa["id"], inputs, answers))
    return _source(
        items,
        path,
        "CC BY-SA 4.0 (SQuAD, Rajpurkar et al., 2016)",
        "SQuAD v1.1 development set as copied into BIG-bench (squad_shifts task)",
    )


@register_eval_set("vitaminc", capability="zero-shot-classification", metric="accuracy")
def vitaminc() -> SourceData:
    """VitaminC fact verification: is a claim True, False or Neither given a Wikipedia passage."""
    path = "vitaminc_fact_verification/task.json"
    task = read_task(path)
    items = []
    for index, example in enumerate(task["examples"]):
        evidence, _, claim = example["input"].partition("\nClaim: ")
        items.append(
            EvalItem(
                f"vitaminc-{index}",
                {"evidence": evidence, "claim": claim},
                best_label(example["target_scores"]),
            )
        )
    return _source(
        items,
        path,
        "CC BY-SA 3.0 (VitaminC, Schuster et al., 2021; Wikipedia revisions)",
        "VitaminC contrastive claims with Wikipedia evidence; ids are positions in the task file",
        labels=("True", "False", "Neither"),
    )


@register_eval_set("cifar10", capability="image-classification", metric="accuracy")
def cifar10() -> SourceData:
    """CIFAR-10 test set: 32x32 photos in 10 classes, PNG encoded as base64."""
    path = "cifar10_classification/base64/task.json"
    examples = read_task(path)["examples"]
    items = [
        EvalItem(f"cifar10-{i}", {"image_png_base64": e["input"]}, best_label(e["target_scores"]))
        for i, e in enumerate(examples)
    ]
    labels = tuple(examples[0]["target_scores"])
    return _source(
        items,
        path,
        "CIFAR-10 (Krizhevsky, 2009), free for research; task file Apache-2.0",
        "CIFAR-10 test set, 10,000 images (1,000 per class); ids are positions in the task file",
        labels=labels,
    )
