"""``ModelRecommendation``: one recommended model, and the hardware requirements it may state.

Requirements come in two kinds:

- *resources* are thresholds: ``min_gpu_memory_gb = 24`` is met by 24 GiB or more,
  ``max_…`` by at most that much. A bare resource name (the seed's ``gpu_memory: 24``) means
  ``min_`` and is stored as such.
- *flags* compare by equality: ``supports_flash_attention = true``, ``platform = "linux"``;
  a list means "any of" (``platform = ["linux", "darwin"]``).
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass, field, fields
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import canonical_capability, capability_lineage
from hfbench.core.errors import (
    ArchitectureDetectionError,
    RecommendationError,
    UnsupportedCapabilityError,
    did_you_mean,
)
from hfbench.registry.memory import DEFAULT_CONTEXT_TOKENS, MemoryEstimate, ModelShape, estimate_memory
from hfbench.registry.tiers import BYTES_PER_PARAM

# Numeric resources a machine has; requirements on them are thresholds.
RESOURCE_REQUIREMENTS: dict[str, str] = {
    "gpu_memory_gb": "free memory of the largest CUDA device, GiB",
    "gpu_total_memory_gb": "total memory of all CUDA devices, GiB",
    "gpu_count": "number of CUDA devices",
    "model_memory_gb": "memory available for a model where it runs (free VRAM on CUDA, else free RAM), GiB",
    "ram_gb": "free RAM, GiB",
    "ram_total_gb": "total RAM, GiB",
    "cpu_cores": "physical CPU cores",
    "compute_capability": "CUDA compute capability of the best device, e.g. '8.0'",
}
RESOURCE_ALIASES: dict[str, str] = {
    "gpu_memory": "gpu_memory_gb",
    "vram_gb": "gpu_memory_gb",
    "ram": "ram_gb",
    "ram_available_gb": "ram_gb",
}
# Properties compared by equality, and the type of their values.
FLAG_REQUIREMENTS: dict[str, type] = {
    "platform": str,
    "accelerator": str,
    "machine": str,
    "supports_flash_attention": bool,
    "supports_bf16": bool,
    "cuda": bool,
    "mps": bool,
}

# Capabilities that produce tokens one by one (and so need a KV cache); descendants count too.
GENERATIVE_CAPABILITIES = frozenset(
    {
        "text-generation",
        "chat",
        "general",
        "summarization",
        "translation",
        "question-answering",
        "image-captioning",
        "visual-question-answering",
        "speech-recognition",
    }
)
_NON_GENERATIVE_ARCHITECTURES = frozenset({ModelArchitecture.ENCODER_ONLY, ModelArchitecture.VISION_ENCODER})


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_key(key: str) -> str:
    """A key as it appears in a key path: bare when it can be, else quoted (``models."a/b.c"``)."""
    return key if _BARE_KEY.match(key) else json.dumps(key)


def key_error(message: str, key_path: str, file: str | os.PathLike[str] | None) -> RecommendationError:
    """A ``RecommendationError`` that names the file and the key path."""
    where = f"Invalid recommendation file {file}" if file else "Invalid recommendations"
    at = f" at '{key_path}'" if key_path else ""
    return RecommendationError(f"{where}{at}: {message}")


class _FieldError(Exception):
    """A field failed validation; ``where`` is its path below the recommendation."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def is_generative(capability: str) -> bool:
    """True for capabilities that generate token by token (or inherit from one that does)."""
    return any(c in GENERATIVE_CAPABILITIES for c in capability_lineage(capability))


def _compute_capability(value: Any) -> tuple[int, int]:
    text = str(value).strip()
    major, _, minor = text.partition(".")
    if not major.isdigit() or (minor and not minor.isdigit()):
        raise ValueError(f"a compute capability looks like '8.0', got {value!r}")
    return int(major), int(minor or 0)


def normalise_requirements(requirements: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate requirement keys and values; bare resource names become ``min_<name>``.

    Raises:
        _FieldError: an unknown key (with did-you-mean) or a value of the wrong type.
    """
    if requirements is None:
        return {}
    if not isinstance(requirements, Mapping):
        raise _FieldError("requirements", f"expected a table, got {type(requirements).__name__}")
    out: dict[str, Any] = {}
    valid = [
        *FLAG_REQUIREMENTS,
        *(f"{p}_{r}" for r in RESOURCE_REQUIREMENTS for p in ("min", "max")),
    ]
    for key, value in requirements.items():
        where = f"requirements.{key}"
        name = str(key)
        prefix = "min"
        if name in FLAG_REQUIREMENTS:
            out[name] = _flag_value(where, name, value)
            continue
        if name.startswith(("min_", "max_")):
            prefix, name = name[:3], name[4:]
        resource = RESOURCE_ALIASES.get(name, name)
        if resource not in RESOURCE_REQUIREMENTS:
            raise _FieldError(
                where,
                f"unknown requirement {key!r}. Resources (thresholds, min_/max_): "
                f"{', '.join(RESOURCE_REQUIREMENTS)}; flags (equality): {', '.join(FLAG_REQUIREMENTS)}."
                + did_you_mean(str(key), valid),
            )
        canonical_key = f"{prefix}_{resource}"
        if canonical_key in out:
            raise _FieldError(where, f"{key!r} repeats {canonical_key!r}")
        out[canonical_key] = _resource_value(where, resource, value)
    return out


def _flag_value(where: str, name: str, value: Any) -> Any:
    kind = FLAG_REQUIREMENTS[name]
    items = list(value) if isinstance(value, (list, tuple)) and kind is str else [value]
    if not items or not all(isinstance(v, kind) for v in items):
        expected = "true/false" if kind is bool else "a string or a list of strings"
        raise _FieldError(where, f"expected {expected}, got {value!r}")
    if kind is str:
        items = [v.lower() for v in items]
        return items[0] if len(items) == 1 and not isinstance(value, (list, tuple)) else tuple(items)
    return value


def _resource_value(where: str, resource: str, value: Any) -> Any:
    if resource == "compute_capability":
        try:
            major, minor = _compute_capability(value)
        except ValueError as exc:
            raise _FieldError(where, str(exc)) from None
        return f"{major}.{minor}"
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise _FieldError(where, f"expected a number >= 0, got {value!r}")
    return value


def _order(resource: str, value: Any) -> tuple[float, ...]:
    """A comparable key: (major, minor) for compute capabilities, else the number."""
    if resource == "compute_capability":
        return tuple(float(p) for p in _compute_capability(value))
    return (float(value),)


def unmet_requirements(requirements: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    """Reasons why ``facts`` (a flat system view) do not meet normalised ``requirements``.

    Resources compare as thresholds, flags by equality (a tuple means any of); a fact the system
    does not report fails its requirement, saying so.
    """
    reasons = []
    for key, needed in requirements.items():
        if key in FLAG_REQUIREMENTS:
            have = facts.get(key)
            allowed = needed if isinstance(needed, tuple) else (needed,)
            have_cmp = have.lower() if isinstance(have, str) else have
            if have is None:
                reasons.append(f"requires {key} = {needed!r}, but the system info does not say")
            elif have_cmp not in allowed:
                wanted = " or ".join(repr(v) for v in allowed)
                reasons.append(f"requires {key} = {wanted}, the system has {have!r}")
            continue
        bound, resource = key[:3], key[4:]
        have = facts.get(resource)
        sign = ">=" if bound == "min" else "<="
        if have is None or have == "":
            reasons.append(f"requires {resource} {sign} {needed}, but the system info does not say")
            continue
        try:
            have_key, needed_key = _order(resource, have), _order(resource, needed)
            ok = have_key >= needed_key if bound == "min" else have_key <= needed_key
        except (TypeError, ValueError):
            reasons.append(f"requires {resource} {sign} {needed}, the system reports {have!r}")
            continue
        if not ok:
            shown = f"{have:.1f}" if isinstance(have, float) else str(have)
            reasons.append(f"requires {resource} {sign} {needed}, the system has {shown}")
    return reasons


@dataclass(frozen=True)
class ModelRecommendation:
    """A model recommended for a capability and size tier.

    Attributes:
        model_name: Hub id, local folder or ``embedded:<name>``.
        params_b: parameters, in billions (what the size tiers measure).
        capabilities: canonical capability names the model serves (aliases are accepted and made
            canonical); the registry's fallback uses them to lend a model to another capability.
        requirements: hardware requirements (see the module docstring); always a dict after init.
        license: the model's license id (``apache-2.0``, ``llama3.3``, ``gemma`` …).
        gated: whether the Hub asks you to accept terms (and use a token) before downloading.
        architecture: the ``ModelArchitecture`` (a value like ``"decoder_only"`` is accepted).
        notes: anything a user should know (language pair, non-commercial terms …).
        default_dtype: the dtype the weights load in when it is not the hardware's default
            (e.g. ``int4`` for a pre-quantized checkpoint); None means the hardware decides.
        context_length: the longest context the model takes, in tokens (caps the KV-cache estimate).
        shape: layer/width sizes for the KV-cache estimate (guessed from ``params_b`` when None).
        tags: free-form traits that are not capabilities (``function-calling``, ``reasoning``).
        size_gb: deprecated alias of ``params_b`` (the seed's name; it always held billions of
            parameters, not gigabytes). Accepted with a ``DeprecationWarning``; never stored.
    """

    model_name: str
    params_b: float | None = None
    capabilities: Sequence[str] = ()
    requirements: Mapping[str, Any] | None = field(default=None, hash=False)
    license: str = ""
    gated: bool = False
    architecture: ModelArchitecture | str | None = None
    notes: str = ""
    default_dtype: str | None = None
    context_length: int | None = None
    shape: ModelShape | Mapping[str, Any] | None = None
    tags: Sequence[str] = ()
    size_gb: InitVar[float | None] = None

    def __post_init__(self, size_gb: float | None) -> None:
        try:
            self._validate(size_gb)
        except _FieldError as exc:
            raise RecommendationError(
                f"Invalid ModelRecommendation {self.model_name!r}: {exc.where}: {exc.message}."
            ) from None

    def _validate(self, size_gb: float | None) -> None:
        set_ = object.__setattr__
        if not isinstance(self.model_name, str) or not self.model_name.strip():
            raise _FieldError("model_name", f"expected a non-empty string, got {self.model_name!r}")
        params = self.params_b
        if size_gb is not None:
            warnings.warn(
                "ModelRecommendation(size_gb=...) is deprecated: it always meant billions of parameters; "
                "use params_b.",
                DeprecationWarning,
                stacklevel=4,
            )
            if params is not None and params != size_gb:
                raise _FieldError(
                    "size_gb", f"conflicts with params_b ({size_gb!r} != {params!r}); give only params_b"
                )
            params = size_gb
        if params is None:
            raise _FieldError("params_b", "is required (billions of parameters)")
        if isinstance(params, bool) or not isinstance(params, (int, float)) or not math.isfinite(params):
            raise _FieldError("params_b", f"expected a number of billions of parameters, got {params!r}")
        if params <= 0:
            raise _FieldError("params_b", f"must be > 0, got {params!r}")
        set_(self, "params_b", float(params))
        set_(self, "capabilities", _capability_tuple(self.capabilities))
        set_(self, "requirements", normalise_requirements(self.requirements))
        for name in ("license", "notes"):
            if not isinstance(getattr(self, name), str):
                raise _FieldError(name, f"expected a string, got {getattr(self, name)!r}")
        if not isinstance(self.gated, bool):
            raise _FieldError("gated", f"expected true/false, got {self.gated!r}")
        if self.architecture is not None:
            try:
                set_(self, "architecture", ModelArchitecture.parse(self.architecture))
            except ArchitectureDetectionError as exc:
                raise _FieldError("architecture", str(exc).rstrip(".")) from None
        if self.default_dtype is not None and self.default_dtype not in BYTES_PER_PARAM:
            raise _FieldError(
                "default_dtype",
                f"unknown dtype {self.default_dtype!r}; valid: {', '.join(BYTES_PER_PARAM)}"
                + did_you_mean(str(self.default_dtype), BYTES_PER_PARAM),
            )
        ctx = self.context_length
        if ctx is not None and (isinstance(ctx, bool) or not isinstance(ctx, int) or ctx <= 0):
            raise _FieldError("context_length", f"expected a whole number of tokens > 0, got {ctx!r}")
        set_(self, "shape", _shape(self.shape))
        tags = [self.tags] if isinstance(self.tags, str) else list(self.tags)
        if not all(isinstance(t, str) and t for t in tags):
            raise _FieldError("tags", f"expected a list of non-empty strings, got {self.tags!r}")
        set_(self, "tags", tuple(tags))

    # ------------------------------------------------------------------ derived
    @property
    def arch(self) -> ModelArchitecture | None:
        """``architecture`` as a ``ModelArchitecture`` (it always is one after init)."""
        return self.architecture if isinstance(self.architecture, ModelArchitecture) else None

    @property
    def model_shape(self) -> ModelShape | None:
        """``shape`` as a ``ModelShape`` (it always is one after init)."""
        return self.shape if isinstance(self.shape, ModelShape) else None

    def serves(self, capability: str) -> bool:
        """True when ``capability`` (any alias) is among this model's capabilities."""
        return canonical_capability(capability) in self.capabilities

    def generates_for(self, capability: str | None = None) -> bool:
        """Whether serving ``capability`` (else any of its capabilities) needs a KV cache."""
        if self.arch in _NON_GENERATIVE_ARCHITECTURES:
            return False
        if capability is not None:
            return is_generative(capability)
        return any(is_generative(c) for c in self.capabilities)

    def context_tokens_for(self, context_tokens: int | None = None, capability: str | None = None) -> int:
        """Tokens the KV cache is sized for: the configured context, capped by ``context_length``."""
        if not self.generates_for(capability):
            return 0
        wanted = DEFAULT_CONTEXT_TOKENS if context_tokens is None else context_tokens
        return min(wanted, self.context_length) if self.context_length else wanted

    def estimate_memory(
        self,
        dtype: str | None = None,
        *,
        context_tokens: int | None = None,
        batch_size: int = 1,
        capability: str | None = None,
    ) -> MemoryEstimate:
        """Memory to run this model (see ``hfbench.registry.memory`` for the formula).

        Args:
            dtype: the weights' dtype; default ``default_dtype``, else ``bf16``.
            context_tokens: tokens of context for the KV cache (default 4096, capped by
                ``context_length``); ignored for models that do not generate.
            batch_size: sequences held at once.
            capability: the job; embeddings or classification on a decoder need no KV cache.
        """
        return estimate_memory(
            float(self.params_b or 0.0),
            dtype or self.default_dtype or "bf16",
            shape=self.model_shape,
            context_tokens=self.context_tokens_for(context_tokens, capability),
            batch_size=batch_size,
        )

    def memory_gb(self, dtype: str | None = None, *, context_tokens: int | None = None) -> float:
        """Total memory estimate in GiB at ``dtype`` (weights + KV cache + overhead)."""
        return self.estimate_memory(dtype, context_tokens=context_tokens).total_gb

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self, *, include_name: bool = True) -> dict[str, Any]:
        """A plain dictionary for JSON/TOML files: None and empty values are left out."""
        out: dict[str, Any] = {"model_name": self.model_name} if include_name else {}
        out["params_b"] = self.params_b
        if self.capabilities:
            out["capabilities"] = list(self.capabilities)
        if self.tags:
            out["tags"] = list(self.tags)
        if self.requirements:
            out["requirements"] = {
                k: list(v) if isinstance(v, tuple) else v for k, v in self.requirements.items()
            }
        if self.license:
            out["license"] = self.license
        out["gated"] = self.gated
        if self.arch is not None:
            out["architecture"] = self.arch.value
        if self.default_dtype:
            out["default_dtype"] = self.default_dtype
        if self.context_length:
            out["context_length"] = self.context_length
        if self.model_shape is not None:
            out["shape"] = {
                f.name: getattr(self.model_shape, f.name)
                for f in fields(ModelShape)
                if getattr(self.model_shape, f.name) is not None
            }
        if self.notes:
            out["notes"] = self.notes
        return out

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        model_name: str | None = None,
        key_path: str = "",
        file: str | None = None,
    ) -> ModelRecommendation:
        """Build from a file's table, checking keys and types.

        Args:
            data: the table (``model_name`` may be left out when ``model_name`` is given).
            model_name: the name when the table is keyed by it (a file's ``models`` catalog).
            key_path: where the table sits in its file, for error messages.
            file: the file it came from, for error messages.

        Raises:
            RecommendationError: naming the file and the key path of the first bad key.
        """
        if not isinstance(data, Mapping):
            raise key_error(f"expected a table, got {type(data).__name__} ({data!r})", key_path, file)
        known = {f.name for f in fields(cls)} | {"size_gb"}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                hint = did_you_mean(str(key), sorted(known))
                raise key_error(
                    f"unknown key {key!r}.{hint} Valid keys: {', '.join(sorted(known))}.",
                    _join(key_path, key),
                    file,
                )
            values[str(key)] = value
        if model_name is not None and values.setdefault("model_name", model_name) != model_name:
            raise key_error(
                f"model_name {values['model_name']!r} differs from the table's key {model_name!r}",
                _join(key_path, "model_name"),
                file,
            )
        if "model_name" not in values:
            raise key_error("missing 'model_name'", key_path, file)
        deprecated = "size_gb" in values
        try:
            with warnings.catch_warnings():
                # A file's deprecated key is reported once, below, with its location.
                warnings.simplefilter("ignore", DeprecationWarning)
                rec = cls._from_values(values)
        except _FieldError as exc:
            # ``where`` is already a path below the table (``requirements.min_ram_gb``).
            raise key_error(exc.message, f"{key_path}.{exc.where}" if key_path else exc.where, file) from None
        if deprecated:
            warnings.warn(
                f"{file or 'recommendation'} at '{_join(key_path, 'size_gb')}': size_gb is deprecated "
                "(it meant billions of parameters); write params_b.",
                DeprecationWarning,
                stacklevel=2,
            )
        return rec

    @classmethod
    def _from_values(cls, values: dict[str, Any]) -> ModelRecommendation:
        """Construct, letting field errors through with their field path (for ``from_dict``)."""
        rec = object.__new__(cls)
        size_gb = values.pop("size_gb", None)
        for f in fields(cls):
            object.__setattr__(rec, f.name, values.get(f.name, f.default))
        rec._validate(size_gb)
        return rec


def _join(key_path: str, key: object) -> str:
    return f"{key_path}.{format_key(str(key))}" if key_path else format_key(str(key))


def _capability_tuple(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise _FieldError("capabilities", f"expected a list of capability names, got {value!r}")
    out: list[str] = []
    for index, name in enumerate(items):
        try:
            canonical = canonical_capability(name)
        except UnsupportedCapabilityError as exc:
            raise _FieldError(
                f"capabilities[{index}]",
                f"{str(exc).rstrip('.')} (traits such as 'function-calling' belong in 'tags')",
            ) from None
        if canonical not in out:
            out.append(canonical)
    return tuple(out)


def _shape(value: Any) -> ModelShape | None:
    if value is None or isinstance(value, ModelShape):
        return value
    if not isinstance(value, Mapping):
        raise _FieldError("shape", f"expected a table of sizes, got {value!r}")
    names = [f.name for f in fields(ModelShape)]
    for key in value:
        if key not in names:
            raise _FieldError(
                f"shape.{key}",
                f"unknown key {key!r}.{did_you_mean(str(key), names)} Valid: {', '.join(names)}",
            )
    for key in ("num_layers", "hidden_size"):
        if key not in value:
            raise _FieldError(f"shape.{key}", "is required")
    for key, size in value.items():
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise _FieldError(f"shape.{key}", f"expected a whole number > 0, got {size!r}")
    return ModelShape(**dict(value))
