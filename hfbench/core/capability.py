"""Capabilities: what a model can do, how well (a confidence), and with which default parameters."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any, Literal

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.datafiles import read_package_toml
from hfbench.core.errors import Problem, UnsupportedCapabilityError, did_you_mean
from hfbench.core.validation import join_path

logger = logging.getLogger(__name__)

ConfidenceSource = Literal["prior", "measured", "user"]


class Capability(str, Enum):
    """The canonical names of the capabilities hfbench ships (Hugging Face task names where one exists).

    Capability arguments everywhere are plain strings; these members are a convenience
    (``Capability.SUMMARIZATION == "summarization"``). Custom capabilities are added with
    ``register_capability``.
    """

    TEXT_GENERATION = "text-generation"
    CHAT = "chat"
    SUMMARIZATION = "summarization"
    TRANSLATION = "translation"
    QUESTION_ANSWERING = "question-answering"
    TEXT_CLASSIFICATION = "text-classification"
    ZERO_SHOT_CLASSIFICATION = "zero-shot-classification"
    FILL_MASK = "fill-mask"
    EMBEDDINGS = "embeddings"
    IMAGE_CLASSIFICATION = "image-classification"
    ZERO_SHOT_IMAGE_CLASSIFICATION = "zero-shot-image-classification"
    IMAGE_EMBEDDINGS = "image-embeddings"
    IMAGE_CAPTIONING = "image-captioning"
    VISUAL_QUESTION_ANSWERING = "visual-question-answering"
    SPEECH_RECOGNITION = "speech-recognition"
    GENERAL = "general"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CapabilitySpec:
    """A capability known to hfbench: its name, aliases, parent and default parameters."""

    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    inherits: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    builtin: bool = True
    generative: bool = False
    length_keyed: bool = False
    classification: bool = False


#: The flags a capability may set (``capabilities.toml``); a capability inherits its parent's.
CAPABILITY_FLAGS = ("generative", "length_keyed", "classification")


@dataclass
class ModelCapability:
    """Defines what a model can do.

    Attributes:
        name: canonical capability name.
        confidence: how well the model handles it, in [0, 1].
        requires_finetuning: whether a checkpoint needs a trained task head for it.
        parameters: capability-specific parameter overrides for this model.
        source: where the confidence came from: ``prior`` (hfbench's table), ``measured``
            (a benchmark run) or ``user``.
        evidence: for measured confidences, what was measured (metric, value, items, hardware).
    """

    name: str
    confidence: float
    requires_finetuning: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)
    source: ConfidenceSource = "prior"
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.confidence) <= 1.0:
            raise UnsupportedCapabilityError(
                f"Confidence of {self.name!r} must be in [0, 1], got {self.confidence!r}."
            )
        self.confidence = float(self.confidence)


_registry_lock = threading.Lock()
_custom_specs: dict[str, CapabilitySpec] = {}
_custom_priors: dict[ModelArchitecture, dict[str, tuple[float, bool]]] = {}


@lru_cache(maxsize=1)
def _builtin_data() -> dict[str, Any]:
    return read_package_toml("capabilities.toml")


@lru_cache(maxsize=1)
def _builtin_specs() -> dict[str, CapabilitySpec]:
    specs: dict[str, CapabilitySpec] = {}
    for name, entry in _builtin_data()["capabilities"].items():
        specs[name] = CapabilitySpec(
            name=name,
            description=entry.get("description", ""),
            aliases=tuple(entry.get("aliases", ())),
            inherits=entry.get("inherits"),
            parameters=dict(entry.get("parameters", {})),
            **{flag: bool(entry.get(flag, False)) for flag in CAPABILITY_FLAGS},
        )
    missing = {c.value for c in Capability} - set(specs)
    if missing:  # the enum and the data file must agree
        raise RuntimeError(f"capabilities.toml lacks built-in capabilities: {sorted(missing)}")
    return specs


def capability_specs() -> dict[str, CapabilitySpec]:
    """All known capabilities (built-in and registered), by canonical name."""
    with _registry_lock:
        return {**_builtin_specs(), **_custom_specs}


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in capability_specs().values():
        table[spec.name] = spec.name
        for alias in spec.aliases:
            table[alias] = spec.name
    return table


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def canonical_capability(name: str | Capability) -> str:
    """Resolve a capability name or alias to its canonical name.

    Raises:
        UnsupportedCapabilityError: the name is unknown (the message suggests close names).

    Example:
        >>> canonical_capability("automatic-speech-recognition")
        'speech-recognition'
    """
    if isinstance(name, Capability):
        return name.value
    if not isinstance(name, str) or not name.strip():
        raise UnsupportedCapabilityError(f"A capability name must be a non-empty string, got {name!r}.")
    table = _alias_table()
    key = _normalise(name)
    for candidate in (name, key, key.replace("-", "_")):
        if candidate in table:
            return table[candidate]
    canonical = sorted({v for v in table.values()})
    raise UnsupportedCapabilityError(
        f"Unknown capability {name!r}. Known capabilities: {', '.join(canonical)}."
        + did_you_mean(key, list(table))
    )


def capability_lineage(name: str) -> list[str]:
    """The capability and its ancestors through ``inherits``, root first (e.g. text-generation, chat)."""
    specs = capability_specs()
    chain: list[str] = []
    current: str | None = canonical_capability(name)
    while current is not None:
        if current in chain:
            raise UnsupportedCapabilityError(f"Capability inheritance loops through {current!r}.")
        chain.append(current)
        current = specs[current].inherits
    return list(reversed(chain))


def has_flag(name: str, flag: str) -> bool:
    """Whether a capability, or one it inherits from, sets ``flag`` (see ``CAPABILITY_FLAGS``)."""
    if flag not in CAPABILITY_FLAGS:
        valid = ", ".join(CAPABILITY_FLAGS)
        raise UnsupportedCapabilityError(f"Unknown capability flag {flag!r}; valid: {valid}.")
    specs = capability_specs()
    return any(getattr(specs[c], flag) for c in capability_lineage(name))


def is_generative(name: str) -> bool:
    """True for capabilities that generate token by token (they need a KV cache)."""
    return has_flag(name, "generative")


def is_length_keyed(name: str) -> bool:
    """True for capabilities whose output length is set by ``min_length``/``max_length``."""
    return has_flag(name, "length_keyed")


def is_classification(name: str) -> bool:
    """True for capabilities whose answer is among labels."""
    return has_flag(name, "classification")


def register_capability(
    name: str,
    *,
    description: str = "",
    aliases: Sequence[str] = (),
    inherits: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    architectures: Mapping[ModelArchitecture | str, float] | None = None,
    requires_finetuning: bool = False,
    generative: bool = False,
    length_keyed: bool = False,
    classification: bool = False,
) -> CapabilitySpec:
    """Add a capability at run time (e.g. ``code-generation`` inheriting ``text-generation``).

    Args:
        name: the new canonical name (lower-case, dashes).
        inherits: an existing capability whose parameters this one starts from.
        parameters: default parameters (validated later, like any config level).
        architectures: prior confidence per architecture that can serve it.
        generative, length_keyed, classification: the capability's flags (inherited ones apply too).

    Raises:
        UnsupportedCapabilityError: the name or an alias is taken, or ``inherits`` is unknown.
    """
    canonical = _normalise(name)
    taken = _alias_table()
    for candidate in (canonical, *[_normalise(a) for a in aliases]):
        if candidate in taken:
            raise UnsupportedCapabilityError(
                f"Cannot register capability {name!r}: {candidate!r} already names {taken[candidate]!r}."
            )
    parent = canonical_capability(inherits) if inherits else None
    spec = CapabilitySpec(
        name=canonical,
        description=description,
        aliases=tuple(_normalise(a) for a in aliases),
        inherits=parent,
        parameters=dict(parameters or {}),
        builtin=False,
        generative=generative,
        length_keyed=length_keyed,
        classification=classification,
    )
    with _registry_lock:
        _custom_specs[canonical] = spec
        for arch, confidence in (architectures or {}).items():
            priors = _custom_priors.setdefault(ModelArchitecture.parse(arch), {})
            priors[canonical] = (float(confidence), requires_finetuning)
    return spec


def unregister_capability(name: str) -> None:
    """Remove a capability added by ``register_capability`` (built-ins cannot be removed)."""
    canonical = canonical_capability(name)
    with _registry_lock:
        if canonical not in _custom_specs:
            raise UnsupportedCapabilityError(f"{canonical!r} is built in and cannot be removed.")
        del _custom_specs[canonical]
        for priors in _custom_priors.values():
            priors.pop(canonical, None)


def primary_capability(architecture: ModelArchitecture | str) -> str:
    """The capability an architecture serves when nothing else says which one is wanted."""
    return _PRIMARY[ModelArchitecture.parse(architecture)]


_PRIMARY: dict[ModelArchitecture, str] = {
    ModelArchitecture.ENCODER_ONLY: Capability.EMBEDDINGS.value,
    ModelArchitecture.DECODER_ONLY: Capability.TEXT_GENERATION.value,
    ModelArchitecture.ENCODER_DECODER: Capability.TEXT_GENERATION.value,
    ModelArchitecture.VISION_ENCODER: Capability.IMAGE_CLASSIFICATION.value,
    ModelArchitecture.MULTIMODAL: Capability.IMAGE_CAPTIONING.value,
    ModelArchitecture.SPEECH: Capability.SPEECH_RECOGNITION.value,
}


class ModelCapabilities:
    """The capabilities of an architecture (or one model of it), with confidences.

    Starts from hfbench's per-architecture priors; ``apply_measured`` replaces a prior with a
    benchmark's measurement, ``add``/``remove`` adapt it to a particular checkpoint.
    """

    def __init__(self, architecture: ModelArchitecture | str) -> None:
        self._architecture = ModelArchitecture.parse(architecture)
        self._capabilities: dict[str, ModelCapability] = {}
        self._load_architecture_capabilities()

    def _load_architecture_capabilities(self) -> None:
        priors = _builtin_data()["architectures"].get(self._architecture.value, {})
        for name, entry in priors.items():
            self._capabilities[name] = ModelCapability(
                name=name,
                confidence=entry["confidence"],
                requires_finetuning=entry.get("requires_finetuning", False),
            )
        with _registry_lock:
            custom = dict(_custom_priors.get(self._architecture, {}))
        for name, (confidence, requires_finetuning) in custom.items():
            self._capabilities[name] = ModelCapability(name, confidence, requires_finetuning)

    @property
    def architecture(self) -> ModelArchitecture:
        """The architecture these capabilities belong to."""
        return self._architecture

    @property
    def primary(self) -> str:
        """The architecture's primary capability."""
        return primary_capability(self._architecture)

    def can_handle(self, capability: str) -> bool:
        """Check if the model can handle a capability (aliases accepted).

        Raises:
            UnsupportedCapabilityError: the name is not a capability at all (typo).
        """
        return canonical_capability(capability) in self._capabilities

    def get(self, capability: str) -> ModelCapability:
        """The ``ModelCapability`` for a name.

        Raises:
            UnsupportedCapabilityError: unknown name, or one this architecture cannot serve.
        """
        name = canonical_capability(capability)
        if name not in self._capabilities:
            raise UnsupportedCapabilityError(
                f"A {self._architecture.value} model cannot serve {name!r}; it can serve: "
                f"{', '.join(self.names())}."
            )
        return self._capabilities[name]

    def get_config(self, capability: str) -> dict[str, Any]:
        """Default parameters of a capability: its ancestors' first, then its own, then this model's.

        For a capability the model was not made for, logs that general processing will be
        used and still returns the capability's defaults.
        """
        name = canonical_capability(capability)
        if name not in self._capabilities:
            logger.info("Model not specifically trained for %s; using general processing", name)
        specs = capability_specs()
        config: dict[str, Any] = {}
        for ancestor in capability_lineage(name):
            config.update(copy.deepcopy(dict(specs[ancestor].parameters)))
        if name in self._capabilities:
            config.update(copy.deepcopy(self._capabilities[name].parameters))
        return config

    def names(self) -> list[str]:
        """Canonical names this model can serve, most confident first."""
        return [c.name for c in sorted(self, key=lambda c: -c.confidence)]

    def add(self, capability: ModelCapability) -> None:
        """Add or replace a capability (its name is made canonical)."""
        capability.name = canonical_capability(capability.name)
        self._capabilities[capability.name] = capability

    def remove(self, capability: str) -> None:
        """Drop a capability this model should not claim."""
        self._capabilities.pop(canonical_capability(capability), None)

    def apply_measured(
        self,
        capability: str,
        confidence: float,
        evidence: Mapping[str, Any] | None = None,
    ) -> ModelCapability:
        """Replace a capability's confidence with a measured one (added if it was missing)."""
        name = canonical_capability(capability)
        current = self._capabilities.get(name)
        updated = ModelCapability(
            name=name,
            confidence=confidence,
            requires_finetuning=current.requires_finetuning if current else False,
            parameters=dict(current.parameters) if current else {},
            source="measured",
            evidence=dict(evidence or {}),
        )
        self._capabilities[name] = updated
        return updated

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """A plain, JSON-able view: name -> confidence, requires_finetuning, source, parameters."""
        return {
            c.name: {
                "confidence": c.confidence,
                "requires_finetuning": c.requires_finetuning,
                "source": c.source,
                "parameters": dict(c.parameters),
                "evidence": dict(c.evidence),
            }
            for c in self
        }

    def __iter__(self) -> Iterator[ModelCapability]:
        return iter(list(self._capabilities.values()))

    def __contains__(self, capability: object) -> bool:
        return isinstance(capability, str) and self.can_handle(capability)

    def __len__(self) -> int:
        return len(self._capabilities)

    def __repr__(self) -> str:
        inner = ", ".join(f"{c.name}={c.confidence:.2f}" for c in self)
        return f"ModelCapabilities({self._architecture.value}: {inner})"


def capability_entries(
    table: Mapping[str, Any], key_path: str, problems: list[Problem]
) -> Iterator[tuple[str, str, str, Any]]:
    """The entries of a table keyed by capability: (key, canonical capability, key path, value).

    A key that is not a capability is appended to ``problems`` (with did-you-mean) and skipped.
    """
    for key, value in table.items():
        path = join_path(key_path, key)
        try:
            capability = canonical_capability(str(key))
        except UnsupportedCapabilityError as exc:
            problems.append(Problem(path, str(exc)))
            continue
        yield str(key), capability, path, value
