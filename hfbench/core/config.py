"""The tree-structured model configuration: base -> architecture -> capability -> model override."""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfbench.core.capability import canonical_capability, capability_lineage, capability_specs
from hfbench.core.config_schema import check_consistency, validate_params
from hfbench.core.errors import ConfigError, UnsupportedCapabilityError, did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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

        Raises:
            ConfigError: naming the file (if any) and the key path of the first problem.
        """
        file = self.source
        self.base = validate_params(self.base, key_path="base", file=file)
        self.architecture = validate_params(self.architecture, key_path="architecture", file=file)
        self.model_specific = validate_params(self.model_specific, key_path="model_specific", file=file)
        if not isinstance(self.capabilities, dict):
            raise ConfigError("expected a table of capabilities.", key_path="capabilities", file=file)
        canonical: dict[str, dict[str, Any]] = {}
        for name, params in self.capabilities.items():
            try:
                cap = canonical_capability(str(name))
            except UnsupportedCapabilityError as exc:
                raise ConfigError(str(exc), key_path=f"capabilities.{name}", file=file) from None
            canonical[cap] = validate_params(params, key_path=f"capabilities.{name}", file=file)
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
            levels.append(validate_params(dict(overrides), key_path="call"))
        config: dict[str, Any] = {}
        origin: dict[str, int] = {}  # key -> index of the level that set it (higher wins)
        for index, level in enumerate(levels):
            for key, value in level.items():
                config[key] = copy.deepcopy(value)
                origin[key] = index
        check_consistency(config, origin, key_path=f"capabilities.{lineage[-1]}", file=self.source)
        return config

    merged_config = get_merged_config

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
            self.capabilities[cap] = validate_params(level, key_path=f"capabilities.{cap}")
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
        for key in data:
            if key not in LEVELS:
                raise ConfigError(
                    f"unknown top-level key {key!r}; valid levels are {', '.join(LEVELS)}."
                    + did_you_mean(str(key), LEVELS),
                    key_path=str(key),
                    file=source,
                )
        base = {**default_base(), **_level(data, "base", source)}
        return cls(
            base=base,
            architecture=_level(data, "architecture", source),
            capabilities=_level(data, "capabilities", source),
            model_specific=_level(data, "model_specific", source),
            source=source,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ModelConfig:
        """Load a ``.toml`` or ``.json`` config file.

        Raises:
            ConfigError: missing file, unsupported suffix, a syntax error, or invalid content;
                the message names the file (and the key path where there is one).
        """
        file = Path(path)
        if not file.is_file():
            raise ConfigError("no such file.", file=file)
        suffix = file.suffix.lower()
        try:
            if suffix == ".toml":
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            elif suffix == ".json":
                data = json.loads(file.read_text(encoding="utf-8"))
            else:
                raise ConfigError(f"unsupported suffix {suffix!r}; use .toml or .json.", file=file)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"not valid {suffix[1:].upper()}: {exc}", file=file) from None
        return cls.from_dict(data, source=str(file))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config as TOML or JSON (by suffix). Null values are left out of TOML."""
        file = Path(path)
        data = self.to_dict()
        if file.suffix.lower() == ".toml":
            import tomli_w

            text = tomli_w.dumps(_drop_none(data))
        elif file.suffix.lower() == ".json":
            text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        else:
            raise ConfigError(f"unsupported suffix {file.suffix!r}; use .toml or .json.", file=file)
        file.write_text(text, encoding="utf-8")
        return file


def _level(data: Mapping[str, Any], name: str, source: str | None) -> Any:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(
            f"expected a table, got {type(value).__name__} ({value!r}).", key_path=name, file=source
        )
    return copy.deepcopy(value)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value
