"""The checkpoint-head table (``core/data/heads.toml``): every way hfbench loads a checkpoint.

One row per head (``HeadSpec``: the transformers task table and Auto class that load it, the
capabilities it serves, the class-name endings that name it, the architecture it implies for
detection), each architecture's ordered head set and default head, and detection's fallback
orders. Everything that needs these facts derives them from here: the loaders
(``hfbench.pipelines.heads``, which adds what needs transformers), architecture detection
(``hfbench.core.architecture``), the memory estimate's Auto class (``hfbench.registry.memory``)
and the tiny zoo (``hfbench.testing.zoo``).

Pure: reads package data only; no torch or transformers. Architectures are named by their
``ModelArchitecture`` value (a ``ModelArchitecture`` works too, being a ``str``), because
``hfbench.core.architecture`` reads this module for detection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from hfbench.core.datafiles import read_package_toml
from hfbench.core.errors import HFBenchError, did_you_mean
from hfbench.core.validation import Field, Problem, check_table, join_path, problems_message

DATA_FILE = "heads.toml"


@dataclass(frozen=True)
class HeadSpec:
    """One way to load a checkpoint, and the capabilities it serves (a row of ``heads.toml``).

    Attributes:
        kind: short name used in messages (``masked-lm``, ``image-classification``, ``base``).
        mapping: name of a ``transformers.models.auto.modeling_auto.*_MAPPING_NAMES`` table.
        auto_class: the ``transformers`` Auto class that loads it.
        capabilities: canonical capabilities this head serves.
        trained: True when the head must come from the checkpoint (a classifier, a CTC layer);
            such a head is never built with random weights for a checkpoint that lacks it.
        prompted: True for a text-generating head, which serves any capability of its
            architecture by prompting (on top of ``capabilities``).
        suffixes: class-name endings that identify the head when no transformers table names
            the class (remote code).
        description: what the head does, for error messages (default: ``kind``).
        architecture: the architecture value a class of this head implies for detection
            (None: detection does not use the row).
        name: the row's name in the table (unique; ``kind`` may repeat).
    """

    kind: str
    mapping: str
    auto_class: str
    capabilities: tuple[str, ...]
    trained: bool = True
    prompted: bool = False
    suffixes: tuple[str, ...] = ()
    description: str = ""
    architecture: str | None = None
    name: str = ""

    def serves(self, capability: str) -> bool:
        """Whether this head serves ``capability`` (a prompted head serves any)."""
        return self.prompted or capability in self.capabilities

    def describe(self) -> str:
        """What the head does, for messages."""
        return self.description or self.kind

    def ends(self, class_name: str) -> bool:
        """Whether ``class_name`` ends with one of this head's suffixes."""
        return bool(self.suffixes) and class_name.endswith(self.suffixes)


@dataclass(frozen=True)
class HeadTable:
    """The whole table: rows by name, head sets per architecture, detection orders."""

    heads: Mapping[str, HeadSpec]
    architecture_heads: Mapping[str, tuple[HeadSpec, ...]]
    defaults: Mapping[str, HeadSpec]
    by_model_type: tuple[HeadSpec, ...]
    by_class_suffix: tuple[HeadSpec, ...]


_ROW_FIELDS = {
    "kind": Field((str,), "Name in messages (default: the row's name)."),
    "mapping": Field((str,), "A transformers *_MAPPING_NAMES table.", required=True),
    "auto_class": Field((str,), "The transformers Auto class.", required=True),
    "capabilities": Field((list,), "Canonical capabilities the head serves.", required=True),
    "trained": Field((bool,), "The head must come from the checkpoint."),
    "prompted": Field((bool,), "A text-generating head (serves its architecture by prompting)."),
    "suffixes": Field((list,), "Class-name endings that name the head."),
    "description": Field((str,), "What the head does, for messages.", required=True),
    "architecture": Field((str,), "What a class of this head implies for detection."),
}
_ARCHITECTURE_FIELDS = {
    "heads": Field((str,), "A head set of [head_sets].", required=True),
    "default": Field((str,), "The head of a config that names no class.", required=True),
}
_DETECTION_FIELDS = {
    "by_model_type": Field((list,), "Rows whose transformers table decides a model_type.", required=True),
    "by_class_suffix": Field((list,), "Rows whose suffixes decide a class name.", required=True),
}
_FILE_FIELDS = {
    "version": Field((int,), "File format version.", required=True, choices=(1,)),
    "heads": Field((dict,), "The rows.", required=True),
    "head_sets": Field((dict,), "Ordered head lists, by name.", required=True),
    "architectures": Field((dict,), "Head set and default per architecture.", required=True),
    "detection": Field((dict,), "Detection fallback orders.", required=True),
}


def _strings(value: Any, key_path: str, problems: list[Problem]) -> tuple[str, ...]:
    """``value`` as a tuple of non-empty strings (a problem for anything else)."""
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    problems.append(Problem(key_path, f"expected a list of non-empty strings, got {value!r}"))
    return ()


def _row(name: str, raw: Any, architectures: Sequence[str], problems: list[Problem]) -> HeadSpec | None:
    """The ``HeadSpec`` of ``[heads.<name>]``, or None (with problems) when it is invalid."""
    path = join_path("heads", name)
    table, found = check_table(raw, _ROW_FIELDS, key_path=path)
    problems += found
    arch = table.get("architecture")
    if arch is not None and arch not in architectures:
        problems.append(
            Problem(
                join_path(path, "architecture"),
                f"{arch!r} is not an architecture of [architectures] ({', '.join(architectures)})"
                + did_you_mean(arch, architectures),
            )
        )
    capabilities = _strings(table.get("capabilities", []), join_path(path, "capabilities"), problems)
    suffixes = _strings(table.get("suffixes", []), join_path(path, "suffixes"), problems)
    if found or "mapping" not in table or "auto_class" not in table:
        return None
    return HeadSpec(
        kind=table.get("kind", name),
        mapping=table["mapping"],
        auto_class=table["auto_class"],
        capabilities=capabilities,
        trained=table.get("trained", True),
        prompted=table.get("prompted", False),
        suffixes=suffixes,
        description=table["description"],
        architecture=arch,
        name=name,
    )


def _rows_named(
    names: Any, heads: Mapping[str, HeadSpec], key_path: str, problems: list[Problem]
) -> tuple[HeadSpec, ...]:
    """The rows a list of row names refers to (a problem for each unknown name)."""
    found = []
    for index, name in enumerate(_strings(names, key_path, problems)):
        if name in heads:
            found.append(heads[name])
        else:
            problems.append(
                Problem(f"{key_path}[{index}]", f"no row [heads.{name}]" + did_you_mean(name, heads))
            )
    return tuple(found)


def parse_head_table(data: Mapping[str, Any], *, source: str = "<memory>") -> HeadTable:
    """Check a parsed ``heads.toml`` and build its ``HeadTable`` (every problem reported at once).

    Raises:
        HFBenchError: the table is invalid; the message lists each problem with its key path.
    """
    top, problems = check_table(data, _FILE_FIELDS)
    architectures = list(top.get("architectures", {}))
    heads: dict[str, HeadSpec] = {}
    for name, raw in top.get("heads", {}).items():
        row = _row(name, raw, architectures, problems)
        if row is not None:
            heads[name] = row
    sets = {
        name: _rows_named(rows, heads, join_path("head_sets", name), problems)
        for name, rows in top.get("head_sets", {}).items()
    }
    per_arch: dict[str, tuple[HeadSpec, ...]] = {}
    defaults: dict[str, HeadSpec] = {}
    for arch, raw in top.get("architectures", {}).items():
        path = join_path("architectures", arch)
        entry, found = check_table(raw, _ARCHITECTURE_FIELDS, key_path=path)
        problems += found
        if entry.get("heads") not in sets:
            problems.append(Problem(join_path(path, "heads"), f"no head set {entry.get('heads')!r}"))
            continue
        per_arch[arch] = sets[entry["heads"]]
        default = heads.get(entry.get("default", ""))
        if default is None or default not in per_arch[arch]:
            problems.append(Problem(join_path(path, "default"), "must name a row of its head set"))
        else:
            defaults[arch] = default
    detection: dict[str, Any] = {}
    if "detection" in top:
        detection, found = check_table(top["detection"], _DETECTION_FIELDS, key_path="detection")
        problems += found
    orders = {
        key: _rows_named(detection.get(key, []), heads, join_path("detection", key), problems)
        for key in _DETECTION_FIELDS
    }
    for key, rows in orders.items():
        problems += [
            Problem(join_path("detection", key), f"row {row.name!r} has no 'architecture' to detect")
            for row in rows
            if row.architecture is None
        ]
    if problems:
        raise HFBenchError(problems_message(problems, what="head table", file=source))
    return HeadTable(heads, per_arch, defaults, orders["by_model_type"], orders["by_class_suffix"])


@lru_cache(maxsize=1)
def head_table() -> HeadTable:
    """The package's head table (``core/data/heads.toml``), read and checked once."""
    return parse_head_table(read_package_toml(DATA_FILE), source=f"hfbench/core/data/{DATA_FILE}")


def head_spec(name: str) -> HeadSpec:
    """The row called ``name``.

    Raises:
        HFBenchError: no such row (with a did-you-mean).
    """
    heads = head_table().heads
    if name not in heads:
        raise HFBenchError(f"No head {name!r} in {DATA_FILE}." + did_you_mean(name, heads))
    return heads[name]


def architecture_heads(architecture: str) -> tuple[HeadSpec, ...]:
    """The heads an architecture's loader chooses from, in lookup order (most specific first)."""
    return head_table().architecture_heads[str(architecture)]


def default_head(architecture: str) -> HeadSpec:
    """The head an architecture loads a config with that names no model class."""
    return head_table().defaults[str(architecture)]


H = TypeVar("H", bound=HeadSpec)


def head_by_suffix(class_name: str, heads: Sequence[H]) -> H | None:
    """The first row of ``heads`` whose class-name ending ``class_name`` has (None: none)."""
    return next((h for h in heads if h.ends(class_name)), None)


def auto_class_for(architecture: str, class_name: str | None = None) -> str:
    """The Auto class name that loads ``class_name`` (a model class of ``architecture``).

    The row is the architecture's head whose class-name ending the class has, else the
    architecture's default head (``CLIPModel``, ``WhisperForConditionalGeneration``). Pure: no
    transformers table is read, so a class only transformers' tables place may get the default.
    """
    found = head_by_suffix(class_name, architecture_heads(architecture)) if class_name else None
    return (found or default_head(architecture)).auto_class
