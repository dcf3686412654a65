"""hfbench's exception classes: every message says what was wrong and what would be valid."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


def did_you_mean(value: str, valid: Iterable[str], *, limit: int = 3) -> str:
    """Return a ' Did you mean ...?' hint for ``value`` among ``valid`` (empty if none is close)."""
    matches = difflib.get_close_matches(value, list(valid), n=limit, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a table: where (a key path such as ``models[2].params``) and what."""

    key_path: str
    message: str

    def __str__(self) -> str:
        message = self.message if self.message.endswith((".", "?")) else self.message + "."
        return f"at '{self.key_path}': {message}" if self.key_path else message


class HFBenchError(Exception):
    """Base class of every error hfbench raises on purpose."""


class ConfigError(HFBenchError, ValueError):
    """A configuration value, key or file is invalid.

    Carries the offending ``key_path`` (e.g. ``capabilities.summarization.max_length``)
    and the ``file`` it came from, when known, and puts both in the message.
    """

    def __init__(self, message: str, *, key_path: str | None = None, file: str | Path | None = None) -> None:
        self.key_path = key_path
        self.file = str(file) if file is not None else None
        self.problems: tuple[Problem, ...] = ()
        where = []
        if self.file:
            where.append(f"in {self.file}")
        if key_path:
            where.append(f"at '{key_path}'")
        prefix = ("Config error " + " ".join(where) + ": ") if where else "Config error: "
        super().__init__(prefix + message)
        self.reason = message

    @classmethod
    def from_problems(cls, problems: Sequence[Problem], *, file: str | Path | None = None) -> ConfigError:
        """One error for every problem a validation found (a line each, with its key path)."""
        if len(problems) == 1:
            error = cls(problems[0].message, key_path=problems[0].key_path or None, file=file)
        else:
            lines = "\n".join(f"  - {p}" for p in problems)
            error = cls(f"{len(problems)} problems:\n{lines}", file=file)
            error.key_path = problems[0].key_path or None
        error.problems = tuple(problems)
        return error


class UnsupportedCapabilityError(HFBenchError, ValueError):
    """A capability name is unknown, or the model cannot serve it."""


class ArchitectureDetectionError(HFBenchError, ValueError):
    """The architecture of a model could not be decided from its config."""


class ModelNotFoundError(HFBenchError, FileNotFoundError):
    """A model id or folder could not be found (locally, in the Hub cache, or on the Hub)."""


class ModelLoadError(HFBenchError, RuntimeError):
    """A model was found but could not be loaded (missing weights, bad files, wrong options)."""


class OutOfMemoryError(ModelLoadError):
    """The model (or a batch) does not fit in the memory where it runs: data for a benchmark.

    Attributes:
        device: where memory ran out (``cpu``, ``cuda:0`` ...), when known.
    """

    def __init__(self, message: str, *, device: str | None = None) -> None:
        super().__init__(message)
        self.device = device


class EmbeddedModelError(HFBenchError, RuntimeError):
    """An embedded model is unknown, not installed, or its cache could not be built."""


class MediaInputError(HFBenchError, ValueError):
    """An input (text, image, audio) is missing, unreadable or of the wrong type."""


class PipelineNotLoadedError(HFBenchError, RuntimeError):
    """A pipeline was asked to process before ``load()`` was called."""


class DependencyMissingError(HFBenchError, ImportError):
    """An optional dependency is needed for what was asked; the message gives the install command."""

    def __init__(self, what: str, package: str, *, extra: str | None = None) -> None:
        hint = f'pip install "hfbench[{extra}]"' if extra else f"pip install {package}"
        super().__init__(f"{what} needs the '{package}' package, which is not installed. Run: {hint}")
        self.package = package


class RecommendationError(HFBenchError, ValueError):
    """A recommendation file, tier or lookup is invalid."""


class NoSuitableModelError(RecommendationError, UnsupportedCapabilityError):
    """No recommended model for a capability fits the tier and the hardware.

    The message carries the registry's explanation (tiers and models tried, why each was
    rejected) and what would work instead; ``explanation`` holds it for programs.
    """

    def __init__(self, message: str, *, explanation: object = None) -> None:
        super().__init__(message)
        self.explanation = explanation


class ResultsError(HFBenchError, ValueError):
    """A results file (or a line of it) cannot be read: written by a newer hfbench, or not a record."""


class BenchmarkError(HFBenchError, RuntimeError):
    """A benchmark suite, cell or run is invalid, or a run could not go on."""


class ProviderError(HFBenchError, RuntimeError):
    """A provider name is unknown or a provider call failed."""
