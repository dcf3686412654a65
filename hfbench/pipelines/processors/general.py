"""General prompting: any text capability without a dedicated processor, as an instruction prompt.

On decoder-only and encoder-decoder models, a capability such as summarization (on a decoder),
question answering or sentiment classification runs as the instruction from
``pipelines/data/prompts.toml`` (through the chat template when the tokenizer has one). For
classification capabilities the answer is parsed back to one of the ``labels``.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from hfbench.core.capability import Capability, capability_specs, is_classification, is_length_keyed
from hfbench.core.errors import ConfigError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.languages import language_names
from hfbench.pipelines.loader import LoadedModel
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.processors.prompts import PromptTemplate, check_template, format_template, prompt_for
from hfbench.pipelines.processors.text_generation import (
    Generated,
    GenerativeProcessor,
    RenderedPrompt,
    chat_prompt,
    stop_list,
)
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import ClassificationResult, LabelScore, ProcessResult, TextResult
from hfbench.pipelines.text_loading import (
    batch_size_for,
    has_chat_template,
    is_generative_head,
    loaded_head,
    max_input_tokens,
    missing_head_error,
)

logger = logging.getLogger(__name__)

C = Capability
# Inputs with no content, whose label probabilities measure a model's bias (calibration).
CONTENT_FREE_INPUTS = ("N/A", "")
# The yes/no question of multi-label classification, for templates that give none.
PER_LABEL_INSTRUCTION = 'Does the label "{label}" apply to the text? Reply with yes or no.\n\nText: {text}'


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def parse_labels(answer: str, labels: Sequence[str], *, multi_label: bool = False) -> list[str]:
    """The labels a generated answer names, best first (empty when it names none).

    An exact answer wins; otherwise labels found as whole words, in the order they appear
    (a longer label before one it contains); otherwise a close spelling of the answer's first
    line. ``multi_label`` returns every label found, else only the first.
    """
    answer_norm = _normalise(answer)
    if not answer_norm:
        return []
    by_norm = {_normalise(label): label for label in labels}
    if answer_norm in by_norm:
        return [by_norm[answer_norm]]
    hits: list[tuple[int, int, str]] = []
    for norm, label in by_norm.items():
        if norm:
            hits += [(m.start(), m.end(), label) for m in re.finditer(rf"\b{re.escape(norm)}\b", answer_norm)]
    # Earliest first, the longer of two at one place; a label inside another's match does not count.
    taken: list[tuple[int, int]] = []
    found: list[str] = []
    for start, end, label in sorted(hits, key=lambda h: (h[0], h[0] - h[1])):
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        if label not in found:
            found.append(label)
    if found:
        return found if multi_label else found[:1]
    first_line = _normalise(answer.strip().splitlines()[0]) if answer.strip() else ""
    close = difflib.get_close_matches(first_line, list(by_norm), n=1, cutoff=0.75)
    return [by_norm[close[0]]] if close else []


def ranked(scores: Sequence[float], names: Sequence[str], top: int | None) -> list[LabelScore]:
    """Labels with their scores, best first, at most ``top`` of them."""
    order = sorted(range(len(names)), key=lambda i: -scores[i])
    if top is not None:
        order = order[:top]
    return [LabelScore(names[i], float(scores[i])) for i in order]


@register_processor(Capability.GENERAL, architectures=("decoder_only", "enc_dec"))
class GeneralProcessor(GenerativeProcessor):
    """Run a text capability as an instruction prompt on a generative model.

    Used for ``general`` itself (the input is the prompt) and, on decoder-only and
    encoder-decoder models, for every text capability without a dedicated processor. The
    template comes from ``prompts.toml`` (or the ``prompt_template`` key); chat models get it
    as the user message of their chat template, base models as a raw prompt ending with an
    answer cue such as ``Summary:``.

    Config keys: the generation keys of text-generation, ``system_prompt``, ``prompt_template``;
    ``labels`` and ``multi_label`` (classification), ``src_lang``/``tgt_lang`` (translation),
    ``min_length``/``max_length`` (summarization and translation bound the output by these).
    """

    announce = True
    """Log that the capability runs as a prompt (subclasses with their own logic turn it off)."""

    def __init__(self, loaded: LoadedModel, capability: str | None = None) -> None:
        super().__init__(loaded, capability)
        self.template: PromptTemplate = prompt_for(self.requested_capability)
        if is_length_keyed(self.requested_capability):
            self.max_new_tokens_key = "max_length"
        if self.announce and self.requested_capability != C.GENERAL.value:
            logger.info(
                "%s has no dedicated %s processor; running it as an instruction prompt "
                "(GeneralProcessor, template %r).",
                loaded.model_name,
                self.requested_capability,
                self.template.name,
            )

    @property
    def is_classification(self) -> bool:
        """Whether the answer is parsed back to labels."""
        return is_classification(self.requested_capability)

    @property
    def needs_target_language(self) -> bool:
        """Whether the capability needs ``tgt_lang`` (translation does)."""
        return self.requested_capability == C.TRANSLATION.value

    @property
    def uses_chat_template(self) -> bool:
        """Chat models (decoders with a chat template) get the instruction as a user message."""
        return not self.is_encoder_decoder and has_chat_template(self.tokenizer)

    def prepare_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check the keys the template needs; cap ``max_tokens`` for short answers.

        Raises:
            ConfigError: a classification without ``labels``, or an invalid ``prompt_template``.
        """
        run = dict(config)
        if self.is_classification and not run.get("labels"):
            raise ConfigError(
                f"{self.requested_capability} by prompting needs candidate labels: pass "
                "labels=['positive', 'negative'] (per call or in the capability's config).",
                key_path="labels",
            )
        if run.get("prompt_template"):
            check_template(run["prompt_template"], where="prompt_template")
        if self.needs_target_language and not run.get("tgt_lang"):
            raise ConfigError(
                "translation needs the target language: pass tgt_lang='fr' (a code or a name, "
                "per call or in the capability's config).",
                key_path="tgt_lang",
            )
        languages = language_names(run)  # an unknown language fails here, before anything runs
        if self.template.max_tokens is not None and self.max_new_tokens_key == "max_tokens":
            run["max_tokens"] = min(
                int(run.get("max_tokens") or self.template.max_tokens), self.template.max_tokens
            )
        if not self.uses_chat_template and not run.get("prompt_template"):
            # A base model continues the pattern: stop where it starts the next example.
            run["stop"] = [*stop_list(run.get("stop")), *self.template.stop_sequences(languages)]
        return run

    def extra_generate_kwargs(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """On base models, a single-paragraph answer ends at its first blank line."""
        if self.uses_chat_template or not self.template.single_paragraph or config.get("prompt_template"):
            return {}
        from hfbench.pipelines.generation import paragraph_end_criteria

        return {"stopping_criteria": paragraph_end_criteria(self.tokenizer)}

    def fields(self, item: MediaInput, config: Mapping[str, Any]) -> dict[str, str]:
        """The placeholder values for one input."""
        spec = capability_specs().get(self.requested_capability)
        return {
            "text": item.as_text(),
            "context": item.context or "",
            "labels": ", ".join(config.get("labels") or []),
            "description": (spec.description if spec else "") or self.requested_capability,
            **language_names(config),
        }

    def render(self, item: MediaInput, config: Mapping[str, Any]) -> RenderedPrompt:
        """The instruction for one input, chat-templated for chat models."""
        chat = self.uses_chat_template
        prompt = self.template.render(
            self.fields(item, config),
            chat=chat,
            has_context=bool(item.context),
            multi_label=bool(config.get("multi_label")),
            instruction=config.get("prompt_template"),
        )
        system_prompt = config.get("system_prompt")
        if chat:
            return RenderedPrompt(chat_prompt(self.tokenizer, prompt, system_prompt), False)
        return RenderedPrompt(f"{system_prompt}\n\n{prompt}" if system_prompt else prompt)

    def make_result(self, item: MediaInput, generated: Generated, config: Mapping[str, Any]) -> ProcessResult:
        """A ``ClassificationResult`` (parsed labels) for classifications, else a ``TextResult``."""
        extra: dict[str, Any] = {"finish_reason": generated.finish_reason, "template": self.template.name}
        if not self.is_classification:
            text = generated.text
            if not self.uses_chat_template and self.requested_capability != C.GENERAL.value:
                text = self.template.clean_answer(text, language_names(config))
                if self.template.single_paragraph and re.search(r"\n\s*\n", generated.text.strip()):
                    extra["finish_reason"] = "stop"  # ended at the paragraph's end
            return TextResult(
                capability=self.requested_capability,
                input_tokens=generated.input_tokens,
                output_tokens=generated.output_tokens,
                processor=type(self).__name__,
                extra=extra,
                text=text,
                timing=generated.timing,
            )
        labels = list(config.get("labels") or [])
        multi = (
            bool(config.get("multi_label")) and self.requested_capability == C.ZERO_SHOT_CLASSIFICATION.value
        )
        found = parse_labels(generated.text, labels, multi_label=multi)
        if not found:
            logger.info("Could not match the answer %r to any of the labels %s.", generated.text[:80], labels)
        scores = [LabelScore(label, 1.0) for label in found]
        scores += [LabelScore(label, 0.0) for label in labels if label not in found] if found else []
        return ClassificationResult(
            capability=self.requested_capability,
            input_tokens=generated.input_tokens,
            output_tokens=generated.output_tokens,
            processor=type(self).__name__,
            extra={**extra, "answer": generated.text, "parsed": bool(found)},
            labels=scores,
        )

    # ---- classification by label likelihood ------------------------------------------------
    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Generate an answer per input; single-label classifications are scored instead.

        A classification with ``multi_label`` generates and parses the answer (several labels
        may apply); one without ranks the labels by their likelihood as the answer
        (``label_probabilities``), calibrated against a content-free input.
        """
        if not self.is_classification:
            return super().process(inputs, config)
        run = self.prepare_config(config)
        self.require_generative_head()
        multi = bool(run.get("multi_label")) and self.requested_capability == C.ZERO_SHOT_CLASSIFICATION.value
        if multi:
            return self.process_per_label(inputs, run)
        labels = list(run["labels"])
        # Contextual calibration (Zhao et al., 2021): small models favour some labels whatever
        # the text; dividing by the probabilities given a content-free input removes that bias.
        neutral = [self.render(MediaInput.text(text), run) for text in CONTENT_FREE_INPUTS]
        prior = [
            sum(col) / len(neutral)
            for col in zip(*(p for p, _ in self.label_probabilities(neutral, labels, run)), strict=True)
        ]
        prompts = [self.render(item, run) for item in inputs]
        scored = run_batched(
            prompts,
            batch_size_for(self.loaded, run, self.requested_capability),
            lambda p: len(p.text),
            lambda batch: self.label_probabilities(batch, labels, run),
        )
        results: list[ProcessResult] = []
        for probs, n_in in scored:
            weights = [p / max(q, 1e-12) for p, q in zip(probs, prior, strict=True)]
            total = sum(weights)
            results.append(
                ClassificationResult(
                    capability=self.requested_capability,
                    input_tokens=n_in,
                    processor=type(self).__name__,
                    extra={
                        "method": "likelihood",
                        "template": self.template.name,
                        "uncalibrated": dict(zip(labels, probs, strict=True)),
                    },
                    labels=ranked([w / total for w in weights], labels, run.get("top_labels")),
                )
            )
        return results

    def per_label_prompt(self, item: MediaInput, label: str, config: Mapping[str, Any]) -> RenderedPrompt:
        """The yes/no question whether ``label`` applies to one input (multi-label scoring)."""
        template = self.template.instruction_per_label or PER_LABEL_INSTRUCTION
        body = format_template(template, {**self.fields(item, config), "label": label})
        if self.uses_chat_template:
            return RenderedPrompt(chat_prompt(self.tokenizer, body, config.get("system_prompt")), False)
        return RenderedPrompt(f"{body}\n\nAnswer:")

    def process_per_label(self, inputs: list[MediaInput], run: Mapping[str, Any]) -> list[ProcessResult]:
        """Multi-label classification: each label scored on its own as P(yes) to "does it apply?".

        Calibrated like the single-label path: the yes/no odds are divided by those the model
        gives a content-free input for the same label. A label applies when its score is above
        0.5 (``extra["applies"]``); ``labels`` are all labels, best first.
        """
        labels = list(run["labels"])
        answers = ["yes", "no"]

        def p_yes(prompts: list[RenderedPrompt]) -> list[tuple[float, int]]:
            return [(probs[0], n) for probs, n in self.label_probabilities(prompts, answers, run)]

        prior = {
            label: sum(
                p
                for p, _ in p_yes(
                    [self.per_label_prompt(MediaInput.text(t), label, run) for t in CONTENT_FREE_INPUTS]
                )
            )
            / len(CONTENT_FREE_INPUTS)
            for label in labels
        }
        pairs = [(index, label) for index in range(len(inputs)) for label in labels]
        prompts = [self.per_label_prompt(inputs[index], label, run) for index, label in pairs]
        scored = run_batched(
            prompts, batch_size_for(self.loaded, run, self.requested_capability), lambda p: len(p.text), p_yes
        )
        scores: list[dict[str, float]] = [{} for _ in inputs]
        tokens = [0] * len(inputs)
        for (index, label), (p, n_in) in zip(pairs, scored, strict=True):
            q = min(max(prior[label], 1e-6), 1 - 1e-6)
            yes, no = p / q, (1 - p) / (1 - q)
            scores[index][label] = yes / (yes + no)
            tokens[index] = max(tokens[index], n_in)
        return [
            ClassificationResult(
                capability=self.requested_capability,
                input_tokens=tokens[index],
                processor=type(self).__name__,
                extra={
                    "method": "likelihood per label (yes/no)",
                    "template": self.template.name,
                    "applies": [label for label in labels if row[label] > 0.5],
                },
                labels=ranked([row[label] for label in labels], labels, run.get("top_labels")),
            )
            for index, row in enumerate(scores)
        ]

    def label_probabilities(
        self, prompts: list[RenderedPrompt], labels: list[str], config: Mapping[str, Any]
    ) -> list[tuple[list[float], int]]:
        """Each label's probability as the answer to each prompt (softmax over the labels), and
        each prompt's token count.

        A label's log-likelihood is that of its tokens right after the prompt (after a space for
        raw prompts ending in a cue such as ``Label:``), over the label as written and
        capitalised (``positive`` or ``Positive``).
        """
        import torch

        variants = [list(dict.fromkeys([label, label[:1].upper() + label[1:]])) for label in labels]
        flat = [v for options in variants for v in options]
        if self.is_encoder_decoder:
            logprobs, counts = self._seq2seq_logprobs(prompts, flat, config)
        else:
            logprobs, counts = [], []
            for prompt in prompts:
                row, n_in = self._causal_logprobs(prompt, flat)
                logprobs.append(row)
                counts.append(n_in)
        results = []
        for row, n_in in zip(logprobs, counts, strict=True):
            per_label, cursor = [], 0
            for options in variants:
                per_label.append(torch.logsumexp(torch.tensor(row[cursor : cursor + len(options)]), dim=0))
                cursor += len(options)
            probs = torch.stack(per_label).softmax(dim=0).tolist()
            results.append(([float(p) for p in probs], n_in))
        return results

    def _continuation_ids(
        self, prompt: RenderedPrompt, prompt_ids: list[int], continuation: str
    ) -> list[int]:
        """The tokens of ``continuation`` as they follow the prompt (tokenized together when possible)."""
        sep = "" if prompt.text.endswith(("\n", " ")) else " "
        full = self.tokenizer(prompt.text + sep + continuation, add_special_tokens=prompt.add_special_tokens)[
            "input_ids"
        ]
        if full[: len(prompt_ids)] == prompt_ids and len(full) > len(prompt_ids):
            return list(full[len(prompt_ids) :])
        return list(self.tokenizer(sep + continuation, add_special_tokens=False)["input_ids"])

    def _causal_logprobs(self, prompt: RenderedPrompt, continuations: list[str]) -> tuple[list[float], int]:
        """Log-probabilities of continuations after one prompt: the prompt runs once, its KV cache
        is shared by every continuation longer than one token."""
        import torch

        device = self.loaded.device
        prompt_ids = self.tokenizer(prompt.text, add_special_tokens=prompt.add_special_tokens)["input_ids"]
        conts = [self._continuation_ids(prompt, prompt_ids, c) for c in continuations]
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([prompt_ids], device=device), use_cache=True)
            first = out.logits[0, -1].float().log_softmax(-1)
            scores = [float(first[c[0]]) for c in conts]
            longer = [i for i, c in enumerate(conts) if len(c) > 1]
            if longer:
                cache = getattr(out, "cache", None) or out.past_key_values
                cache.batch_repeat_interleave(len(longer))
                width = max(len(conts[i]) - 1 for i in longer)
                pad = self.tokenizer.pad_token_id or 0
                inputs = [conts[i][:-1] + [pad] * (width - len(conts[i]) + 1) for i in longer]
                mask = [
                    [1] * (len(prompt_ids) + len(conts[i]) - 1) + [0] * (width - len(conts[i]) + 1)
                    for i in longer
                ]
                cache_arg = (
                    "cache"
                    if "cache" in inspect.signature(self.model.forward).parameters
                    else "past_key_values"
                )
                step = self.model(
                    input_ids=torch.tensor(inputs, device=device),
                    attention_mask=torch.tensor(mask, device=device),
                    **{cache_arg: cache},
                )
                logprobs = step.logits.float().log_softmax(-1)
                for row, i in enumerate(longer):
                    targets = conts[i][1:]
                    scores[i] += float(sum(logprobs[row, j, t] for j, t in enumerate(targets)))
        return scores, len(prompt_ids)

    def _seq2seq_logprobs(
        self, prompts: list[RenderedPrompt], continuations: list[str], config: Mapping[str, Any]
    ) -> tuple[list[list[float]], list[int]]:
        """Log-probabilities of continuations as the decoder's output: the encoder runs once per prompt."""
        import torch
        from transformers.modeling_outputs import BaseModelOutput

        device = self.loaded.device
        limit = max_input_tokens(self.loaded, config)
        encoded = self.tokenizer(
            [p.text for p in prompts],
            padding=True,
            truncation=limit is not None,
            max_length=limit,
            return_tensors="pt",
        ).to(device)
        targets = self.tokenizer(continuations, padding=True, return_tensors="pt").to(device)
        labels = targets["input_ids"].masked_fill(targets["attention_mask"] == 0, -100)
        n_prompts, n_conts = len(prompts), len(continuations)
        with torch.inference_mode():
            hidden = self.model.get_encoder()(
                input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]
            )[0]
            index = torch.arange(n_prompts, device=device).repeat_interleave(n_conts)
            logits = self.model(
                encoder_outputs=BaseModelOutput(last_hidden_state=hidden[index]),
                attention_mask=encoded["attention_mask"][index],
                labels=labels.repeat(n_prompts, 1),
            ).logits.float()
        tiled = labels.repeat(n_prompts, 1)
        gathered = logits.log_softmax(-1).gather(-1, tiled.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        sums = (gathered * (tiled != -100)).sum(dim=1).view(n_prompts, n_conts).tolist()
        counts = [int(n) for n in encoded["attention_mask"].sum(dim=1).tolist()]
        return [[float(x) for x in row] for row in sums], counts


def general_fallback(loaded: LoadedModel, capability: str) -> GeneralProcessor | None:
    """A ``GeneralProcessor`` for ``capability`` when the model generates text, else None.

    Used by head-backed processors (classification, question answering) on models without
    the head: a generative model still serves the capability by prompting.
    """
    if is_generative_head(loaded_head(loaded.model)):
        return GeneralProcessor(loaded, capability)
    return None


class HeadOrPromptProcessor(CapabilityProcessor):
    """A capability served by a task head when the model has one, else by general prompting.

    Subclasses set ``head`` (e.g. ``sequence-classification``) and implement ``process_head``.
    A model without the head that generates text falls back to ``GeneralProcessor``; one that
    does not (an encoder) raises ``UnsupportedCapabilityError`` saying which head is missing.
    """

    head: ClassVar[str] = ""

    def __init__(self, loaded: LoadedModel, capability: str | None = None) -> None:
        super().__init__(loaded, capability)
        self._fallback: GeneralProcessor | None = None

    @property
    def has_head(self) -> bool:
        """Whether the loaded model has this capability's head."""
        return loaded_head(self.model) == self.head

    def fallback(self) -> GeneralProcessor:
        """The general-prompting processor for a generative model without the head.

        Raises:
            UnsupportedCapabilityError: the model has neither the head nor a generating head.
        """
        if self._fallback is None:
            self._fallback = general_fallback(self.loaded, self.requested_capability)
            if self._fallback is None:
                raise missing_head_error(
                    self.loaded.model_name, self.head, self.requested_capability, loaded_head(self.model)
                )
        return self._fallback

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Run the head, or prompt a generative model."""
        if self.has_head:
            return self.process_head(inputs, config)
        return self.fallback().process(inputs, config)

    def process_head(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Run the capability with the task head."""
        raise NotImplementedError

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Stream the prompted answer (head-backed runs do not stream)."""
        if self.has_head:
            return super().stream(item, config)
        return self.fallback().stream(item, config)
