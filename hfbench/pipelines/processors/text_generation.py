"""Text generation and chat on decoder-only and encoder-decoder models, and the generation core.

``GenerativeProcessor`` holds what every generating processor shares (general prompting,
summarization and translation subclass it): prompts are rendered per input, batched by
length (left padding for decoders), run through ``model.generate`` with the config's
generation keys, cut at stop sequences and counted (prompt tokens without padding; new tokens
up to and including end-of-sequence, without padding). ``stream`` yields the same text as
``process`` under greedy decoding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.core.errors import ConfigError, MediaInputError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.generation import cut_at_stop, generation_kwargs, seed_if_asked, stream_generate
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import ProcessResult, TextResult
from hfbench.pipelines.text_loading import (
    batch_size_for,
    has_chat_template,
    is_generative_head,
    loaded_head,
    max_input_tokens,
    missing_head_error,
)
from hfbench.pipelines.timing import GenerationTiming, timed_generate

logger = logging.getLogger(__name__)

_GENERATIVE_ARCHS = (ModelArchitecture.DECODER_ONLY, ModelArchitecture.ENCODER_DECODER)


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready to tokenize; ``add_special_tokens`` is False when a chat template wrote them."""

    text: str
    add_special_tokens: bool = True


@dataclass(frozen=True)
class Generated:
    """One generated answer with its token counts and why it ended (``eos``, ``stop`` or ``length``),
    and the timing of its batch when timings are recorded."""

    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str
    timing: GenerationTiming | None = None


def stop_list(stop: str | list[str] | None) -> list[str]:
    """The stop sequences of a ``stop`` config value, as a list."""
    if not stop:
        return []
    return [stop] if isinstance(stop, str) else [s for s in stop if s]


def count_generated(row: list[int], eos_ids: set[int], pad_id: int | None) -> tuple[int, bool]:
    """Tokens generated in one output row and whether it ended with end-of-sequence.

    Counts up to and including the first eos token. Without one, trailing ``pad_id`` tokens are
    padding (a row that finished early on a stop string) and are left out; pass ``pad_id=None``
    when no stop strings were used, since then every row runs to the end (a model may well
    generate its pad token, e.g. an untrained T5).
    """
    for index, token in enumerate(row):
        if token in eos_ids:
            return index + 1, True
    n = len(row)
    while n and pad_id is not None and row[n - 1] == pad_id:
        n -= 1
    return n, False


def _potential_stop_start(text: str, stops: list[str]) -> int | None:
    """Earliest index from which the end of ``text`` is a proper prefix of a stop sequence."""
    for start in range(max(0, len(text) - max(len(s) for s in stops) + 1), len(text)):
        tail = text[start:]
        if any(len(s) > len(tail) and s.startswith(tail) for s in stops):
            return start
    return None


def cut_stream_at_stop(pieces: Iterable[str], stop: str | list[str] | None) -> Iterator[str]:
    """Yield streamed text up to the first stop sequence, as ``cut_at_stop`` cuts the whole text.

    Text that might be the start of a stop sequence is held back until it is decided. After a
    stop, the remaining pieces are drained (so a generating thread can finish) but not yielded.
    """
    stops = stop_list(stop)
    if not stops:
        yield from pieces
        return
    buffer, done = "", False
    for piece in pieces:
        if done:
            continue
        buffer += piece
        found = [i for i in (buffer.find(s) for s in stops) if i != -1]
        at = min(found) if found else None
        pending = _potential_stop_start(buffer, stops)
        if at is not None and (pending is None or at <= pending):
            if buffer[:at]:
                yield buffer[:at]
            done, buffer = True, ""
            continue
        emit_to = min(i for i in (at, pending, len(buffer)) if i is not None)
        if emit_to:
            yield buffer[:emit_to]
            buffer = buffer[emit_to:]
    if not done and buffer:
        rest = cut_at_stop(buffer, stops)
        if rest:
            yield rest


def chat_prompt(
    tokenizer: Any,
    user_text: str,
    system_prompt: str | None,
    history: Sequence[tuple[str, str]] = (),
) -> str:
    """Apply the tokenizer's chat template to a conversation: an optional system message, earlier
    ``(role, content)`` turns, then the user's ``user_text``.

    Templates that reject a system role get the system prompt folded into the first user message.
    """
    from jinja2 import TemplateError

    turns = [{"role": role, "content": content} for role, content in history]
    messages = [*turns, {"role": "user", "content": user_text}]
    try:
        system = [{"role": "system", "content": system_prompt}] if system_prompt else []
        text = tokenizer.apply_chat_template(system + messages, tokenize=False, add_generation_prompt=True)
    except TemplateError:
        if not system_prompt:
            raise
        first = messages[0]
        merged = [{**first, "content": f"{system_prompt}\n\n{first['content']}"}, *messages[1:]]
        text = tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True)
    return str(text)


def chat_transcript(
    user_text: str, system_prompt: str | None, history: Sequence[tuple[str, str]] = ()
) -> str:
    """A conversation as ``System:``/``User:``/``Assistant:`` lines, for models without a chat template."""
    head = f"System: {system_prompt}\n\n" if system_prompt else ""
    lines = [f"{role.capitalize()}: {content}" for role, content in history]
    return head + "".join(line + "\n" for line in lines) + f"User: {user_text}\nAssistant:"


class GenerativeProcessor(CapabilityProcessor):
    """Shared core of processors that answer with ``model.generate``.

    Subclasses implement ``render`` (the prompt of one input) and may override
    ``prepare_config``, ``extra_generate_kwargs``, ``tokenizer_context`` and ``make_result``.
    """

    streams = True
    max_new_tokens_key: str = "max_tokens"

    def __init__(self, loaded: Any, capability: str | None = None) -> None:
        super().__init__(loaded, capability)
        self._logged: set[str] = set()

    # ---- hooks ----------------------------------------------------------------------------
    def render(self, item: MediaInput, config: Mapping[str, Any]) -> RenderedPrompt:
        """The prompt for one input."""
        raise NotImplementedError

    def prepare_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Adjust the merged config before a run (e.g. extra stop sequences)."""
        return dict(config)

    def extra_generate_kwargs(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """More ``generate()`` arguments (e.g. ``forced_bos_token_id`` for a target language)."""
        return {}

    def tokenizer_context(self, config: Mapping[str, Any]) -> AbstractContextManager[Any]:
        """A context the prompts are tokenized in (e.g. a source language set on the tokenizer)."""
        return nullcontext()

    def make_result(self, item: MediaInput, generated: Generated, config: Mapping[str, Any]) -> ProcessResult:
        """The typed result of one input."""
        return TextResult(
            capability=self.requested_capability,
            input_tokens=generated.input_tokens,
            output_tokens=generated.output_tokens,
            processor=type(self).__name__,
            extra={"finish_reason": generated.finish_reason},
            text=generated.text,
            timing=generated.timing,
        )

    # ---- core -----------------------------------------------------------------------------
    @property
    def is_encoder_decoder(self) -> bool:
        """Whether the model feeds the prompt to an encoder (else it continues the prompt)."""
        return bool(getattr(self.loaded.hf_config, "is_encoder_decoder", False))

    def require_generative_head(self) -> None:
        """Raise ``UnsupportedCapabilityError`` when the loaded model cannot generate."""
        head = loaded_head(self.model)
        if not is_generative_head(head):
            needed = "seq2seq-lm" if self.is_encoder_decoder else "causal-lm"
            raise missing_head_error(self.loaded.model_name, needed, self.requested_capability, head)

    def generate_kwargs(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``generate()`` arguments from the config's generation keys and ``extra_generate_kwargs``."""
        kwargs = generation_kwargs(config, self.tokenizer, max_new_tokens_key=self.max_new_tokens_key)
        kwargs.update(self.extra_generate_kwargs(config))
        return kwargs

    def encode(self, prompts: list[RenderedPrompt], config: Mapping[str, Any]) -> Any:
        """Tokenize a batch: left padding for decoders, right for encoder inputs.

        Decoders truncate (from the left) only when ``max_input_tokens`` is set; encoder inputs
        are cut to the model's limit.
        """
        if not prompts:
            raise MediaInputError("No inputs to generate from.")
        limit = (
            max_input_tokens(self.loaded, config)
            if self.is_encoder_decoder
            else config.get("max_input_tokens")
        )
        with self.tokenizer_context(config):
            return self.tokenizer(
                [p.text for p in prompts],
                add_special_tokens=prompts[0].add_special_tokens,
                padding=True,
                padding_side="right" if self.is_encoder_decoder else "left",
                truncation=limit is not None,
                max_length=limit,
                return_token_type_ids=False,
                return_tensors="pt",
            )

    def generate_batch(self, prompts: list[RenderedPrompt], config: Mapping[str, Any]) -> list[Generated]:
        """Generate for one batch of prompts; one ``Generated`` per prompt, in order."""
        kwargs = self.generate_kwargs(config)
        encoded = self.encode(prompts, config).to(self.loaded.device)
        input_counts = encoded["attention_mask"].sum(dim=1).tolist()
        with timed_generate(
            self.model, kwargs, prompt_tokens=int(sum(input_counts)), batch_size=len(prompts)
        ) as timing:
            output = self.model.generate(**encoded, **kwargs)
        prompt_width = 1 if self.is_encoder_decoder else encoded["input_ids"].shape[1]
        new_tokens = output[:, prompt_width:].tolist()
        eos_ids, pad_id = self._eos_and_pad(kwargs)
        stops = stop_list(config.get("stop"))
        if "stop_strings" not in kwargs:
            pad_id = None  # no row stops early, so no row is padded
        results = []
        for row, n_in in zip(new_tokens, input_counts, strict=True):
            n_out, ended = count_generated(row, eos_ids, pad_id)
            text = self.tokenizer.decode(row[:n_out], skip_special_tokens=True)
            cut = cut_at_stop(text, stops)
            reason = "stop" if len(cut) < len(text) else ("eos" if ended else "length")
            results.append(Generated(cut, int(n_in), n_out, reason, timing))
        return results

    def _eos_and_pad(self, kwargs: Mapping[str, Any]) -> tuple[set[int], int | None]:
        gen_config = self.model.generation_config
        eos = kwargs.get("eos_token_id", gen_config.eos_token_id)
        if eos is None:
            eos = self.tokenizer.eos_token_id
        eos_ids = {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None}
        pad = kwargs.get("pad_token_id", gen_config.pad_token_id)
        if pad is None:
            pad = self.tokenizer.pad_token_id
        return eos_ids, pad

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Generate for every input (length-sorted batches of ``batch_size``), in input order."""
        self.require_generative_head()
        run_config = self.prepare_config(config)
        seed_if_asked(run_config)
        prompts = [self.render(item, run_config) for item in inputs]
        generated = run_batched(
            prompts,
            batch_size_for(self.loaded, run_config, self.requested_capability),
            lambda p: len(p.text),
            lambda batch: self.generate_batch(batch, run_config),
        )
        return [self.make_result(item, g, run_config) for item, g in zip(inputs, generated, strict=True)]

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Yield the answer to one input as it is generated (cut at stop sequences).

        Raises:
            ConfigError: beam search was asked for (it cannot stream).
        """
        self.require_generative_head()
        run_config = self.prepare_config(config)
        if int(run_config.get("num_beams") or 1) > 1:
            raise ConfigError(
                "streaming generates one token at a time and cannot use beam search; set num_beams=1 "
                "or call process().",
                key_path="num_beams",
            )
        kwargs = self.generate_kwargs(run_config)
        encoded = self.encode([self.render(item, run_config)], run_config).to(self.loaded.device)
        seed_if_asked(run_config)
        pieces = stream_generate(self.model, self.tokenizer, encoded, kwargs)
        yield from cut_stream_at_stop(pieces, run_config.get("stop"))

    def log_once(self, key: str, message: str, *args: Any) -> None:
        """Log at INFO once per processor (e.g. that a capability runs as a prompt)."""
        if key not in self._logged:
            self._logged.add(key)
            logger.info(message, *args)


@register_processor(Capability.TEXT_GENERATION, architectures=_GENERATIVE_ARCHS)
class TextGenerationProcessor(GenerativeProcessor):
    """Continue a raw prompt (decoders) or answer it (encoder-decoders); no chat template.

    Config keys: ``max_tokens``, ``temperature``, ``top_p``, ``top_k``, ``repetition_penalty``,
    ``num_beams``, ``do_sample``, ``stop``, ``seed``, ``max_input_tokens``, ``batch_size``.
    """

    def render(self, item: MediaInput, config: Mapping[str, Any]) -> RenderedPrompt:
        """The input text as it is."""
        return RenderedPrompt(item.as_text())


_FALLBACK_USER_STOP = "\nUser:"


@register_processor(Capability.CHAT, architectures=_GENERATIVE_ARCHS)
class ChatProcessor(GenerativeProcessor):
    """Answer one user message with the tokenizer's chat template and ``system_prompt``.

    Without a chat template the conversation is written as ``System:/User:/Assistant:`` lines
    (and ``"\\nUser:"`` is added to the stop sequences); this is logged once.

    Config keys: those of text-generation, plus ``system_prompt``.
    """

    def prepare_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Stop at the next ``User:`` line when there is no chat template."""
        run = dict(config)
        if not has_chat_template(self.tokenizer):
            run["stop"] = [*stop_list(run.get("stop")), _FALLBACK_USER_STOP]
        return run

    def render(self, item: MediaInput, config: Mapping[str, Any]) -> RenderedPrompt:
        """The chat-templated conversation, or a plain role transcript without a template."""
        system_prompt = config.get("system_prompt")
        if has_chat_template(self.tokenizer):
            return RenderedPrompt(
                chat_prompt(self.tokenizer, item.as_text(), system_prompt, item.history), False
            )
        self.log_once(
            "no-template",
            "%s has no chat template; writing the chat as System:/User:/Assistant: lines.",
            self.loaded.model_name,
        )
        return RenderedPrompt(chat_transcript(item.as_text(), system_prompt, item.history))
