"""One small validator for table-shaped data: config levels, catalogues, profiles, recommendation files.

A table's keys are described by ``Field`` s (accepted types, required or not, choices, a range
check). ``check_table`` checks a whole table and returns *every* problem it finds, each with its
key path, so a file with seven mistakes reports seven; ``problems_message`` turns them into one
message in one format: ``<what> <file> at '<key path>': <what is wrong>`` (one line per problem).

Example:
    >>> fields = {"name": Field((str,), required=True), "count": Field((int,), check=at_least(1))}
    >>> _, problems = check_table({"count": 0, "colour": "red"}, fields)
    >>> [str(p) for p in problems]  # doctest: +NORMALIZE_WHITESPACE
    ["at 'colour': unknown key 'colour'; valid keys: name, count.",
     "at 'name': missing required key 'name'.",
     "at 'count': must be >= 1, got 0."]
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hfbench.core.errors import Problem, did_you_mean

__all__ = [
    "Check",
    "Field",
    "FieldError",
    "Problem",
    "at_least",
    "check_table",
    "greater_than",
    "in_half_open",
    "join_path",
    "problems_message",
    "type_names",
]

Check = Callable[[Any], "str | None"]
"""A range check: returns why a value is out of range, or None when it is fine."""

_TYPE_NAMES: dict[type, str] = {
    float: "a number",
    int: "a whole number",
    str: "a string",
    bool: "true/false",
    list: "a list",
    dict: "a table",
}


def type_names(types: Iterable[type]) -> str:
    """``a number or a string`` for ``(float, str)``."""
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def at_least(low: float) -> Check:
    """A check for ``value >= low``."""
    return lambda v: None if v >= low else f"must be >= {low}"


def greater_than(low: float) -> Check:
    """A check for ``value > low``."""
    return lambda v: None if v > low else f"must be > {low}"


def in_half_open(low: float, high: float) -> Check:
    """A check for ``low < value <= high``."""
    return lambda v: None if low < v <= high else f"must be in ({low}, {high}]"


class FieldError(Exception):
    """A value failed its ``Field``; ``message`` says why (raised by ``Field.convert``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Field:
    """One key of a table.

    Attributes:
        types: accepted Python types (an int is widened to float where a float is accepted; a
            bool never counts as a number).
        description: what the key means (for docs and ``--help``).
        required: the key must be present.
        check: a range check run after the type check.
        choices: the only values allowed.
        nullable: ``None`` is allowed.
        expected: what a wrong type's message says is valid, where the types alone say too
            little (``a whole number > 0 or 'auto'``); default: the types' names.
    """

    types: tuple[type, ...]
    description: str = ""
    required: bool = False
    check: Check | None = None
    choices: tuple[Any, ...] | None = None
    nullable: bool = False
    expected: str = ""

    def convert(self, value: Any) -> Any:
        """The value, normalised (ints widened to float where a float is expected).

        Raises:
            FieldError: a wrong type, a non-finite number, a value not among ``choices`` (with a
                did-you-mean) or one its ``check`` refuses.
        """
        if value is None:
            if self.nullable:
                return None
            raise FieldError("may not be null")
        expected = self.expected or type_names(self.types)
        if isinstance(value, bool) and bool not in self.types:
            raise FieldError(f"expected {expected}, got a boolean ({value!r})")
        if float in self.types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.types):
            raise FieldError(f"expected {expected}, got {type(value).__name__} ({value!r})")
        if isinstance(value, float) and not math.isfinite(value):
            raise FieldError(f"must be a finite number, got {value!r}")
        if self.choices is not None and value not in self.choices:
            hint = did_you_mean(str(value), [str(c) for c in self.choices])
            raise FieldError(f"{value!r} is not one of {', '.join(repr(c) for c in self.choices)}.{hint}")
        if self.check is not None:
            reason = self.check(value)
            if reason:
                raise FieldError(f"{reason}, got {value!r}")
        return value


_BARE_KEY = re.compile(r"^[\w-]+(\[\d+\])*$")


def join_path(key_path: str, key: object) -> str:
    """``a.b`` + ``c`` -> ``a.b.c``; ``capabilities[0]`` stays bare; a key that is not a bare word
    is quoted (``models."a/b"``)."""
    text = str(key)
    part = text if _BARE_KEY.match(text) else f'"{text}"'
    return f"{key_path}.{part}" if key_path else part


def check_table(
    data: Any,
    fields: Mapping[str, Field],
    *,
    key_path: str = "",
    allow_unknown: bool = False,
) -> tuple[dict[str, Any], list[Problem]]:
    """Check a table against its fields; returns the normalised table and every problem found.

    Unknown keys (with a did-you-mean), missing required keys and bad values are all reported;
    a bad value is left out of the returned table.
    """
    if not isinstance(data, Mapping):
        return {}, [Problem(key_path, f"expected a table, got {type(data).__name__} ({data!r})")]
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in data.items():
        path = join_path(key_path, key)
        field = fields.get(str(key))
        if field is None:
            if allow_unknown:
                out[str(key)] = value
                continue
            problems.append(
                Problem(
                    path,
                    f"unknown key {key!r}; valid keys: {', '.join(fields)}." + did_you_mean(str(key), fields),
                )
            )
            continue
        try:
            out[str(key)] = field.convert(value)
        except FieldError as exc:
            problems.append(Problem(path, exc.message))
    for key, field in fields.items():
        if field.required and key not in data:
            problems.append(Problem(join_path(key_path, key), f"missing required key {key!r}"))
    return out, problems


def problems_message(problems: Iterable[Problem], *, what: str, file: object = None) -> str:
    """One message for one or more problems: ``Invalid <what> <file> at 'k': ...`` (a line each)."""
    found = list(problems)
    where = f"Invalid {what}" + (f" {file}" if file else "")
    if len(found) == 1:
        return f"{where} {found[0]}" if found[0].key_path else f"{where}: {found[0]}"
    lines = "\n".join(f"  - {p}" for p in found)
    return f"{where}: {len(found)} problems:\n{lines}"
