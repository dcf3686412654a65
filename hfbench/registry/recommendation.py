"""``ModelRecommendation``: one recommended model, parsed at the boundary into typed fields.

Raw input (a file's table, or the keyword arguments of ``ModelRecommendation(...)``) is checked
and converted once, by ``parse_recommendation_fields``: capability aliases become canonical
names, requirement aliases become ``min_``/``max_`` thresholds (see ``registry.requirements``),
``architecture`` a ``ModelArchitecture``, ``shape`` a ``ModelShape``, the deprecated ``size_gb``
``params_b``. Every problem is reported at once, with its key path. The dataclass then holds
only final values.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import canonical_capability, capability_entries, is_generative
from hfbench.core.errors import (
    ArchitectureDetectionError,
    RecommendationError,
    UnsupportedCapabilityError,
)
from hfbench.core.validation import (
    Field,
    Problem,
    at_least,
    check_table,
    greater_than,
    join_path,
    problems_message,
)
from hfbench.registry.memory import DEFAULT_CONTEXT_TOKENS, MemoryEstimate, ModelShape, estimate_memory
from hfbench.registry.requirements import (
    FLAG_REQUIREMENTS,
    RESOURCE_ALIASES,
    RESOURCE_REQUIREMENTS,
    normalise_requirements,
    unmet_requirements,
)
from hfbench.registry.tiers import registry_dtype

if TYPE_CHECKING:
    from hfbench.registry.recipe import RecipeCheck
    from hfbench.registry.speed import SpeedEstimate

__all__ = [
    "EVIDENCE_FIELDS",
    "FLAG_REQUIREMENTS",
    "MEASURED_FIELDS",
    "RECIPE_FIELDS",
    "RESOURCE_ALIASES",
    "RESOURCE_REQUIREMENTS",
    "ModelRecommendation",
    "is_generative",
    "normalise_requirements",
    "parse_recommendation_fields",
    "recommendation_error",
    "unmet_requirements",
]

_NON_GENERATIVE_ARCHITECTURES = frozenset({ModelArchitecture.ENCODER_ONLY, ModelArchitecture.VISION_ENCODER})


def recommendation_error(problems: Sequence[Problem], file: str | None) -> RecommendationError:
    """One ``RecommendationError`` for every problem found in recommendations (a line each)."""
    what = "recommendation file" if file else "recommendations"
    return RecommendationError(problems_message(problems, what=what, file=file))


# --------------------------------------------------------------------------- field parsers
def _not_blank(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _capabilities(value: str | Sequence[str], key_path: str) -> tuple[tuple[str, ...], list[Problem]]:
    out: list[str] = []
    problems: list[Problem] = []
    for index, name in enumerate([value] if isinstance(value, str) else value):
        try:
            canonical = canonical_capability(name)
        except UnsupportedCapabilityError as exc:
            message = f"{str(exc).rstrip('.')} (traits such as 'function-calling' belong in 'tags')"
            problems.append(Problem(f"{key_path}[{index}]", message))
            continue
        if canonical not in out:
            out.append(canonical)
    return tuple(out), problems


def _architecture(value: str | None, key_path: str) -> tuple[ModelArchitecture | None, list[Problem]]:
    if value is None:
        return None, []
    try:
        return ModelArchitecture.parse(value), []
    except ArchitectureDetectionError as exc:
        return None, [Problem(key_path, str(exc))]


def _default_dtype(value: str | None, key_path: str) -> tuple[str | None, list[Problem]]:
    if value is None:
        return None, []
    try:
        return registry_dtype(value).short, []
    except RecommendationError as exc:
        return None, [Problem(key_path, str(exc))]


def _shape(
    value: ModelShape | Mapping[str, Any] | None, key_path: str
) -> tuple[ModelShape | None, list[Problem]]:
    if value is None or isinstance(value, ModelShape):
        return value, []
    sizes, problems = check_table(value, _SHAPE_FIELDS, key_path=key_path)
    return (None if problems else ModelShape(**sizes)), problems


def _without_none(table: dict[str, Any]) -> dict[str, Any]:
    """A table without its null values: a null figure is a missing one (TOML files have no null)."""
    return {k: v for k, v in table.items() if v is not None}


def _recipe(value: Mapping[str, Any] | None, key_path: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    if value is None:
        return None, []
    recipe, problems = check_table(value, RECIPE_FIELDS, key_path=key_path)
    recipe = _without_none(recipe)
    for name in ("versions", "config", "settings", "optimize"):
        if name in recipe:
            recipe[name] = dict(recipe[name])
    versions = recipe.get("versions", {})
    bad = [k for k, v in versions.items() if not isinstance(v, str)]
    if bad:
        message = f"library versions must be strings, got {', '.join(f'{k}={versions[k]!r}' for k in bad)}"
        problems.append(Problem(join_path(key_path, "versions"), message))
    return (None if problems else recipe), problems


def _measured(
    value: Mapping[str, Any] | None, key_path: str
) -> tuple[dict[str, dict[str, Any]] | None, list[Problem]]:
    if value is None:
        return None, []
    out: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for _, capability, path, entry in capability_entries(value, key_path, problems):
        figures, found = check_table(entry, MEASURED_FIELDS, key_path=path)
        problems += found
        if "evidence" in figures:
            evidence, found = check_table(
                figures["evidence"], EVIDENCE_FIELDS, key_path=join_path(path, "evidence")
            )
            figures["evidence"] = _without_none(evidence)
            problems += found
        out[capability] = _without_none(figures)
    return (None if problems else out), problems


def _tags(value: str | Sequence[str], key_path: str) -> tuple[tuple[str, ...], list[Problem]]:
    tags = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(t, str) and t for t in tags):
        return (), [Problem(key_path, f"expected a list of non-empty strings, got {value!r}")]
    return tuple(tags), []


_SIZE = Field((int,), check=greater_than(0))
_SHAPE_FIELDS: dict[str, Field] = {
    "num_layers": Field((int,), "decoder layers", required=True, check=greater_than(0)),
    "hidden_size": Field((int,), "width of the (language) model", required=True, check=greater_than(0)),
    "num_attention_heads": _SIZE,
    "num_key_value_heads": _SIZE,
    "head_dim": _SIZE,
}


def _unit_interval(value: float) -> str | None:
    return None if 0.0 <= value <= 1.0 else "must be in [0, 1]"


_COUNT = Field((int,), nullable=True, check=at_least(1))
_NON_NEGATIVE = Field((float,), nullable=True, check=at_least(0))

#: A tuned recommendation's ``recipe``: how the model ran when it was measured (``bench.cell.recipe``).
RECIPE_FIELDS: dict[str, Field] = {
    "dtype": Field((str,), "weights dtype as loaded (torch name)", nullable=True),
    "device": Field((str,), "where it ran (cpu, cuda:0 ...)", nullable=True),
    "attn_implementation": Field((str,), "attention implementation (sdpa, eager ...)", nullable=True),
    "quantization": Field((str,), "quantization method", nullable=True),
    "runtime": Field((str,), "what ran the model (transformers)", nullable=True),
    "batch_size": Field((int,), "inputs per call as measured", nullable=True, check=at_least(1)),
    "threads": Field((int,), "torch threads", nullable=True, check=at_least(1)),
    "chat_template": Field((bool,), "the tokenizer's chat template was used", nullable=True),
    "context_length": Field((int,), "longest context the model was loaded for, tokens", nullable=True),
    "max_tokens": Field((int,), "most new tokens per call", nullable=True),
    "optimize": Field((dict,), "the optimize level as it ran: level, device, lossy, steps", nullable=True),
    "config": Field((dict,), "config keys the cell set"),
    "settings": Field((dict,), "the benchmark cell's settings"),
    "versions": Field((dict,), "library -> version (hfbench, torch, transformers, python)"),
}

#: The evidence behind a measured confidence (what ``ModelCapabilities.apply_measured`` keeps).
EVIDENCE_FIELDS: dict[str, Field] = {
    "metric": Field((str,), "the quality metric", required=True),
    "value": Field((float,), "its value (missing or null: not a number)", nullable=True),
    "ci_low": Field((float,), "95% bootstrap interval, low", nullable=True),
    "ci_high": Field((float,), "95% bootstrap interval, high", nullable=True),
    "n": _COUNT,
    "eval_set": Field((str,), "eval set name", nullable=True),
    "hardware_id": Field((str,), "the machine it was measured on", nullable=True),
    "hand_made": Field((bool,), "the eval set is hand-made", nullable=True),
    "higher_is_better": Field((bool,), "the metric's direction", nullable=True),
}

#: Per capability, what a tuned recommendation measured (units in the names).
MEASURED_FIELDS: dict[str, Field] = {
    "confidence": Field((float,), "measured confidence", required=True, check=_unit_interval),
    "evidence": Field((dict,), "metric, value, interval, items, eval set, machine", required=True),
    "latency_median_s": _NON_NEGATIVE,
    "ttft_median_s": _NON_NEGATIVE,
    "decode_tokens_per_s": _NON_NEGATIVE,
    "samples_per_s": _NON_NEGATIVE,
    "real_time_factor": _NON_NEGATIVE,
    "model_mb": Field((float,), "memory the model took, MiB", nullable=True),
    "weights_mb": _NON_NEGATIVE,
    "cell_id": Field((str,), "the benchmark cell", nullable=True),
    "measured_at": Field((str,), "when the cell finished (UTC)", nullable=True),
}

# Every key of a recommendation, with the types a table (or a keyword argument) may give it.
_FIELDS: dict[str, Field] = {
    "model_name": Field((str,), "Hub id, local folder or embedded:<name>", required=True, check=_not_blank),
    "params_b": Field((float,), "parameters, in billions", required=True, check=greater_than(0)),
    "capabilities": Field((list, tuple, str), "capability names or aliases"),
    "requirements": Field((dict,), "hardware requirements", nullable=True),
    "license": Field((str,), "license id"),
    "gated": Field((bool,), "the Hub asks to accept terms"),
    "architecture": Field((str,), "a ModelArchitecture value", nullable=True),
    "notes": Field((str,), "anything a user should know"),
    "default_dtype": Field((str,), "dtype when not the hardware's", nullable=True),
    "context_length": Field((int,), "longest context, tokens", nullable=True, check=greater_than(0)),
    "shape": Field((dict, ModelShape), "sizes for the KV-cache estimate", nullable=True),
    "tags": Field((list, tuple, str), "traits that are not capabilities"),
    "recipe": Field((dict,), "tuned files: how the model ran when measured", nullable=True),
    "measured": Field((dict,), "tuned files: per capability, what was measured", nullable=True),
    "active_params_b": Field(
        (float,),
        "parameters read per token (mixture of experts), billions",
        nullable=True,
        check=greater_than(0),
    ),
    "source": Field((str,), "where the id, size, licence and context were confirmed (URL and title)"),
}
# Fields whose raw value is converted further once its type is right.
_PARSERS: dict[str, Callable[[Any, str], tuple[Any, list[Problem]]]] = {
    "capabilities": _capabilities,
    "requirements": normalise_requirements,
    "architecture": _architecture,
    "default_dtype": _default_dtype,
    "shape": _shape,
    "tags": _tags,
    "recipe": _recipe,
    "measured": _measured,
}


def parse_recommendation_fields(
    raw: Mapping[str, Any], key_path: str = ""
) -> tuple[dict[str, Any], list[Problem]]:
    """Check and convert a recommendation's raw fields into their final types.

    Args:
        raw: field name -> raw value (a file's table, or constructor arguments); ``size_gb`` is
            read as ``params_b``; None counts as missing for a key that may not be null.
        key_path: where the table sits, prefixed to every problem's key path.

    Returns:
        The converted fields (those given) and every problem found (unknown keys with
        did-you-mean, missing or mistyped values, unknown capabilities …), each with its key path.
    """
    given = {str(k): v for k, v in raw.items()}
    values = {k: v for k, v in given.items() if v is not None or k not in _FIELDS or _FIELDS[k].nullable}
    problems: list[Problem] = []
    size_gb = values.pop("size_gb", None)
    if size_gb is not None:
        if values.get("params_b", size_gb) != size_gb:
            message = f"conflicts with params_b ({size_gb!r} != {values['params_b']!r}); give only params_b"
            problems.append(Problem(join_path(key_path, "size_gb"), message))
        values["params_b"] = size_gb
    checked, found = check_table(values, _FIELDS, key_path=key_path)
    problems += found
    for name, parse in _PARSERS.items():
        if name in checked:
            checked[name], found = parse(checked[name], join_path(key_path, name))
            problems += found
    active, total = checked.get("active_params_b"), checked.get("params_b")
    if active is not None and total is not None and active > total:
        message = f"{active!r} is more than params_b ({total!r}): the active parameters are a part of all"
        problems.append(Problem(join_path(key_path, "active_params_b"), message))
    return checked, problems


# --------------------------------------------------------------------------- the record
@dataclass(frozen=True)
class _RecommendationFields:
    """The typed fields of a ``ModelRecommendation`` (its constructor parses raw input into them)."""

    model_name: str
    params_b: float
    capabilities: tuple[str, ...] = ()
    requirements: Mapping[str, Any] = field(default_factory=dict, hash=False)
    license: str = ""
    gated: bool = False
    architecture: ModelArchitecture | None = None
    notes: str = ""
    default_dtype: str | None = None
    context_length: int | None = None
    shape: ModelShape | None = None
    tags: tuple[str, ...] = ()
    recipe: Mapping[str, Any] | None = field(default=None, hash=False)
    measured: Mapping[str, Mapping[str, Any]] | None = field(default=None, hash=False)
    active_params_b: float | None = None
    source: str = ""
    # Set on the recommendation a lookup returns (``with_fit``): the recipe it chose, with its
    # memory and speed. Not part of the model's description: not compared, not written to files.
    fit: RecipeCheck | None = field(default=None, init=False, compare=False, hash=False, repr=False)


@dataclass(frozen=True, init=False)
class ModelRecommendation(_RecommendationFields):
    """A model recommended for a capability and size tier.

    The constructor takes raw values (aliases, dicts, lists) and stores them parsed; every field
    has its final type afterwards.

    Attributes:
        model_name: Hub id, local folder or ``embedded:<name>``.
        params_b: parameters, in billions (what the size tiers measure).
        capabilities: canonical capability names the model serves (aliases are accepted and made
            canonical); the registry's fallback uses them to lend a model to another capability.
        requirements: hardware requirements, normalised (see ``hfbench.registry.requirements``).
        license: the model's license id (``apache-2.0``, ``llama3.3``, ``gemma`` …).
        gated: whether the Hub asks you to accept terms (and use a token) before downloading.
        architecture: the ``ModelArchitecture`` (a value like ``"decoder_only"`` is accepted).
        notes: anything a user should know (language pair, non-commercial terms …).
        default_dtype: the dtype the weights load in when it is not the hardware's default
            (e.g. ``int4`` for a pre-quantized checkpoint), as its short name; None means the
            hardware decides.
        context_length: the longest context the model takes, in tokens (caps the KV-cache estimate).
        shape: layer/width sizes for the KV-cache estimate (guessed from ``params_b`` when None).
        tags: free-form traits that are not capabilities (``function-calling``, ``reasoning``).
        recipe: tuned files: how the model ran when it was measured — ``dtype``, ``device``,
            ``attn_implementation``, ``quantization``, ``batch_size``, ``threads``,
            ``chat_template``, ``context_length``, ``max_tokens``, ``optimize``, ``config``,
            ``settings``, ``versions`` (``RECIPE_FIELDS``); None for an unmeasured recommendation.
        measured: tuned files: per canonical capability, ``confidence`` (in [0, 1]) and its
            ``evidence`` (metric, value, ci_low, ci_high, n, eval_set, hardware_id, hand_made),
            with the speed and memory figures (``latency_median_s``, ``ttft_median_s``,
            ``decode_tokens_per_s``, ``samples_per_s``, ``real_time_factor``, ``model_mb`` …;
            ``MEASURED_FIELDS``); None for an unmeasured recommendation.
        active_params_b: for a mixture of experts, the parameters read per generated token, in
            billions (what the speed estimate counts); None: all of ``params_b``.
        source: where the model id, parameter count, licence and context length were confirmed
            (the model card or config: URL and title).
        fit: on a recommendation returned by a lookup on given hardware, the recipe it chose —
            dtype, quantization, runtime, context — with its memory and its decode speed,
            ``estimated`` or ``measured`` (``RecipeCheck``); None otherwise. Not compared, not
            written to files.

    Raises:
        RecommendationError: every invalid field, with its name (``at 'params_b': ...``).

    Example:
        >>> ModelRecommendation("phi-2", 2.7, ["generate"]).capabilities
        ('text-generation',)
    """

    def __init__(
        self,
        model_name: str,
        params_b: float | None = None,
        capabilities: Sequence[str] | str = (),
        requirements: Mapping[str, Any] | None = None,
        license: str = "",
        gated: bool = False,
        architecture: ModelArchitecture | str | None = None,
        notes: str = "",
        default_dtype: str | None = None,
        context_length: int | None = None,
        shape: ModelShape | Mapping[str, Any] | None = None,
        tags: Sequence[str] | str = (),
        size_gb: float | None = None,
        recipe: Mapping[str, Any] | None = None,
        measured: Mapping[str, Mapping[str, Any]] | None = None,
        active_params_b: float | None = None,
        source: str = "",
    ) -> None:
        """Parse raw values into a recommendation.

        Args:
            size_gb: deprecated alias of ``params_b`` (the seed's name; it always held billions
                of parameters, not gigabytes); accepted with a ``DeprecationWarning``.
        """
        if size_gb is not None:
            warnings.warn(
                "ModelRecommendation(size_gb=...) is deprecated: it always meant billions of parameters; "
                "use params_b.",
                DeprecationWarning,
                stacklevel=2,
            )
        raw = {
            "model_name": model_name,
            "params_b": params_b,
            "capabilities": capabilities,
            "requirements": requirements,
            "license": license,
            "gated": gated,
            "architecture": architecture,
            "notes": notes,
            "default_dtype": default_dtype,
            "context_length": context_length,
            "shape": shape,
            "tags": tags,
            "size_gb": size_gb,
            "recipe": recipe,
            "measured": measured,
            "active_params_b": active_params_b,
            "source": source,
        }
        values, problems = parse_recommendation_fields(raw)
        if problems:
            raise RecommendationError(
                problems_message(problems, what="ModelRecommendation", file=repr(model_name))
            )
        super().__init__(**values)

    # ------------------------------------------------------------------ derived
    @property
    def arch(self) -> ModelArchitecture | None:
        """``architecture`` (kept for code written when it could still be a string)."""
        return self.architecture

    @property
    def model_shape(self) -> ModelShape | None:
        """``shape`` (kept for code written when it could still be a dictionary)."""
        return self.shape

    def serves(self, capability: str) -> bool:
        """True when ``capability`` (any alias) is among this model's capabilities."""
        return canonical_capability(capability) in self.capabilities

    def generates_for(self, capability: str | None = None) -> bool:
        """Whether serving ``capability`` (else any of its capabilities) needs a KV cache."""
        if self.architecture in _NON_GENERATIVE_ARCHITECTURES:
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
            self.params_b,
            dtype or self.default_dtype or "bf16",
            shape=self.shape,
            context_tokens=self.context_tokens_for(context_tokens, capability),
            batch_size=batch_size,
        )

    def memory_gb(self, dtype: str | None = None, *, context_tokens: int | None = None) -> float:
        """Total memory estimate in GiB at ``dtype`` (weights + KV cache + overhead)."""
        return self.estimate_memory(dtype, context_tokens=context_tokens).total_gb

    def bytes_per_token(self, dtype: str) -> float:
        """Weight bytes a decode step reads at ``dtype``: the active parameters (all of them for
        a dense model) times the dtype's bytes per parameter."""
        params = self.active_params_b if self.active_params_b is not None else self.params_b
        return params * 1e9 * registry_dtype(dtype).bytes_per_param

    # ------------------------------------------------------------------ a lookup's choice
    def with_fit(self, fit: RecipeCheck | None) -> ModelRecommendation:
        """A copy carrying the recipe a lookup chose (see ``fit``); equal to this one."""
        clone = copy.copy(self)
        object.__setattr__(clone, "fit", fit)
        return clone

    @property
    def speed(self) -> SpeedEstimate | None:
        """The chosen recipe's decode speed (``estimated`` or ``measured``), when a lookup set one."""
        return self.fit.speed if self.fit is not None else None

    @property
    def speed_source(self) -> str | None:
        """``estimated`` or ``measured`` (None: no speed for this job or no hardware given)."""
        return self.speed.kind if self.speed is not None else None

    def run_config(self) -> dict[str, Any]:
        """The config keys that run this model as the lookup chose (``dtype``, ``quantization``);
        empty when no lookup chose a recipe."""
        return self.fit.config() if self.fit is not None else {}

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
        if self.architecture is not None:
            out["architecture"] = self.architecture.value
        if self.default_dtype:
            out["default_dtype"] = self.default_dtype
        if self.context_length:
            out["context_length"] = self.context_length
        if self.shape is not None:
            out["shape"] = {
                f.name: getattr(self.shape, f.name)
                for f in fields(ModelShape)
                if getattr(self.shape, f.name) is not None
            }
        if self.active_params_b is not None:
            out["active_params_b"] = self.active_params_b
        if self.notes:
            out["notes"] = self.notes
        if self.source:
            out["source"] = self.source
        if self.recipe is not None:
            out["recipe"] = copy.deepcopy(dict(self.recipe))
        if self.measured is not None:
            out["measured"] = {c: copy.deepcopy(dict(m)) for c, m in self.measured.items()}
        return out

    def measured_capabilities(self) -> dict[str, tuple[float, dict[str, Any]]]:
        """Per capability this recommendation was measured for: (confidence, evidence), the
        arguments of ``ModelCapabilities.apply_measured`` (empty when it was not measured)."""
        return {
            capability: (float(figures["confidence"]), dict(figures["evidence"]))
            for capability, figures in (self.measured or {}).items()
        }

    @classmethod
    def parse(
        cls,
        data: Any,
        *,
        model_name: str | None = None,
        key_path: str = "",
        file: str | None = None,
    ) -> tuple[ModelRecommendation | None, list[Problem]]:
        """Build from a file's table, returning every problem instead of raising.

        Args:
            data: the table (``model_name`` may be left out when ``model_name`` is given).
            model_name: the name when the table is keyed by it (a file's ``models`` catalog).
            key_path: where the table sits in its file, prefixed to the problems' key paths.
            file: the file it came from, for the ``size_gb`` deprecation warning.

        Returns:
            The recommendation (None when there are problems) and the problems.
        """
        if not isinstance(data, Mapping):
            return None, [Problem(key_path, f"expected a table, got {type(data).__name__} ({data!r})")]
        raw = {str(k): v for k, v in data.items()}
        problems: list[Problem] = []
        if model_name is not None and raw.setdefault("model_name", model_name) != model_name:
            message = f"model_name {raw['model_name']!r} differs from the table's key {model_name!r}"
            problems.append(Problem(join_path(key_path, "model_name"), message))
        values, found = parse_recommendation_fields(raw, key_path)
        problems += found
        if problems:
            return None, problems
        if "size_gb" in raw:
            warnings.warn(
                f"{file or 'recommendation'} at '{join_path(key_path, 'size_gb')}': size_gb is deprecated "
                "(it meant billions of parameters); write params_b.",
                DeprecationWarning,
                stacklevel=3,
            )
        return cls(**values), []

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        model_name: str | None = None,
        key_path: str = "",
        file: str | None = None,
    ) -> ModelRecommendation:
        """Build from a file's table, checking keys and types (see ``parse``).

        Raises:
            RecommendationError: naming the file and the key path of every bad key.
        """
        rec, problems = cls.parse(data, model_name=model_name, key_path=key_path, file=file)
        if rec is None:
            raise recommendation_error(problems, file)
        return rec
