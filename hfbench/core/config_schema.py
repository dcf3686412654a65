"""The keys a ``ModelConfig`` level may hold: their types, valid ranges and meaning.

Registered in one table so that every level (and every per-call override) is checked the same
way; processors that read a new key add it with ``register_config_key``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hfbench.core.dtypes import TORCH_DTYPE_NAMES
from hfbench.core.errors import ConfigError, did_you_mean
from hfbench.core.validation import (
    Check,
    Field,
    FieldError,
    Problem,
    at_least,
    greater_than,
    in_half_open,
    join_path,
)

Scope = Literal["load", "run"]
"""``load`` keys decide how a model is loaded (dtype, device ...): one value per loaded model.
``run`` keys change one call (max_tokens, temperature ...)."""

#: Config levels where load keys may be set (they describe the model, not a capability or a call).
LOAD_LEVELS = ("base", "architecture", "model_specific")

__all__ = [
    "LOAD_LEVELS",
    "ConfigKey",
    "Scope",
    "at_least",
    "check_consistency",
    "config_keys",
    "greater_than",
    "in_half_open",
    "load_keys",
    "register_config_key",
    "validate_params",
]


@dataclass(frozen=True)
class ConfigKey:
    """One config key: accepted types, an optional range check, allowed choices, a description, a scope.

    Attributes:
        scope: ``run`` (per call; the default) or ``load`` (how the model is loaded: valid only at
            the base, architecture and model-specific levels; a different value is a differently
            loaded model).
        expected: what a wrong type's message names as valid (see ``validation.Field``).
    """

    name: str
    types: tuple[type, ...]
    description: str
    check: Check | None = None
    choices: tuple[Any, ...] | None = None
    nullable: bool = False
    scope: Scope = "run"
    expected: str = ""

    @property
    def field(self) -> Field:
        """The key as a ``validation.Field``."""
        return Field(
            self.types, self.description, False, self.check, self.choices, self.nullable, self.expected
        )

    def validate(self, value: Any, *, key_path: str, file: str | None) -> Any:
        """Return the value (ints widened to float where a float is expected) or raise ConfigError."""
        try:
            return self.field.convert(value)
        except FieldError as exc:
            raise ConfigError(exc.message.rstrip(".") + ".", key_path=key_path, file=file) from None


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


_BATCH_SIZE_FORMS = "a whole number > 0 or 'auto'"


def _batch_size(v: int | str) -> str | None:
    if v == "auto" or (isinstance(v, int) and v > 0):
        return None
    return f"must be {_BATCH_SIZE_FORMS}"


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


def load_keys() -> frozenset[str]:
    """Names of the registered keys whose scope is ``load``."""
    return frozenset(name for name, key in config_keys().items() if key.scope == "load")


def load_key_problem(name: str, key_path: str) -> Problem:
    """The problem of a load key set where only run keys may be (a capability level, a call)."""
    return Problem(
        key_path,
        f"{name!r} is a load key: it decides how the model is loaded, so it is set once per model "
        f"(the provider config, or the {', '.join(LOAD_LEVELS)} level), not per capability or per "
        "call. To compare values, load the model once per value (one provider each, or "
        f"`hfbench run --sweep {name}=...`).",
    )


def check_params(
    params: Any, *, key_path: str, allow_load: bool = True
) -> tuple[dict[str, Any], list[Problem]]:
    """Check one level's parameters; returns the normalised copy and every problem found."""
    if not isinstance(params, dict):
        return {}, [Problem(key_path, f"expected a table of parameters, got {type(params).__name__}")]
    keys = config_keys()
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, value in params.items():
        path = join_path(key_path, name)
        spec = keys.get(name)
        if spec is None:
            problems.append(
                Problem(
                    path,
                    f"unknown key {name!r}.{did_you_mean(str(name), keys)} "
                    "Run `hfbench config keys` (or see docs/config.md) for the valid keys",
                )
            )
            continue
        if spec.scope == "load" and not allow_load:
            problems.append(load_key_problem(name, path))
            continue
        try:
            out[name] = spec.field.convert(value)
        except FieldError as exc:
            problems.append(Problem(path, exc.message))
    return out, problems


def validate_params(
    params: Any, *, key_path: str, file: str | None = None, allow_load: bool = True
) -> dict[str, Any]:
    """Validate one level's parameters; returns a normalised copy.

    Args:
        allow_load: False where load keys are refused (capability levels, per-call overrides).

    Raises:
        ConfigError: every problem at once: not a table, unknown keys (with did-you-mean), wrong
            types or ranges, load keys where they are not allowed.
    """
    out, problems = check_params(params, key_path=key_path, allow_load=allow_load)
    if problems:
        raise ConfigError.from_problems(problems, file=file)
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
        ConfigKey(
            "ignore_eos",
            flag,
            "Generate exactly the token limit (end-of-sequence suppressed): for speed measurements.",
        ),
        ConfigKey("max_length", integer, "Most new tokens (summaries, translations).", greater_than(0)),
        ConfigKey("repetition_penalty", num, "Penalty for repeated tokens (1 = none).", greater_than(0)),
        ConfigKey(
            "no_repeat_ngram_size",
            integer,
            "Never repeat an n-gram of this many tokens (0 = off).",
            at_least(0),
        ),
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
        ConfigKey(
            "stride_length_s",
            num,
            "Audio overlap between chunks in seconds (CTC models; merged, not transcribed twice).",
            at_least(0),
        ),
        ConfigKey(
            "compression_ratio_threshold",
            num,
            "Whisper: redo a segment at a higher temperature when its text compresses more than "
            "this (gzip ratio; repetition).",
            greater_than(0),
            nullable=True,
        ),
        ConfigKey(
            "logprob_threshold",
            num,
            "Whisper: redo a segment when its mean token log-probability is below this.",
            nullable=True,
        ),
        ConfigKey(
            "no_speech_threshold",
            num,
            "Whisper: treat a segment as silence when its no-speech probability is above this "
            "(and its log-probability is low).",
            in_half_open(0, 1),
            nullable=True,
        ),
        ConfigKey("return_timestamps", flag, "Return segment timestamps (speech)."),
        ConfigKey("language", text, "Spoken language for speech models (None: detect).", nullable=True),
        ConfigKey("task", text, "Speech task.", choices=("transcribe", "translate")),
        ConfigKey("question", text, "Question about an image, for inputs that carry none (VQA)."),
        ConfigKey("caption_prompt", text, "Caption instruction (chat models) or caption start (BLIP)."),
        # running
        ConfigKey(
            "batch_size",
            (int, str),
            "Inputs per forward pass: a whole number > 0, or 'auto' (tuned on this machine on the "
            "call's inputs, then kept per model; text capabilities). See docs/config.md.",
            _batch_size,
            expected=_BATCH_SIZE_FORMS,
        ),
        # loading (scope "load": one value per loaded model)
        ConfigKey("device", text, "Where to run the model.", _device, scope="load"),
        ConfigKey("dtype", text, "Weight dtype.", choices=("auto", *TORCH_DTYPE_NAMES), scope="load"),
        ConfigKey(
            "device_map",
            (str, dict),
            "accelerate device map ('auto' or a table).",
            nullable=True,
            scope="load",
        ),
        ConfigKey(
            "attn_implementation",
            text,
            "Attention kernel.",
            choices=("auto", "sdpa", "eager", "flash_attention_2", "flash_attention_3"),
            scope="load",
        ),
        ConfigKey(
            "optimize",
            text,
            "Speed-ups applied at load: 'exact' (lossless only; the default) or 'fast' (lossy "
            "allowed: int8 weights on CPU, bitsandbytes 8-bit on CUDA). See docs/fast.md.",
            choices=("exact", "fast"),
            scope="load",
        ),
        ConfigKey(
            "compile",
            flag,
            "Compile the model's forward with torch.compile (weights frozen, prepacked on CPU) and "
            "decode with a static KV cache: same outputs, faster decode after a first call that "
            "compiles for about a minute (again for each new shape). Off by default; see docs/fast.md.",
            scope="load",
        ),
        ConfigKey(
            "quantization",
            text,
            "bitsandbytes quantization.",
            choices=("4bit", "8bit"),
            nullable=True,
            scope="load",
        ),
        ConfigKey("trust_remote_code", flag, "Run code from the model repo (off by default).", scope="load"),
        ConfigKey("revision", text, "Hub revision (branch, tag or commit).", nullable=True, scope="load"),
        ConfigKey("cache_dir", text, "huggingface_hub cache folder.", nullable=True, scope="load"),
        ConfigKey("local_files_only", flag, "Never contact the Hub.", scope="load"),
    )
    for key in builtin:
        register_config_key(key)


_register_builtin_keys()
