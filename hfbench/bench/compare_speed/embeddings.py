"""Embeddings runners: sentence-transformers ``encode`` (the baseline), hfbench ``exact``/``fast``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hfbench.bench.compare_speed.core import (
    SkipRunner,
    Timed,
    Workload,
    quiet_load,
    register_levels,
    register_runner,
    timed_pipeline,
)


def _measure_batch(call: Callable[[], Any], workload: Workload) -> tuple[list[float], Any]:
    """Sentences/s of each timed call and the last call's vectors."""
    measured = workload.measure(call, workload.rule)
    n = len(workload.sentences)
    return [n / s for s in measured.values_s], measured.outputs[-1]


@register_runner("embeddings", "sentence-transformers", "sentence-transformers fp32", baseline=True)
def _sentence_transformers(workload: Workload) -> Timed:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise SkipRunner("not installed: pip install sentence-transformers") from None
    with quiet_load():
        model = SentenceTransformer(workload.folder, device=workload.device)

    def call() -> Any:
        return model.encode(workload.sentences, batch_size=workload.batch_size, convert_to_numpy=True)

    values, vectors = _measure_batch(call, workload)
    return Timed(values, vectors, note=f"batch_size={workload.batch_size}")


def _hfbench_embed(workload: Workload, level: str, batch_size: int | str | None = None) -> Timed:
    import numpy as np

    from hfbench.pipelines import pipeline_for
    from hfbench.pipelines.media import MediaInput
    from hfbench.pipelines.results import EmbeddingResult

    pipe = pipeline_for(workload.model).load(
        workload.model,
        {"base": {"optimize": level, "device": workload.device}},
        capability="embeddings",
        progress=False,
    )
    inputs = [MediaInput.text(s) for s in workload.sentences]
    size = workload.batch_size if batch_size is None else batch_size
    merged = pipe.config.get_merged_config("embeddings", {"batch_size": size})

    sizes: list[Any] = []  # batch_size=auto: the size each call ran at

    def call() -> Any:
        results = pipe.run(inputs, "embeddings", merged)
        sizes.append(results[0].extra.get("batch_size") if results else None)
        vectors = [r.vector for r in results if isinstance(r, EmbeddingResult)]
        return np.stack([v for v in vectors if v is not None])

    timed = timed_pipeline(pipe, lambda: _measure_batch(call, workload))
    if size == "auto":
        timed.note = f"batch_size=auto -> {sizes[-1]}; {timed.note}"
    return timed


register_levels("embeddings", _hfbench_embed)


@register_runner("embeddings", "hfbench-exact-auto", "hfbench exact, batch_size=auto")
def _hfbench_embed_auto(workload: Workload) -> Timed:
    """The exact level with the batch size tuned online (the warm-up call searches; the timed
    calls run at the size found)."""
    return _hfbench_embed(workload, "exact", "auto")
