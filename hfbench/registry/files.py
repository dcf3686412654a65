"""Recommendation files (JSON or TOML, chosen by suffix): read, validate, write.

Format (version 1)::

    version = 1
    description = "my fine-tunes"            # optional

    [hardware]                                # optional; tuned files: where they were measured
    fingerprint = "3f2a9c0d1e4b"              # SystemInfo.fingerprint()
    name = "lab-box"

    [models."my-org/phi-4-ft"]                # a catalog of models, keyed by model name
    params_b = 14.7
    capabilities = ["chat", "summarization"]
    license = "mit"

    [recommendations.chat]
    medium = "my-org/phi-4-ft"                # a name from `models` (or hfbench's own catalog)

    [recommendations.summarization.tiny]      # or the model inline
    model_name = "facebook/bart-large-cnn"
    params_b = 0.406

Everything is validated on load: unknown keys, wrong types, unknown capabilities or tiers and
models too large for their tier raise ``RecommendationError`` naming the file and the key path
(``recommendations.summarization.tiny.params_b``). Files are parsed as data only (json, tomllib),
never evaluated.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from hfbench.core.capability import canonical_capability
from hfbench.core.errors import RecommendationError, UnsupportedCapabilityError, did_you_mean
from hfbench.core.hardware import SystemInfo
from hfbench.registry.recommendation import ModelRecommendation, format_key, key_error
from hfbench.registry.tiers import SIZE_TIERS, tier_violation

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILE_VERSION = 1
SUFFIXES = (".json", ".toml")
DEFAULTS_FILE = "default_recommendations.json"

Recommendations = dict[str, dict[str, ModelRecommendation]]

_TOP_LEVEL_KEYS = ("version", "description", "hardware", "models", "recommendations")
_PACKAGE_ONLY_KEYS = ("offline_recommendations",)
_HARDWARE_KEYS: dict[str, tuple[type, ...]] = {
    "fingerprint": (str,),
    "name": (str,),
    "accelerator": (str,),
    "model_memory_gb": (int, float),
    "created_at": (str,),
    "hfbench_version": (str,),
    "summary": (str,),
    "system": (dict,),
}


@dataclass(frozen=True)
class RecommendationFile:
    """A parsed recommendation file.

    Attributes:
        recommendations: capability -> tier -> recommendation (canonical names).
        version: the file format version.
        description: free text.
        hardware: the ``hardware`` block (tuned files), or None.
        models: the file's model catalog, by model name.
        offline_recommendations: the package data's ``offline`` set (empty elsewhere).
        path: where it was read from.
    """

    recommendations: Recommendations
    version: int = FILE_VERSION
    description: str = ""
    hardware: dict[str, Any] | None = None
    models: dict[str, ModelRecommendation] = field(default_factory=dict)
    offline_recommendations: Recommendations = field(default_factory=dict)
    path: str | None = None

    @property
    def fingerprint(self) -> str | None:
        """The hardware fingerprint a tuned file was made on (None without a hardware block)."""
        return self.hardware.get("fingerprint") if self.hardware else None


# --------------------------------------------------------------------------- reading
def read_data_file(path: str | os.PathLike[str], *, what: str = "recommendation file") -> dict[str, Any]:
    """Parse a JSON or TOML file (by suffix) into a dictionary, with errors naming the file.

    Raises:
        RecommendationError: missing file, unknown suffix, a syntax error (with line and column),
            or a top level that is not a table.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise RecommendationError(
            f"The {what} {file} must end in .json or .toml, got {suffix or 'no suffix'!r}."
        )
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecommendationError(f"The {what} {file} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecommendationError(f"Cannot read the {what} {file}: {exc}") from exc
    try:
        data = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise RecommendationError(
            f"The {what} {file} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise RecommendationError(f"The {what} {file} is not valid TOML: {exc}.") from None
    if not isinstance(data, dict):
        raise RecommendationError(
            f"The {what} {file} must hold a table at the top, got {type(data).__name__}."
        )
    return data


def load_recommendation_file(path: str | os.PathLike[str]) -> RecommendationFile:
    """Read and validate a recommendation file (``.json`` or ``.toml``).

    Model names in ``recommendations`` resolve against the file's ``models``, then hfbench's
    own catalog (so an overlay may name ``"Qwen/QwQ-32B"`` without describing it again).

    Raises:
        RecommendationError: naming the file and the key path of what is wrong.
    """
    data = read_data_file(path)
    return parse_recommendation_data(data, file=str(path), catalog=package_catalog())


def parse_recommendation_data(
    data: Mapping[str, Any],
    *,
    file: str | None = None,
    catalog: Mapping[str, ModelRecommendation] | None = None,
    allow_offline: bool = False,
) -> RecommendationFile:
    """Validate a recommendation file's parsed content.

    Args:
        data: the parsed file.
        file: its path, for error messages.
        catalog: models that ``recommendations`` may name besides the file's own ``models``.
        allow_offline: accept the package data's ``offline_recommendations`` section.

    Raises:
        RecommendationError: naming the file and the key path of what is wrong.
    """
    if not isinstance(data, Mapping):
        raise key_error(f"expected a table at the top, got {type(data).__name__}", "", file)
    allowed = _TOP_LEVEL_KEYS + (_PACKAGE_ONLY_KEYS if allow_offline else ())
    for key in data:
        if key not in allowed:
            raise key_error(
                f"unknown key {key!r}.{did_you_mean(str(key), allowed)} "
                f"Valid top-level keys: {', '.join(allowed)}.",
                format_key(str(key)),
                file,
            )
    version = _check_version(data, file)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise key_error(f"expected a string, got {description!r}", "description", file)
    hardware = _check_hardware(data["hardware"], file) if "hardware" in data else None
    models = _parse_models(data.get("models", {}), file)
    known = {**(catalog or {}), **models}
    recs = _parse_recommendations(data.get("recommendations", {}), "recommendations", file, known)
    offline = _parse_recommendations(
        data.get("offline_recommendations", {}), "offline_recommendations", file, known
    )
    return RecommendationFile(
        recommendations=recs,
        version=version,
        description=description,
        hardware=hardware,
        models=models,
        offline_recommendations=offline,
        path=file,
    )


def _check_version(data: Mapping[str, Any], file: str | None) -> int:
    if "version" not in data:
        raise key_error(f"missing 'version' (this hfbench writes version = {FILE_VERSION})", "version", file)
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise key_error(f"expected a whole number, got {version!r}", "version", file)
    if version > FILE_VERSION:
        raise key_error(
            f"version {version} was written by a newer hfbench; this one reads version {FILE_VERSION} "
            "(upgrade hfbench)",
            "version",
            file,
        )
    if version < 1:
        raise key_error(f"version must be {FILE_VERSION}, got {version}", "version", file)
    return version


def _check_hardware(block: Any, file: str | None) -> dict[str, Any]:
    if not isinstance(block, Mapping):
        raise key_error(f"expected a table, got {block!r}", "hardware", file)
    for key, value in block.items():
        path = f"hardware.{format_key(str(key))}"
        if key not in _HARDWARE_KEYS:
            hint = did_you_mean(str(key), _HARDWARE_KEYS)
            raise key_error(f"unknown key {key!r}.{hint} Valid: {', '.join(_HARDWARE_KEYS)}.", path, file)
        types = _HARDWARE_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise key_error(f"expected {' or '.join(t.__name__ for t in types)}, got {value!r}", path, file)
    fingerprint = block.get("fingerprint")
    if not fingerprint:
        raise key_error(
            "a hardware block needs a non-empty 'fingerprint' (SystemInfo.fingerprint())", "hardware", file
        )
    return dict(block)


def _parse_models(table: Any, file: str | None) -> dict[str, ModelRecommendation]:
    if not isinstance(table, Mapping):
        raise key_error(f"expected a table of models keyed by name, got {table!r}", "models", file)
    return {
        str(name): ModelRecommendation.from_dict(
            entry, model_name=str(name), key_path=f"models.{format_key(str(name))}", file=file
        )
        for name, entry in table.items()
    }


def _parse_recommendations(
    table: Any, section: str, file: str | None, known: Mapping[str, ModelRecommendation]
) -> Recommendations:
    if not isinstance(table, Mapping):
        raise key_error(f"expected a table of capabilities, got {table!r}", section, file)
    out: Recommendations = {}
    for cap_key, tiers in table.items():
        cap_path = f"{section}.{format_key(str(cap_key))}"
        try:
            capability = canonical_capability(str(cap_key))
        except UnsupportedCapabilityError as exc:
            raise key_error(str(exc), cap_path, file) from None
        if capability in out:
            raise key_error(f"{cap_key!r} names {capability!r} again (aliases count)", cap_path, file)
        if not isinstance(tiers, Mapping):
            raise key_error(f"expected a table of size tiers, got {tiers!r}", cap_path, file)
        slots: dict[str, ModelRecommendation] = {}
        for tier, value in tiers.items():
            path = f"{cap_path}.{format_key(str(tier))}"
            if tier not in SIZE_TIERS:
                hint = did_you_mean(str(tier), SIZE_TIERS)
                raise key_error(
                    f"unknown size tier {tier!r}.{hint} Valid: {', '.join(SIZE_TIERS)}.", path, file
                )
            rec = resolve_entry(value, known, key_path=path, file=file)
            problem = tier_violation(float(rec.params_b or 0.0), str(tier))
            if problem:
                raise key_error(f"{rec.model_name}: {problem}", path, file)
            slots[str(tier)] = rec
        out[capability] = {t: slots[t] for t in SIZE_TIERS if t in slots}
    return out


def resolve_entry(
    value: Any,
    known: Mapping[str, ModelRecommendation],
    *,
    key_path: str,
    file: str | None = None,
) -> ModelRecommendation:
    """A recommendation from a slot's value: a ``ModelRecommendation``, a table, or a known model's name.

    Raises:
        RecommendationError: an unknown name (with did-you-mean) or a bad table.
    """
    if isinstance(value, ModelRecommendation):
        return value
    if isinstance(value, str):
        if value in known:
            return known[value]
        raise key_error(
            f"unknown model {value!r}: describe it under 'models' or inline.{did_you_mean(value, known)}",
            key_path,
            file,
        )
    return ModelRecommendation.from_dict(value, key_path=key_path, file=file)


# --------------------------------------------------------------------------- writing
def hardware_block(hardware: SystemInfo | Mapping[str, Any]) -> dict[str, Any]:
    """The ``hardware`` block for a tuned file: from a ``SystemInfo``, or a checked dictionary."""
    if isinstance(hardware, SystemInfo):
        return {
            "fingerprint": hardware.fingerprint(),
            "name": hardware.name,
            "accelerator": hardware.accelerator,
            "model_memory_gb": round(hardware.model_memory_gb, 2),
        }
    return _check_hardware(hardware, None)


def recommendations_to_data(
    recommendations: Mapping[str, Mapping[str, ModelRecommendation]],
    *,
    hardware: SystemInfo | Mapping[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """The file content for ``recommendations``: a ``models`` catalog plus references to it.

    A model name used twice with different details keeps the first in the catalog and writes the
    other inline, so reading the file back gives the same recommendations.
    """
    data: dict[str, Any] = {"version": FILE_VERSION}
    if description:
        data["description"] = description
    if hardware is not None:
        data["hardware"] = hardware_block(hardware)
    models: dict[str, ModelRecommendation] = {}
    slots: dict[str, dict[str, Any]] = {}
    for capability, tiers in recommendations.items():
        for tier in SIZE_TIERS:
            rec = tiers.get(tier)
            if rec is None:
                continue
            first = models.setdefault(rec.model_name, rec)
            slots.setdefault(capability, {})[tier] = rec.model_name if first == rec else rec.to_dict()
    data["models"] = {name: rec.to_dict(include_name=False) for name, rec in models.items()}
    data["recommendations"] = slots
    return data


def save_recommendation_file(
    path: str | os.PathLike[str],
    recommendations: Mapping[str, Mapping[str, ModelRecommendation]],
    *,
    hardware: SystemInfo | Mapping[str, Any] | None = None,
    description: str = "",
) -> Path:
    """Write recommendations to ``path`` (JSON or TOML by suffix), atomically.

    Args:
        hardware: for tuned files: the machine they were measured on (its fingerprint is stored).

    Returns:
        The path written.

    Raises:
        RecommendationError: an unknown suffix.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise RecommendationError(f"A recommendation file must end in .json or .toml, got {target.name!r}.")
    data = recommendations_to_data(recommendations, hardware=hardware, description=description)
    if suffix == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        import tomli_w

        text = tomli_w.dumps(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


# --------------------------------------------------------------------------- package data
@lru_cache(maxsize=1)
def default_recommendation_file() -> RecommendationFile:
    """hfbench's own recommendations (``registry/data/default_recommendations.json``), validated."""
    resource = resources.files("hfbench.registry").joinpath("data", DEFAULTS_FILE)
    name = f"hfbench/registry/data/{DEFAULTS_FILE}"
    try:
        data = json.loads(resource.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:  # pragma: no cover - guarded by the tests
        raise RecommendationError(f"{name} is not valid JSON: {exc}") from exc
    return parse_recommendation_data(data, file=name, allow_offline=True)


def package_catalog() -> dict[str, ModelRecommendation]:
    """Every model hfbench's data describes (recommended or not), by name."""
    defaults = default_recommendation_file()
    catalog = dict(defaults.models)
    for section in (defaults.recommendations, defaults.offline_recommendations):
        for tiers in section.values():
            for rec in tiers.values():
                catalog.setdefault(rec.model_name, rec)
    return catalog
