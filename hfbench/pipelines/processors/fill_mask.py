"""Fill-mask on encoders with a masked-language-model head.

Each input holds the model's mask token (``[MASK]`` for BERT, ``<mask>`` for RoBERTa; either
spelling is accepted and rewritten to the model's own). The result lists the ``top_labels``
most likely tokens for the first mask, with their probabilities and the filled ``sequence``;
further masks are filled with their best token in those sequences, and every mask's
candidates are in ``extra["masks"]``.
"""

from __future__ import annotations

from typing import Any

from hfbench.core.capability import Capability
from hfbench.core.errors import MediaInputError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import ClassificationResult, LabelScore, ProcessResult
from hfbench.pipelines.text_loading import batch_size_for, loaded_head, max_input_tokens, missing_head_error

MASK_SPELLINGS = ("[MASK]", "<mask>")


@register_processor(Capability.FILL_MASK, architectures=["encoder_only"])
class FillMaskProcessor(CapabilityProcessor):
    """Predict the masked token(s) of each input.

    Config keys: ``top_labels`` (candidates per mask, default 5), ``max_input_tokens``,
    ``batch_size``.
    """

    def _mask_token(self) -> str:
        if loaded_head(self.model) != "masked-lm":
            raise missing_head_error(
                self.loaded.model_name, "masked-lm", self.requested_capability, loaded_head(self.model)
            )
        mask = getattr(self.tokenizer, "mask_token", None)
        if not mask:
            raise MediaInputError(f"The tokenizer of {self.loaded.model_name} has no mask token.")
        return str(mask)

    def with_model_mask(self, text: str, mask: str) -> str:
        """The text with any common mask spelling replaced by the model's mask token.

        Raises:
            MediaInputError: the text holds no mask token.
        """
        for spelling in MASK_SPELLINGS:
            if spelling != mask:
                text = text.replace(spelling, mask)
        if mask not in text:
            raise MediaInputError(f"fill-mask needs a {mask} token in the input, got {text[:60]!r}.")
        return text

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """The top candidates for the mask(s) of every input, in input order."""
        mask = self._mask_token()
        texts = [self.with_model_mask(item.as_text(), mask) for item in inputs]
        return run_batched(
            texts,
            batch_size_for(self.loaded, config, self.requested_capability),
            len,
            lambda batch: self._fill(batch, config),
        )

    def _fill(self, texts: list[str], config: dict[str, Any]) -> list[ProcessResult]:
        limit = max_input_tokens(self.loaded, config)
        encoded = self.tokenizer(
            texts, padding=True, truncation=limit is not None, max_length=limit, return_tensors="pt"
        ).to(self.loaded.device)
        probs = self.model(**encoded).logits.float().softmax(dim=-1)
        top = int(config.get("top_labels") or 5)
        mask_id = self.tokenizer.mask_token_id
        results: list[ProcessResult] = []
        for row, text in enumerate(texts):
            ids = encoded["input_ids"][row]
            positions = (ids == mask_id).nonzero().flatten().tolist()
            if not positions:
                raise MediaInputError(
                    f"The mask of {text[:60]!r} was cut off by truncation to {limit} tokens; "
                    "raise max_input_tokens or shorten the text."
                )
            per_mask = []
            for pos in positions:
                values, indices = probs[row, pos].topk(top)
                per_mask.append(list(zip(indices.tolist(), values.tolist(), strict=True)))
            filled = ids.clone()
            for pos, candidates in zip(positions[1:], per_mask[1:], strict=True):
                filled[pos] = candidates[0][0]
            labels = []
            for token_id, score in per_mask[0]:
                filled[positions[0]] = token_id
                labels.append(
                    LabelScore(
                        label=self.tokenizer.decode([token_id]).strip(),
                        score=float(score),
                        sequence=self.tokenizer.decode(
                            filled[encoded["attention_mask"][row].bool()], skip_special_tokens=True
                        ),
                    )
                )
            results.append(
                ClassificationResult(
                    capability=self.requested_capability,
                    input_tokens=int(encoded["attention_mask"][row].sum()),
                    processor=type(self).__name__,
                    extra={
                        "masks": [
                            [
                                {"label": self.tokenizer.decode([t]).strip(), "score": float(s)}
                                for t, s in cands
                            ]
                            for cands in per_mask
                        ]
                    },
                    labels=labels,
                )
            )
        return results
