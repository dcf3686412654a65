"""Shared loading for the text architectures: the text heads, tokenizers, batch sizes.

The head of a checkpoint is chosen from the text head set of the head table (``TEXT_HEADS``,
``core/data/heads.toml``) by ``HeadLoader`` (``heads.py``): the checkpoint's own head
(``config.architectures``) when it serves the capability, else another head the checkpoint names,
else ``UnsupportedCapabilityError`` saying which head is missing (a randomly initialised task head
would give meaningless answers). Generative heads serve any text capability of their architecture
by prompting; a sequence classifier serves zero-shot classification only when it is an NLI model.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability, ModelCapabilities, ModelCapability
from hfbench.core.errors import UnsupportedCapabilityError
from hfbench.pipelines.batch_tuning import AUTO, BatchSizeTuner
from hfbench.pipelines.heads import (
    Checkpoint,
    Head,
    HeadLoader,
    default_head_of,
    head_for_class,
    head_named,
    heads_of,
    own_heads,
)
from hfbench.pipelines.loader import LoadedModel, load_pretrained

logger = logging.getLogger(__name__)

C = Capability
_EMBED = C.EMBEDDINGS.value  # every text head serves embeddings, through its base model
_TEXT_ARCHITECTURES = (
    ModelArchitecture.ENCODER_ONLY,
    ModelArchitecture.DECODER_ONLY,
    ModelArchitecture.ENCODER_DECODER,
)

TEXT_HEADS: tuple[Head, ...] = heads_of(ModelArchitecture.ENCODER_ONLY)
"""The text head set (the three text architectures share it), most specific first."""

CAUSAL_LM = head_named("causal-lm")
SEQ2SEQ_LM = head_named("seq2seq-lm")
MASKED_LM = head_named("masked-lm")
SEQUENCE_CLASSIFICATION = head_named("sequence-classification")
QUESTION_ANSWERING = head_named("question-answering")
BASE = head_named("text-base")  # BertModel, Qwen2Model ...: embeddings only
_BY_KIND = {head.kind: head for head in TEXT_HEADS}

DEFAULT_HEAD: dict[ModelArchitecture, Head] = {arch: default_head_of(arch) for arch in _TEXT_ARCHITECTURES}
"""The head of a checkpoint whose config names no class."""

DEFAULT_BATCH_SIZE: dict[ModelArchitecture, int] = {
    ModelArchitecture.ENCODER_ONLY: 32,
    ModelArchitecture.ENCODER_DECODER: 16,
    ModelArchitecture.DECODER_ONLY: 8,
}
"""Inputs per forward pass when the config sets no ``batch_size``: encoders run one pass per batch;
generative models keep a KV cache per row for every generated token, so they take fewer."""


def head_of_class(class_name: str) -> str:
    """The text head kind of a model class name (``BertForMaskedLM`` -> ``masked-lm``; else ``base``)."""
    return (head_for_class(class_name, TEXT_HEADS) or BASE).kind


def checkpoint_heads(hf_config: Any, architecture: ModelArchitecture) -> list[str]:
    """The head kinds a checkpoint was saved with (from ``config.architectures``), in its order."""
    return [h.kind for h in own_heads(hf_config, TEXT_HEADS)] or [DEFAULT_HEAD[architecture].kind]


def loaded_head(model: Any) -> str:
    """The head kind of a loaded model."""
    return head_of_class(type(model).__name__)


def is_generative_head(kind: str) -> bool:
    """Whether the head generates text (and so serves any text capability by prompting)."""
    return _BY_KIND.get(kind, BASE).prompted


def head_serves(architecture: ModelArchitecture, kind: str, capability: str) -> bool:
    """Whether a model of ``architecture`` with the ``kind`` head can serve ``capability``."""
    return capability in ModelCapabilities(architecture) and _BY_KIND.get(kind, BASE).serves(capability)


def head_needed_for(capability: str) -> Head | None:
    """The task head a capability needs when the model cannot prompt it (None: no task head serves
    it, or, for embeddings, every head does)."""
    if capability == _EMBED:
        return None
    return next((h for h in TEXT_HEADS if not h.prompted and capability in h.capabilities), None)


def is_nli_model(hf_config: Any) -> bool:
    """Whether a sequence classifier's labels include ``entailment`` (an NLI model)."""
    labels = getattr(hf_config, "id2label", None) or {}
    return any(str(name).lower().startswith("entail") for name in labels.values())


def prompting_architectures(capability: str) -> list[ModelArchitecture]:
    """The architectures that serve ``capability`` by prompting: their default head generates text
    and their priors list the capability (decoders and encoder-decoders; never fill-mask)."""
    return [
        arch
        for arch in ModelArchitecture
        if default_head_of(arch).prompted and capability in ModelCapabilities(arch)
    ]


def _prompting_advice(capability: str) -> str:
    """``, or use a decoder_only or enc_dec model, ...`` where prompting serves ``capability``."""
    archs = prompting_architectures(capability)
    if not archs:
        return ""
    return f", or use a {' or '.join(a.value for a in archs)} model, which serves it via general prompting"


def missing_head_error(model_name: str, head: str, capability: str, have: str) -> UnsupportedCapabilityError:
    """The error for a capability whose ``head`` (a kind) the checkpoint lacks, saying what to do instead.

    Args:
        model_name: the model, as the user named it.
        head: the kind of the head the capability needs (``masked-lm``).
        capability: the canonical capability asked for.
        have: the kind of the checkpoint's head (``base``).
    """
    needed = _BY_KIND.get(head)
    have_head = _BY_KIND.get(have)
    where = f" (a class ending in {needed.suffixes[0]})" if needed is not None and needed.suffixes else ""
    # A missing task head can be replaced by prompting a generator; a missing generator cannot.
    instead = "" if needed is not None and needed.prompted else _prompting_advice(capability)
    return UnsupportedCapabilityError(
        f"{model_name} cannot serve {capability!r}: the checkpoint has no {head} head (it has a "
        f"{have} head{': ' + have_head.describe() if have_head is not None else ''}). Fine-tune "
        f"one or pick a checkpoint that has it{where}{instead}."
    )


def not_nli_error(model_name: str, hf_config: Any) -> UnsupportedCapabilityError:
    """The error for zero-shot classification on a classifier without an 'entailment' label."""
    names = ", ".join(str(v) for v in (getattr(hf_config, "id2label", None) or {}).values())
    return UnsupportedCapabilityError(
        f"{model_name} is a classifier with labels ({names}), not an NLI model: "
        "zero-shot classification needs an 'entailment' label (an MNLI/XNLI fine-tune)"
        f"{_prompting_advice(C.ZERO_SHOT_CLASSIFICATION.value)}."
    )


class TextModelLoader(HeadLoader):
    """Loader shared by the text architectures: ``TEXT_HEADS``, the tokenizer and its padding side.

    The checkpoint's own head is loaded when it serves the capability (a masked-LM BERT serves
    embeddings through its base model, so one load serves both).
    """

    architecture: ClassVar[ModelArchitecture]
    padding_side: ClassVar[str] = "right"

    def no_head_error(self, hf_config: Any, capability: str, model_name: str) -> UnsupportedCapabilityError:
        """Name the head the checkpoint lacks for ``capability`` and what to do instead."""
        have = checkpoint_heads(hf_config, self.architecture)
        needed = head_needed_for(capability)
        if needed is None:
            return UnsupportedCapabilityError(
                f"A {self.architecture.value} checkpoint ({', '.join(have)}) cannot serve {capability!r}."
            )
        return missing_head_error(model_name, needed.kind, capability, have[0])

    def serves(self, checkpoint: Checkpoint, head: Head, capability: str) -> bool:
        """A sequence classifier serves zero-shot classification only when it is an NLI model."""
        serves = head_serves(self.architecture, head.kind, capability)
        if capability == C.ZERO_SHOT_CLASSIFICATION.value and not head.prompted:
            return serves and is_nli_model(checkpoint.hf_config)
        return serves

    def refine(self, checkpoint: Checkpoint, capabilities: ModelCapabilities) -> None:
        """Drop what the checkpoint's head cannot serve; mark head-backed capabilities.

        A head-backed capability gets ``requires_finetuning=False`` and ``evidence["head"]`` set
        to the model class (e.g. ``BertForSequenceClassification``); a generative head records
        whether the tokenizer has a chat template (when that is known).
        """
        super().refine(checkpoint, capabilities)
        head = self.checkpoint_head(checkpoint)
        if head is None:
            return
        for cap in list(capabilities):
            if not head.prompted and cap.name in head.capabilities and cap.name != _EMBED:
                capabilities.add(
                    ModelCapability(
                        name=cap.name,
                        confidence=cap.confidence,
                        requires_finetuning=False,
                        parameters=dict(cap.parameters),
                        evidence={"head": checkpoint.model_class or head.kind},
                    )
                )
        if head.prompted and C.CHAT.value in capabilities and checkpoint.chat_template is not None:
            chat = capabilities.get(C.CHAT.value)
            chat.evidence = {**chat.evidence, "chat_template": checkpoint.chat_template}

    def unservable_error(
        self, loaded: LoadedModel, capability: str, capabilities: ModelCapabilities
    ) -> UnsupportedCapabilityError:
        """Name the missing head and what to do instead, where a head is what is missing."""
        head = loaded_head(loaded.model)
        if capability == C.ZERO_SHOT_CLASSIFICATION.value and head == SEQUENCE_CLASSIFICATION.kind:
            return not_nli_error(loaded.model_name, loaded.hf_config)
        needed = head_needed_for(capability)
        if needed is None and not is_generative_head(head):
            needed = SEQ2SEQ_LM if getattr(loaded.hf_config, "is_encoder_decoder", False) else CAUSAL_LM
        if needed is None:
            return super().unservable_error(loaded, capability, capabilities)
        return missing_head_error(loaded.model_name, needed.kind, capability, head)

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """The tokenizer, with this architecture's padding side (and a pad token if it has none)."""
        tokenizer = load_pretrained("tokenizer", "AutoTokenizer", model_name, config)
        tokenizer.padding_side = self.padding_side
        if tokenizer.pad_token is None:
            fallback = tokenizer.eos_token or tokenizer.sep_token or tokenizer.unk_token
            if fallback is not None:
                tokenizer.pad_token = fallback
        return tokenizer, None


def has_chat_template(tokenizer: Any) -> bool:
    """Whether a tokenizer carries a chat template."""
    return bool(getattr(tokenizer, "chat_template", None))


def architecture_of(loaded: LoadedModel) -> ModelArchitecture:
    """The text architecture of a loaded model (encoder-decoder, decoder or encoder)."""
    config = loaded.hf_config
    if getattr(config, "is_encoder_decoder", False):
        return ModelArchitecture.ENCODER_DECODER
    if loaded_head(loaded.model) == CAUSAL_LM.kind:
        return ModelArchitecture.DECODER_ONLY
    from hfbench.sources.configs import detect_architecture

    try:
        arch = detect_architecture(config)
    except Exception:  # detection is best effort here; an encoder is the safe default
        return ModelArchitecture.ENCODER_ONLY
    return arch if arch in DEFAULT_BATCH_SIZE else ModelArchitecture.ENCODER_ONLY


def batch_size_for(loaded: LoadedModel, config: Mapping[str, Any], capability: str) -> int | BatchSizeTuner:
    """``batch_size`` from the config, else the architecture's default; for ``"auto"``, the tuner
    that sizes the call's batches (``batch_tuning``), keyed by the model and ``capability``.

    The result goes to ``batching.run_batched``, which takes either.
    """
    value = config.get("batch_size")
    if value == AUTO:
        return BatchSizeTuner.for_model(loaded, capability)
    return int(value) if value is not None else DEFAULT_BATCH_SIZE[architecture_of(loaded)]


def max_input_tokens(
    loaded: LoadedModel, config: Mapping[str, Any], default: int | None = None
) -> int | None:
    """How many tokens an input may have: ``max_input_tokens``, else the model's limit (or ``default``).

    The model's limit is the smaller of the tokenizer's ``model_max_length`` (ignored when it is
    the "unset" huge value) and the config's ``max_position_embeddings``.
    """
    if config.get("max_input_tokens") is not None:
        return int(config["max_input_tokens"])
    limits = []
    tok_limit = getattr(loaded.tokenizer, "model_max_length", None)
    if isinstance(tok_limit, int) and tok_limit < 1_000_000:
        limits.append(tok_limit)
    positions = getattr(loaded.hf_config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    if default is not None:
        limits.append(default)
    return min(limits) if limits else None


def log_once(logger_: logging.Logger, seen: set[str], key: str, message: str, *args: Any) -> None:
    """Log ``message`` at INFO the first time ``key`` is seen in ``seen``."""
    if key not in seen:
        seen.add(key)
        logger_.info(message, *args)
