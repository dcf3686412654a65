"""Typed results of a pipeline run: text, labels, vectors, transcripts — with token counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from hfbench.pipelines.timing import GenerationTiming


@dataclass
class ProcessResult:
    """What every result carries: the capability that made it and the raw counts for speed figures.

    Attributes:
        capability: canonical capability name.
        input_tokens: tokens (or frames/patches, for non-text inputs: see ``input_unit``) read.
        output_tokens: tokens generated (0 for non-generative capabilities).
        input_unit: what ``input_tokens`` counts: ``tokens``, ``patches`` or ``frames``.
        processor: the processor class that ran (e.g. ``GeneralProcessor`` when prompting).
        timing: per-token timings of the ``generate`` call that made this result, when the call
            ran inside ``pipelines.timing.record_timings()`` (shared by the rows of one batch).
    """

    capability: str
    input_tokens: int = 0
    output_tokens: int = 0
    input_unit: str = "tokens"
    processor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    timing: GenerationTiming | None = field(default=None, repr=False, compare=False)


@dataclass
class TextResult(ProcessResult):
    """Generated or extracted text."""

    text: str = ""


@dataclass
class AnswerResult(TextResult):
    """An extractive answer: the text, its score and its character span in the context."""

    score: float = 0.0
    start: int = 0
    end: int = 0


@dataclass
class LabelScore:
    """One label (or filled-in token) and its score; ``sequence`` is the filled text for fill-mask."""

    label: str
    score: float
    sequence: str | None = None


@dataclass
class ClassificationResult(ProcessResult):
    """Labels with scores, best first."""

    labels: list[LabelScore] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The best label."""
        return self.labels[0].label if self.labels else ""

    @property
    def score(self) -> float:
        """The best label's score."""
        return self.labels[0].score if self.labels else 0.0


@dataclass
class EmbeddingResult(ProcessResult):
    """One vector (numpy float32)."""

    vector: np.ndarray | None = None


@dataclass
class TranscriptChunk:
    """A piece of a transcript with its time span in seconds."""

    text: str
    start_s: float
    end_s: float


@dataclass
class TranscriptResult(TextResult):
    """A transcript, with chunks when the audio was long or timestamps were asked for."""

    chunks: list[TranscriptChunk] = field(default_factory=list)
    language: str | None = None
