"""The model cache: hits, LRU eviction by count and memory, thread safety, clear."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from hfbench.providers.model_cache import ModelCache, pipeline_memory_bytes


class FakeLoaded:
    def __init__(self, megabytes: int) -> None:
        self.model = torch.nn.Linear(megabytes * 1024 * 1024 // 4, 1, bias=False)  # float32 weights


class FakePipeline:
    """Stands in for a loaded pipeline: real tensors, so memory accounting is real."""

    def __init__(self, megabytes: int = 1) -> None:
        self._loaded: FakeLoaded | None = FakeLoaded(megabytes)
        self.unloads = 0

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    def unload(self) -> None:
        self._loaded = None
        self.unloads += 1


def test_second_get_is_a_hit_and_does_not_reload() -> None:
    cache = ModelCache()
    first = cache.get_or_load(("m",), FakePipeline)
    second = cache.get_or_load(("m",), FakePipeline)
    assert first is second
    assert (cache.stats.loads, cache.stats.hits, cache.stats.misses) == (1, 1, 1)


def test_lru_eviction_by_count_unloads_the_least_recent() -> None:
    cache = ModelCache(max_models=2)
    a = cache.get_or_load(("a",), FakePipeline)
    b = cache.get_or_load(("b",), FakePipeline)
    cache.get_or_load(("a",), FakePipeline)  # a is now most recent
    cache.get_or_load(("c",), FakePipeline)
    assert cache.keys() == [("a",), ("c",)]
    assert b.unloads == 1 and not b.is_loaded and a.is_loaded
    assert cache.stats.evictions == 1


def test_eviction_by_memory_bound() -> None:
    cache = ModelCache(max_models=10, max_memory_gb=3 / 1024)  # 3 MiB
    a = cache.get_or_load(("a",), lambda: FakePipeline(2))
    assert pipeline_memory_bytes(a) == 2 * 1024 * 1024
    cache.get_or_load(("b",), lambda: FakePipeline(2))
    assert cache.keys() == [("b",)] and not a.is_loaded
    assert cache.memory_bytes() == 2 * 1024 * 1024


def test_an_entry_larger_than_the_bound_is_still_kept() -> None:
    cache = ModelCache(max_memory_gb=1 / 1024)
    big = cache.get_or_load(("big",), lambda: FakePipeline(4))
    assert big.is_loaded and len(cache) == 1


def test_concurrent_first_uses_load_once() -> None:
    cache = ModelCache()
    loads = []

    def slow_load() -> FakePipeline:
        loads.append(1)
        time.sleep(0.05)
        return FakePipeline()

    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_load(("m",), slow_load)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len({id(r) for r in results}) == 1


def test_unload_and_clear_free_everything() -> None:
    cache = ModelCache(max_models=3)
    a = cache.get_or_load(("a", "fp32"), FakePipeline)
    a16 = cache.get_or_load(("a", "fp16"), FakePipeline)
    b = cache.get_or_load(("b",), FakePipeline)
    assert cache.unload("a") == 2 and not a.is_loaded and not a16.is_loaded
    cache.clear()
    assert len(cache) == 0 and not b.is_loaded and cache.memory_bytes() == 0


def test_max_models_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ModelCache(max_models=0)


def test_a_failed_load_is_not_cached_and_can_be_retried() -> None:
    cache = ModelCache()

    def broken() -> FakePipeline:
        raise RuntimeError("no weights")

    with pytest.raises(RuntimeError):
        cache.get_or_load(("m",), broken)
    assert len(cache) == 0 and cache.stats.loads == 0
    assert cache.get_or_load(("m",), FakePipeline).is_loaded
