"""The tree-structured model configuration: base -> architecture -> capability -> model override."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfbench.core.capability import canonical_capability, capability_lineage, capability_specs
from hfbench.core.config_schema import (
    LOAD_LEVELS,
    check_consistency,
    check_params,
    load_keys,
    validate_params,
)
from hfbench.core.datafiles import read_data_file, write_data_file
from hfbench.core.errors import ConfigError, UnsupportedCapabilityError, did_you_mean
from hfbench.core.validation import Problem, join_path

LEVELS = ("base", "architecture", "capabilities", "model_specific")
# ``[model]`` reads naturally in a file; it means the model-specific level.
LEVEL_ALIASES = {"model": "model_specific"}


def default_base() -> dict[str, Any]:
    """Base parameters shared by all models.

    The seed's values, except ``max_tokens``: 256 rather than 2048, because 2048 new tokens
    take minutes on a CPU and most benchmark prompts need far fewer (override it freely).
    """
    return {"temperature": 0.7, "max_tokens": 256, "top_p": 1.0, "top_k": 50}


@dataclass
class ModelConfig:
    """Tree-structured configuration.

    Precedence, lowest first: ``base`` < ``architecture`` < capability defaults (hfbench's,
    ancestors first) < ``capabilities[<ancestor>]`` < ``capabilities[<capability>]`` <
    ``model_specific`` < per-call overrides. Every level is validated when set.
    """

    base: dict[str, Any] = field(default_factory=default_base)
    architecture: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    model_specific: dict[str, Any] = field(default_factory=dict)
    source: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.validate()

    # ---- validation -----------------------------------------------------------------------
    def validate(self) -> None:
        """Validate every level in place (capability names made canonical).

        Load keys (``dtype``, ``device`` ...) are accepted at the base, architecture and
        model-specific levels only: they describe how the model is loaded, not one capability.

        Raises:
            ConfigError: every problem at once, each with its key path (and the file, if any).
        """
        problems: list[Problem] = []
        levels: dict[str, dict[str, Any]] = {}
        for name in LOAD_LEVELS:
            levels[name], found = check_params(getattr(self, name), key_path=name)
            problems += found
        canonical: dict[str, dict[str, Any]] = {}
        if not isinstance(self.capabilities, dict):
            problems.append(Problem("capabilities", "expected a table of capabilities"))
        else:
            for name, params in self.capabilities.items():
                path = join_path("capabilities", name)
                try:
                    cap = canonical_capability(str(name))
                except UnsupportedCapabilityError as exc:
                    problems.append(Problem(path, str(exc)))
                    continue
                canonical[cap], found = check_params(params, key_path=path, allow_load=False)
                problems += found
        if problems:
            raise ConfigError.from_problems(problems, file=self.source)
        self.base, self.architecture, self.model_specific = (levels[n] for n in LOAD_LEVELS)
        self.capabilities = canonical

    # ---- merging --------------------------------------------------------------------------
    def get_merged_config(
        self, capability: str, overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The merged configuration for a capability, with optional per-call overrides on top.

        Raises:
            UnsupportedCapabilityError: unknown capability (did-you-mean).
            ConfigError: an override is invalid (key path ``call.<key>``), or the merged values
                contradict each other.
        """
        lineage = capability_lineage(capability)
        specs = capability_specs()
        levels: list[Mapping[str, Any]] = [self.base, self.architecture]
        levels += [specs[name].parameters for name in lineage]
        levels += [self.capabilities.get(name, {}) for name in lineage]
        levels.append(self.model_specific)
        if overrides:
            levels.append(validate_params(dict(overrides), key_path="call", allow_load=False))
        config: dict[str, Any] = {}
        origin: dict[str, int] = {}  # key -> index of the level that set it (higher wins)
        for index, level in enumerate(levels):
            for key, value in level.items():
                config[key] = copy.deepcopy(value)
                origin[key] = index
        check_consistency(config, origin, key_path=f"capabilities.{lineage[-1]}", file=self.source)
        return config

    merged_config = get_merged_config

    def load_config(self) -> dict[str, Any]:
        """The load keys (``dtype``, ``device`` ...) merged over base < architecture < model_specific.

        These decide how the model is loaded; they are the same for every capability.
        """
        keys = load_keys()
        merged: dict[str, Any] = {}
        for level in (self.base, self.architecture, self.model_specific):
            merged.update({k: copy.deepcopy(v) for k, v in level.items() if k in keys})
        return merged

    def merge(self, other: ModelConfig) -> ModelConfig:
        """A new config with ``other``'s values over this one's, level by level."""
        capabilities = copy.deepcopy(self.capabilities)
        for name, params in other.capabilities.items():
            capabilities.setdefault(name, {}).update(copy.deepcopy(params))
        return ModelConfig(
            base={**self.base, **other.base},
            architecture={**self.architecture, **other.architecture},
            capabilities=capabilities,
            model_specific={**self.model_specific, **other.model_specific},
            source=other.source or self.source,
        )

    def set(self, key_path: str, value: Any) -> None:
        """Set one value by key path, e.g. ``set("capabilities.summarization.max_length", 80)``."""
        parts = key_path.split(".")
        if parts[0] == "capabilities" and len(parts) == 3:
            cap = canonical_capability(parts[1])
            level = {**self.capabilities.get(cap, {}), parts[2]: value}
            self.capabilities[cap] = validate_params(level, key_path=f"capabilities.{cap}", allow_load=False)
            return
        if parts[0] in ("base", "architecture", "model_specific") and len(parts) == 2:
            level = {**getattr(self, parts[0]), parts[1]: value}
            setattr(self, parts[0], validate_params(level, key_path=parts[0]))
            return
        raise ConfigError(
            "a key path is '<level>.<key>' or 'capabilities.<capability>.<key>', with level one of "
            f"{', '.join(LEVELS)}.",
            key_path=key_path,
        )

    # ---- files ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The four levels as plain dictionaries."""
        return {
            "base": copy.deepcopy(self.base),
            "architecture": copy.deepcopy(self.architecture),
            "capabilities": copy.deepcopy(self.capabilities),
            "model_specific": copy.deepcopy(self.model_specific),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> ModelConfig:
        """Build from a mapping with the four levels (missing levels take their defaults).

        Raises:
            ConfigError: an unknown top-level key (did-you-mean) or any invalid value.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected a table at the top, got {type(data).__name__}.", file=source)
        data = {LEVEL_ALIASES.get(str(k), k): v for k, v in data.items()}
        problems: list[Problem] = [
            Problem(
                str(key),
                f"unknown top-level key {key!r}; valid levels are {', '.join(LEVELS)}."
                + did_you_mean(str(key), [*LEVELS, *LEVEL_ALIASES]),
            )
            for key in data
            if key not in LEVELS
        ]
        levels: dict[str, dict[str, Any]] = {}
        for name in LEVELS:
            value = data.get(name, {})
            if isinstance(value, dict):
                levels[name] = copy.deepcopy(value)
            else:
                problems.append(Problem(name, f"expected a table, got {type(value).__name__} ({value!r})"))
        try:
            config = cls(
                base={**default_base(), **levels.get("base", {})},
                architecture=levels.get("architecture", {}),
                capabilities=levels.get("capabilities", {}),
                model_specific=levels.get("model_specific", {}),
                source=source,
            )
        except ConfigError as exc:
            problems += list(exc.problems) or [Problem(exc.key_path or "", exc.reason)]
        if problems:
            raise ConfigError.from_problems(problems, file=source)
        return config

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ModelConfig:
        """Load a ``.toml`` or ``.json`` config file.

        Raises:
            ConfigError: missing file, unsupported suffix, a syntax error, or invalid content;
                the message names the file and every problem's key path.
        """
        file = Path(path)
        data = read_data_file(file, what="config file", error=ConfigError)
        return cls.from_dict(data, source=str(file))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config as TOML or JSON (by suffix). Null values are left out of TOML."""
        file = Path(path)
        if file.suffix.lower() not in (".toml", ".json"):
            raise ConfigError(f"unsupported suffix {file.suffix!r}; use .toml or .json.", file=file)
        return write_data_file(file, self.to_dict(), sort_keys=True)
