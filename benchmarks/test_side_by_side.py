"""``hfbench compare-speed``'s runners as pytest-benchmark cases, on the embedded real models: one
group per model, and pytest-benchmark's table prints each case's ratio to the group's fastest in
brackets, all measured in the same session.

    pytest benchmarks/test_side_by_side.py --benchmark-only --benchmark-group-by=group

Each case is one registered runner (``compare_speed.runners(kind)``) on the inputs compare-speed
gives it — SmolLM2: 64 forced greedy tokens from the same prompt; MiniLM: 256 seeded Brown Corpus
texts at batch size 32; Whisper tiny.en: 20 seeded English clips — with its timing handed to
pytest-benchmark (``Workload.measure``): the runner loads its model outside the timings, then
pytest-benchmark times its call, one warm-up round and three timed ones. A runner whose package
is missing is skipped, saying what to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hfbench.bench.compare_speed import SkipRunner, Workload, runners
from hfbench.bench.compare_speed.core import UNITS
from hfbench.bench.trackers.latency import Measured, StopRule, measure_latency

pytestmark = pytest.mark.real_model

#: model -> the kind of comparison compare-speed makes for it
MODELS: dict[str, str] = {
    "embedded:smollm2-135m-instruct": "generation",
    "embedded:all-minilm-l6-v2": "embeddings",
    "embedded:whisper-tiny.en": "speech",
}
#: runners left out: compiling takes about 45 s per case on two cores (compare-speed has the row)
LEFT_OUT = {"hfbench-compiled"}
CASES = [
    (model, runner.key)
    for model, kind in MODELS.items()
    for runner in runners(kind)  # type: ignore[arg-type]
    if runner.key not in LEFT_OUT
]
SENTENCES, BATCH, CLIPS = 256, 32, 20


def _workload(model: str) -> Workload:
    """The inputs ``hfbench compare-speed`` gives every runner of the model's kind."""
    from hfbench.bench.compare_speed import sample_clips, sample_sentences
    from hfbench.core.hardware import usable_cpu_cores
    from hfbench.sources import prepare_model
    from hfbench.sources.resolve import resolve_model_source

    prepare_model(model, progress=False)
    kind = MODELS[model]
    workload = Workload(model, resolve_model_source(model), "cpu", kind, threads=usable_cpu_cores())  # type: ignore[arg-type]
    if kind == "embeddings":
        workload.sentences, workload.batch_size = sample_sentences(SENTENCES).texts, BATCH
    if kind == "speech":
        clips = sample_clips(CLIPS)
        workload.clips, workload.references = list(clips.audio), list(clips.references)
    return workload


def _timed_by(benchmark: Any) -> Callable[[Callable[[], Any], StopRule], Measured[Any]]:
    """A ``Workload.measure`` that lets pytest-benchmark time the runner's call (its rounds: the
    rule's warm-up and timed calls), keeping the outputs and per-token timings the runner reads."""
    from hfbench.bench.stats import summarize
    from hfbench.pipelines.timing import record_timings

    def measure(call: Callable[[], Any], rule: StopRule) -> Measured[Any]:
        if benchmark.disabled:  # plain `pytest` without --benchmark-only: time it as compare-speed does
            return measure_latency(call, rule)
        calls: list[tuple[Any, list[Any]]] = []

        def timed() -> None:
            with record_timings() as recorder:
                output = call()
            calls.append((output, recorder.calls))

        rounds = rule.min_iterations
        benchmark.pedantic(timed, rounds=rounds, warmup_rounds=rule.warmup, iterations=1)
        values = list(benchmark.stats.stats.data)
        counted = calls[-rounds:]
        generation = [timing for _, timings in counted for timing in timings]
        outputs = [output for output, _ in counted]
        return Measured(summarize(values), values, "iteration cap", rule, [], generation, outputs)

    return measure


@pytest.mark.parametrize(("model", "key"), CASES)
def test_side_by_side(benchmark: Any, model: str, key: str) -> None:
    (runner,) = [r for r in runners(MODELS[model]) if r.key == key]  # type: ignore[arg-type]
    benchmark.group = model
    benchmark.extra_info["runner"] = runner.label
    workload = _workload(model)
    workload.measure = _timed_by(benchmark)
    try:
        timed = runner.run(workload)
    except SkipRunner as exc:
        pytest.skip(str(exc))
    assert len(timed.values) == workload.repeats and all(v > 0 for v in timed.values)
    # compare-speed's own figure of the same calls (decode tokens/s, sentences/s, audio s per s)
    benchmark.extra_info[UNITS[workload.kind]] = sorted(timed.values)[len(timed.values) // 2]
