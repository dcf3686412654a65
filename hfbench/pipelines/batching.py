"""Length-sorted batches that come back in input order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")


class BatchSizer(Protocol):
    """Chooses the size of each batch as a call goes (``batch_tuning.BatchSizeTuner``, for
    ``batch_size="auto"``); a plain int is one fixed size."""

    def next_size(self) -> int:
        """The size of the next batch."""
        ...

    def run_batch(self, batch: list[T], longest: int, run: Callable[[list[T]], list[R]]) -> list[R] | None:
        """``run(batch)``, or None when the batch is to be run again at a new ``next_size()``."""
        ...


def length_sorted_batches(
    items: Sequence[T], batch_size: int, length: Callable[[T], int]
) -> Iterator[list[tuple[int, T]]]:
    """Yield batches of ``(original_index, item)``, longest first, so padding stays small."""
    order = _longest_first(items, length)
    for start in range(0, len(order), batch_size):
        yield [(i, items[i]) for i in order[start : start + batch_size]]


def run_batched(
    items: Sequence[T],
    batch_size: int | BatchSizer,
    length: Callable[[T], int],
    run: Callable[[list[T]], list[R]],
) -> list[R]:
    """Run ``run`` on length-sorted batches and return its results in the input order.

    Args:
        items: the inputs.
        batch_size: inputs per batch, or a ``BatchSizer`` that chooses each batch's size.
        length: an input's length (the unit is the caller's: characters, samples, pixels).
        run: runs one batch; returns one result per input, in the batch's order.
    """
    results: list[R | None] = [None] * len(items)
    if isinstance(batch_size, int):
        for batch in length_sorted_batches(items, batch_size, length):
            _place(results, batch, run([item for _, item in batch]))
    else:
        order = _longest_first(items, length)
        done = 0
        while done < len(order):
            batch = [(i, items[i]) for i in order[done : done + batch_size.next_size()]]
            outputs = batch_size.run_batch([item for _, item in batch], length(batch[0][1]), run)
            if outputs is None:  # out of memory: run the same inputs again at the smaller size
                continue
            _place(results, batch, outputs)
            done += len(batch)
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise RuntimeError(f"inputs {missing} got no result")
    return cast("list[R]", results)


def _longest_first(items: Sequence[T], length: Callable[[T], int]) -> list[int]:
    return sorted(range(len(items)), key=lambda i: -length(items[i]))


def _place(results: list[R | None], batch: list[tuple[int, T]], outputs: list[R]) -> None:
    if len(outputs) != len(batch):
        raise RuntimeError(f"a batch of {len(batch)} gave {len(outputs)} results")
    for (index, _), output in zip(batch, outputs, strict=True):
        results[index] = output
