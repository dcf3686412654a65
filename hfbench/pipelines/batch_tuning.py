"""``batch_size = "auto"``: the batch size tuned online, per machine and model, on a call's own inputs.

A call with ``batch_size = "auto"`` runs its length-sorted inputs (``batching.run_batched``) in
batches of 1, 2, 4, 8 ...; every batch is real work whose results are kept. The figure compared
is the *padded length per second*: batch size x the longest input of the batch (in the unit of
the processor's ``length``: characters of text for the text processors), over the batch's
seconds, so batches of different lengths compare.

**Enough work per size.** A size is measured over consecutive batches of that size until their
seconds add up to at least ``MIN_MEASURE_S``; their padded lengths and seconds are summed into
one ``Observation`` (``merge_observations``), and only then does the search move on to the next
size. A batch of one or two short texts takes a few milliseconds on a CPU, so the time of one
such batch is mostly noise; batches that take longer than ``MIN_MEASURE_S`` are measured alone.

**The search** (``search_step``, a pure function of one merged observation per size) keeps
doubling while sizes keep improving. A size *improves* when its padded length per second is at
least ``1 + IMPROVEMENT_THRESHOLD`` times that of the best size so far, the last size that
improved (size 1, the first measured, is the first best). It stops

- after ``PATIENCE`` consecutive sizes that do not improve: the best size is chosen. One size
  that does not improve does not end the search, because on CPUs the gains of batching add up
  slowly (1 -> 2 may gain less than 5 % where 1 -> 32 gains 25 %); and the best size, not the
  largest, is chosen, because a gain below the threshold does not pay for the memory and latency
  of a larger batch;
- at ``MAX_BATCH_SIZE``: the best size is chosen (the cap itself when it improved);
- at a batch that runs out of memory: its items are run again at the best size among those that
  fitted (the last that improved; a larger size that fitted without improving is not taken, by
  the same rule as above), which is chosen.

The rest of the call runs at the chosen size. The first batch of a search (size 1) is a warm-up
and is not measured: a model's first forward pass in a process pays one-off costs (lazy
initialisation, allocator growth, kernel selection, oneDNN primitives, CUDA context and cuBLAS
handles) that would make size 1 look slow and the first doubling look like a gain. Searches run
once per key per process, so that batch is in practice the model's first.

The chosen size is kept per ``TuningKey`` (hardware id, model, capability, device, dtype, optimize
level, quantization, compile) in memory for the process and in
``<hfbench cache>/hardware/<hardware_id>-batch-sizes.json``, so later calls and processes start
at it without searching; deleting the file (and ``forget_tuned_batch_sizes()`` in a running
process) searches again. A call whose inputs run out before the search ends keeps its
observations in memory, the partly measured size's batches included, and the next call with the
same key goes on from there; an unfinished search is never written to the file.

A settled size that runs out of memory on a later call's longer inputs is halved for the rest of
that call (the stored size is left as it is). Running out of memory at size 1 is raised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from hfbench.core.errors import OutOfMemoryError

if TYPE_CHECKING:
    from hfbench.pipelines.loader import LoadedModel
    from hfbench.pipelines.results import ProcessResult

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

AUTO = "auto"
"""The ``batch_size`` value that asks for the tuned size."""

IMPROVEMENT_THRESHOLD = 0.05
"""A size improves when it raises the best size's padded length per second by this fraction."""

PATIENCE = 2
"""The search stops after this many consecutive sizes that do not improve."""

MIN_MEASURE_S = 0.1
"""Each size is measured over batches of that size that add up to at least this many seconds."""

MAX_BATCH_SIZE = 256
"""The search stops here: larger batches rarely gain and hold a lot of memory."""

FIRST_BATCH_SIZE = 1
"""The size the search starts from (and the warm-up batch's size)."""

Tuning = Literal["stored", "measured", "unfinished"]
"""How a call came by its batch size: read from memory or the file, found by a search that
finished in this call, or the best so far of a search its inputs were too few to finish."""


@dataclass(frozen=True)
class Observation:
    """One measured batch of a search, or one size's batches merged (``merge_observations``).

    Attributes:
        batch_size: inputs in the batch.
        padded_length: ``batch_size`` x the length of its longest input (the processor's unit),
            summed over the batches merged.
        seconds: wall time of the batch (summed over the batches merged); None when it ran out
            of memory.
    """

    batch_size: int
    padded_length: int
    seconds: float | None

    @property
    def out_of_memory(self) -> bool:
        """Whether the batch ran out of memory."""
        return self.seconds is None

    @property
    def padded_length_per_s(self) -> float:
        """Throughput: padded length over seconds (0 after out-of-memory)."""
        if self.seconds is None:
            return 0.0
        return max(self.padded_length, 1) / max(self.seconds, 1e-9)


def merge_observations(observations: Sequence[Observation]) -> Observation:
    """One observation of a size from consecutive batches of that size: padded lengths and seconds
    summed (out of memory when any batch was).

    Args:
        observations: batches of one size, at least one.

    Raises:
        ValueError: no observations, or of different sizes.

    Example:
        >>> merge_observations([Observation(4, 40, 0.25), Observation(4, 36, 0.5)])
        Observation(batch_size=4, padded_length=76, seconds=0.75)
    """
    if not observations:
        raise ValueError("no observations to merge")
    sizes = {o.batch_size for o in observations}
    if len(sizes) > 1:
        raise ValueError(f"observations of different batch sizes {sorted(sizes)} do not merge")
    fitted = [o.seconds for o in observations if o.seconds is not None]
    seconds = sum(fitted) if len(fitted) == len(observations) else None
    return Observation(observations[0].batch_size, sum(o.padded_length for o in observations), seconds)


def best_observation(
    observations: Sequence[Observation], *, threshold: float = IMPROVEMENT_THRESHOLD
) -> Observation | None:
    """The best size so far: the last one that improved (None before any size fitted).

    The first size that fitted is the first best; a later one improves when its padded length
    per second is at least ``1 + threshold`` times the best's.

    Example:
        >>> best_observation([Observation(1, 100, 1.0), Observation(2, 200, 1.9)])  # 105.3/s
        Observation(batch_size=2, padded_length=200, seconds=1.9)
        >>> best_observation([Observation(1, 100, 1.0), Observation(2, 200, 1.95)])  # 102.6/s
        Observation(batch_size=1, padded_length=100, seconds=1.0)
    """
    index = _best_index(observations, threshold)
    return None if index is None else observations[index]


def _best_index(observations: Sequence[Observation], threshold: float) -> int | None:
    best: int | None = None
    for i, observation in enumerate(observations):
        if observation.out_of_memory:
            continue
        rate = observation.padded_length_per_s
        if best is None or rate >= observations[best].padded_length_per_s * (1 + threshold):
            best = i
    return best


@dataclass(frozen=True)
class SearchStep:
    """Where a search stands after some observations.

    Attributes:
        batch_size: the size of the next batch; once ``finished``, the chosen size.
        finished: whether the search is over.
        stopped: why it ended: ``no gain`` (``PATIENCE`` sizes in a row did not improve), ``cap``
            or ``out of memory`` (empty while searching).
    """

    batch_size: int
    finished: bool = False
    stopped: str = ""


def search_step(
    observations: Sequence[Observation],
    *,
    threshold: float = IMPROVEMENT_THRESHOLD,
    cap: int = MAX_BATCH_SIZE,
    patience: int = PATIENCE,
) -> SearchStep:
    """The next step of the doubling search, from the sizes measured so far (in order).

    Args:
        observations: one per size (its batches merged), smallest first (1, 2, 4 ...); the last
            may be out of memory.
        threshold: the least fractional gain in padded length per second over the best size so
            far that makes a size improve (``best_observation``).
        cap: the largest size the search tries.
        patience: how many consecutive sizes that do not improve end the search.

    Returns:
        The next size to measure, or the chosen size (the best, see ``best_observation``) and
        why the search stopped.

    Example:
        Size 2 gains 2 % over size 1 (102/s against 100/s): not an improvement, but one miss
        does not stop the search; size 4 (111/s) improves on size 1 and becomes the best:

        >>> one, two = Observation(1, 100, 1.0), Observation(2, 200, 1.96)
        >>> search_step([one, two])
        SearchStep(batch_size=4, finished=False, stopped='')
        >>> four = Observation(4, 400, 3.6)
        >>> search_step([one, two, four])
        SearchStep(batch_size=8, finished=False, stopped='')

        Sizes 8 and 16 run at 114/s, less than 5 % over 111/s: two misses in a row end the
        search at the best size, 4:

        >>> eight, sixteen = Observation(8, 800, 7.0), Observation(16, 1600, 14.0)
        >>> search_step([one, two, four, eight])
        SearchStep(batch_size=16, finished=False, stopped='')
        >>> search_step([one, two, four, eight, sixteen])
        SearchStep(batch_size=4, finished=True, stopped='no gain')

        Out of memory at 8 after 4 fitted without improving on 2 (200/s both): the best, 2:

        >>> rising = [Observation(1, 100, 1.0), Observation(2, 200, 1.0), Observation(4, 400, 2.0)]
        >>> search_step([*rising, Observation(8, 800, None)])
        SearchStep(batch_size=2, finished=True, stopped='out of memory')
        >>> search_step(rising[:2], cap=2)
        SearchStep(batch_size=2, finished=True, stopped='cap')
    """
    if not observations:
        return SearchStep(min(FIRST_BATCH_SIZE, cap))
    last = observations[-1]
    best = _best_index(observations, threshold)
    if last.out_of_memory:
        chosen = observations[best].batch_size if best is not None else max(1, last.batch_size // 2)
        return SearchStep(chosen, True, "out of memory")
    assert best is not None  # the last size fitted
    misses = len(observations) - 1 - best  # the sizes after the best: none improved
    if misses >= patience:
        return SearchStep(observations[best].batch_size, True, "no gain")
    if last.batch_size >= cap:
        return SearchStep(observations[best].batch_size, True, "cap")
    return SearchStep(min(last.batch_size * 2, cap))


@dataclass(frozen=True)
class TuningKey:
    """What a tuned batch size belongs to: one machine running one model one way for one capability."""

    hardware_id: str
    model: str
    capability: str
    device: str
    dtype: str
    optimize: str
    quantization: str | None = None
    compile: bool = False

    @classmethod
    def of(cls, loaded: LoadedModel, capability: str) -> TuningKey:
        """The key of a loaded model on this machine."""
        from hfbench.core.hardware import system_info

        options = loaded.options
        return cls(
            hardware_id=system_info().hardware_id(),
            model=loaded.model_name,
            capability=capability,
            device=str(loaded.device),
            dtype=str(getattr(loaded.model, "dtype", options.dtype)).removeprefix("torch."),
            optimize=options.optimize,
            quantization=options.quantization,
            compile=options.compile,
        )

    def fields(self) -> dict[str, Any]:
        """The key as it is written to the file (the hardware id names the file)."""
        out = asdict(self)
        del out["hardware_id"]
        return out


def tuned_batch_sizes_path(hardware_id: str) -> Path:
    """``<hfbench cache>/hardware/<hardware_id>-batch-sizes.json``."""
    from hfbench.sources.cache import cache_dir

    return cache_dir() / "hardware" / f"{hardware_id}-batch-sizes.json"


_lock = threading.Lock()
_tuned: dict[TuningKey, int] = {}


@dataclass(frozen=True)
class _Search:
    """An unfinished search: one merged observation per size measured, and the batches of the
    size being measured so far (merged; under ``MIN_MEASURE_S`` seconds)."""

    observations: tuple[Observation, ...] = ()
    pending: Observation | None = None


_searches: dict[TuningKey, _Search] = {}  # unfinished; present once warmed up


def forget_tuned_batch_sizes() -> None:
    """Forget what this process has tuned or read (the file stays; delete it to search again)."""
    with _lock:
        _tuned.clear()
        _searches.clear()


def stored_batch_size(key: TuningKey) -> int | None:
    """The tuned size of ``key``: this process's, else the file's (then remembered), else None."""
    with _lock:
        if key in _tuned:
            return _tuned[key]
    size = next((e["batch_size"] for e in _read_entries(key.hardware_id) if _matches(e, key)), None)
    if size is not None:
        with _lock:
            _tuned[key] = size
    return size


def store_batch_size(key: TuningKey, batch_size: int, **detail: Any) -> Path | None:
    """Remember a finished search's size in memory and in the file (under a file lock).

    Returns:
        The file, or None when it could not be written (logged; the size stays in memory).
    """
    from filelock import FileLock

    from hfbench.core.datafiles import write_data_file

    with _lock:
        _tuned[key] = batch_size
    path = tuned_batch_sizes_path(key.hardware_id)
    entry = {**key.fields(), "batch_size": batch_size, **detail}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):
            others = [e for e in _read_entries(key.hardware_id) if not _matches(e, key)]
            write_data_file(path, {"hardware_id": key.hardware_id, "batch_sizes": [*others, entry]})
    except OSError as exc:
        logger.warning(
            "Could not keep the tuned batch size in %s (%s); this process remembers it.", path, exc
        )
        return None
    return path


def _read_entries(hardware_id: str) -> list[dict[str, Any]]:
    from hfbench.core.datafiles import read_json_if_any

    path = tuned_batch_sizes_path(hardware_id)
    if not path.is_file():
        return []
    data = read_json_if_any(path)
    entries = data.get("batch_sizes") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        logger.warning("Ignoring %s: not a tuned batch-size file; delete it to tune again.", path)
        return []
    return [
        e
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("batch_size"), int) and e["batch_size"] >= 1
    ]


def _matches(entry: dict[str, Any], key: TuningKey) -> bool:
    return all(entry.get(name) == value for name, value in key.fields().items())


@dataclass
class TunedBatchSize:
    """The batch size a call ended with, for its results' ``extra``."""

    batch_size: int
    tuning: Tuning

    def extra(self) -> dict[str, Any]:
        """``{"batch_size": 16, "batch_size_tuning": "stored"}``."""
        return {"batch_size": self.batch_size, "batch_size_tuning": self.tuning}


class BatchSizeTuner:
    """Sizes the batches of one ``batch_size="auto"`` call (a ``batching.BatchSizer``).

    Starts at the stored size of its key, else goes on with (or starts) the key's search. While
    searching, it times each full batch of the size being measured and merges them until they
    add up to ``min_measure_s``; the merged observation is the size's one step of the search.

    Args:
        key: what the size belongs to.
        device: the model's device (CUDA is synchronised around each timed batch).
        clock: seconds, monotonic (``time.perf_counter``; tests pass their own).
        threshold: see ``IMPROVEMENT_THRESHOLD``.
        cap: see ``MAX_BATCH_SIZE``.
        patience: see ``PATIENCE``.
        min_measure_s: see ``MIN_MEASURE_S``.
    """

    def __init__(
        self,
        key: TuningKey,
        *,
        device: Any = None,
        clock: Callable[[], float] = time.perf_counter,
        threshold: float = IMPROVEMENT_THRESHOLD,
        cap: int = MAX_BATCH_SIZE,
        patience: int = PATIENCE,
        min_measure_s: float = MIN_MEASURE_S,
    ) -> None:
        self.key = key
        self.device = device
        self.clock = clock
        self.threshold = threshold
        self.cap = cap
        self.patience = patience
        self.min_measure_s = min_measure_s
        self._size = stored_batch_size(key)
        self._tuning: Tuning = "stored"
        self._ran = False
        with _lock:
            search = _searches.get(key)
        warmed = search is not None
        self._observations = list(search.observations) if search else []
        self._pending = search.pending if search else None
        self._warm_up = self._size is None and not warmed
        _register(self)

    @classmethod
    def for_model(cls, loaded: LoadedModel, capability: str) -> BatchSizeTuner:
        """The tuner of a loaded model and capability (module constants read at call time)."""
        return cls(
            TuningKey.of(loaded, capability),
            device=loaded.device,
            threshold=IMPROVEMENT_THRESHOLD,
            cap=MAX_BATCH_SIZE,
            patience=PATIENCE,
            min_measure_s=MIN_MEASURE_S,
        )

    @property
    def searching(self) -> bool:
        """Whether the next batch is part of the search (no size is settled yet)."""
        return self._size is None

    def next_size(self) -> int:
        """The size of the next batch."""
        if self._size is not None:
            return self._size
        if self._warm_up:
            return FIRST_BATCH_SIZE
        return self._step().batch_size

    def run_batch(self, batch: list[T], longest: int, run: Callable[[list[T]], list[R]]) -> list[R] | None:
        """Run one batch, timing it while searching (a short last batch is run, not measured).

        Args:
            batch: the items (``next_size()`` of them, fewer for the last batch).
            longest: the length of its longest item.
            run: the processor's batch function.

        Returns:
            Its outputs, or None when it ran out of memory and its items are to be run again at
            ``next_size()``, which is now smaller.

        Raises:
            OutOfMemoryError (or torch's): out of memory at size 1.
        """
        size = len(batch)
        measured = self.searching and not self._warm_up and size == self.next_size()
        synchronize(self.device)
        start = self.clock()
        try:
            outputs = run(batch)
        except Exception as exc:
            if size <= 1 or not _is_out_of_memory(exc):
                raise
            logger.info("batch_size auto: a batch of %d ran out of memory (%s)", size, exc)
        else:
            synchronize(self.device)
            seconds = self.clock() - start
            self._ran = True
            if self._warm_up:
                self._warm_up = False
                self._save_search()
            elif measured:
                self._measure(Observation(size, size * longest, seconds))
            return outputs
        _release_cached_memory(self.device)
        if self.searching:  # the size does not fit, whatever its earlier batches took
            self._pending = None
            self._observe(Observation(size, size * longest, None))
        else:  # a later call's longer inputs: smaller batches for the rest of this call only
            self._size = max(1, size // 2)
        return None

    def outcome(self) -> TunedBatchSize | None:
        """The size this call ended with and how it came by it (None before any batch ran)."""
        if self._size is not None:
            return TunedBatchSize(self._size, self._tuning)
        if not self._ran:
            return None
        best = best_observation(self._observations, threshold=self.threshold)
        return TunedBatchSize(best.batch_size if best else FIRST_BATCH_SIZE, "unfinished")

    def _step(self) -> SearchStep:
        return search_step(self._observations, threshold=self.threshold, cap=self.cap, patience=self.patience)

    def _measure(self, batch: Observation) -> None:
        """Add a batch to the size being measured; once they add up to ``min_measure_s``, their
        merged observation is the size's step of the search."""
        pending = self._pending
        merged = batch
        if pending is not None and pending.batch_size == batch.batch_size:
            merged = merge_observations([pending, batch])
        if (merged.seconds or 0.0) < self.min_measure_s:
            self._pending = merged
            self._save_search()
            return
        self._pending = None
        self._observe(merged)

    def _observe(self, observation: Observation) -> None:
        self._observations.append(observation)
        step = self._step()
        if not step.finished:
            self._save_search()
            return
        self._size, self._tuning = step.batch_size, "measured"
        with _lock:
            _searches.pop(self.key, None)
        chosen = next((o for o in self._observations if o.batch_size == step.batch_size), None)
        path = store_batch_size(
            self.key,
            step.batch_size,
            stopped=step.stopped,
            padded_length_per_s=round(chosen.padded_length_per_s, 3) if chosen else None,
            tried=[o.batch_size for o in self._observations],
            tried_padded_length_per_s=[round(o.padded_length_per_s, 3) for o in self._observations],
            measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        logger.info(
            "batch_size auto: %d for %s (%s on %s, %s): %s; kept in %s",
            step.batch_size,
            self.key.model,
            self.key.capability,
            self.key.device,
            self.key.dtype,
            step.stopped,
            path or "memory only",
        )

    def _save_search(self) -> None:
        with _lock:
            _searches[self.key] = _Search(tuple(self._observations), self._pending)


def synchronize(device: Any) -> None:
    """Wait for queued CUDA work, so a timed batch is the device's time, not the launch's."""
    from hfbench.pipelines.timing import synchronize_device

    synchronize_device(device)


def _is_out_of_memory(exc: BaseException) -> bool:
    from hfbench.pipelines.loading import is_out_of_memory

    return isinstance(exc, OutOfMemoryError) or is_out_of_memory(exc)


def _release_cached_memory(device: Any) -> None:
    if getattr(device, "type", None) == "cuda":
        import torch

        torch.cuda.empty_cache()


@dataclass
class BatchSizeReport:
    """The tuners made inside ``reporting_batch_sizes()``."""

    tuners: list[BatchSizeTuner] = field(default_factory=list)

    def outcome(self) -> TunedBatchSize | None:
        """The outcome of the last tuner that ran a batch (None when no ``auto`` batch ran)."""
        outcomes = [tuner.outcome() for tuner in self.tuners]
        return next((o for o in reversed(outcomes) if o is not None), None)

    def annotate(self, results: Sequence[ProcessResult]) -> None:
        """Add ``batch_size`` and ``batch_size_tuning`` to each result's ``extra``."""
        outcome = self.outcome()
        if outcome is not None:
            for result in results:
                result.extra.update(outcome.extra())


_report: ContextVar[BatchSizeReport | None] = ContextVar("hfbench_batch_size_report", default=None)


def _register(tuner: BatchSizeTuner) -> None:
    report = _report.get()
    if report is not None:
        report.tuners.append(tuner)


@contextmanager
def reporting_batch_sizes() -> Iterator[BatchSizeReport]:
    """Collect the ``batch_size="auto"`` outcomes of the calls made inside (``BasePipeline.run``)."""
    report = BatchSizeReport()
    token = _report.set(report)
    try:
        yield report
    finally:
        _report.reset(token)
