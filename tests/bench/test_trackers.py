"""Measurement sanity: warm-up excluded, a known delay shows, stopping rule, memory peaks."""

from __future__ import annotations

import mmap
import time
from pathlib import Path

import pytest

from hfbench.bench.stats import median_ci_ranks, summarize
from hfbench.bench.trackers.latency import StopRule, measure_latency
from hfbench.bench.trackers.memory import MemoryMonitor


def test_warmup_is_not_counted() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        time.sleep(0.5 if len(calls) == 1 else 0.01)  # a slow first call (compilation, caches)

    measured = measure_latency(call, StopRule(warmup=1, min_iterations=6, max_duration_s=5))
    assert measured.warmup_s[0] >= 0.5 and measured.e2e.max < 0.2
    assert measured.e2e.n == len(calls) - 1


def test_a_known_delay_shows_in_the_latency() -> None:
    fast = measure_latency(lambda: None, StopRule(min_iterations=6))
    slow = measure_latency(lambda: time.sleep(0.05), StopRule(min_iterations=6))
    assert slow.e2e.median - fast.e2e.median == pytest.approx(0.05, abs=0.02)


def test_timing_stops_when_stable_or_at_the_time_cap() -> None:
    stable = measure_latency(lambda: time.sleep(0.01), StopRule(min_iterations=6, max_duration_s=30))
    assert stable.stop_reason == "stable" and stable.e2e.stable(0.05)
    capped = measure_latency(lambda: time.sleep(0.1), StopRule(min_iterations=50, max_duration_s=0.35))
    assert capped.stop_reason == "time cap" and capped.e2e.n < 50


def test_the_median_interval_has_its_coverage_and_narrows() -> None:
    from scipy.stats import binom

    for n in (6, 10, 30, 100):
        lo, hi = median_ci_ranks(n)  # type: ignore[misc]
        assert 1 - 2 * binom.cdf(lo, n, 0.5) >= 0.95 and hi == n - 1 - lo
    assert median_ci_ranks(5) is None
    import random

    rng = random.Random(0)
    small = summarize([rng.gauss(1, 0.1) for _ in range(10)])
    large = summarize([rng.gauss(1, 0.1) for _ in range(400)])
    assert (large.ci_high - large.ci_low) < (small.ci_high - small.ci_low)  # type: ignore[operator]


def _touched_mapping(size: int) -> mmap.mmap:
    """Fresh anonymous memory, every page written: it adds to RSS whatever the allocator holds
    (a ``bytearray`` may reuse pages a long test session already made resident)."""
    block = mmap.mmap(-1, size)
    for offset in range(0, size, mmap.PAGESIZE):
        block[offset] = 1
    return block


def test_the_monitor_sees_a_short_allocation_peak() -> None:
    with MemoryMonitor(period_s=0.005) as monitor:
        with monitor.phase() as small:
            block = _touched_mapping(20 * 1024**2)
            time.sleep(0.05)
        block.close()
        with monitor.phase() as big:
            block = _touched_mapping(200 * 1024**2)
            time.sleep(0.05)
        block.close()
    assert small.result is not None and big.result is not None
    assert big.result.added_rss_mb > small.result.added_rss_mb + 100
    assert big.result.samples >= 3  # sampled every <= 10 ms by the separate process


def test_the_larger_of_two_models_shows_the_higher_peak(tmp_path: Path, tiny_llama: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

    big_config = LlamaConfig.from_pretrained(tiny_llama)
    big_config.hidden_size, big_config.intermediate_size, big_config.num_hidden_layers = 512, 2048, 8
    AutoModelForCausalLM.from_config(big_config).save_pretrained(tmp_path / "big")
    AutoTokenizer.from_pretrained(tiny_llama).save_pretrained(tmp_path / "big")
    from hfbench.pipelines import pipeline_for

    peaks = {}
    with MemoryMonitor() as monitor:
        for name, folder in (("small", tiny_llama), ("big", tmp_path / "big")):
            with monitor.phase() as phase:
                pipe = pipeline_for(str(folder)).load(progress=False)
                pipe.process(["hello"], "text-generation", max_tokens=4, temperature=0)
            assert phase.result is not None
            peaks[name] = phase.result.added_rss_mb
            pipe.unload()
    assert peaks["big"] > peaks["small"] + 50
