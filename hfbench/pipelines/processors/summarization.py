"""Summarization on encoder-decoder models (T5 with its ``summarize:`` prefix, BART/Pegasus plain).

Decoder-only models summarize through general prompting (``GeneralProcessor``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hfbench.core.capability import Capability
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processors.text_generation import GenerativeProcessor, RenderedPrompt
from hfbench.pipelines.registry import register_processor

T5_LIKE = frozenset({"t5", "mt5", "umt5", "longt5", "switch_transformers"})
"""Model types trained with T5's text-to-text task prefixes."""


def task_prefix(hf_config: Any, task: str) -> str | None:
    """The prefix a checkpoint declares for ``task`` in ``task_specific_params`` (None if none)."""
    params = getattr(hf_config, "task_specific_params", None) or {}
    entry = params.get(task) or {}
    prefix = entry.get("prefix") if isinstance(entry, dict) else None
    return str(prefix) if prefix else None


def is_t5_like(hf_config: Any) -> bool:
    """Whether the model expects T5-style task prefixes."""
    return getattr(hf_config, "model_type", "") in T5_LIKE


@register_processor(Capability.SUMMARIZATION, architectures=["enc_dec"])
class SummarizationProcessor(GenerativeProcessor):
    """Summarize with a sequence-to-sequence model.

    The prompt is the text, after the checkpoint's own summarization prefix
    (``task_specific_params``), else ``"summarize: "`` for T5-like models, else nothing
    (BART, Pegasus). ``min_length``/``max_length`` bound the summary in new tokens.

    Config keys: ``min_length``, ``max_length``, the sampling keys, ``num_beams``,
    ``repetition_penalty``, ``stop``, ``seed``, ``max_input_tokens``, ``batch_size``.
    """

    max_new_tokens_key = "max_length"

    @property
    def prefix(self) -> str:
        """The text put before every input."""
        declared = task_prefix(self.loaded.hf_config, "summarization")
        if declared is not None:
            return declared
        return "summarize: " if is_t5_like(self.loaded.hf_config) else ""

    def render(self, item: MediaInput, config: Mapping[str, Any]) -> RenderedPrompt:
        """Prefix + text."""
        return RenderedPrompt(self.prefix + item.as_text())
