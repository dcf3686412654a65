"""Length-sorted batches that come back in input order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")


def length_sorted_batches(
    items: Sequence[T], batch_size: int, length: Callable[[T], int]
) -> Iterator[list[tuple[int, T]]]:
    """Yield batches of ``(original_index, item)``, longest first, so padding stays small."""
    order = sorted(range(len(items)), key=lambda i: -length(items[i]))
    for start in range(0, len(order), batch_size):
        yield [(i, items[i]) for i in order[start : start + batch_size]]


def run_batched(
    items: Sequence[T],
    batch_size: int,
    length: Callable[[T], int],
    run: Callable[[list[T]], list[R]],
) -> list[R]:
    """Run ``run`` on length-sorted batches and return its results in the input order."""
    results: list[R | None] = [None] * len(items)
    for batch in length_sorted_batches(items, batch_size, length):
        outputs = run([item for _, item in batch])
        if len(outputs) != len(batch):
            raise RuntimeError(f"a batch of {len(batch)} gave {len(outputs)} results")
        for (index, _), output in zip(batch, outputs, strict=True):
            results[index] = output
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise RuntimeError(f"inputs {missing} got no result")
    return cast("list[R]", results)
