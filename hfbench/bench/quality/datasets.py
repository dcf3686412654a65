"""Eval set builders, registered by name, and seeded random subsets of them cached as JSON Lines.

A builder (``@register_eval_set("xsum", capability=..., metric=...)``) reads *every* usable item
of its source and says where they came from (``SourceData``). ``build_eval_set(name, n, seed)``
draws a seeded random subset — the first ``n`` of a ``numpy.random.default_rng(seed)``
permutation of all items, so it is never "the first N" of the file and, for one seed, a smaller
subset is a prefix of a larger one (the ``quick`` items are among the ``standard`` ones) — and
caches it under ``<hfbench cache>/evaldata/sets/<name>/`` as JSON Lines with its provenance in
the header line. A second call reads the cached file.

Example:
    >>> squad = build_eval_set("squad-v1.1", n=20, seed=0)
    >>> squad.provenance.total_items, len(squad), squad.items[0].inputs["question"]
    (10565, 20, '...')
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hfbench.bench.quality.fetch import evaldata_dir
from hfbench.bench.quality.items import EvalItem, EvalSet, Provenance
from hfbench.core.errors import BenchmarkError, ConfigError, did_you_mean

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceData:
    """Every usable item of a source, in source order, and where it came from.

    Attributes:
        items: the items (ids unique).
        package, version, registry, archive, files, licence, source: as in ``Provenance``.
        labels: candidate labels of a classification set.
        hand_made: True when hfbench's authors wrote the items; ``how_made`` says how.
    """

    items: list[EvalItem]
    package: str
    version: str
    registry: str
    files: tuple[str, ...]
    licence: str
    source: str
    archive: str = ""
    labels: tuple[str, ...] = field(default=())
    hand_made: bool = False
    how_made: str = ""


@dataclass(frozen=True)
class EvalSetBuilder:
    """A registered eval set: its name, what it measures, and the function that reads its source.

    Attributes:
        name: the registered name.
        capability: the canonical capability it measures.
        metric: the default metric's registered name.
        load: reads the source (downloading its package once) and returns ``SourceData``.
        description: one line for docs and listings.
        version: the recipe's version; bump it when ``load`` changes, so cached sets rebuild.
    """

    name: str
    capability: str
    metric: str
    load: Callable[[], SourceData]
    description: str = ""
    version: int = 1


_BUILDERS: dict[str, EvalSetBuilder] = {}


def register_eval_set(
    name: str, *, capability: str, metric: str, description: str = "", version: int = 1
) -> Callable[[Callable[[], SourceData]], Callable[[], SourceData]]:
    """Register the decorated function as the source reader of eval set ``name``.

    Args:
        name: the eval set's name (``xsum``, ``squad-v1.1`` ...).
        capability: the capability it measures (canonical name or alias).
        metric: the default metric's registered name.
        description: one line for docs and listings.
        version: bump it when the reader changes.

    Returns:
        The decorator (it returns the function unchanged).
    """
    from hfbench.core.capability import canonical_capability

    def decorate(load: Callable[[], SourceData]) -> Callable[[], SourceData]:
        _BUILDERS[name] = EvalSetBuilder(
            name=name,
            capability=canonical_capability(capability),
            metric=metric,
            load=load,
            description=description or (load.__doc__ or "").strip().splitlines()[0],
            version=version,
        )
        return load

    return decorate


#: Modules of the built-in eval sets (one per data source); each registers its sets on import.
BUILTIN_BUILDERS = tuple(
    f"hfbench.bench.quality.builders.{name}"
    for name in ("asterisk", "bigbench", "brown", "chat", "digits", "lee", "sentiment", "udhr")
)


def _ensure_builders() -> None:
    """Import the built-in builders (they register themselves)."""
    import importlib

    for module in BUILTIN_BUILDERS:
        importlib.import_module(module)


def eval_set_builders() -> dict[str, EvalSetBuilder]:
    """Every registered eval set, by name."""
    _ensure_builders()
    return dict(_BUILDERS)


def eval_set_builder(name: str) -> EvalSetBuilder:
    """The registered eval set ``name``.

    Raises:
        ConfigError: no eval set has that name (with a did-you-mean and the valid names).
    """
    builders = eval_set_builders()
    if name not in builders:
        raise ConfigError(
            f"unknown eval set {name!r}; known: {', '.join(sorted(builders))}."
            + did_you_mean(name, builders),
            key_path="eval_set",
        )
    return builders[name]


def draw_subset(total: int, n: int | None, seed: int) -> list[int]:
    """Indices of a seeded random subset: the first ``n`` of a permutation of ``range(total)``.

    Args:
        total: how many items there are.
        n: how many to draw (None, or more than ``total``: all of them, shuffled).
        seed: the seed of ``numpy.random.default_rng``.

    Returns:
        ``min(n, total)`` distinct indices, in drawn order.
    """
    import numpy as np

    order = np.random.default_rng(seed).permutation(total)
    count = total if n is None else min(n, total)
    return [int(i) for i in order[:count]]


def eval_set_path(builder: EvalSetBuilder, n: int | None, seed: int) -> Path:
    """Where the subset ``(n, seed)`` of a set is cached."""
    size = "all" if n is None else str(n)
    return evaldata_dir() / "sets" / builder.name / f"v{builder.version}-n{size}-seed{seed}.jsonl"


def make_eval_set(builder: EvalSetBuilder, source: SourceData, n: int | None, seed: int) -> EvalSet:
    """Draw the seeded subset of ``source`` and attach its provenance.

    Raises:
        BenchmarkError: the source has no items or repeats an id.
    """
    ids = [item.id for item in source.items]
    if not ids:
        raise BenchmarkError(f"The eval set {builder.name!r} read no items from {source.package}.")
    if len(set(ids)) != len(ids):
        raise BenchmarkError(f"The eval set {builder.name!r} has repeated item ids; its builder is wrong.")
    if n is not None and n > len(ids):
        logger.info("Eval set %s has %d items; using all of them, not %d.", builder.name, len(ids), n)
    items = tuple(source.items[i] for i in draw_subset(len(ids), n, seed))
    provenance = Provenance(
        package=source.package,
        version=source.version,
        registry=source.registry,
        files=source.files,
        licence=source.licence,
        source=source.source,
        seed=seed,
        subset_size=len(items),
        total_items=len(ids),
        item_ids=tuple(item.id for item in items),
        hand_made=source.hand_made,
        how_made=source.how_made,
        archive=source.archive,
        builder_version=builder.version,
    )
    return EvalSet(
        name=builder.name,
        capability=builder.capability,
        metric=builder.metric,
        items=items,
        provenance=provenance,
        labels=source.labels,
    )


def build_eval_set(name: str, n: int | None = None, seed: int = 0, *, rebuild: bool = False) -> EvalSet:
    """A seeded random subset of eval set ``name``, built once and cached as JSON Lines.

    Args:
        name: a registered eval set (``eval_set_builders()``).
        n: how many items (None: all, shuffled).
        seed: the subset's seed.
        rebuild: build again even when a cached file exists.

    Returns:
        The ``EvalSet``, with its provenance.

    Raises:
        ConfigError: an unknown name.
        BenchmarkError: the source package could not be fetched (the message says what to run).
    """
    if n is not None and n < 1:
        raise ConfigError(f"an eval set needs at least 1 item, got n={n}.", key_path="n")
    builder = eval_set_builder(name)
    path = eval_set_path(builder, n, seed)
    if path.is_file() and not rebuild:
        return EvalSet.read_jsonl(path)
    eval_set = make_eval_set(builder, builder.load(), n, seed)
    eval_set.write_jsonl(path)
    return eval_set
