"""The comparison itself: rows, the runner registry, and ``compare_speed`` (see the package's docstring)."""

from __future__ import annotations

import functools
import gc
import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from hfbench.bench.stats import summarize
from hfbench.bench.trackers.latency import Measured, StopRule, measure_latency
from hfbench.bench.workloads import FALLBACK_TEXT
from hfbench.core.errors import BenchmarkError, ConfigError, HFBenchError, UnsupportedCapabilityError

logger = logging.getLogger(__name__)

Kind = Literal["generation", "embeddings", "speech"]
Status = Literal["ok", "skipped", "failed"]

#: The figure of each kind, with its unit.
UNITS: dict[str, str] = {
    "generation": "decode tokens/s",
    "embeddings": "sentences/s",
    "speech": "audio s per s",  # seconds of audio transcribed per second: 1 / real-time factor
}

DEFAULT_MAX_NEW_TOKENS = 64
DEFAULT_REPEATS = 3
DEFAULT_SENTENCES = 256
DEFAULT_BATCH_SIZE = 32
DEFAULT_CLIPS = 20
SENTENCE_SEED = 0  # the Brown Corpus sample's seed (sentences.sample_sentences)
CLIP_SEED = 0  # the speech clips' seed (speech_clips.sample_clips)


@dataclass(frozen=True)
class SpeedRow:
    """One runner's result.

    Attributes:
        key: the runner's registered name (``raw``, ``hfbench-exact`` …).
        label: what ran, for people.
        status: ``ok``, ``skipped`` (a package is missing; ``note`` says which) or ``failed``.
        figure: the median figure (``SpeedComparison.unit``); None unless ``ok``.
        ratio: ``figure`` / the baseline's figure from the same run; None unless ``ok``.
        values: the figure of each timed call.
        lossy: whether the runner may change outputs (quantized weights).
        same_as_baseline: generation: whether its greedy text equals the baseline's.
        cosine_mean, cosine_min: embeddings: cosine similarity of its vectors to the baseline's
            fp32 vectors, mean and minimum over the sentences.
        wer: speech: word error rate of its transcripts against the clips' reference transcripts
            (the harness's ``wer`` metric: jiwer after Whisper's English normaliser).
        note: what was applied, or why it was skipped or failed.
    """

    key: str
    label: str
    status: Status
    figure: float | None = None
    ratio: float | None = None
    values: tuple[float, ...] = ()
    lossy: bool = False
    same_as_baseline: bool | None = None
    cosine_mean: float | None = None
    cosine_min: float | None = None
    wer: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {**vars(self), "values": list(self.values)}


@dataclass(frozen=True)
class SpeedComparison:
    """The rows of one ``compare_speed`` run, with what they were measured on.

    Attributes:
        model: the model as given.
        kind: ``generation``, ``embeddings`` or ``speech``.
        unit: the figure's unit.
        baseline: the key of the row every ratio divides by.
        rows: one per runner, baseline first.
        machine: the CPU (or GPU), cores and torch threads the run used.
        settings: the workload (tokens, repeats, sentences, batch size, threads, device).
    """

    model: str
    kind: Kind
    unit: str
    baseline: str
    rows: tuple[SpeedRow, ...]
    machine: str
    settings: dict[str, Any] = field(default_factory=dict)

    def row(self, key: str) -> SpeedRow:
        """The row of one runner.

        Raises:
            ConfigError: no runner has that key (the message lists them).
        """
        for row in self.rows:
            if row.key == key:
                return row
        raise ConfigError(f"no row {key!r}; rows: {', '.join(r.key for r in self.rows)}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "model": self.model,
            "kind": self.kind,
            "unit": self.unit,
            "baseline": self.baseline,
            "machine": self.machine,
            "settings": dict(self.settings),
            "rows": [row.to_dict() for row in self.rows],
        }

    def to_dataframe(self) -> Any:
        """The rows as a pandas DataFrame (for notebooks)."""
        import pandas as pd

        return pd.DataFrame([row.to_dict() for row in self.rows])


@dataclass
class Workload:
    """What every runner of one comparison gets: the model, its folder, the inputs and settings."""

    model: str
    folder: str
    device: str
    kind: Kind
    prompt: str = FALLBACK_TEXT
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    sentences: list[str] = field(default_factory=list)
    clips: list[Any] = field(default_factory=list)  # 16 kHz float32 arrays (speech)
    references: list[str] = field(default_factory=list)  # the clips' transcripts
    batch_size: int = DEFAULT_BATCH_SIZE
    repeats: int = DEFAULT_REPEATS
    threads: int = 1
    #: How a runner times its call once loaded (``measure_latency``; pytest-benchmark cases pass
    #: their own, ``benchmarks/test_side_by_side.py``).
    measure: Callable[[Callable[[], Any], StopRule], Measured[Any]] = measure_latency

    @property
    def rule(self) -> StopRule:
        """Exactly ``repeats`` timed calls after one warm-up call."""
        return StopRule(
            warmup=1,
            min_iterations=self.repeats,
            max_iterations=self.repeats,
            max_duration_s=float("inf"),
        )


class SkipRunner(Exception):
    """Raised by a runner that cannot run here (a package missing); the message says what to do."""


@dataclass
class Timed:
    """What a runner returns: per-call figures and the output of its last timed call."""

    values: list[float]
    output: Any
    lossy: bool = False
    note: str = ""


RunnerFn = Callable[[Workload], Timed]


@dataclass(frozen=True)
class Runner:
    """A registered runner: its key, label, kind and function; ``baseline`` marks the divisor."""

    key: str
    label: str
    kind: Kind
    run: RunnerFn
    baseline: bool = False


_RUNNERS: dict[str, list[Runner]] = {"generation": [], "embeddings": [], "speech": []}

#: The modules that register the built-in runners, imported on first use (explicit, not a side
#: effect of importing this package in some order).
BUILTIN_RUNNER_MODULES = (
    "hfbench.bench.compare_speed.generation",
    "hfbench.bench.compare_speed.embeddings",
    "hfbench.bench.compare_speed.speech",
)


def register_runner(
    kind: Kind, key: str, label: str, *, baseline: bool = False
) -> Callable[[RunnerFn], RunnerFn]:
    """Decorator: add a runner to a kind's comparison (in registration order; the baseline first)."""

    def wrap(fn: RunnerFn) -> RunnerFn:
        runners = [r for r in _RUNNERS[kind] if r.key != key]
        runner = Runner(key, label, kind, fn, baseline)
        _RUNNERS[kind] = [runner, *runners] if baseline else [*runners, runner]
        return fn

    return wrap


def runners(kind: Kind) -> list[Runner]:
    """The runners of a kind, baseline first (the built-in ones registered on first use)."""
    for module in BUILTIN_RUNNER_MODULES:
        importlib.import_module(module)
    return list(_RUNNERS[kind])


def compare_speed(
    model: str,
    *,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    repeats: int = DEFAULT_REPEATS,
    sentences: int = DEFAULT_SENTENCES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int | None = None,
    device: str = "auto",
    only: list[str] | None = None,
    clips: int = DEFAULT_CLIPS,
) -> SpeedComparison:
    """Measure hfbench's ``exact`` and ``fast`` levels against the usual alternatives, side by side.

    Args:
        model: Hub id, folder or ``embedded:<name>``; a decoder-only model compares generation,
            an encoder-only model embeddings.
        max_new_tokens: forced generation length (tokens per call).
        repeats: timed calls per runner (after one warm-up call).
        sentences: how many seeded sentences the embeddings runners encode per call.
        batch_size: sentences per forward pass (embeddings).
        threads: torch threads for every runner (default: the usable physical cores).
        device: where the model runs (``auto``: CUDA, else MPS, else CPU).
        only: run only these runner keys (the baseline always runs).
        clips: how many seeded speech clips the speech runners transcribe per call.

    Returns:
        A ``SpeedComparison`` whose ratios divide by the baseline of this run.

    Raises:
        UnsupportedCapabilityError: the model is not decoder-only, encoder-only or speech.
        ConfigError: an invalid count, or an unknown runner in ``only``.
        BenchmarkError: the baseline failed (nothing to compare with).
    """
    import torch

    from hfbench.bench.compare_speed.sentences import sample_sentences
    from hfbench.bench.compare_speed.speech_clips import sample_clips
    from hfbench.core.architecture import ModelArchitecture
    from hfbench.core.hardware import usable_cpu_cores
    from hfbench.pipelines.loading import resolve_device
    from hfbench.sources import detect_architecture, prepare_model
    from hfbench.sources.resolve import resolve_model_source

    for name, value in (
        ("max_new_tokens", max_new_tokens),
        ("repeats", repeats),
        ("sentences", sentences),
        ("batch_size", batch_size),
        ("clips", clips),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}.", key_path=name)
    if max_new_tokens < 2:
        raise ConfigError(
            "max_new_tokens must be >= 2: decode speed counts the tokens after the first.",
            key_path="max_new_tokens",
        )
    kinds: dict[ModelArchitecture, Kind] = {
        ModelArchitecture.DECODER_ONLY: "generation",
        ModelArchitecture.ENCODER_ONLY: "embeddings",
        ModelArchitecture.SPEECH: "speech",
    }
    architecture = detect_architecture(model)
    kind = kinds.get(architecture)
    if kind is None:
        raise UnsupportedCapabilityError(
            f"compare-speed measures decoder-only generation, encoder-only embeddings and speech "
            f"recognition; {model} is {architecture.value} (encoder-decoders are not compared yet)."
        )
    chosen = runners(kind)
    if only:
        unknown = [k for k in only if k not in {r.key for r in chosen}]
        if unknown:
            raise ConfigError(
                f"unknown runner(s) {', '.join(unknown)} for {kind}; valid: "
                f"{', '.join(r.key for r in chosen)}.",
                key_path="only",
            )
        chosen = [r for r in chosen if r.baseline or r.key in only]
    threads = threads or usable_cpu_cores()
    torch.set_num_threads(threads)
    prepare_model(model, progress=False)
    sample = sample_sentences(sentences, SENTENCE_SEED) if kind == "embeddings" else None
    speech = sample_clips(clips, CLIP_SEED) if kind == "speech" else None
    workload = Workload(
        model=model,
        folder=resolve_model_source(model),
        device=resolve_device(device),
        kind=kind,
        max_new_tokens=max_new_tokens,
        sentences=sample.texts if sample is not None else [],
        clips=list(speech.audio) if speech is not None else [],
        references=list(speech.references) if speech is not None else [],
        batch_size=batch_size,
        repeats=repeats,
        threads=threads,
    )
    rows: list[SpeedRow] = []
    baseline: tuple[SpeedRow, Any] | None = None
    for runner in chosen:
        row, output = _run(runner, workload, baseline)
        if runner.baseline:
            if row.status != "ok":
                raise BenchmarkError(f"the baseline ({runner.label}) did not run: {row.note}")
            baseline = (row, output)
        rows.append(row)
    settings = {
        "device": workload.device,
        "threads": threads,
        "repeats": repeats,
        "warmup": 1,
        **_kind_settings(kind, workload, sample, speech),
    }
    base = next(r for r in chosen if r.baseline)
    return SpeedComparison(model, kind, UNITS[kind], base.key, tuple(rows), machine(workload), settings)


def _kind_settings(kind: Kind, workload: Workload, sample: Any, speech: Any) -> dict[str, Any]:
    """The workload settings a kind's table ends with."""
    if kind == "generation":
        return {"max_new_tokens": workload.max_new_tokens, "prompt_words": len(workload.prompt.split())}
    if kind == "embeddings":
        return {"batch_size": workload.batch_size, "sentences": sample.describe() if sample else {}}
    return {"clips": speech.describe() if speech else {}}


def _run(runner: Runner, workload: Workload, baseline: tuple[SpeedRow, Any] | None) -> tuple[SpeedRow, Any]:
    """Run one runner; its row (ratio and quality against the baseline) and its last output."""
    logger.info("compare-speed: %s", runner.label)
    try:
        timed = runner.run(workload)
    except SkipRunner as exc:
        return SpeedRow(runner.key, runner.label, "skipped", note=str(exc)), None
    except Exception as exc:  # a runner's failure is a row, never the comparison's end
        logger.info("compare-speed: %s failed", runner.label, exc_info=True)
        message = str(exc) if isinstance(exc, HFBenchError) else f"{type(exc).__name__}: {exc}"
        return SpeedRow(runner.key, runner.label, "failed", note=message), None
    finally:
        gc.collect()
    figure = summarize(timed.values).median
    ratio = 1.0
    base_output = timed.output  # the baseline against itself
    if baseline is not None:
        base_row, base_output = baseline
        ratio = figure / base_row.figure if base_row.figure else float("nan")
    quality = QUALITY_CHANGE[workload.kind](timed.output, base_output, workload)
    row = SpeedRow(
        runner.key,
        runner.label,
        "ok",
        figure=figure,
        ratio=ratio,
        values=tuple(timed.values),
        lossy=timed.lossy,
        note=timed.note,
        **quality,
    )
    return row, timed.output


def _same_text(output: Any, baseline: Any, workload: Workload) -> dict[str, Any]:
    """Generation: whether the greedy text equals the baseline's."""
    return {"same_as_baseline": output == baseline}


def _cosine(output: Any, baseline: Any, workload: Workload) -> dict[str, Any]:
    """Embeddings: cosine of each vector to the baseline's, mean and minimum."""
    import numpy as np

    a = np.asarray(output, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {"cosine_mean": float(cos.mean()), "cosine_min": float(cos.min())}


def _transcripts(output: Any, baseline: Any, workload: Workload) -> dict[str, Any]:
    """Speech: whether the transcripts equal the baseline's, and their word error rate."""
    from hfbench.bench.quality.metrics import get_metric

    metric = get_metric("wer")
    predictions, references = metric.prepare(list(output), workload.references)
    return {"same_as_baseline": list(output) == list(baseline), "wer": metric.corpus(predictions, references)}


#: How a row's output is compared, per kind (against the baseline's output and the workload).
QUALITY_CHANGE: dict[str, Callable[[Any, Any, Workload], dict[str, Any]]] = {
    "generation": _same_text,
    "embeddings": _cosine,
    "speech": _transcripts,
}


def machine(workload: Workload) -> str:
    """The hardware of a run, in words: CPU model and cores (or the GPU), and torch threads."""
    from hfbench.core.hardware import system_info

    info = system_info()
    text = f"{info.cpu_model or 'unknown CPU'}, {info.cpu_cores} cores, {workload.threads} torch threads"
    if workload.device.startswith("cuda") and info.cuda_devices:
        text = f"{info.cuda_devices[0].name} ({text})"
    return f"{text}; torch {info.torch_version}, transformers {info.transformers_version}"


@contextmanager
def quiet_load() -> Iterator[None]:
    """Hide transformers' loading bars and load reports while a runner loads its own copy."""
    from transformers.utils import logging as transformers_logging

    from hfbench.pipelines.loading import quiet_progress

    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        with quiet_progress():
            yield
    finally:
        transformers_logging.set_verbosity(verbosity)


def fp32_pipeline(task: str, workload: Workload) -> Any:
    """``transformers.pipeline(task)`` on the workload's folder, float32, on its device, loaded quietly."""
    import torch
    from transformers import pipeline

    make: Any = pipeline  # typed per task literal; the task is a variable here
    with quiet_load():
        return make(task, model=workload.folder, dtype=torch.float32, device=workload.device)


def steps_note(report: Any) -> str:
    """The lossy steps an hfbench load applied first (what changes outputs), then the rest."""
    if report is None:
        return ""
    lossy = [s.name for s in report.steps if s.applied and s.lossy]
    exact = [s.name for s in report.steps if s.applied and not s.lossy]
    parts = [f"lossy: {', '.join(lossy)}"] if lossy else []
    return "; ".join([*parts, f"lossless: {', '.join(exact)}"])


def register_levels(kind: Kind, run: Callable[[Workload, str], Timed]) -> None:
    """Register ``run`` once per ``optimize`` level, as ``hfbench-<level>`` runners of ``kind``."""
    for level in ("exact", "fast"):
        register_runner(kind, f"hfbench-{level}", f"hfbench {level}")(
            functools.partial(_at_level, run, level)
        )


def _at_level(run: Callable[[Workload, str], Timed], level: str, workload: Workload) -> Timed:
    return run(workload, level)


def timed_pipeline(pipe: Any, measure: Callable[[], tuple[list[float], Any]]) -> Timed:
    """Time a loaded hfbench pipeline with ``measure``, unload it, and note what its load applied."""
    report = pipe.loaded.optimization  # before unloading
    try:
        values, output = measure()
    finally:
        pipe.unload()
    return Timed(values, output, lossy=bool(report and report.lossy), note=steps_note(report))
