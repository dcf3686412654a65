"""An in-process LRU of loaded pipelines, bounded by count and by memory, safe across threads.

Weights on disk stay in huggingface_hub's cache (hfbench keeps no second copy); this cache only
avoids loading the same model twice into memory. A key is (model, every load option: revision, dtype,
device, optimize, quantization ...): the same model in two dtypes is two entries.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hfbench.core.errors import ConfigError

logger = logging.getLogger(__name__)

CacheKey = tuple[Any, ...]


@dataclass
class CacheStats:
    """Counters, for tests and for ``hfbench`` reports."""

    hits: int = 0
    misses: int = 0
    loads: int = 0
    evictions: int = 0


def pipeline_memory_bytes(pipeline: Any) -> int:
    """Bytes held by a loaded pipeline's parameters and buffers (0 when not loaded)."""
    loaded = getattr(pipeline, "_loaded", None)
    model = getattr(loaded, "model", None)
    if model is None:
        return 0
    total = 0
    for tensor in [*model.parameters(), *model.buffers()]:
        total += tensor.numel() * tensor.element_size()
    return total


class ModelCache:
    """LRU of loaded pipelines.

    Args:
        max_models: most pipelines kept loaded at once.
        max_memory_gb: most memory (GiB) their weights may hold together; ``None`` for no bound.
            The entry just loaded is always kept, even when it alone exceeds the bound.
    """

    def __init__(self, max_models: int = 2, max_memory_gb: float | None = None) -> None:
        if isinstance(max_models, bool) or not isinstance(max_models, int) or max_models < 1:
            raise ConfigError(
                f"max_models must be a whole number >= 1, got {max_models!r}.", key_path="max_models"
            )
        if max_memory_gb is not None and (
            isinstance(max_memory_gb, bool)
            or not isinstance(max_memory_gb, (int, float))
            or max_memory_gb <= 0
        ):
            raise ConfigError(
                f"max_memory_gb must be a number > 0 (GiB) or None, got {max_memory_gb!r}.",
                key_path="max_memory_gb",
            )
        self.max_models = max_models
        self.max_memory_gb = max_memory_gb
        self.stats = CacheStats()
        self._entries: OrderedDict[CacheKey, Any] = OrderedDict()
        self._lock = threading.RLock()
        self._key_locks: dict[CacheKey, threading.Lock] = {}

    def get_or_load(self, key: CacheKey, load: Callable[[], Any]) -> Any:
        """The cached pipeline for ``key``, or ``load()`` it once (concurrent callers wait)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.stats.hits += 1
                return self._entries[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:  # loaded by another thread meanwhile
                    self._entries.move_to_end(key)
                    self.stats.hits += 1
                    return self._entries[key]
                self.stats.misses += 1
            try:
                pipeline = load()
            except BaseException:  # a failed load is not cached and leaves no lock behind
                with self._lock:
                    self._key_locks.pop(key, None)
                raise
            with self._lock:
                self.stats.loads += 1
                self._entries[key] = pipeline
                self._evict(keep=key)
                self._key_locks.pop(key, None)
            return pipeline

    def _evict(self, keep: CacheKey) -> None:
        while len(self._entries) > self.max_models or self._over_memory():
            victim = next((k for k in self._entries if k != keep), None)
            if victim is None:
                return
            self._drop(victim)
            self.stats.evictions += 1

    def _over_memory(self) -> bool:
        if self.max_memory_gb is None:
            return False
        return self.memory_bytes() > self.max_memory_gb * 1024**3

    def _drop(self, key: CacheKey) -> None:
        pipeline = self._entries.pop(key)
        logger.info("Unloading %s from the model cache", key[0])
        pipeline.unload()

    def memory_bytes(self) -> int:
        """Bytes held by all cached pipelines."""
        with self._lock:
            return sum(pipeline_memory_bytes(p) for p in self._entries.values())

    def keys(self) -> list[CacheKey]:
        """Cached keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def unload(self, model: str) -> int:
        """Unload every entry of one model; returns how many were dropped."""
        with self._lock:
            victims = [k for k in self._entries if k[0] == model]
            for key in victims:
                self._drop(key)
            return len(victims)

    def clear(self) -> None:
        """Unload everything (frees RAM, and VRAM on CUDA)."""
        with self._lock:
            for key in list(self._entries):
                self._drop(key)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


_default_cache = ModelCache()


def default_model_cache() -> ModelCache:
    """The process-wide cache providers share unless given their own."""
    return _default_cache
