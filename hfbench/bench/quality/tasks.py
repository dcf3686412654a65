"""Per-capability quality tasks: how eval items become pipeline inputs and results become predictions.

A task is registered for one or more capabilities (``@register_task("summarization", ...)``).
Most tasks only say how to build a ``MediaInput`` from an item (``to_input``), which per-item
overrides it needs (``item_overrides``: translation's languages) and what to keep of a result
(``to_prediction``); the shared ``predict`` runs the *real* pipeline (``pipeline.process``) on
chunks of items with the same overrides. Embedding similarity and perplexity override
``predict``: the first embeds each distinct text once and scores pairs by cosine similarity; the
second needs the model's token log-likelihoods, which no processor returns.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, ClassVar, TypeVar

from hfbench.bench.quality.fetch import evaldata_dir
from hfbench.bench.quality.items import EvalItem, EvalSet
from hfbench.core.errors import BenchmarkError, ConfigError, did_you_mean
from hfbench.core.validation import Field, greater_than

Progress = Callable[[int], None]
"""Called with the number of items finished so far."""


@dataclass(frozen=True)
class TaskCall:
    """One run of a task: what runs, on which items, with which config.

    Attributes:
        pipeline: the loaded pipeline.
        capability: the canonical capability.
        eval_set: the items (``eval_set.items``).
        overrides: per-call config for every item.
        options: task options.
        progress: called with the number of items done.
    """

    pipeline: Any
    capability: str
    eval_set: EvalSet
    overrides: Mapping[str, Any]
    options: Mapping[str, Any]
    progress: Progress | None = None


def first_words(text: str, max_words: int | None) -> str:
    """``text`` cut to whole lines holding at most ``max_words`` words (the first line is cut by words
    if it alone is longer). XSum articles have one sentence per line, so this keeps whole sentences."""
    if max_words is None:
        return text
    kept: list[str] = []
    count = 0
    for line in text.splitlines():
        words = len(line.split())
        if kept and count + words > max_words:
            break
        kept.append(line if words <= max_words else " ".join(line.split()[:max_words]))
        count += words
    return "\n".join(kept)


def match_label(label: str, labels: Sequence[str]) -> str:
    """The eval set's spelling of a predicted label (``POSITIVE`` -> ``positive``); unknown ones are kept."""
    if not labels or label in labels:
        return label
    by_lower = {candidate.lower(): candidate for candidate in labels}
    return by_lower.get(label.strip().lower(), label)


class QualityTask:
    """Turns eval items into pipeline calls and results into predictions, for some capabilities.

    Attributes:
        capabilities: set by ``register_task``.
        option_fields: the task options it reads (validated in eval set plans).
        chunk_size: items per ``pipeline.process`` call (the pipeline batches inside a call).
    """

    capabilities: ClassVar[tuple[str, ...]] = ()
    option_fields: ClassVar[dict[str, Field]] = {}
    chunk_size: ClassVar[int] = 8

    def default_overrides(self, eval_set: EvalSet) -> dict[str, Any]:
        """Per-call config the whole set needs (e.g. the candidate ``labels``)."""
        return {}

    def to_input(self, item: EvalItem, options: Mapping[str, Any]) -> Any:
        """The ``MediaInput`` for one item."""
        raise NotImplementedError

    def item_overrides(self, item: EvalItem) -> dict[str, Any]:
        """Per-call config one item needs (e.g. its languages)."""
        return {}

    def to_prediction(self, result: Any, eval_set: EvalSet) -> Any:
        """What is scored of one result (default: its text, stripped)."""
        return str(getattr(result, "text", "")).strip()

    def predict(self, call: TaskCall) -> list[Any]:
        """Run the pipeline on every item and return one prediction per item, in item order.

        Consecutive items with the same ``item_overrides`` share a ``process`` call of at most
        ``chunk_size`` items.
        """
        predictions: list[Any] = []
        for _, run in groupby(
            call.eval_set.items, key=lambda i: json.dumps(self.item_overrides(i), sort_keys=True)
        ):
            same = list(run)
            for start in range(0, len(same), self.chunk_size):
                chunk = same[start : start + self.chunk_size]
                results = call.pipeline.process(
                    [self.to_input(item, call.options) for item in chunk],
                    call.capability,
                    **{**call.overrides, **self.item_overrides(chunk[0])},
                )
                predictions.extend(self.to_prediction(result, call.eval_set) for result in results)
                if call.progress is not None:
                    call.progress(len(predictions))
        return predictions


_TASKS: dict[str, QualityTask] = {}
T = TypeVar("T", bound=type[QualityTask])


def register_task(*capabilities: str) -> Callable[[T], T]:
    """Class decorator: the task for these capabilities (canonical names or aliases)."""
    from hfbench.core.capability import canonical_capability

    def decorate(cls: T) -> T:
        names = tuple(canonical_capability(c) for c in capabilities)
        cls.capabilities = names
        instance = cls()
        for name in names:
            _TASKS[name] = instance
        return cls

    return decorate


def task_capabilities() -> list[str]:
    """The capabilities with a quality task, sorted."""
    return sorted(_TASKS)


def capability_name(capability: str) -> str:
    """The canonical name of a capability, or the name as given when hfbench does not know it
    (so that the caller's error can say what was asked for)."""
    from hfbench.core.capability import canonical_capability
    from hfbench.core.errors import UnsupportedCapabilityError

    try:
        return canonical_capability(capability)
    except UnsupportedCapabilityError:
        return capability


def task_for(capability: str) -> QualityTask:
    """The quality task for a capability.

    Raises:
        ConfigError: no task measures that capability (with a did-you-mean).
    """
    name = capability_name(capability)
    if name not in _TASKS:
        raise ConfigError(
            f"no quality task for capability {capability!r}; hfbench measures the quality of: "
            f"{', '.join(task_capabilities())}." + did_you_mean(str(capability), _TASKS),
            key_path="capability",
        )
    return _TASKS[name]


def _text_field(item: EvalItem, options: Mapping[str, Any]) -> str:
    """An item's text: ``options["text_template"]`` filled with its inputs, else ``inputs["text"]``."""
    template = options.get("text_template")
    if template:
        return str(template).format(**item.inputs)
    if "text" not in item.inputs:
        raise BenchmarkError(
            f"Item {item.id} has no 'text' input (it has {', '.join(item.inputs)}); set the task option "
            "text_template, e.g. '{evidence}\\nClaim: {claim}'."
        )
    return str(item.inputs["text"])


_MAX_INPUT_WORDS = Field(
    (int,), "Cut inputs to whole lines of at most this many words.", check=greater_than(0)
)
_TEXT_TEMPLATE = Field((str,), "Build an item's text from its inputs, e.g. '{evidence}\\nClaim: {claim}'.")


@register_task("summarization", "translation")
class TextToTextTask(QualityTask):
    """Summaries and translations: the item's text in, the generated text out.

    Options: ``max_input_words`` (cut long articles at a line boundary), ``text_template``.
    Translation items carry ``src_lang``/``tgt_lang``, passed as per-call overrides.
    """

    option_fields: ClassVar[dict[str, Field]] = {
        "max_input_words": _MAX_INPUT_WORDS,
        "text_template": _TEXT_TEMPLATE,
    }

    def to_input(self, item: EvalItem, options: Mapping[str, Any]) -> Any:
        from hfbench.pipelines.media import MediaInput

        return MediaInput.text(first_words(_text_field(item, options), options.get("max_input_words")))

    def item_overrides(self, item: EvalItem) -> dict[str, Any]:
        return {key: item.inputs[key] for key in ("src_lang", "tgt_lang") if key in item.inputs}


@register_task("question-answering")
class QuestionAnsweringTask(QualityTask):
    """Extractive QA: the question with its passage as context; the answer text is scored."""

    def to_input(self, item: EvalItem, options: Mapping[str, Any]) -> Any:
        from hfbench.pipelines.media import MediaInput

        return MediaInput.text(str(item.inputs["question"]), context=str(item.inputs["context"]))


@register_task("chat")
class ChatTask(QualityTask):
    """Exact-answer chat: the question as the user's turn after the item's ``history`` (few-shot
    example turns, when it has them); the answer's first line is scored."""

    def to_input(self, item: EvalItem, options: Mapping[str, Any]) -> Any:
        from hfbench.pipelines.media import MediaInput

        history = [(str(role), str(text)) for role, text in item.inputs.get("history", [])]
        return MediaInput.text(str(item.inputs["question"]), history=history)

    def to_prediction(self, result: Any, eval_set: EvalSet) -> Any:
        lines = [line.strip() for line in str(getattr(result, "text", "")).splitlines() if line.strip()]
        return lines[0] if lines else ""


@register_task("text-classification", "zero-shot-classification")
class LabelTask(QualityTask):
    """Text classification: the eval set's labels are the candidates (a trained head keeps its own).

    Predictions are the best label in the eval set's spelling (``POSITIVE`` -> ``positive``).
    Option: ``text_template`` (VitaminC: ``"{evidence}\\nClaim: {claim}"``).
    """

    option_fields: ClassVar[dict[str, Field]] = {"text_template": _TEXT_TEMPLATE}

    def default_overrides(self, eval_set: EvalSet) -> dict[str, Any]:
        return {"labels": list(eval_set.labels)} if eval_set.labels else {}

    def to_input(self, item: EvalItem, options: Mapping[str, Any]) -> Any:
        from hfbench.pipelines.media import MediaInput

        return MediaInput.text(_text_field(item, options))

    def to_prediction(self, result: Any, eval_set: EvalSet) -> Any:
        return match_label(str(getattr(result, "label", "")), eval_set.labels)


def item_image(item: EvalItem) -> Any:
    """An item's image: ``image_png_base64`` (CIFAR-10) or 8x8 ``pixels`` 0-16 (digits), as RGB."""
    import numpy as np
    from PIL import Image

    if "image_png_base64" in item.inputs:
        return Image.open(io.BytesIO(base64.b64decode(item.inputs["image_png_base64"]))).convert("RGB")
    if "pixels" in item.inputs:
        grey = (np.asarray(item.inputs["pixels"], dtype=np.float32).reshape(8, 8) * (255 / 16)).astype(
            np.uint8
        )
        return Image.fromarray(grey, mode="L").resize((32, 32), Image.Resampling.NEAREST).convert("RGB")
    raise BenchmarkError(f"Item {item.id} has no image (image_png_base64 or pixels).")


@register_task("image-classification")
class ImageClassificationTask(QualityTask):
    """Image classification by the model's head; the best label in the eval set's spelling is scored."""

    passes_labels: ClassVar[bool] = False

    def default_overrides(self, eval_set: EvalSet) -> dict[str, Any]:
        return {"labels": list(eval_set.labels)} if self.passes_labels and eval_set.labels else {}

    def to_input(self, item: EvalItem, options: Mapping[str, Any]) -> Any:
        from hfbench.pipelines.media import MediaInput

        return MediaInput.image(item_image(item))

    def to_prediction(self, result: Any, eval_set: EvalSet) -> Any:
        return match_label(str(getattr(result, "label", "")), eval_set.labels)


@register_task("zero-shot-image-classification")
class ZeroShotImageTask(ImageClassificationTask):
    """Zero-shot image classification: the eval set's labels are the candidates (CLIP, SigLIP)."""

    passes_labels = True


@register_task("speech-recognition")
class SpeechTask(QualityTask):
    """Speech recognition: the item's audio file (resampled by the pipeline); the transcript is scored."""

    def to_input(self, item: EvalItem, options: Mapping[str, Any]) -> Any:
        from hfbench.pipelines.media import MediaInput

        path = evaldata_dir() / str(item.inputs["audio_file"])
        if not path.is_file():
            raise BenchmarkError(
                f"The audio of item {item.id} is missing ({path}); rebuild the eval set: "
                "build_eval_set(name, n, seed, rebuild=True)."
            )
        return MediaInput.audio(path)


@register_task("embeddings")
class SimilarityTask(QualityTask):
    """Embedding similarity: each distinct text embedded once; a pair's prediction is its cosine."""

    chunk_size = 16

    def predict(self, call: TaskCall) -> list[Any]:
        import numpy as np

        from hfbench.pipelines.media import MediaInput

        items = call.eval_set.items
        texts = list(dict.fromkeys(str(i.inputs[k]) for i in items for k in ("text_a", "text_b")))
        vectors: dict[str, np.ndarray] = {}
        for start in range(0, len(texts), self.chunk_size):
            chunk = texts[start : start + self.chunk_size]
            results = call.pipeline.process(
                [MediaInput.text(t) for t in chunk], call.capability, **call.overrides
            )
            for text, result in zip(chunk, results, strict=True):
                vector = np.asarray(result.vector, dtype=np.float64).ravel()
                vectors[text] = vector / (np.linalg.norm(vector) or 1.0)
        similarities = [
            float(np.dot(vectors[str(i.inputs["text_a"])], vectors[str(i.inputs["text_b"])])) for i in items
        ]
        if call.progress is not None:
            call.progress(len(items))
        return similarities


@register_task("text-generation")
class PerplexityTask(QualityTask):
    """Perplexity: each passage's NLL under the model (``likelihood.passage_nll``); ``{"nll", "tokens"}``.

    Option: ``max_tokens`` (tokens per passage, default 128).
    """

    option_fields: ClassVar[dict[str, Field]] = {
        "max_tokens": Field((int,), "Score at most this many tokens per passage.", check=greater_than(1))
    }

    def predict(self, call: TaskCall) -> list[Any]:
        from hfbench.bench.quality.likelihood import passage_nll

        max_tokens = call.options.get("max_tokens", 128)
        predictions: list[Any] = []
        for item in call.eval_set.items:
            nll, tokens = passage_nll(call.pipeline.loaded, str(item.inputs["text"]), max_tokens=max_tokens)
            predictions.append({"nll": nll, "tokens": tokens})
            if call.progress is not None:
                call.progress(len(predictions))
        return predictions
