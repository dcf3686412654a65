"""Shared loading for the text architectures: checkpoint heads, the Auto class per capability.

A checkpoint's *head* is read from ``config.architectures`` (``BertForMaskedLM`` -> ``masked-lm``).
Each text architecture has a table of which capabilities each head serves; the loader picks
the Auto class from it, and ``refine_capabilities`` drops what the loaded head cannot serve.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability, ModelCapabilities, ModelCapability, canonical_capability
from hfbench.core.errors import UnsupportedCapabilityError
from hfbench.core.model_source import resolve_model_source
from hfbench.pipelines.base import LoadedModel, ModelLoader, hub_kwargs
from hfbench.pipelines.loading import call_transformers

logger = logging.getLogger(__name__)

C = Capability

# Class-name endings -> head kind, most specific first.
_HEAD_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ForMaskedLM", "masked-lm"),
    ("ForSequenceClassification", "sequence-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForTokenClassification", "token-classification"),
    ("ForMultipleChoice", "multiple-choice"),
    ("ForPreTraining", "pretraining"),
    ("ForCausalLM", "causal-lm"),
    ("LMHeadModel", "causal-lm"),
    ("ForSeq2SeqLM", "seq2seq-lm"),
    ("ForConditionalGeneration", "seq2seq-lm"),
)

HEAD_DESCRIPTIONS: dict[str, str] = {
    "masked-lm": "masked-language-model (fill-mask)",
    "sequence-classification": "sequence-classification",
    "question-answering": "extractive question-answering (start/end span)",
    "token-classification": "token-classification",
    "multiple-choice": "multiple-choice",
    "pretraining": "pre-training",
    "causal-lm": "causal language-model (generation)",
    "seq2seq-lm": "sequence-to-sequence generation",
    "base": "task (bare encoder)",
}

AUTO_CLASS_FOR_HEAD: dict[str, str] = {
    "masked-lm": "AutoModelForMaskedLM",
    "sequence-classification": "AutoModelForSequenceClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "token-classification": "AutoModelForTokenClassification",
    "multiple-choice": "AutoModelForMultipleChoice",
    "pretraining": "AutoModelForPreTraining",
    "causal-lm": "AutoModelForCausalLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
    "base": "AutoModel",
}

# Heads whose checkpoints carry weights trained for the task (capabilities "head-backed").
TASK_HEADS = frozenset({"masked-lm", "sequence-classification", "question-answering"})

# Capabilities a generative head serves beyond these: any text capability, by prompting.
_GENERATIVE = frozenset({"causal-lm", "seq2seq-lm"})
_EVERY_HEAD_SERVES = frozenset({C.EMBEDDINGS.value})

# Which capabilities each head serves, per architecture (embeddings: every head, via its base model).
_SERVES: dict[ModelArchitecture, dict[str, frozenset[str]]] = {
    ModelArchitecture.ENCODER_ONLY: {
        "masked-lm": frozenset({C.FILL_MASK.value}),
        "sequence-classification": frozenset({C.TEXT_CLASSIFICATION.value, C.ZERO_SHOT_CLASSIFICATION.value}),
        "question-answering": frozenset({C.QUESTION_ANSWERING.value}),
    },
    ModelArchitecture.DECODER_ONLY: {
        "sequence-classification": frozenset({C.TEXT_CLASSIFICATION.value, C.ZERO_SHOT_CLASSIFICATION.value}),
        "question-answering": frozenset({C.QUESTION_ANSWERING.value}),
    },
    ModelArchitecture.ENCODER_DECODER: {
        "sequence-classification": frozenset({C.TEXT_CLASSIFICATION.value, C.ZERO_SHOT_CLASSIFICATION.value}),
        "question-answering": frozenset({C.QUESTION_ANSWERING.value}),
    },
}

# The head to load for a capability when the checkpoint's own head does not serve it.
_HEAD_FOR_CAPABILITY: dict[str, str] = {
    C.FILL_MASK.value: "masked-lm",
    C.TEXT_CLASSIFICATION.value: "sequence-classification",
    C.ZERO_SHOT_CLASSIFICATION.value: "sequence-classification",
    C.QUESTION_ANSWERING.value: "question-answering",
}

_DEFAULT_HEAD: dict[ModelArchitecture, str] = {
    ModelArchitecture.ENCODER_ONLY: "base",
    ModelArchitecture.DECODER_ONLY: "causal-lm",
    ModelArchitecture.ENCODER_DECODER: "seq2seq-lm",
}

DEFAULT_BATCH_SIZE: dict[ModelArchitecture, int] = {
    ModelArchitecture.ENCODER_ONLY: 32,
    ModelArchitecture.ENCODER_DECODER: 16,
    ModelArchitecture.DECODER_ONLY: 8,
}
"""Inputs per forward pass when the config sets no ``batch_size``: encoders run one pass per batch;
generative models keep a KV cache per row for every generated token, so they take fewer."""


def head_of_class(class_name: str) -> str:
    """The head kind of a model class name (``BertForMaskedLM`` -> ``masked-lm``; bare -> ``base``)."""
    for suffix, head in _HEAD_SUFFIXES:
        if class_name.endswith(suffix):
            return head
    return "base"


def checkpoint_heads(hf_config: Any, architecture: ModelArchitecture) -> list[str]:
    """The heads a checkpoint was saved with (from ``config.architectures``), in its order."""
    names = list(getattr(hf_config, "architectures", None) or [])
    heads = [head_of_class(str(name)) for name in names]
    return heads or [_DEFAULT_HEAD[architecture]]


def loaded_head(model: Any) -> str:
    """The head kind of a loaded model."""
    return head_of_class(type(model).__name__)


def is_generative_head(head: str) -> bool:
    """Whether the head generates text (and so serves any text capability by prompting)."""
    return head in _GENERATIVE


def head_serves(architecture: ModelArchitecture, head: str, capability: str) -> bool:
    """Whether a model of ``architecture`` with ``head`` can serve ``capability``."""
    if capability in _EVERY_HEAD_SERVES or is_generative_head(head):
        return True
    return capability in _SERVES[architecture].get(head, frozenset())


def is_nli_model(hf_config: Any) -> bool:
    """Whether a sequence classifier's labels include ``entailment`` (an NLI model)."""
    labels = getattr(hf_config, "id2label", None) or {}
    return any(str(name).lower().startswith("entail") for name in labels.values())


def missing_head_error(model_name: str, head: str, capability: str, have: str) -> UnsupportedCapabilityError:
    """The error for a capability whose head the checkpoint lacks, saying what to do instead."""
    return UnsupportedCapabilityError(
        f"{model_name} cannot serve {capability!r}: the checkpoint has no {head} head "
        f"(its head: {HEAD_DESCRIPTIONS.get(have, have)}). Fine-tune one or pick a checkpoint "
        "that has it, or use a decoder / encoder-decoder model, which serves it via general prompting."
    )


def not_nli_error(model_name: str, hf_config: Any) -> UnsupportedCapabilityError:
    """The error for zero-shot classification on a classifier without an 'entailment' label."""
    names = ", ".join(str(v) for v in (getattr(hf_config, "id2label", None) or {}).values())
    return UnsupportedCapabilityError(
        f"{model_name} is a classifier with labels ({names}), not an NLI model: "
        "zero-shot classification needs an 'entailment' label (an MNLI/XNLI fine-tune), or "
        "use a decoder model, which serves it via general prompting."
    )


class TextModelLoader(ModelLoader):
    """Loader shared by the text architectures: the Auto class from the checkpoint head and capability.

    Rule: the checkpoint's own head is loaded when it serves the capability (a masked-LM BERT
    serves embeddings through its base model, so one load serves both); otherwise the head the
    capability needs is loaded if the checkpoint has its weights, else ``UnsupportedCapabilityError``
    (a randomly initialised task head would give meaningless answers).
    """

    architecture: ClassVar[ModelArchitecture]
    padding_side: ClassVar[str] = "right"

    def choose_head(self, hf_config: Any, capability: str | None, model_name: str = "this model") -> str:
        """The head to load for ``capability`` (``None``: the checkpoint's own)."""
        heads = checkpoint_heads(hf_config, self.architecture)
        if capability is None:
            return heads[0]
        cap = canonical_capability(capability)
        for head in heads:
            if head_serves(self.architecture, head, cap):
                return head
        needed = _HEAD_FOR_CAPABILITY.get(cap)
        if needed is None:
            raise UnsupportedCapabilityError(
                f"A {self.architecture.value} checkpoint ({', '.join(heads)}) cannot serve {cap!r}."
            )
        raise missing_head_error(model_name, needed, cap, heads[0])

    def auto_class_for(self, hf_config: Any, capability: str | None) -> Any:
        """The ``transformers`` Auto class for the chosen head."""
        import transformers

        head = self.choose_head(hf_config, capability)
        return getattr(transformers, AUTO_CLASS_FOR_HEAD[head])

    def load_model(self, model_name: str, config: Mapping[str, Any], capability: str | None = None) -> Any:
        """Load the model; a capability whose head is missing fails before any weights are read."""
        if capability is not None:
            self.choose_head(self.load_config(model_name, config), capability, model_name)
        return super().load_model(model_name, config, capability)

    def unservable_error(
        self, loaded: LoadedModel, capability: str, capabilities: ModelCapabilities
    ) -> UnsupportedCapabilityError:
        """Name the missing head and what to do instead, where a head is what is missing."""
        head = loaded_head(loaded.model)
        if capability == C.ZERO_SHOT_CLASSIFICATION.value and head == "sequence-classification":
            return not_nli_error(loaded.model_name, loaded.hf_config)
        needed = _HEAD_FOR_CAPABILITY.get(capability)
        if needed is None and not is_generative_head(head):
            needed = "seq2seq-lm" if getattr(loaded.hf_config, "is_encoder_decoder", False) else "causal-lm"
        if needed is None:
            return super().unservable_error(loaded, capability, capabilities)
        return missing_head_error(loaded.model_name, needed, capability, head)

    def load_processor(self, model_name: str, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """The tokenizer, with this architecture's padding side (and a pad token if it has none)."""
        from transformers import AutoTokenizer

        source = resolve_model_source(model_name)
        kwargs = hub_kwargs(config)
        tokenizer = call_transformers(
            "tokenizer", model_name, lambda: AutoTokenizer.from_pretrained(source, **kwargs)
        )
        tokenizer.padding_side = self.padding_side
        if tokenizer.pad_token is None:
            fallback = tokenizer.eos_token or tokenizer.sep_token or tokenizer.unk_token
            if fallback is not None:
                tokenizer.pad_token = fallback
        return tokenizer, None

    def refine_capabilities(self, loaded: LoadedModel, capabilities: ModelCapabilities) -> None:
        """Drop what the loaded head cannot serve; mark head-backed capabilities.

        A head-backed capability gets ``requires_finetuning=False`` and ``evidence["head"]`` set
        to the model class (e.g. ``BertForSequenceClassification``).
        """
        head = loaded_head(loaded.model)
        nli = is_nli_model(loaded.hf_config)
        for cap in list(capabilities):
            name = cap.name
            serves = head_serves(self.architecture, head, name)
            if name == C.ZERO_SHOT_CLASSIFICATION.value and head == "sequence-classification":
                serves = nli
            if not serves:
                capabilities.remove(name)
            elif head in TASK_HEADS and name != C.EMBEDDINGS.value:
                capabilities.add(
                    ModelCapability(
                        name=name,
                        confidence=cap.confidence,
                        requires_finetuning=False,
                        parameters=dict(cap.parameters),
                        evidence={"head": type(loaded.model).__name__},
                    )
                )
        if is_generative_head(head) and C.CHAT.value in capabilities:
            chat = capabilities.get(C.CHAT.value)
            chat.evidence = {**chat.evidence, "chat_template": has_chat_template(loaded.tokenizer)}


def has_chat_template(tokenizer: Any) -> bool:
    """Whether a tokenizer carries a chat template."""
    return bool(getattr(tokenizer, "chat_template", None))


def architecture_of(loaded: LoadedModel) -> ModelArchitecture:
    """The text architecture of a loaded model (encoder-decoder, decoder or encoder)."""
    config = loaded.hf_config
    if getattr(config, "is_encoder_decoder", False):
        return ModelArchitecture.ENCODER_DECODER
    if loaded_head(loaded.model) == "causal-lm":
        return ModelArchitecture.DECODER_ONLY
    from hfbench.core.architecture import detect_architecture

    try:
        arch = detect_architecture(config)
    except Exception:  # detection is best effort here; an encoder is the safe default
        return ModelArchitecture.ENCODER_ONLY
    return arch if arch in DEFAULT_BATCH_SIZE else ModelArchitecture.ENCODER_ONLY


def batch_size_for(loaded: LoadedModel, config: Mapping[str, Any]) -> int:
    """``batch_size`` from the config, else the architecture's default."""
    value = config.get("batch_size")
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
