"""Recommendation files (JSON or TOML, chosen by suffix): read, validate, write.

Format (version 1)::

    version = 1
    description = "my fine-tunes"            # optional

    [hardware]                                # optional; tuned files: where they were measured
    hardware_id = "b73fa977f7fa"              # SystemInfo.hardware_id(): what tuned files match on
    fingerprint = "3f2a9c0d1e4b"              # SystemInfo.fingerprint(): hardware + torch/transformers
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

    [tuning]                                  # tuned files: how `hfbench tune` chose (free-form)

A tuned file's recommendations also carry ``recipe`` (how the model ran when measured) and
``measured`` (per capability: confidence, evidence, speed and memory figures); see
``ModelRecommendation`` and ``docs/registry.md``.

Everything is validated on load: unknown keys, wrong types, unknown capabilities or tiers and
models too large for their tier raise ``RecommendationError`` naming the file and the key path
(``recommendations.summarization.tiny.params_b``), every problem at once. Files are read and
written by ``hfbench.core.datafiles`` (data only, never evaluated) and checked with
``hfbench.core.validation``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hfbench.core.capability import capability_entries
from hfbench.core.datafiles import DATA_SUFFIXES, read_data_file, read_package_json, write_data_file
from hfbench.core.errors import RecommendationError, did_you_mean
from hfbench.core.hardware import SystemInfo
from hfbench.core.validation import Field, Problem, check_table, join_path
from hfbench.registry.recommendation import ModelRecommendation, recommendation_error
from hfbench.registry.tiers import SIZE_TIERS, tier_violation

FILE_VERSION = 1
DEFAULTS_FILE = "default_recommendations.json"

Recommendations = dict[str, dict[str, ModelRecommendation]]


def _version_check(version: int) -> str | None:
    if version > FILE_VERSION:
        return f"is from a newer hfbench (this one reads version {FILE_VERSION}; upgrade hfbench)"
    return None if version == FILE_VERSION else f"must be {FILE_VERSION}"


def _not_empty(value: str) -> str | None:
    return None if value else "must be SystemInfo.fingerprint() of the machine, not empty"


_TOP_LEVEL_FIELDS: dict[str, Field] = {
    "version": Field((int,), f"format version (this hfbench writes {FILE_VERSION})", check=_version_check),
    "description": Field((str,), "free text"),
    "hardware": Field((dict,), "tuned files: the machine they were measured on"),
    "models": Field((dict,), "a catalog of models, keyed by model name"),
    "recommendations": Field((dict,), "capability -> size tier -> model"),
    "tuning": Field((dict,), "tuned files: rules, budgets and why each slot's model was chosen"),
}
_PACKAGE_ONLY_FIELDS: dict[str, Field] = {
    "offline_recommendations": Field((dict,), "the package data's models that run without the Hub"),
}
_HARDWARE_FIELDS: dict[str, Field] = {
    "fingerprint": Field((str,), "SystemInfo.fingerprint()", required=True, check=_not_empty),
    "hardware_id": Field((str,), "SystemInfo.hardware_id() (hardware only): what tuned files match on"),
    "name": Field((str,), "the machine's name"),
    "accelerator": Field((str,), "cuda, mps or cpu"),
    "model_memory_gb": Field((float,), "memory for models, GiB"),
    "created_at": Field((str,), "when the file was made"),
    "hfbench_version": Field((str,), "the hfbench that made it"),
    "summary": Field((str,), "one line about the machine"),
    "system": Field((dict,), "the full SystemInfo"),
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
        tuning: tuned files: how ``hfbench tune`` chose (rules, budgets, per-slot account).
    """

    recommendations: Recommendations
    version: int = FILE_VERSION
    description: str = ""
    hardware: dict[str, Any] | None = None
    models: dict[str, ModelRecommendation] = field(default_factory=dict)
    offline_recommendations: Recommendations = field(default_factory=dict)
    path: str | None = None
    tuning: dict[str, Any] | None = None

    @property
    def fingerprint(self) -> str | None:
        """The hardware fingerprint a tuned file was made on (None without a hardware block)."""
        return self.hardware.get("fingerprint") if self.hardware else None

    @property
    def hardware_id(self) -> str | None:
        """The hardware id (hardware only) a tuned file was made on (None when not recorded)."""
        return self.hardware.get("hardware_id") if self.hardware else None


# --------------------------------------------------------------------------- reading
def load_recommendation_file(path: str | os.PathLike[str]) -> RecommendationFile:
    """Read and validate a recommendation file (``.json`` or ``.toml``).

    Model names in ``recommendations`` resolve against the file's ``models``, then hfbench's
    own catalog (so an overlay may name ``"Qwen/QwQ-32B"`` without describing it again).

    Raises:
        RecommendationError: naming the file and the key path of everything that is wrong.
    """
    data = read_data_file(path, what="recommendation file", error=RecommendationError)
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
        RecommendationError: every problem found, each with the file and its key path.
    """
    fields = {**_TOP_LEVEL_FIELDS, **(_PACKAGE_ONLY_FIELDS if allow_offline else {})}
    top, problems = check_table(data, fields)
    if isinstance(data, Mapping) and "version" not in data:
        message = f"missing 'version' (this hfbench writes version = {FILE_VERSION})"
        problems.append(Problem("version", message))
    hardware = None
    if "hardware" in top:
        hardware, found = check_hardware_block(top["hardware"])
        problems += found
    models, found = _parse_models(top.get("models", {}), file)
    problems += found
    known = {**(catalog or {}), **models}
    sections: dict[str, Recommendations] = {}
    for section in ("recommendations", "offline_recommendations"):
        sections[section], found = _parse_recommendations(top.get(section, {}), section, file, known)
        problems += found
    if problems:
        raise recommendation_error(problems, file)
    return RecommendationFile(
        recommendations=sections["recommendations"],
        version=top["version"],
        description=top.get("description", ""),
        hardware=hardware,
        models=models,
        offline_recommendations=sections["offline_recommendations"],
        path=file,
        tuning=top.get("tuning"),
    )


def check_hardware_block(block: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Check a tuned file's ``hardware`` block: known keys, their types, a non-empty fingerprint.

    Returns:
        The block (numbers as floats) and every problem found, with key paths under ``hardware``.
    """
    return check_table(block, _HARDWARE_FIELDS, key_path="hardware")


def _parse_models(
    table: Mapping[str, Any], file: str | None
) -> tuple[dict[str, ModelRecommendation], list[Problem]]:
    models: dict[str, ModelRecommendation] = {}
    problems: list[Problem] = []
    for name, entry in table.items():
        rec, found = ModelRecommendation.parse(
            entry, model_name=str(name), key_path=join_path("models", name), file=file
        )
        problems += found
        if rec is not None:
            models[str(name)] = rec
    return models, problems


def _parse_recommendations(
    table: Mapping[str, Any], section: str, file: str | None, known: Mapping[str, ModelRecommendation]
) -> tuple[Recommendations, list[Problem]]:
    out: Recommendations = {}
    problems: list[Problem] = []
    for cap_key, capability, cap_path, tiers in capability_entries(table, section, problems):
        if capability in out:
            problems.append(Problem(cap_path, f"{cap_key!r} names {capability!r} again (aliases count)"))
            continue
        if not isinstance(tiers, Mapping):
            problems.append(Problem(cap_path, f"expected a table of size tiers, got {tiers!r}"))
            continue
        slots: dict[str, ModelRecommendation] = {}
        for tier, value in tiers.items():
            path = join_path(cap_path, tier)
            if tier not in SIZE_TIERS:
                hint = did_you_mean(str(tier), SIZE_TIERS)
                message = f"unknown size tier {tier!r}.{hint} Valid: {', '.join(SIZE_TIERS)}."
                problems.append(Problem(path, message))
                continue
            rec, found = parse_entry(value, known, key_path=path, file=file)
            problems += found
            if rec is None:
                continue
            problem = tier_violation(rec.params_b, str(tier))
            if problem:
                problems.append(Problem(path, f"{rec.model_name}: {problem}"))
                continue
            slots[str(tier)] = rec
        out[capability] = {t: slots[t] for t in SIZE_TIERS if t in slots}
    return out, problems


def parse_entry(
    value: Any,
    known: Mapping[str, ModelRecommendation],
    *,
    key_path: str,
    file: str | None = None,
) -> tuple[ModelRecommendation | None, list[Problem]]:
    """A recommendation from a slot's value: a ``ModelRecommendation``, a table, or a known model's name.

    Returns:
        The recommendation (None when there are problems) and the problems: an unknown name
        (with did-you-mean) or a bad table.
    """
    if isinstance(value, ModelRecommendation):
        return value, []
    if isinstance(value, str):
        if value in known:
            return known[value], []
        hint = did_you_mean(value, known)
        message = f"unknown model {value!r}: describe it under 'models' or inline.{hint}"
        return None, [Problem(key_path, message)]
    return ModelRecommendation.parse(value, key_path=key_path, file=file)


def resolve_entry(
    value: Any,
    known: Mapping[str, ModelRecommendation],
    *,
    key_path: str,
    file: str | None = None,
) -> ModelRecommendation:
    """Like ``parse_entry``, but raising.

    Raises:
        RecommendationError: an unknown name (with did-you-mean) or a bad table, with its key path.
    """
    rec, problems = parse_entry(value, known, key_path=key_path, file=file)
    if rec is None:
        raise recommendation_error(problems, file)
    return rec


# --------------------------------------------------------------------------- writing
def hardware_block(hardware: SystemInfo | Mapping[str, Any]) -> dict[str, Any]:
    """The ``hardware`` block for a tuned file: from a ``SystemInfo``, or a checked dictionary.

    Raises:
        RecommendationError: a dictionary with unknown keys, wrong types or no fingerprint.
    """
    if isinstance(hardware, SystemInfo):
        return {
            "hardware_id": hardware.hardware_id(),
            "fingerprint": hardware.fingerprint(),
            "name": hardware.name,
            "accelerator": hardware.accelerator,
            "model_memory_gb": round(hardware.model_memory_gb, 2),
        }
    block, problems = check_hardware_block(hardware)
    if problems:
        raise recommendation_error(problems, None)
    return block


def recommendations_to_data(
    recommendations: Mapping[str, Mapping[str, ModelRecommendation]],
    *,
    hardware: SystemInfo | Mapping[str, Any] | None = None,
    description: str = "",
    tuning: Mapping[str, Any] | None = None,
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
    if tuning is not None:
        data["tuning"] = dict(tuning)
    return data


def save_recommendation_file(
    path: str | os.PathLike[str],
    recommendations: Mapping[str, Mapping[str, ModelRecommendation]],
    *,
    hardware: SystemInfo | Mapping[str, Any] | None = None,
    description: str = "",
    tuning: Mapping[str, Any] | None = None,
) -> Path:
    """Write recommendations to ``path`` (JSON or TOML by suffix), atomically.

    Args:
        hardware: for tuned files: the machine they were measured on (its hardware id and
            fingerprint are stored).
        description: free text.
        tuning: for tuned files: how they were chosen (the ``tuning`` section, JSON-able).

    Returns:
        The path written.

    Raises:
        RecommendationError: an unknown suffix.
    """
    target = Path(path)
    if target.suffix.lower() not in DATA_SUFFIXES:
        raise RecommendationError(f"A recommendation file must end in .json or .toml, got {target.name!r}.")
    data = recommendations_to_data(recommendations, hardware=hardware, description=description, tuning=tuning)
    return write_data_file(target, data)


# --------------------------------------------------------------------------- package data
@lru_cache(maxsize=1)
def default_recommendation_file() -> RecommendationFile:
    """hfbench's own recommendations (``registry/data/default_recommendations.json``), validated."""
    data = read_package_json(DEFAULTS_FILE, package="hfbench.registry")
    return parse_recommendation_data(data, file=f"hfbench/registry/data/{DEFAULTS_FILE}", allow_offline=True)


def package_catalog() -> dict[str, ModelRecommendation]:
    """Every model hfbench's data describes (recommended or not), by name."""
    defaults = default_recommendation_file()
    catalog = dict(defaults.models)
    for section in (defaults.recommendations, defaults.offline_recommendations):
        for tiers in section.values():
            for rec in tiers.values():
                catalog.setdefault(rec.model_name, rec)
    return catalog
