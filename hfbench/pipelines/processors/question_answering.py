"""Question answering: extractive with a span head (encoders), generative by prompting otherwise.

An input is ``MediaInput.text(question, context=passage)``. With a question-answering head the
answer is the best span of the context: start and end probabilities (context tokens only)
multiplied, the end no more than ``max_answer_length`` tokens after the start, taken over
overlapping windows when the context is longer than the model's input; the character span
comes from the tokenizer's offset mapping. Decoder and encoder-decoder models answer through
general prompting (the context goes into the prompt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hfbench.core.capability import Capability
from hfbench.core.errors import MediaInputError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processors.general import HeadOrPromptProcessor
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import AnswerResult, ProcessResult
from hfbench.pipelines.text_loading import batch_size_for, max_input_tokens

DEFAULT_MAX_SEQ_LEN = 384
"""Tokens per window (question + context), as in transformers' question-answering pipeline."""
MAX_DOC_STRIDE = 128
"""Most tokens two neighbouring windows share."""


@dataclass(frozen=True)
class Span:
    """The best span of one window: token indices (inclusive) and its probability."""

    start: int
    end: int
    score: float


def best_span(start_logits: Any, end_logits: Any, context_mask: Any, max_answer_length: int) -> Span:
    """The span maximising p(start) * p(end) over context tokens, ``end - start < max_answer_length``.

    Args:
        start_logits, end_logits: 1-D tensors over a window's tokens.
        context_mask: 1-D bool tensor, True on context tokens.
    """
    import torch

    neg = torch.finfo(torch.float32).min
    start = start_logits.float().masked_fill(~context_mask, neg).softmax(dim=-1)
    end = end_logits.float().masked_fill(~context_mask, neg).softmax(dim=-1)
    scores = start[:, None] * end[None, :]
    n = scores.shape[0]
    allowed = torch.ones(n, n, dtype=torch.bool, device=scores.device).triu().tril(max_answer_length - 1)
    allowed &= context_mask[:, None] & context_mask[None, :]
    scores = scores.masked_fill(~allowed, -1.0)
    flat = int(scores.argmax())
    return Span(flat // n, flat % n, float(scores.flatten()[flat]))


@register_processor(Capability.QUESTION_ANSWERING, architectures=("encoder_only", "decoder_only", "enc_dec"))
class QuestionAnsweringProcessor(HeadOrPromptProcessor):
    """Extractive question answering with a span head; general prompting without one.

    Config keys: ``max_answer_length`` (tokens), ``max_input_tokens`` (window length, default
    384), ``batch_size`` (questions per pass); by prompting: the generation keys.
    """

    head = "question-answering"

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Answer each question (extractive answers need a context)."""
        if self.has_head:
            for item in inputs:
                if not item.context:
                    raise MediaInputError(
                        f"Extractive question answering needs the passage to answer from: pass "
                        f"MediaInput.text(question, context=passage), got {item.describe()} without one."
                    )
        return super().process(inputs, config)

    def process_head(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Best span per question over its context windows."""
        items = [(item.as_text(), str(item.context)) for item in inputs]
        return run_batched(
            items,
            batch_size_for(self.loaded, config, self.requested_capability),
            lambda qc: len(qc[0]) + len(qc[1]),
            lambda batch: self._answer_batch(batch, config),
        )

    def _answer_batch(self, batch: list[tuple[str, str]], config: dict[str, Any]) -> list[ProcessResult]:
        tokenizer = self.tokenizer
        seq_len = max_input_tokens(self.loaded, config, default=DEFAULT_MAX_SEQ_LEN) or DEFAULT_MAX_SEQ_LEN
        question_tokens = max(len(tokenizer(q, add_special_tokens=False)["input_ids"]) for q, _ in batch)
        room = seq_len - question_tokens - tokenizer.num_special_tokens_to_add(pair=True)
        if room < 8:
            raise MediaInputError(
                f"A question of {question_tokens} tokens leaves no room for the context in a "
                f"{seq_len}-token window; shorten it or raise max_input_tokens."
            )
        stride = min(MAX_DOC_STRIDE, seq_len // 4, room // 2)
        encoded = tokenizer(
            [q for q, _ in batch],
            [c for _, c in batch],
            truncation="only_second",
            max_length=seq_len,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )
        windows_of = encoded.pop("overflow_to_sample_mapping").tolist()
        offsets = encoded.pop("offset_mapping").tolist()
        context_masks = [
            [sid == 1 for sid in encoded.sequence_ids(w)] for w in range(encoded["input_ids"].shape[0])
        ]
        outputs = self.model(**encoded.to(self.loaded.device))
        counts = encoded["attention_mask"].sum(dim=1).tolist()
        max_answer = int(config.get("max_answer_length") or 30)
        import torch

        best: dict[int, tuple[Span, int]] = {}
        tokens: dict[int, int] = {}
        for w, sample in enumerate(windows_of):
            tokens[sample] = tokens.get(sample, 0) + int(counts[w])
            mask = torch.tensor(context_masks[w], device=outputs.start_logits.device)
            span = best_span(outputs.start_logits[w], outputs.end_logits[w], mask, max_answer)
            if sample not in best or span.score > best[sample][0].score:
                best[sample] = (span, w)
        results: list[ProcessResult] = []
        for index, (_, context) in enumerate(batch):
            span, w = best[index]
            start_char, end_char = offsets[w][span.start][0], offsets[w][span.end][1]
            results.append(
                AnswerResult(
                    capability=self.requested_capability,
                    input_tokens=tokens[index],
                    processor=type(self).__name__,
                    extra={"windows": windows_of.count(index)},
                    text=context[start_char:end_char],
                    score=span.score,
                    start=start_char,
                    end=end_char,
                )
            )
        return results
