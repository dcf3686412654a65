"""Text classification and zero-shot classification with a sequence-classification head.

* text-classification: softmax (sigmoid for multi-label checkpoints) over the head's
  ``id2label``, best first, ``top_labels`` kept;
* zero-shot-classification: an NLI head scores ``hypothesis_template.format(label)`` against
  the text for each of the ``labels``: softmax of the entailment logits across labels, or,
  with ``multi_label``, entailment vs contradiction per label.

Models without the head fall back to general prompting when they generate text (decoders,
encoder-decoders); encoders without it raise ``UnsupportedCapabilityError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hfbench.core.capability import Capability
from hfbench.core.errors import ConfigError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processors.general import HeadOrPromptProcessor, ranked
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import ClassificationResult, ProcessResult
from hfbench.pipelines.text_loading import batch_size_for, max_input_tokens, not_nli_error

_TEXT_ARCHS = ("encoder_only", "decoder_only", "enc_dec")


class _SequenceClassifier(HeadOrPromptProcessor):
    """Shared encoding and forward pass of sequence-classification heads."""

    head = "sequence-classification"

    def _prepare_model(self) -> None:
        # Decoder classifiers find each row's last token through pad_token_id.
        config = self.model.config
        if getattr(config, "pad_token_id", None) is None and self.tokenizer.pad_token_id is not None:
            config.pad_token_id = self.tokenizer.pad_token_id

    def logits(self, pairs: list[tuple[str, str | None]], config: Mapping[str, Any]) -> tuple[Any, list[int]]:
        """Logits of a batch of (text, optional second text), and each row's token count."""
        import torch

        self._prepare_model()
        limit = max_input_tokens(self.loaded, config)
        firsts = [first for first, _ in pairs]
        seconds = [second for _, second in pairs]
        if any(s is not None for s in seconds) and not all(s is not None for s in seconds):
            # The tokenizer takes pairs only for whole batches: run mixed batches row by row.
            rows = [self.logits([pair], config) for pair in pairs]
            return torch.cat([r[0] for r in rows]), [r[1][0] for r in rows]
        encoded = self.tokenizer(
            firsts,
            seconds if seconds[0] is not None else None,
            padding=True,
            truncation=limit is not None,
            max_length=limit,
            return_tensors="pt",
        ).to(self.loaded.device)
        logits = self.model(**encoded).logits.float()
        return logits, [int(n) for n in encoded["attention_mask"].sum(dim=1).tolist()]


@register_processor(Capability.TEXT_CLASSIFICATION, architectures=_TEXT_ARCHS)
class TextClassificationProcessor(_SequenceClassifier):
    """Classify texts into the head's labels (an input's ``context`` is passed as a text pair).

    Config keys: ``top_labels`` (default: all), ``max_input_tokens``, ``batch_size``; by
    prompting (no head): ``labels`` and the generation keys.
    """

    def process_head(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Softmax (sigmoid for multi-label checkpoints) over ``id2label``."""
        id2label = self.model.config.id2label
        names = [str(id2label[i]) for i in range(len(id2label))]
        multi = getattr(self.model.config, "problem_type", None) == "multi_label_classification"
        top = config.get("top_labels")
        items = [(item.as_text(), item.context) for item in inputs]

        def run(batch: list[tuple[str, str | None]]) -> list[ProcessResult]:
            logits, counts = self.logits(batch, config)
            probs = logits.sigmoid() if multi else logits.softmax(dim=-1)
            return [
                ClassificationResult(
                    capability=self.requested_capability,
                    input_tokens=n,
                    processor=type(self).__name__,
                    extra={"multi_label": multi},
                    labels=ranked(row, names, top),
                )
                for row, n in zip(probs.tolist(), counts, strict=True)
            ]

        return run_batched(
            items, batch_size_for(self.loaded, config, self.requested_capability), lambda p: len(p[0]), run
        )


def nli_label_ids(id2label: Mapping[int, str]) -> tuple[int | None, int | None]:
    """The ids of the ``entailment`` and ``contradiction`` labels (None when absent)."""
    entail = contra = None
    for index, name in id2label.items():
        lowered = str(name).lower()
        if lowered.startswith("entail"):
            entail = int(index)
        elif lowered.startswith("contra"):
            contra = int(index)
    return entail, contra


def zero_shot_scores(
    logits: Sequence[Sequence[float]], entail: int, contra: int | None, *, multi_label: bool
) -> list[float]:
    """Label scores from the NLI logits of one text against each label's hypothesis.

    Single label: softmax of the entailment logits across labels (they sum to 1). Multi label:
    each label on its own, entailment against contradiction (or against all classes when the
    model has no contradiction label).
    """
    import torch

    rows = torch.tensor(logits, dtype=torch.float32)
    if not multi_label:
        return [float(x) for x in rows[:, entail].softmax(dim=0).tolist()]
    if contra is not None:
        pair = rows[:, [contra, entail]].softmax(dim=-1)
        return [float(x) for x in pair[:, 1].tolist()]
    return [float(x) for x in rows.softmax(dim=-1)[:, entail].tolist()]


@register_processor(Capability.ZERO_SHOT_CLASSIFICATION, architectures=_TEXT_ARCHS)
class ZeroShotClassificationProcessor(_SequenceClassifier):
    """Classify texts into labels given at call time, with an NLI head.

    Config keys: ``labels`` (required), ``hypothesis_template``, ``multi_label``,
    ``top_labels``, ``max_input_tokens``, ``batch_size`` (text-hypothesis pairs per pass).
    """

    def process_head(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Score every (text, hypothesis) pair, then each text's labels."""
        labels = list(config.get("labels") or [])
        if not labels:
            raise ConfigError(
                "zero-shot-classification needs candidate labels: pass labels=['sports', 'politics'].",
                key_path="labels",
            )
        entail, contra = nli_label_ids(self.model.config.id2label)
        if entail is None:
            raise not_nli_error(self.loaded.model_name, self.model.config)
        template = str(config.get("hypothesis_template") or "This example is {}.")
        multi = bool(config.get("multi_label"))
        pairs = [(item.as_text(), template.format(label)) for item in inputs for label in labels]

        def run(batch: list[tuple[str, str]]) -> list[tuple[list[float], int]]:
            logits, counts = self.logits(list(batch), config)
            return list(zip(logits.tolist(), counts, strict=True))

        scored = run_batched(
            pairs,
            batch_size_for(self.loaded, config, self.requested_capability),
            lambda p: len(p[0]) + len(p[1]),
            run,
        )
        results: list[ProcessResult] = []
        for i in range(len(inputs)):
            rows = scored[i * len(labels) : (i + 1) * len(labels)]
            scores = zero_shot_scores([r[0] for r in rows], entail, contra, multi_label=multi)
            results.append(
                ClassificationResult(
                    capability=self.requested_capability,
                    input_tokens=sum(r[1] for r in rows),
                    processor=type(self).__name__,
                    extra={"multi_label": multi, "hypothesis_template": template},
                    labels=ranked(scores, labels, config.get("top_labels")),
                )
            )
        return results
