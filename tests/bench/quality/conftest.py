"""Fixtures for the quality tests: eval sets built from the real packages, in the real hfbench cache.

Downloads (bigbench's 358 MB sdist once, the rest in seconds) go to ``hfbench.cache_dir()``, the
cache ``hfbench setup`` fills, so they are shared with the user and between sessions; later runs
read the cached files.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hfbench.bench.quality import EvalSet, build_eval_set


@pytest.fixture(scope="session")
def eval_set() -> Callable[..., EvalSet]:
    """``eval_set(name, n=12, seed=0)``: a built (cached) eval set, once per session."""
    built: dict[tuple[str, int, int], EvalSet] = {}

    def get(name: str, n: int = 12, seed: int = 0) -> EvalSet:
        key = (name, n, seed)
        if key not in built:
            built[key] = build_eval_set(name, n, seed)
        return built[key]

    return get
