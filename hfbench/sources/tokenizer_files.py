"""What a model's tokenizer files say, read without loading the tokenizer or the weights.

Capability detection needs two facts before anything is loaded — whether the model has a chat
template and what its mask token is — and must give the same answer before and after loading.
They are read from the files ``AutoTokenizer`` itself reads: ``chat_template.jinja`` (transformers 5
saves the template there), ``chat_template.json``, or the ``chat_template`` key of
``tokenizer_config.json``; the ``mask_token`` key of ``tokenizer_config.json`` (or of
``special_tokens_map.json``). Hub ids are read from huggingface_hub's cache (nothing is fetched
offline); an embedded model that is not prepared yet is answered from its catalogue entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfbench.core.datafiles import read_json_if_any
from hfbench.core.model_source import is_embedded
from hfbench.sources.embedded.catalog import get_embedded_model
from hfbench.sources.embedded.prepare import converted_folder
from hfbench.sources.resolve import source_kind

TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
CONFIG_FILES = ("tokenizer_config.json", "special_tokens_map.json")


@dataclass(frozen=True)
class TokenizerFacts:
    """What detection needs to know about a tokenizer.

    Attributes:
        chat_template: the tokenizer carries a chat template.
        mask_token: its mask token (``[MASK]``, ``<mask>``), if any.
        known: False when the files could not be read (nothing cached offline, no such folder).
    """

    chat_template: bool = False
    mask_token: str | None = None
    known: bool = True


def tokenizer_facts(source: str | os.PathLike[str], *, revision: str | None = None) -> TokenizerFacts:
    """The chat-template and mask-token facts of a model's tokenizer, from its files (never raises)."""
    name = str(source)
    if is_embedded(name):
        folder = converted_folder(get_embedded_model(name))
        if folder is None:  # not prepared: the catalogue says what it serves
            return TokenizerFacts(chat_template="chat" in get_embedded_model(name).capabilities)
        return _from_files(lambda file: _local(folder, file))
    if source_kind(name) == "local":
        folder = Path(name).expanduser()
        return _from_files(lambda file: _local(folder, file))
    return _from_files(lambda file: _cached(name, file, revision))


def _from_files(find: Any) -> TokenizerFacts:
    configs = [read_json_if_any(find(file)) for file in CONFIG_FILES]
    template_file = next((path for path in map(find, TEMPLATE_FILES) if path is not None), None)
    has_template = template_file is not None or any(
        isinstance(c, dict) and bool(c.get("chat_template")) for c in configs
    )
    mask = next(
        (_token(c.get("mask_token")) for c in configs if isinstance(c, dict) and c.get("mask_token")), None
    )
    known = template_file is not None or any(c is not None for c in configs)
    return TokenizerFacts(chat_template=has_template, mask_token=mask, known=known)


def _token(value: Any) -> str | None:
    """A special token as written in tokenizer files: a string, or ``{"content": ...}``."""
    if isinstance(value, dict):
        value = value.get("content")
    return str(value) if value else None


def _local(folder: Path, file: str) -> Path | None:
    path = folder / file
    return path if path.is_file() else None


def _cached(repo: str, file: str, revision: str | None) -> Path | None:
    """A file of a Hub repo if it is in huggingface_hub's cache (nothing is downloaded)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo, file, revision=revision)
    return Path(found) if isinstance(found, str) else None
