"""Whisper's full tokenizer for a converted folder, with the token ids the model was trained with.

The CTranslate2 packages ship a ``tokenizer.json`` that holds the byte-level BPE vocabulary and
Whisper's special tokens (``<|endoftext|>``, ``<|startoftranscript|>``, the language tokens,
``<|translate|>``, ``<|transcribe|>``, ``<|startoflm|>``, ``<|startofprev|>``,
``<|nocaptions|>``, ``<|notimestamps|>``) but not the 1501 timestamp tokens ``<|0.00|>`` …
``<|30.00|>`` that follow them in the model's vocabulary. transformers' ``WhisperTokenizer``
finds the first timestamp id as "the last special id + 1", so a folder whose tokenizer knows only
``<|endoftext|>`` as special decodes every timestamp 106 ids (2.12 s) late. The folder written
here matches the Hub checkpoints (``openai/whisper-tiny.en``, ``openai/whisper-base``): the
special tokens listed as special, the timestamp tokens added after ``<|notimestamps|>`` as
ordinary tokens, and ``normalizer.json`` (Whisper's English spelling map) for ``normalize()``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfbench.core.errors import EmbeddedModelError

#: Seconds between two timestamp tokens, and how many there are (``<|0.00|>`` … ``<|30.00|>``).
TIME_PRECISION_S = 0.02
TIMESTAMP_TOKEN_COUNT = 1501

_REQUIRED_SPECIALS = (
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startofprev|>",
    "<|notimestamps|>",
)


def timestamp_tokens() -> list[str]:
    """``<|0.00|>``, ``<|0.02|>`` … ``<|30.00|>``: Whisper's timestamp tokens, in id order."""
    return [f"<|{i * TIME_PRECISION_S:.2f}|>" for i in range(TIMESTAMP_TOKEN_COUNT)]


@dataclass(frozen=True)
class WhisperSpecialTokens:
    """Ids of Whisper's special tokens, read off the package's ``tokenizer.json``."""

    end_of_text: int
    start_of_transcript: int
    translate: int
    transcribe: int
    start_of_prev: int
    no_timestamps: int
    languages: dict[str, int]
    names: tuple[str, ...] = ()
    """Every special token, in id order (the tokenizer's ``additional_special_tokens``)."""

    @property
    def first_timestamp(self) -> int:
        """The id of ``<|0.00|>``: the one after ``<|notimestamps|>``."""
        return self.no_timestamps + 1

    @classmethod
    def from_tokenizer_json(cls, path: Path) -> WhisperSpecialTokens:
        """Read the added tokens; languages are the ``<|xx|>`` tokens between SOT and translate.

        Raises:
            EmbeddedModelError: a special token Whisper needs is missing.
        """
        added = json.loads(path.read_text("utf-8"))["added_tokens"]
        ids = {t["content"]: int(t["id"]) for t in added}
        missing = [tok for tok in _REQUIRED_SPECIALS if tok not in ids]
        if missing:
            raise EmbeddedModelError(f"{path} lacks Whisper special tokens {missing}.")
        sot, translate = ids["<|startoftranscript|>"], ids["<|translate|>"]
        languages = {
            tok: idx
            for tok, idx in sorted(ids.items(), key=lambda kv: kv[1])
            if sot < idx < translate and re.fullmatch(r"<\|[a-z]{2,3}\|>", tok)
        }
        specials = sorted((int(t["id"]), t["content"]) for t in added if t.get("special", True))
        return cls(
            end_of_text=ids["<|endoftext|>"],
            start_of_transcript=sot,
            translate=translate,
            transcribe=ids["<|transcribe|>"],
            start_of_prev=ids["<|startofprev|>"],
            no_timestamps=ids["<|notimestamps|>"],
            languages=languages,
            names=tuple(name for _, name in specials),
        )


def tokenizer_config(tokens: WhisperSpecialTokens, model_max_length: int) -> dict[str, Any]:
    """``tokenizer_config.json`` as the Hub's Whisper checkpoints have it."""
    return {
        "tokenizer_class": "WhisperTokenizer",
        "processor_class": "WhisperProcessor",
        "bos_token": "<|endoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "additional_special_tokens": list(tokens.names),
        "add_prefix_space": False,
        "errors": "replace",
        "model_max_length": model_max_length,
        "predict_timestamps": False,
    }


def write_whisper_tokenizer(
    package_tokenizer: Path,
    out_dir: Path,
    tokens: WhisperSpecialTokens,
    *,
    vocab_size: int,
    model_max_length: int,
    normalizer: Path | None = None,
) -> None:
    """Write ``tokenizer.json``, ``tokenizer_config.json`` (and ``normalizer.json``) into ``out_dir``.

    Args:
        package_tokenizer: the package's ``tokenizer.json`` (BPE vocabulary and special tokens).
        out_dir: the converted folder.
        tokens: the special tokens read off ``package_tokenizer``.
        vocab_size: rows of the model's token embedding; the tokenizer must end up that size.
        model_max_length: the decoder's positions.
        normalizer: Whisper's English spelling map (``whisper/normalizers/english.json``), copied
            as ``normalizer.json``; None leaves ``normalize()`` without spelling fixes.

    Raises:
        EmbeddedModelError: the package's tokenizer does not end with ``<|notimestamps|>``, or the
            timestamp tokens would not line up with the model's vocabulary.
    """
    from tokenizers import AddedToken, Tokenizer

    tokenizer = Tokenizer.from_file(str(package_tokenizer))
    if tokenizer.get_vocab_size() != tokens.first_timestamp:
        raise EmbeddedModelError(
            f"{package_tokenizer} has {tokenizer.get_vocab_size()} tokens; Whisper's timestamp tokens "
            f"must start right after <|notimestamps|> (id {tokens.no_timestamps})."
        )
    stamps = timestamp_tokens()
    if tokens.first_timestamp + len(stamps) != vocab_size:
        raise EmbeddedModelError(
            f"The model's vocabulary has {vocab_size} tokens, but {package_tokenizer} with Whisper's "
            f"{len(stamps)} timestamp tokens would have {tokens.first_timestamp + len(stamps)}."
        )
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=True) for t in stamps])
    tokenizer.save(str(out_dir / "tokenizer.json"))
    config = tokenizer_config(tokens, model_max_length)
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    if normalizer is not None:
        spelling = json.loads(normalizer.read_text("utf-8"))
        if not isinstance(spelling, dict):
            raise EmbeddedModelError(f"{normalizer} is not Whisper's spelling map (a JSON object).")
        (out_dir / "normalizer.json").write_text(
            json.dumps(spelling, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
        )
