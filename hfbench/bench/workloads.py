"""Speed workloads: the call a cell times, built from the cell's own eval data.

Three kinds, by capability (``WORKLOAD_KINDS``; a capability not listed is a ``batch``):

- ``generation`` (text-generation, chat, summarization, translation, generative question
  answering, general, captions, visual questions): one input, a fixed decode length
  (``speed_tokens`` new tokens with end-of-sequence ignored, so tokens/s compare across models),
  greedy; per-token figures come from the pipeline's timing seam.
- ``speech``: one clip; the figure is the real-time factor (seconds of compute per second of audio).
- ``batch`` (embeddings, classification, fill-mask, image capabilities): ``speed_batch`` inputs in
  one call; the figure is samples per second.

Inputs come from the first items of the cell's eval set (the same data quality is measured on),
turned into pipeline inputs by the capability's quality task; a capability without one gets a
fixed English sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hfbench.core.capability import is_generative

WorkloadKind = Literal["generation", "speech", "batch"]

#: The default fixed decode length and batch size of speed calls.
DEFAULT_SPEED_TOKENS = 32
DEFAULT_SPEED_BATCH = 8
FALLBACK_TEXT = (
    "The old lighthouse stood on the cliff for two hundred years, guiding ships through the fog "
    "until the harbour closed and the keepers moved to the town."
)


@dataclass
class SpeedWorkload:
    """One timed call: its inputs, its per-call config, and what its figure means.

    Attributes:
        kind: ``generation``, ``speech`` or ``batch``.
        inputs: the ``MediaInput`` s of one call.
        overrides: per-call config of the call (fixed length, greedy ...).
        audio_s: seconds of audio per call (speech).
        source: where the inputs came from (eval set and item ids, or ``fixed text``).
    """

    kind: WorkloadKind
    inputs: list[Any]
    overrides: dict[str, Any] = field(default_factory=dict)
    audio_s: float | None = None
    source: str = ""

    def figures(self, median_s: float) -> dict[str, float]:
        """The workload's own figure from the median call time: samples/s (batch workloads, and
        generation with several inputs per call) or the real-time factor (speech)."""
        if self.kind == "batch" or (self.kind == "generation" and len(self.inputs) > 1):
            return {"samples_per_s": len(self.inputs) / median_s if median_s > 0 else 0.0}
        if self.kind == "speech" and self.audio_s:
            return {"real_time_factor": median_s / self.audio_s, "audio_s": self.audio_s}
        return {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (the inputs themselves are not recorded)."""
        return {
            "kind": self.kind,
            "inputs": len(self.inputs),
            "overrides": self.overrides,
            "audio_s": self.audio_s,
            "source": self.source,
        }


def workload_kind(capability: str) -> WorkloadKind:
    """``speech`` for speech recognition, ``generation`` for generative capabilities, else ``batch``."""
    if capability == "speech-recognition":
        return "speech"
    return "generation" if is_generative(capability) else "batch"


def speed_workload(
    capability: str,
    settings: Mapping[str, Any],
    *,
    eval_set: Any = None,
    task_overrides: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    extractive: bool = False,
) -> SpeedWorkload:
    """The speed call of a cell.

    Args:
        capability: the cell's capability.
        settings: the cell's settings (``speed_tokens``, ``speed_batch``).
        eval_set: the cell's eval set, whose first items become the inputs (None: fixed text).
        task_overrides: per-call config the eval set needs (labels, languages).
        options: the quality task's options (input truncation).
        extractive: the model answers by a span, not by generating (question answering on an
            encoder): a ``batch`` workload.
    """
    kind = workload_kind(capability)
    if kind == "generation" and extractive:
        kind = "batch"
    # Inputs per call: speed_batch, else the cell's batch_size (a batch-size sweep measures each
    # size; "auto" names no count), else one for generation and speech (latency of one request)
    # and 8 for the rest.
    default = DEFAULT_SPEED_BATCH if kind == "batch" else 1
    batch_size = settings.get("batch_size")
    count = int(
        settings.get("speed_batch") or (batch_size if isinstance(batch_size, int) else None) or default
    )
    inputs, source, overrides = _inputs(capability, eval_set, count, options or {})
    overrides = {**(task_overrides or {}), **overrides}
    if kind == "generation":
        tokens = int(settings.get("speed_tokens", DEFAULT_SPEED_TOKENS))
        overrides.update(max_tokens=tokens, max_length=tokens, min_length=0, ignore_eos=True, temperature=0.0)
        for key in ("stop",):
            overrides.pop(key, None)
    audio_s = None
    if kind == "speech":
        audio = inputs[0]
        audio_s = len(audio.as_audio()) / float(audio.sampling_rate or 16000)
    return SpeedWorkload(kind, inputs, overrides, audio_s, source)


def _inputs(
    capability: str, eval_set: Any, count: int, options: Mapping[str, Any]
) -> tuple[list[Any], str, dict[str, Any]]:
    """Inputs from the eval set's first items (repeated to ``count``), else fixed text."""
    from hfbench.pipelines.media import MediaInput

    if eval_set is not None and eval_set.items:
        from hfbench.bench.quality.tasks import task_for

        task = task_for(capability)
        items = [eval_set.items[i % len(eval_set.items)] for i in range(count)]
        try:
            inputs = [task.to_input(item, options) for item in items]
        except NotImplementedError:  # tasks that score without pipeline inputs (perplexity, similarity)
            inputs = [MediaInput.text(_item_text(item)) for item in items]
        extra = task.item_overrides(items[0])
        ids = ", ".join(dict.fromkeys(item.id for item in items))
        return inputs, f"{eval_set.name}: {ids}", extra
    return [MediaInput.text(FALLBACK_TEXT) for _ in range(count)], "fixed text", {}


def _item_text(item: Any) -> str:
    """The first text field of an item (a passage, a sentence of a pair)."""
    for key in ("text", "passage", "text_a", "sentence", "prompt"):
        value = item.inputs.get(key) if isinstance(item.inputs, Mapping) else None
        if isinstance(value, str) and value:
            return " ".join(value.split()[:128])
    return FALLBACK_TEXT
