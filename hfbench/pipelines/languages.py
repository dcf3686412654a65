"""The one language table: ISO 639-1 codes, English names and model-family codes.

Read from ``pipelines/data/languages.toml``. Used by translation (T5 prefixes, mBART/NLLB codes),
general prompting (language names in instructions) and capability detection ("translate this
into French"); users may name a language by any column (``fr``, ``fra``, ``French``, ``fr_XX``,
``fra_Latn``), and an unknown one gets a ``ConfigError`` with a did-you-mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hfbench.core.datafiles import read_package_toml
from hfbench.core.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Language:
    """One language of ``languages.toml``: ISO 639-1 code, English name and model-family codes."""

    code: str
    name: str
    iso3: str
    mbart: str
    nllb: str


@lru_cache(maxsize=1)
def languages() -> dict[str, Language]:
    """The language table, by ISO 639-1 code."""
    data = read_package_toml("languages.toml", package="hfbench.pipelines")
    return {code: Language(code=code, **entry) for code, entry in data["languages"].items()}


@lru_cache(maxsize=1)
def _lookup() -> dict[str, Language]:
    table: dict[str, Language] = {}
    for lang in languages().values():
        for key in (lang.code, lang.name, lang.iso3, lang.mbart, lang.nllb):
            table[key.lower()] = lang
    return table


def resolve_language(value: str, key: str = "tgt_lang") -> Language:
    """The language named by a code or name: ``fr``, ``fra``, ``French``, ``fr_XX`` or ``fra_Latn``.

    Raises:
        ConfigError: the value is in no column of the table (with a did-you-mean).
    """
    found = _lookup().get(str(value).strip().lower())
    if found is None:
        known = sorted(languages())
        raise ConfigError(
            f"unknown language {value!r}; use an ISO 639-1 code ({', '.join(known)}), a language "
            "name, or the model's own code (e.g. 'fr_XX', 'fra_Latn')."
            + did_you_mean(str(value).lower(), list(_lookup())),
            key_path=key,
        )
    return found


def find_language(value: str) -> Language | None:
    """The language a code or name stands for, or None when the table does not know it."""
    return _lookup().get(str(value).strip().lower())


def language_name(value: str, key: str = "tgt_lang") -> str:
    """The English name of a language code or name.

    Raises:
        ConfigError: an unknown language (with a did-you-mean), naming ``key``.
    """
    return resolve_language(value, key).name


def language_names(config: Mapping[str, Any]) -> dict[str, str]:
    """English names of a config's ``src_lang`` and ``tgt_lang`` (those that are set).

    Raises:
        ConfigError: either names an unknown language.
    """
    return {key: language_name(config[key], key) for key in ("src_lang", "tgt_lang") if config.get(key)}
