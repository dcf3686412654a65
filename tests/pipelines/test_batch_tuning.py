"""``batch_size = "auto"``: the doubling search, the tuner around ``run_batched``, what is stored.

The search and the tuner are checked with observations and a clock made up here (timings vary by
machine, so nothing asserts on real ones); the tiny BERT checks that an ``auto`` call gives the
same embeddings as a fixed size, reports its size and stores it for the next process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hfbench.core.config import ModelConfig
from hfbench.core.errors import ConfigError, OutOfMemoryError
from hfbench.core.hardware import system_info
from hfbench.pipelines import batch_tuning, pipeline_for
from hfbench.pipelines.batch_tuning import (
    IMPROVEMENT_THRESHOLD,
    PATIENCE,
    BatchSizeTuner,
    Observation,
    SearchStep,
    TuningKey,
    best_observation,
    forget_tuned_batch_sizes,
    merge_observations,
    search_step,
)
from hfbench.pipelines.batching import run_batched

KEY = TuningKey("test-hardware", "tiny/model", "embeddings", "cpu", "float32", "exact")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test tunes into its own cache folder, with nothing remembered in the process."""
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(
        batch_tuning,
        "tuned_batch_sizes_path",
        lambda hardware_id: tmp_path / "cache" / "hardware" / f"{hardware_id}-batch-sizes.json",
    )
    forget_tuned_batch_sizes()
    yield
    forget_tuned_batch_sizes()


def _stored(hardware_id: str = KEY.hardware_id) -> Path:
    """The file the tuner keeps sizes in (as the tuner finds it: through the module)."""
    return batch_tuning.tuned_batch_sizes_path(hardware_id)


def _entry(hardware_id: str = KEY.hardware_id) -> dict[str, Any]:
    (entry,) = json.loads(_stored(hardware_id).read_text())["batch_sizes"]
    return dict(entry)


def _rate(size: int, per_s: float) -> Observation:
    """A batch of ``size`` inputs of length 10 that ran at ``per_s`` padded length per second."""
    return Observation(size, size * 10, size * 10 / per_s)


def _rates(*per_s: float) -> list[Observation]:
    """One observation per size 1, 2, 4 ... at these rates."""
    return [_rate(2**i, rate) for i, rate in enumerate(per_s)]


# ---- the search, on observations ----------------------------------------------------------
def test_the_search_starts_at_one() -> None:
    assert search_step([]) == SearchStep(1)


def test_the_search_doubles_while_sizes_improve_by_at_least_the_threshold() -> None:
    gain = 1 + IMPROVEMENT_THRESHOLD * 1.2
    assert search_step(_rates(100, 100 * gain)) == SearchStep(4)
    assert search_step(_rates(100, 200, 380)) == SearchStep(8)


def test_one_size_that_does_not_improve_does_not_stop_the_search() -> None:
    assert PATIENCE == 2
    assert search_step(_rates(100, 150, 150)) == SearchStep(8)  # slower or equal: one miss
    assert search_step(_rates(100, 102)) == SearchStep(4)  # a gain below the threshold: one miss


@pytest.mark.parametrize(
    ("rates", "best"),
    [((100, 102, 103), 1), ((100, 200, 150, 204), 2), ((100, 102, 110, 111, 112), 4)],
    ids=["both-below-the-threshold", "slower-then-below-the-threshold", "after-a-later-best"],
)
def test_two_sizes_in_a_row_that_do_not_improve_stop_the_search_at_the_best_size(
    rates: tuple[float, ...], best: int
) -> None:
    assert search_step(_rates(*rates)) == SearchStep(best, finished=True, stopped="no gain")
    assert best_observation(_rates(*rates)) == _rate(best, rates[best.bit_length() - 1])


def test_a_size_improves_on_the_best_size_so_far_not_on_the_size_before() -> None:
    # 4 % a doubling: no doubling improves on the one before it, but every second one improves
    # on the best so far, so slowly adding gains keep the search going (here to the cap, which
    # does not improve on 16 and is not chosen).
    slow = _rates(*(100 * 1.04**k for k in range(6)))  # sizes 1 .. 32
    for n in range(2, 6):
        assert not search_step(slow[:n]).finished
    assert search_step(slow, cap=32) == SearchStep(16, finished=True, stopped="cap")


def test_the_threshold_and_the_patience_are_parameters() -> None:
    assert search_step(_rates(100, 104), threshold=0.01) == SearchStep(4)
    assert search_step(_rates(100, 104), patience=1) == SearchStep(1, finished=True, stopped="no gain")
    assert search_step(_rates(100, 102, 103), patience=3) == SearchStep(8)


def test_the_search_stops_at_the_cap() -> None:
    rising = [_rate(size, 100 * size) for size in (1, 2, 4, 8)]
    assert search_step(rising, cap=8) == SearchStep(8, finished=True, stopped="cap")
    assert search_step(rising[:3], cap=6) == SearchStep(6)


def test_out_of_memory_ends_the_search_at_the_best_size_that_fitted() -> None:
    oom = Observation(8, 80, None)
    assert search_step([*_rates(100, 200, 400), oom]) == SearchStep(4, finished=True, stopped="out of memory")
    # 4 fitted but did not improve on 2: 2 is the best
    assert search_step([*_rates(100, 200, 200), oom]) == SearchStep(2, finished=True, stopped="out of memory")
    assert search_step([Observation(2, 20, None)]) == SearchStep(1, finished=True, stopped="out of memory")


def test_throughput_is_padded_length_per_second() -> None:
    assert Observation(4, 4 * 25, 2.0).padded_length_per_s == 50.0
    assert Observation(4, 100, None).out_of_memory


def test_batches_of_one_size_merge_into_one_observation() -> None:
    merged = merge_observations([Observation(2, 20, 0.25), Observation(2, 16, 0.5), Observation(2, 10, 0.25)])
    assert merged == Observation(2, 46, 1.0) and merged.padded_length_per_s == 46.0
    assert merge_observations([Observation(2, 20, 0.25), Observation(2, 20, None)]).out_of_memory
    with pytest.raises(ValueError, match="different batch sizes"):
        merge_observations([Observation(2, 20, 0.25), Observation(4, 40, 0.25)])
    with pytest.raises(ValueError):
        merge_observations([])


# ---- the tuner around run_batched, with a made-up clock ------------------------------------
class FakeModel:
    """A batch function whose batches take ``seconds_per_unit[size] x longest`` on a fake clock,
    so the padded length per second depends on the batch size alone; it can run out of memory."""

    def __init__(self, seconds_per_unit: dict[int, float], oom_from: int | None = None) -> None:
        self.now = 0.0
        self.seconds_per_unit = seconds_per_unit
        self.oom_from = oom_from
        self.sizes: list[int] = []
        self.error: Callable[[str], Exception] = lambda message: OutOfMemoryError(message, device="cpu")

    def clock(self) -> float:
        return self.now

    def run(self, batch: list[str]) -> list[int]:
        self.sizes.append(len(batch))
        if self.oom_from is not None and len(batch) >= self.oom_from:
            raise self.error(f"a batch of {len(batch)} ran out of memory")
        self.now += self.seconds_per_unit.get(len(batch), 1.0) * max(len(s) for s in batch)
        return [len(s) for s in batch]


# Padded length per second by size (seconds per unit = size / rate): 1 -> 1, 2 -> 2, 4 -> 2.67,
# 8 -> 2.7 and 16 -> 2.6 (neither improves by 5 % on 4: the search keeps 4). Every batch takes
# seconds on the fake clock, more than MIN_MEASURE_S: each size is measured on one batch.
SPEEDS = {1: 1.0, 2: 1.0, 4: 1.5, 8: 8 / 2.7, 16: 16 / 2.6}


def _texts(count: int) -> list[str]:
    return ["x" * (5 + (7 * i) % 13) for i in range(count)]  # lengths 5..17, not sorted


def _tuner(model: FakeModel, **kwargs: Any) -> BatchSizeTuner:
    return BatchSizeTuner(KEY, clock=model.clock, **kwargs)


def test_an_auto_call_warms_up_searches_then_runs_the_rest_at_the_best_size_in_input_order() -> None:
    model = FakeModel(SPEEDS)
    texts = _texts(45)
    tuner = _tuner(model)
    assert run_batched(texts, tuner, len, model.run) == [len(t) for t in texts]
    # warm-up 1, then one batch per size 1 .. 16; 8 and 16 did not improve on 4: the other 13 by 4
    assert model.sizes == [1, 1, 2, 4, 8, 16, 4, 4, 4, 1]
    outcome = tuner.outcome()
    assert outcome is not None and outcome.extra() == {"batch_size": 4, "batch_size_tuning": "measured"}


def test_with_a_patience_of_one_the_first_size_that_does_not_improve_stops_the_search() -> None:
    model = FakeModel(SPEEDS)
    run_batched(_texts(20), _tuner(model, patience=1), len, model.run)
    assert model.sizes == [1, 1, 2, 4, 8, 4]


def _search_to_four() -> None:
    """A whole search on ``SPEEDS``, which chooses 4."""
    model = FakeModel(SPEEDS)
    run_batched(_texts(45), _tuner(model), len, model.run)


def test_a_finished_search_is_stored_and_the_next_call_and_process_start_at_it() -> None:
    _search_to_four()
    model = FakeModel(SPEEDS)
    tuner = _tuner(model)
    run_batched(_texts(6), tuner, len, model.run)
    assert model.sizes == [4, 2]  # the same process: from memory

    entry = _entry()
    assert {k: entry[k] for k in ("model", "capability", "device", "dtype", "optimize", "batch_size")} == {
        "model": "tiny/model",
        "capability": "embeddings",
        "device": "cpu",
        "dtype": "float32",
        "optimize": "exact",
        "batch_size": 4,
    }
    assert entry["stopped"] == "no gain" and entry["tried"] == [1, 2, 4, 8, 16]
    assert entry["tried_padded_length_per_s"] == pytest.approx([1.0, 2.0, 8 / 3, 2.7, 2.6], abs=1e-3)
    assert entry["padded_length_per_s"] == pytest.approx(8 / 3, abs=1e-3)

    forget_tuned_batch_sizes()  # as a new process: only the file is left
    model = FakeModel(SPEEDS)
    tuner = _tuner(model)
    run_batched(_texts(10), tuner, len, model.run)
    assert model.sizes == [4, 4, 2]
    outcome = tuner.outcome()
    assert outcome is not None and outcome.tuning == "stored"


def test_a_call_too_short_to_finish_the_search_stores_nothing_and_the_next_call_goes_on() -> None:
    model = FakeModel(SPEEDS)
    tuner = _tuner(model)
    run_batched(_texts(4), tuner, len, model.run)
    assert model.sizes == [1, 1, 2]
    outcome = tuner.outcome()
    assert outcome is not None and outcome.extra() == {"batch_size": 2, "batch_size_tuning": "unfinished"}
    assert not _stored().exists()

    model.sizes.clear()
    run_batched(_texts(40), _tuner(model), len, model.run)
    assert model.sizes == [4, 8, 16, 4, 4, 4]  # no second warm-up; sizes 1 and 2 are already measured
    assert _stored().is_file()


def test_an_unfinished_search_reports_the_best_size_so_far_not_the_last() -> None:
    model = FakeModel(SPEEDS)
    tuner = _tuner(model)
    run_batched(_texts(20), tuner, len, model.run)  # warm-up, 1, 2, 4, 8, then 4 of 16
    assert model.sizes == [1, 1, 2, 4, 8, 4]
    outcome = tuner.outcome()
    assert outcome is not None and outcome.extra() == {"batch_size": 4, "batch_size_tuning": "unfinished"}


def test_a_short_last_batch_is_not_measured() -> None:
    model = FakeModel(SPEEDS)
    run_batched(_texts(3), _tuner(model), len, model.run)  # warm-up 1, size 1, then 1 of 2
    assert model.sizes == [1, 1, 1]
    model.sizes.clear()
    run_batched(_texts(10), _tuner(model), len, model.run)
    assert model.sizes[0] == 2  # the size-2 measurement is still to be made


def _even(count: int, length: int = 10) -> list[str]:
    return ["x" * length] * count


def test_a_size_is_measured_over_batches_that_add_up_to_the_least_measuring_time() -> None:
    model = FakeModel({})  # 10 s a batch of length-10 inputs at every size: every size improves
    tuner = _tuner(model, cap=4, min_measure_s=25.0)
    texts = _even(30)
    assert run_batched(texts, tuner, len, model.run) == [10] * 30
    # warm-up, then three batches (30 s) per size before the search moves on; the cap ends it
    assert model.sizes == [1, 1, 1, 1, 2, 2, 2, 4, 4, 4, 4, 4]
    entry = _entry()
    assert (entry["batch_size"], entry["stopped"], entry["tried"]) == (4, "cap", [1, 2, 4])
    # one merged observation per size: its three batches' padded lengths over their 30 seconds
    assert entry["tried_padded_length_per_s"] == pytest.approx([1.0, 2.0, 4.0])


class Hiccup(FakeModel):
    """The first batch of 2 takes 0.25 s more than the others."""

    def run(self, batch: list[str]) -> list[int]:
        out = super().run(batch)
        if len(batch) == 2 and self.sizes.count(2) == 1:
            self.now += 0.25
        return out


@pytest.mark.parametrize(("min_measure_s", "chosen"), [(0.0, 1), (1.0, 4)], ids=["one-batch", "merged"])
def test_merged_batches_outweigh_one_slow_batch(min_measure_s: float, chosen: int) -> None:
    # Every batch takes 0.125 s (64 padded length per second at size 1, 128 at 2, 256 at 4), but
    # the first of 2 takes 0.375 s (43/s): alone it ends a search with a patience of one at 1;
    # merged with five more batches of 2 (1 s in all: 96/s) it improves, and so does 4.
    model = Hiccup({1: 1 / 64, 2: 1 / 64, 4: 1 / 64})
    tuner = _tuner(model, cap=4, patience=1, min_measure_s=min_measure_s)
    run_batched(_even(60, length=8), tuner, len, model.run)
    assert _entry()["batch_size"] == chosen
    if chosen == 4:
        assert model.sizes[:15] == [1] * 9 + [2] * 6  # warm-up, 8 x 0.125 s, then 0.375 + 5 x 0.125 s


def test_a_call_that_ends_mid_size_keeps_the_measured_batches_for_the_next_call() -> None:
    model = FakeModel({})  # 10 s a batch
    tuner = _tuner(model, cap=4, min_measure_s=25.0)
    run_batched(_even(3), tuner, len, model.run)  # warm-up, then two of size 1: 20 s of 25
    assert model.sizes == [1, 1, 1]
    outcome = tuner.outcome()
    assert outcome is not None and outcome.extra() == {"batch_size": 1, "batch_size_tuning": "unfinished"}
    assert not _stored().exists()

    model.sizes.clear()
    run_batched(_even(20), _tuner(model, cap=4, min_measure_s=25.0), len, model.run)
    # one more batch of 1 completes its 25 s (not three), then sizes 2 and 4 as usual
    assert model.sizes == [1, 2, 2, 2, 4, 4, 4, 1]
    assert _entry()["tried"] == [1, 2, 4]


@pytest.mark.parametrize("error", ["hfbench", "torch"])
def test_out_of_memory_runs_the_batch_again_at_the_best_size_that_fitted(error: str) -> None:
    model = FakeModel({1: 1.0, 2: 0.5, 4: 0.25, 8: 0.125}, oom_from=8)
    if error == "torch":
        model.error = torch.cuda.OutOfMemoryError
    texts = _texts(30)
    tuner = _tuner(model)
    assert run_batched(texts, tuner, len, model.run) == [len(t) for t in texts]
    assert model.sizes == [1, 1, 2, 4, 8, 4, 4, 4, 4, 4, 2]
    entry = _entry()
    assert (entry["batch_size"], entry["stopped"]) == (4, "out of memory")


def test_out_of_memory_after_a_size_that_did_not_improve_backs_off_to_the_best() -> None:
    model = FakeModel({1: 1.0, 2: 0.5, 4: 1.0}, oom_from=8)  # 4 runs at 4/s, as 2 does
    texts = _texts(20)
    assert run_batched(texts, _tuner(model), len, model.run) == [len(t) for t in texts]
    assert model.sizes == [1, 1, 2, 4, 8, 2, 2, 2, 2, 2, 2]
    entry = _entry()
    assert (entry["batch_size"], entry["stopped"], entry["tried"]) == (2, "out of memory", [1, 2, 4, 8])


def test_out_of_memory_at_size_one_is_raised() -> None:
    model = FakeModel(SPEEDS, oom_from=1)
    with pytest.raises(OutOfMemoryError):
        run_batched(_texts(4), _tuner(model), len, model.run)


def test_a_settled_size_that_runs_out_of_memory_is_halved_for_the_call_only() -> None:
    _search_to_four()
    model = FakeModel(SPEEDS, oom_from=4)
    tuner = _tuner(model)
    texts = _texts(6)
    assert run_batched(texts, tuner, len, model.run) == [len(t) for t in texts]
    assert model.sizes == [4, 2, 2, 2]
    forget_tuned_batch_sizes()
    assert _tuner(FakeModel(SPEEDS)).next_size() == 4


def test_the_cap_ends_the_search() -> None:
    model = FakeModel({1: 1.0, 2: 0.5, 4: 0.25})
    run_batched(_texts(12), _tuner(model, cap=4), len, model.run)
    assert model.sizes == [1, 1, 2, 4, 4]
    entry = _entry()
    assert (entry["batch_size"], entry["stopped"]) == (4, "cap")


def test_an_int_batch_size_runs_as_before() -> None:
    sizes: list[int] = []

    def run(batch: list[str]) -> list[int]:
        sizes.append(len(batch))
        return [len(s) for s in batch]

    texts = _texts(10)
    assert run_batched(texts, 4, len, run) == [len(t) for t in texts]
    assert sizes == [4, 4, 2]


# ---- the config key --------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["bogus", 0, -3, 2.5, True])
def test_batch_size_must_be_a_positive_whole_number_or_auto(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        ModelConfig.from_dict({"base": {"batch_size": value}})
    message = str(info.value)
    assert "batch_size" in message and "whole number > 0" in message and "'auto'" in message


@pytest.mark.parametrize("value", ["auto", 1, 32])
def test_batch_size_accepts_auto_and_positive_whole_numbers(value: object) -> None:
    config = ModelConfig.from_dict({"base": {"batch_size": value}})
    assert config.get_merged_config("embeddings")["batch_size"] == value


# ---- on the tiny zoo -------------------------------------------------------------------------
SENTENCES = [
    "A short one.",
    "The quick brown fox jumps over the lazy dog, twice, before breakfast.",
    "Embeddings of texts of different lengths.",
    "Hi",
    "Length-sorted batches come back in input order, whatever their size.",
    "One more sentence of middling length here.",
    "Tiny.",
    "Batches of one, two and four, then the chosen size for the rest.",
    "Padding is masked out of the pooling.",
    "The last but one.",
    "And the very last sentence of the list.",
    "Twelve.",
]


def _embed(folder: Path, batch_size: int | str) -> tuple[np.ndarray, list[dict[str, object]]]:
    pipe = pipeline_for(str(folder)).load(
        str(folder),
        {"base": {"device": "cpu", "batch_size": batch_size}},
        capability="embeddings",
        progress=False,
    )
    results = pipe.process(SENTENCES, "embeddings")
    return np.stack([r.vector for r in results]), [r.extra for r in results]


def test_auto_embeddings_equal_fixed_size_ones_and_the_tuned_size_is_reported_and_stored(
    tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cap of 4 and no least measuring time end the search within 1 + 1 + 2 + 4 = 8 inputs
    # however the timings fall.
    monkeypatch.setattr(batch_tuning, "MAX_BATCH_SIZE", 4)
    monkeypatch.setattr(batch_tuning, "MIN_MEASURE_S", 0.0)
    fixed, fixed_extra = _embed(tiny_bert, 8)
    auto, auto_extra = _embed(tiny_bert, "auto")
    np.testing.assert_allclose(auto, fixed, atol=1e-5)
    assert "batch_size" not in fixed_extra[0]

    tuned = auto_extra[0]["batch_size"]
    assert tuned in (1, 2, 4) and {e["batch_size_tuning"] for e in auto_extra} == {"measured"}
    path = _stored(system_info().hardware_id())
    entry = _entry(system_info().hardware_id())
    assert (entry["model"], entry["capability"], entry["device"], entry["batch_size"]) == (
        str(tiny_bert),
        "embeddings",
        "cpu",
        tuned,
    )

    # A new process: nothing in memory; the file is read (a size written there by hand is used).
    forget_tuned_batch_sizes()
    entry["batch_size"] = 3
    path.write_text(json.dumps({"batch_sizes": [entry]}))
    again, again_extra = _embed(tiny_bert, "auto")
    np.testing.assert_allclose(again, fixed, atol=1e-5)
    assert again_extra[0]["batch_size"] == 3 and again_extra[0]["batch_size_tuning"] == "stored"


def test_image_and_audio_processors_run_auto_at_their_default_size() -> None:
    from hfbench.pipelines.processors.vision import DEFAULT_BATCH_SIZE, batch_size

    assert batch_size({"batch_size": "auto"}) == DEFAULT_BATCH_SIZE
    assert batch_size({"batch_size": 3}) == 3 and batch_size({}) == DEFAULT_BATCH_SIZE
