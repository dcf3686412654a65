"""Suites and cells: what a benchmark run measures, as data.

A *suite* is models × capabilities × settings, read from a TOML/JSON file (built-ins in
``hfbench/bench/data/suites/``) and validated on load (every problem at once, with key paths).
A *cell* is one (model, capability, settings): the unit that is measured, recorded, skipped on
resume, and run in its own process.

Suite file (version 1)::

    version = 1
    name = "quick"
    description = "..."
    size = "quick"                   # quality plan size per capability: quick | standard
    [settings]                       # every cell
    max_duration_s = 20.0
    [[group]]                        # models x capabilities, with their own settings
    models = ["embedded:smollm2-135m-instruct"]
    capabilities = ["chat", "summarization"]
    settings = { speed_tokens = 32 }
    sweep = { dtype = ["float32", "bfloat16"] }   # one cell per value (product over keys)

Settings are config keys (``hfbench config keys``: load keys such as ``dtype`` make a separately
loaded model; run keys such as ``max_tokens``) and the harness keys in ``HARNESS_KEYS``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hfbench.core.capability import canonical_capability
from hfbench.core.config_schema import check_params, config_keys
from hfbench.core.datafiles import read_data_file, read_package_text
from hfbench.core.errors import BenchmarkError, UnsupportedCapabilityError, did_you_mean
from hfbench.core.validation import (
    Field,
    Problem,
    at_least,
    check_table,
    greater_than,
    in_half_open,
    join_path,
    problems_message,
)

if TYPE_CHECKING:
    from hfbench.registry import CapabilityRegistry

#: Quality sizes a suite may ask for (the quality plans' per-suite sizes).
SIZES = ("quick", "standard")
#: The built-in suites (``hfbench/bench/data/suites/<name>.toml``).
BUILTIN_SUITES = ("quick", "standard", "tiers")

HARNESS_KEYS: dict[str, Field] = {
    "threads": Field((int,), "torch threads (default: the machine's physical cores).", check=at_least(1)),
    "warmup": Field((int,), "Calls run before timing, not counted.", check=at_least(0)),
    "min_iterations": Field((int,), "Fewest timed calls.", check=at_least(1)),
    "max_iterations": Field((int,), "Most timed calls.", check=at_least(1)),
    "min_duration_s": Field((float,), "Time at least this long (seconds).", check=at_least(0)),
    "max_duration_s": Field(
        (float,), "Stop timing after this long even if not stable.", check=greater_than(0)
    ),
    "rel_ci": Field(
        (float,), "Stop when the median's 95% interval is within +-this fraction.", check=in_half_open(0, 1)
    ),
    "speed_tokens": Field(
        (int,), "Fixed decode length of speed calls (end-of-sequence ignored).", check=at_least(2)
    ),
    "speed_batch": Field((int,), "Inputs per speed call (batch capabilities).", check=at_least(1)),
    "max_call_s": Field(
        (float,),
        "A call slower than this makes the cell 'too_slow' (a record, not a failure).",
        check=greater_than(0),
    ),
    "quality": Field((bool,), "Measure quality (default: true)."),
    "eval_set": Field((str,), "Eval set (default: the capability's quality plan)."),
    "eval_n": Field((int,), "Eval items (default: the plan's size for the suite).", check=at_least(1)),
    "eval_seed": Field((int,), "Seed of the eval subset.", check=at_least(0)),
}

#: Harness keys that say *how* a cell is timed, not *what* is measured: left out of the cell id,
#: so tightening the stopping rule does not make finished cells run again.
PROCEDURE_KEYS = frozenset(
    {"warmup", "min_iterations", "max_iterations", "min_duration_s", "max_duration_s", "rel_ci", "max_call_s"}
)

_SUITE_FIELDS: dict[str, Field] = {
    "version": Field((int,), "File format version.", required=True, choices=(1,)),
    "name": Field((str,), "Suite name (default: the file's stem)."),
    "description": Field((str,), "What the suite is for."),
    "size": Field((str,), "Quality plan size.", choices=SIZES),
    "settings": Field((dict,), "Settings of every cell."),
    "group": Field((list,), "Groups of models x capabilities.", required=True),
}
_GROUP_FIELDS: dict[str, Field] = {
    "models": Field((list,), "Hub ids, folders or embedded:<name>.", required=True),
    "capabilities": Field((list,), "Capability names (aliases accepted).", required=True),
    "settings": Field((dict,), "Settings of the group's cells."),
    "sweep": Field((dict,), "Settings to sweep: key -> list of values."),
}


@dataclass(frozen=True)
class Cell:
    """One measurement: a model, a capability and its settings.

    Attributes:
        model: Hub id, local folder or ``embedded:<name>``.
        capability: canonical capability name.
        settings: config keys and harness keys for this cell (sweep values included).
        suite: the suite it came from.
        size: the quality plan size (``quick`` / ``standard``).
    """

    model: str
    capability: str
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    suite: str = "adhoc"
    size: str = "quick"

    @property
    def identity(self) -> dict[str, Any]:
        """What is measured: model, capability, quality size, and the settings that change the
        measurement (config keys, workload and quality keys; not the stopping rule)."""
        settings = {k: v for k, v in self.settings.items() if k not in PROCEDURE_KEYS}
        return {"model": self.model, "capability": self.capability, "settings": settings, "size": self.size}

    @property
    def cell_id(self) -> str:
        """A stable id of what is measured (``identity``): the store's resume key. The suite's
        name is not part of it: the same cell in two suites is one cell."""
        canonical = json.dumps(self.identity, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def config(self) -> dict[str, Any]:
        """The settings that are config keys (load and run keys)."""
        keys = config_keys()
        return {k: v for k, v in self.settings.items() if k in keys}

    @property
    def harness(self) -> dict[str, Any]:
        """The settings that are harness keys."""
        return {k: v for k, v in self.settings.items() if k in HARNESS_KEYS}

    @property
    def short_model(self) -> str:
        """``smollm2-135m-instruct`` for ``embedded:smollm2-135m-instruct``, ``bart-base`` for
        ``facebook/bart-base``, a folder's last part for a folder."""
        return self.model.removeprefix("embedded:").rstrip("/").rsplit("/", 1)[-1]

    def label(self) -> str:
        """``smollm2-135m-instruct · chat · dtype=bfloat16`` (for progress bars and tables)."""
        extra = " ".join(f"{k}={v}" for k, v in sorted(self.config.items()))
        return f"{self.short_model} · {self.capability}" + (f" · {extra}" if extra else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (what an executor sends to a cell process)."""
        return {
            "model": self.model,
            "capability": self.capability,
            "settings": dict(self.settings),
            "suite": self.suite,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        """The inverse of ``to_dict``."""
        return cls(
            model=str(data["model"]),
            capability=str(data["capability"]),
            settings=dict(data.get("settings", {})),
            suite=str(data.get("suite", "adhoc")),
            size=str(data.get("size", "quick")),
        )


@dataclass(frozen=True)
class Group:
    """Models x capabilities with settings and sweeps (a suite file's ``[[group]]``)."""

    models: tuple[str, ...]
    capabilities: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    sweep: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    """A validated suite: groups of models x capabilities x settings.

    Example:
        >>> suite = Suite.quick()
        >>> len(suite.cells()) >= 9
        True
    """

    name: str
    groups: tuple[Group, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    size: str = "quick"
    description: str = ""
    source: str | None = None

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def builtin(cls, name: str) -> Suite:
        """A built-in suite by name (``quick``, ``standard``, ``tiers``).

        Raises:
            BenchmarkError: an unknown name (with a did-you-mean).
        """
        if name not in BUILTIN_SUITES:
            raise BenchmarkError(
                f"Unknown suite {name!r}; built-in suites: {', '.join(BUILTIN_SUITES)}, or a "
                ".toml/.json suite file." + did_you_mean(name, BUILTIN_SUITES)
            )
        if name == "tiers":
            return tiers_suite()
        from hfbench.core.datafiles import loads_toml

        data = loads_toml(read_package_text(f"suites/{name}.toml", package="hfbench.bench"))
        return cls.from_dict(data, source=f"hfbench/bench/data/suites/{name}.toml", default_name=name)

    @classmethod
    def quick(cls) -> Suite:
        """The quick suite: the five embedded real models, minutes on 2 CPU cores."""
        return cls.builtin("quick")

    @classmethod
    def standard(cls) -> Suite:
        """Every capability each embedded model serves, with larger eval subsets."""
        return cls.builtin("standard")

    @classmethod
    def tiers(cls) -> Suite:
        """The registry's Hub models per capability and tier (needs the Hub; a GPU helps)."""
        return cls.builtin("tiers")

    @classmethod
    def load(cls, name_or_path: str | os.PathLike[str]) -> Suite:
        """A built-in suite by name, or a suite file (``.toml``/``.json``)."""
        text = os.fspath(name_or_path)
        if text in BUILTIN_SUITES:
            return cls.builtin(text)
        path = Path(text)
        if path.suffix.lower() not in (".toml", ".json") and not path.exists():
            return cls.builtin(text)  # raises with the valid names
        data = read_data_file(path, what="suite file", error=BenchmarkError)
        return cls.from_dict(data, source=str(path), default_name=path.stem)

    @classmethod
    def from_models(
        cls,
        models: Sequence[str],
        capabilities: Sequence[str],
        *,
        settings: Mapping[str, Any] | None = None,
        name: str = "adhoc",
        size: str = "quick",
    ) -> Suite:
        """A suite of one group (what ``hfbench run --models ... --capability ...`` builds)."""
        group = {"models": list(models), "capabilities": list(capabilities)}
        data = {"version": 1, "name": name, "size": size, "settings": dict(settings or {}), "group": [group]}
        return cls.from_dict(data, source=None, default_name=name)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str | None = None, default_name: str = "suite"
    ) -> Suite:
        """Validate a parsed suite file.

        Raises:
            BenchmarkError: every problem found, each with its key path, naming the file.
        """
        top, problems = check_table(data, _SUITE_FIELDS)
        settings, found = check_settings(top.get("settings", {}), "settings")
        problems += found
        groups: list[Group] = []
        for index, raw in enumerate(top.get("group", [])):
            group, found = _check_group(raw, f"group[{index}]")
            problems += found
            if group is not None:
                groups.append(group)
        if "group" in top and not top["group"]:
            problems.append(Problem("group", "a suite needs at least one [[group]]"))
        if problems:
            raise BenchmarkError(problems_message(problems, what="suite", file=source or "(inline)"))
        return cls(
            name=str(top.get("name") or default_name),
            groups=tuple(groups),
            settings=settings,
            size=str(top.get("size", "quick")),
            description=str(top.get("description", "")),
            source=source,
        )

    # ---- expansion ----------------------------------------------------------------------------
    def with_sweep(self, sweeps: Mapping[str, Sequence[Any]]) -> Suite:
        """A copy where every group also sweeps these settings (``--sweep key=v1,v2``).

        Raises:
            BenchmarkError: an unknown key or an invalid value (each problem named).
        """
        checked, problems = _check_sweep(sweeps, "sweep")
        if problems:
            raise BenchmarkError(problems_message(problems, what="sweep", file="(command line)"))
        groups = tuple(
            Group(g.models, g.capabilities, g.settings, {**g.sweep, **checked}) for g in self.groups
        )
        return Suite(self.name, groups, self.settings, self.size, self.description, self.source)

    def with_settings(self, settings: Mapping[str, Any]) -> Suite:
        """A copy with more settings for every cell (validated)."""
        checked, problems = check_settings(settings, "settings")
        if problems:
            raise BenchmarkError(problems_message(problems, what="settings", file="(command line)"))
        return Suite(
            self.name, self.groups, {**self.settings, **checked}, self.size, self.description, self.source
        )

    def cells(self) -> list[Cell]:
        """Every cell, in file order (groups, then models, capabilities, sweep values)."""
        cells: list[Cell] = []
        for group in self.groups:
            keys = list(group.sweep)
            for model, capability in itertools.product(group.models, group.capabilities):
                for values in itertools.product(*(group.sweep[k] for k in keys)):
                    settings = {**self.settings, **group.settings, **dict(zip(keys, values, strict=True))}
                    cells.append(Cell(model, capability, settings, self.name, self.size))
        return list({cell.cell_id: cell for cell in cells}.values())

    def __len__(self) -> int:
        return len(self.cells())


def check_settings(settings: Any, key_path: str) -> tuple[dict[str, Any], list[Problem]]:
    """Check a table of cell settings: config keys (load and run) and harness keys."""
    if not isinstance(settings, Mapping):
        return {}, [Problem(key_path, f"expected a table, got {type(settings).__name__}")]
    config = {k: v for k, v in settings.items() if k in config_keys()}
    harness = {k: v for k, v in settings.items() if k not in config_keys()}
    out, problems = check_params(config, key_path=key_path)
    checked, harness_problems = check_table(harness, HARNESS_KEYS, key_path=key_path)
    for problem in harness_problems:
        if "unknown key" in problem.message:  # suggest from both tables
            key = problem.key_path.rsplit(".", 1)[-1]
            valid = [*config_keys(), *HARNESS_KEYS]
            problem = Problem(
                problem.key_path,
                f"unknown setting {key!r}: neither a config key (`hfbench config keys`) nor a "
                f"harness key ({', '.join(HARNESS_KEYS)})." + did_you_mean(key, valid),
            )
        problems.append(problem)
    return {**out, **checked}, problems


def _check_sweep(sweep: Any, key_path: str) -> tuple[dict[str, tuple[Any, ...]], list[Problem]]:
    if not isinstance(sweep, Mapping):
        return {}, [Problem(key_path, f"expected a table of key -> list of values, got {sweep!r}")]
    out: dict[str, tuple[Any, ...]] = {}
    problems: list[Problem] = []
    for key, values in sweep.items():
        path = join_path(key_path, key)
        if not isinstance(values, (list, tuple)) or not values:
            problems.append(Problem(path, f"expected a non-empty list of values, got {values!r}"))
            continue
        checked: list[Any] = []
        for value in values:
            one, found = check_settings({key: value}, key_path)
            problems += found
            if key in one:
                checked.append(one[key])
        out[str(key)] = tuple(dict.fromkeys(checked))
    return out, problems


def _check_group(raw: Any, key_path: str) -> tuple[Group | None, list[Problem]]:
    values, problems = check_table(raw, _GROUP_FIELDS, key_path=key_path)
    models = values.get("models", [])
    if "models" in values and (not models or not all(isinstance(m, str) and m for m in models)):
        problems.append(Problem(join_path(key_path, "models"), "expected a non-empty list of model names"))
    capabilities: list[str] = []
    for index, name in enumerate(values.get("capabilities", [])):
        try:
            capabilities.append(canonical_capability(str(name)))
        except UnsupportedCapabilityError as exc:
            problems.append(Problem(join_path(key_path, f"capabilities[{index}]"), str(exc)))
    if "capabilities" in values and not values["capabilities"]:
        problems.append(Problem(join_path(key_path, "capabilities"), "expected a non-empty list"))
    settings, found = check_settings(values.get("settings", {}), join_path(key_path, "settings"))
    problems += found
    sweep, found = _check_sweep(values.get("sweep", {}), join_path(key_path, "sweep"))
    problems += found
    if problems:
        return None, problems
    return Group(tuple(models), tuple(dict.fromkeys(capabilities)), settings, sweep), []


def parse_sweeps(specs: Iterable[str]) -> dict[str, list[Any]]:
    """``["dtype=float32,bfloat16", "batch_size=1,8"]`` -> ``{"dtype": [...], "batch_size": [1, 8]}``.

    Values are read as JSON where they parse (numbers, true/false), else as strings.

    Raises:
        BenchmarkError: a spec without ``=`` or without values.
    """
    out: dict[str, list[Any]] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise BenchmarkError(f"A sweep is key=value1,value2 (e.g. dtype=float32,bfloat16), got {spec!r}.")
        out[key.strip()] = [_scalar(v.strip()) for v in values.split(",") if v.strip()]
    return out


def _scalar(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def tiers_suite(
    registry: CapabilityRegistry | None = None,
    *,
    tiers: Sequence[str] | None = None,
    capabilities: Sequence[str] | None = None,
) -> Suite:
    """One group per capability: the registry's model at each tier (embedded models left out).

    Args:
        registry: whose recommendations (default: hfbench's package defaults).
        tiers: only these tiers (default: all).
        capabilities: only these capabilities (default: every one with a recommendation).
    """
    from hfbench.core.capability import canonical_capability
    from hfbench.registry import CapabilityRegistry

    registry = registry or CapabilityRegistry()
    wanted = {canonical_capability(c) for c in capabilities} if capabilities else None
    groups = []
    for capability, slots in registry.recommendations.items():
        if wanted is not None and capability not in wanted:
            continue
        models = [
            rec.model_name
            for tier, rec in slots.items()
            if (tiers is None or tier in tiers) and not rec.model_name.startswith("embedded:")
        ]
        if models:
            groups.append({"models": list(dict.fromkeys(models)), "capabilities": [capability]})
    data = {
        "version": 1,
        "name": "tiers",
        "description": "The registry's Hub models per capability and tier.",
        "size": "standard",
        "settings": {"warmup": 1, "min_iterations": 6, "max_duration_s": 30.0, "speed_tokens": 64},
        "group": groups,
    }
    return Suite.from_dict(data, source="the registry's recommendations", default_name="tiers")
