"""The converters a catalogue entry can name: each fills a folder from the model's staged files.

Each converter has a version, recorded in the converted folder's metadata; raising it (because
what the converter writes changed) makes every folder it built earlier stale, so the next
``prepare_model`` rebuilds it instead of serving the old files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.embedded.catalog import EmbeddedModel
from hfbench.sources.embedded.packages import resolve

#: What a converter receives: the model, its staged ``files`` (output name -> local path) and the
#: (empty) folder to fill.
ConvertFunction = Callable[[EmbeddedModel, Mapping[str, Path], Path], None]


@dataclass(frozen=True)
class Converter:
    """A catalogue ``converter``: the function that builds the folder, and its output's version."""

    convert: ConvertFunction
    version: int


def _convert_copy(model: EmbeddedModel, staged: Mapping[str, Path], out: Path) -> None:
    """The package already holds a transformers folder: copy it unchanged."""
    if model.folder is None:
        raise EmbeddedModelError(f"Embedded model {model.name!r}: the 'copy' converter needs a 'folder'.")
    shutil.copytree(resolve(model.folder), out, dirs_exist_ok=True)


def _convert_gguf(model: EmbeddedModel, staged: Mapping[str, Path], out: Path) -> None:
    """De-quantize the one GGUF among the staged files into an fp32 safetensors folder."""
    from hfbench.sources.embedded.gguf import convert_gguf_causal_lm

    ggufs = [path for name, path in staged.items() if name.endswith(".gguf")]
    if len(ggufs) != 1:
        raise EmbeddedModelError(
            f"Embedded model {model.name!r}: the 'gguf' converter needs exactly one .gguf file "
            f"under 'files', got {sorted(staged)}."
        )
    convert_gguf_causal_lm(ggufs[0], out, name_or_path=model.hub_id)


def _convert_ct2_whisper(model: EmbeddedModel, staged: Mapping[str, Path], out: Path) -> None:
    """Map a CTranslate2 Whisper onto transformers' Whisper, with the full Whisper tokenizer."""
    from hfbench.sources.embedded.ctranslate2_whisper import convert_ct2_whisper

    if model.folder is None:
        raise EmbeddedModelError(
            f"Embedded model {model.name!r}: the 'ctranslate2-whisper' converter needs a 'folder' "
            "holding CTranslate2's config.json and tokenizer.json."
        )
    convert_ct2_whisper(
        resolve(model.folder),
        out,
        model_bin=staged.get("model.bin"),
        normalizer=staged.get("normalizer.json"),
        name_or_path=model.hub_id,
    )


#: Converter name (the catalogue's ``converter``) -> how it builds a folder.
#: ctranslate2-whisper 2: the full tokenizer (timestamp tokens, special tokens, normalizer.json).
CONVERTERS: dict[str, Converter] = {
    "copy": Converter(_convert_copy, version=1),
    "gguf": Converter(_convert_gguf, version=1),
    "ctranslate2-whisper": Converter(_convert_ct2_whisper, version=2),
}
