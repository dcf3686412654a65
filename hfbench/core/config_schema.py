"""The keys a ``ModelConfig`` level may hold: their types, valid ranges and meaning.

Registered in one table so that every level (and every per-call override) is checked the same
way; processors that read a new key add it with ``register_config_key``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hfbench.core.errors import ConfigError, did_you_mean

Check = Callable[[Any], str | None]  # returns a reason when the value is out of range


@dataclass(frozen=True)
class ConfigKey:
    """One config key: accepted types, an optional range check, allowed choices, a description."""

    name: str
    types: tuple[type, ...]
    description: str
    check: Check | None = None
    choices: tuple[Any, ...] | None = None
    nullable: bool = False

    def validate(self, value: Any, *, key_path: str, file: str | None) -> Any:
        """Return the value (ints widened to float where a float is expected) or raise ConfigError."""
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(f"'{self.name}' may not be null.", key_path=key_path, file=file)
        if isinstance(value, bool) and bool not in self.types:
            raise ConfigError(
                f"expected {self._type_names()}, got a boolean ({value!r}).",
                key_path=key_path,
                file=file,
            )
        if float in self.types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.types):
            raise ConfigError(
                f"expected {self._type_names()}, got {type(value).__name__} ({value!r}).",
                key_path=key_path,
                file=file,
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"must be a finite number, got {value!r}.", key_path=key_path, file=file)
        if self.choices is not None and value not in self.choices:
            hint = did_you_mean(str(value), [str(c) for c in self.choices])
            raise ConfigError(
                f"{value!r} is not one of {', '.join(repr(c) for c in self.choices)}.{hint}",
                key_path=key_path,
                file=file,
            )
        if self.check is not None:
            reason = self.check(value)
            if reason:
                raise ConfigError(f"{reason}, got {value!r}.", key_path=key_path, file=file)
        return value

    def _type_names(self) -> str:
        names = {
            float: "a number",
            int: "an integer",
            str: "a string",
            bool: "true/false",
            list: "a list",
            dict: "a table",
        }
        return " or ".join(names.get(t, t.__name__) for t in self.types)


def at_least(low: float) -> Check:
    """A check for ``value >= low``."""
    return lambda v: None if v >= low else f"must be >= {low}"


def greater_than(low: float) -> Check:
    """A check for ``value > low``."""
    return lambda v: None if v > low else f"must be > {low}"


def in_half_open(low: float, high: float) -> Check:
    """A check for ``low < value <= high``."""
    return lambda v: None if low < v <= high else f"must be in ({low}, {high}]"


def _string_list(v: Any) -> str | None:
    items = [v] if isinstance(v, str) else v
    if not all(isinstance(s, str) and s for s in items):
        return "must be a non-empty string or a list of non-empty strings"
    return None


def _has_placeholder(v: str) -> str | None:
    return None if "{}" in v else "must contain '{}' where the label goes"


def _has_text_placeholder(v: str) -> str | None:
    return None if "{text}" in v else "must contain '{text}' where the input goes"


def _device(v: str) -> str | None:
    base = v.split(":", 1)[0]
    if base not in {"auto", "cpu", "cuda", "mps"}:
        return "must be 'auto', 'cpu', 'mps', 'cuda' or 'cuda:<index>'"
    if ":" in v and (base != "cuda" or not v.split(":", 1)[1].isdigit()):
        return "must be 'cuda:<index>' with a whole-number index"
    return None


_lock = threading.Lock()
_KEYS: dict[str, ConfigKey] = {}


def register_config_key(key: ConfigKey) -> ConfigKey:
    """Add (or replace) a key that config levels may hold."""
    with _lock:
        _KEYS[key.name] = key
    return key


def config_keys() -> dict[str, ConfigKey]:
    """All registered keys, by name."""
    with _lock:
        return dict(_KEYS)


def validate_params(params: Any, *, key_path: str, file: str | None = None) -> dict[str, Any]:
    """Validate one level's parameters; returns a normalised copy.

    Raises:
        ConfigError: not a table, an unknown key (with did-you-mean), a wrong type or range.
    """
    if not isinstance(params, dict):
        raise ConfigError(
            f"expected a table of parameters, got {type(params).__name__}.",
            key_path=key_path,
            file=file,
        )
    keys = config_keys()
    out: dict[str, Any] = {}
    for name, value in params.items():
        path = f"{key_path}.{name}" if key_path else str(name)
        spec = keys.get(name)
        if spec is None:
            raise ConfigError(
                f"unknown key {name!r}.{did_you_mean(str(name), keys)} "
                "Run `hfbench config keys` (or see docs/config.md) for the valid keys.",
                key_path=path,
                file=file,
            )
        out[name] = spec.validate(value, key_path=path, file=file)
    return out


def check_consistency(
    merged: dict[str, Any], origin: Mapping[str, int], *, key_path: str, file: str | None = None
) -> None:
    """Checks across keys of a merged config, in place.

    ``min_length > max_length``: when ``max_length`` was set at a more specific level than
    ``min_length`` (say a per-call ``max_length=5`` under the default ``min_length=10``), the
    more specific value wins and ``min_length`` is lowered to it; set at the same level, the
    contradiction is the user's and raises.
    """
    lo, hi = merged.get("min_length"), merged.get("max_length")
    if lo is None or hi is None or lo <= hi:
        return
    if origin.get("max_length", 0) > origin.get("min_length", 0):
        merged["min_length"] = hi
        return
    raise ConfigError(f"min_length ({lo}) is larger than max_length ({hi}).", key_path=key_path, file=file)


def _register_builtin_keys() -> None:
    num, integer, text, flag = (float,), (int,), (str,), (bool,)
    builtin: Sequence[ConfigKey] = (
        # generation
        ConfigKey("temperature", num, "Sampling temperature; 0 means greedy decoding.", at_least(0)),
        ConfigKey("max_tokens", integer, "Most new tokens to generate.", greater_than(0)),
        ConfigKey("top_p", num, "Nucleus sampling mass.", in_half_open(0, 1)),
        ConfigKey("top_k", integer, "Sample from the k most likely tokens (0 = off).", at_least(0)),
        ConfigKey("min_length", integer, "Fewest new tokens (summaries).", at_least(0)),
        ConfigKey("max_length", integer, "Most new tokens (summaries, translations).", greater_than(0)),
        ConfigKey("repetition_penalty", num, "Penalty for repeated tokens (1 = none).", greater_than(0)),
        ConfigKey("num_beams", integer, "Beam search width (1 = none).", at_least(1)),
        ConfigKey("do_sample", flag, "Force sampling on or off (default: temperature > 0)."),
        ConfigKey("stop", (str, list), "Stop sequence(s).", _string_list),
        ConfigKey("system_prompt", text, "System message for chat models."),
        ConfigKey(
            "prompt_template",
            text,
            "Instruction for general prompting: {text}, and optionally {context}, {labels}, "
            "{src_lang}, {tgt_lang}, {description}.",
            _has_text_placeholder,
        ),
        ConfigKey("seed", integer, "Random seed for sampling.", at_least(0), nullable=True),
        ConfigKey("max_input_tokens", integer, "Truncate inputs to this many tokens.", greater_than(0)),
        # task parameters
        ConfigKey("src_lang", text, "Source language code (e.g. 'en', 'eng_Latn')."),
        ConfigKey("tgt_lang", text, "Target language code (e.g. 'fr', 'fra_Latn')."),
        ConfigKey("max_answer_length", integer, "Longest extractive answer, in tokens.", greater_than(0)),
        ConfigKey("labels", (list,), "Candidate labels for zero-shot classification.", _string_list),
        ConfigKey("multi_label", flag, "Score zero-shot labels independently."),
        ConfigKey("hypothesis_template", text, "Template for zero-shot labels.", _has_placeholder),
        ConfigKey("top_labels", integer, "How many labels/tokens to return.", greater_than(0)),
        ConfigKey("normalize", flag, "L2-normalise embeddings."),
        ConfigKey("pooling", text, "Embedding pooling.", choices=("auto", "mean", "cls", "max", "last")),
        ConfigKey("chunk_length_s", num, "Audio chunk length in seconds.", greater_than(0)),
        ConfigKey("return_timestamps", flag, "Return segment timestamps (speech)."),
        ConfigKey("language", text, "Spoken language for speech models (None: detect).", nullable=True),
        ConfigKey("task", text, "Speech task.", choices=("transcribe", "translate")),
        ConfigKey("question", text, "Question about an image, for inputs that carry none (VQA)."),
        ConfigKey("caption_prompt", text, "Caption instruction (chat models) or caption start (BLIP)."),
        # loading and running
        ConfigKey("device", text, "Where to run the model.", _device),
        ConfigKey(
            "dtype",
            text,
            "Weight dtype.",
            choices=("auto", "float32", "fp32", "float16", "fp16", "bfloat16", "bf16"),
        ),
        ConfigKey("device_map", (str, dict), "accelerate device map ('auto' or a table).", nullable=True),
        ConfigKey(
            "attn_implementation",
            text,
            "Attention kernel.",
            choices=("auto", "sdpa", "eager", "flash_attention_2", "flash_attention_3"),
        ),
        ConfigKey(
            "quantization",
            text,
            "bitsandbytes quantization.",
            choices=("4bit", "8bit"),
            nullable=True,
        ),
        ConfigKey("trust_remote_code", flag, "Run code from the model repo (off by default)."),
        ConfigKey("revision", text, "Hub revision (branch, tag or commit).", nullable=True),
        ConfigKey("cache_dir", text, "huggingface_hub cache folder.", nullable=True),
        ConfigKey("local_files_only", flag, "Never contact the Hub."),
        ConfigKey("batch_size", integer, "Inputs per forward pass.", greater_than(0)),
    )
    for key in builtin:
        register_config_key(key)


_register_builtin_keys()
