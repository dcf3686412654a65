"""Translation on encoder-decoder models, per family.

* T5-like: a ``translate English to French: `` prefix built from ``src_lang``/``tgt_lang``
  (or the checkpoint's own prefix from ``task_specific_params``);
* Marian (opus-mt): no prefix, the pair is fixed by the checkpoint (multi-target ones get
  their ``>>fra<<`` token);
* mBART-50, NLLB, M2M100: ``tokenizer.src_lang`` is set to the source code and generation
  starts with the target language token (``forced_bos_token_id``); short codes such as ``fr``
  map to ``fr_XX`` / ``fra_Latn`` through ``pipelines/data/languages.toml``;
* any other encoder-decoder (e.g. BART): the translation instruction of ``prompts.toml``.

Decoder-only models translate through general prompting.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from hfbench.core.capability import Capability
from hfbench.core.errors import UnsupportedCapabilityError
from hfbench.pipelines.languages import Language, resolve_language
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processors.general import GeneralProcessor
from hfbench.pipelines.processors.summarization import is_t5_like, task_prefix
from hfbench.pipelines.processors.text_generation import Generated, RenderedPrompt
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import ProcessResult


def language_style(hf_config: Any, tokenizer: Any) -> str:
    """How a model is told the languages: ``t5``, ``marian``, ``mbart``, ``nllb``, ``m2m100``, ``prompt``."""
    model_type = getattr(hf_config, "model_type", "")
    if model_type == "marian":
        return "marian"
    if model_type == "mbart":
        return "mbart"
    if model_type in ("m2m_100", "nllb-moe"):
        if "nllb" in type(tokenizer).__name__.lower() or _token_id(tokenizer, "eng_Latn") is not None:
            return "nllb"
        return "m2m100"
    if is_t5_like(hf_config) or _has_translation_prefix(hf_config):
        return "t5"
    return "prompt"


def _has_translation_prefix(hf_config: Any) -> bool:
    params = getattr(hf_config, "task_specific_params", None) or {}
    return any(str(name).startswith("translation") for name in params)


def _token_id(tokenizer: Any, token: str) -> int | None:
    """The id of ``token`` if the tokenizer has it as one token, else None."""
    ids = tokenizer.convert_tokens_to_ids([token])
    token_id = ids[0] if ids else None
    if token_id is None or token_id == tokenizer.unk_token_id:
        return None
    return int(token_id)


def model_language_code(style: str, language: Language, given: str) -> str:
    """The code a model family uses for a language (a code given in that family's form is kept)."""
    if style == "mbart":
        return given if given == language.mbart else language.mbart
    if style == "nllb":
        return given if given == language.nllb else language.nllb
    return language.code


@register_processor(Capability.TRANSLATION, architectures=["enc_dec"])
class TranslationProcessor(GeneralProcessor):
    """Translate ``src_lang`` -> ``tgt_lang`` with a sequence-to-sequence model (see the module doc).

    Config keys: ``src_lang``, ``tgt_lang``, ``max_length`` (new tokens), ``min_length``, the
    sampling keys, ``num_beams``, ``repetition_penalty``, ``stop``, ``seed``,
    ``max_input_tokens``, ``batch_size``; ``prompt_template`` for the prompting fallback.
    """

    announce = False

    @property
    def style(self) -> str:
        """The model family's way of being told the languages."""
        return language_style(self.loaded.hf_config, self.tokenizer)

    def _codes(self, config: Mapping[str, Any]) -> tuple[str, str]:
        src = resolve_language(config.get("src_lang") or "en", "src_lang")
        tgt = resolve_language(_target(config), "tgt_lang")
        style = self.style
        return (
            model_language_code(style, src, str(config.get("src_lang") or "en")),
            model_language_code(style, tgt, _target(config)),
        )

    def _language_token(self, code: str, key: str) -> int:
        token = f"__{code}__" if self.style == "m2m100" else code
        token_id = _token_id(self.tokenizer, token)
        if token_id is None:
            raise UnsupportedCapabilityError(
                f"{self.loaded.model_name} has no language token {token!r} for {key}; it cannot "
                "translate that language. Check the model card for its languages."
            )
        return token_id

    @property
    def needs_target_language(self) -> bool:
        """A Marian (opus-mt) checkpoint translates its own fixed pair; others need ``tgt_lang``."""
        return self.style != "marian"

    def prepare_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check the languages before anything runs."""
        run = super().prepare_config(config)
        style = self.style
        if style in ("mbart", "nllb", "m2m100"):
            src, tgt = self._codes(run)
            self._language_token(src, "src_lang")
            self._language_token(tgt, "tgt_lang")
        elif style == "t5":
            self._codes(run)
        else:
            self.log_once(
                style,
                "%s translates by %s.",
                self.loaded.model_name,
                "its fixed language pair" if style == "marian" else "an instruction prompt",
            )
        return run

    def render(self, item: MediaInput, config: Mapping[str, Any]) -> RenderedPrompt:
        """The text with the family's prefix (or the prompting instruction)."""
        style = self.style
        text = item.as_text()
        if style == "t5":
            src = resolve_language(config.get("src_lang") or "en", "src_lang")
            tgt = resolve_language(_target(config), "tgt_lang")
            declared = task_prefix(self.loaded.hf_config, f"translation_{src.code}_to_{tgt.code}")
            prefix = declared or f"translate {src.name} to {tgt.name}: "
            return RenderedPrompt(prefix + text)
        if style == "marian":
            if not config.get("tgt_lang"):
                return RenderedPrompt(text)  # the checkpoint's own (single) target
            tgt_lang = resolve_language(config["tgt_lang"], "tgt_lang")
            for code in (tgt_lang.code, tgt_lang.iso3):
                if _token_id(self.tokenizer, f">>{code}<<") is not None:
                    return RenderedPrompt(f">>{code}<< {text}")
            return RenderedPrompt(text)
        if style in ("mbart", "nllb", "m2m100"):
            return RenderedPrompt(text)
        return super().render(item, config)

    def extra_generate_kwargs(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Start generation with the target language token (mBART, NLLB, M2M100)."""
        if self.style not in ("mbart", "nllb", "m2m100"):
            return {}
        _, tgt = self._codes(config)
        return {"forced_bos_token_id": self._language_token(tgt, "tgt_lang")}

    def make_result(self, item: MediaInput, generated: Generated, config: Mapping[str, Any]) -> ProcessResult:
        """A ``TextResult`` that names how the languages were given (``extra["style"]``)."""
        result = super().make_result(item, generated, config)
        style = self.style
        result.extra["style"] = style
        if style != "prompt":
            result.extra.pop("template", None)
        return result

    @contextmanager
    def tokenizer_context(self, config: Mapping[str, Any]) -> Iterator[None]:
        """Set ``tokenizer.src_lang`` while the inputs are tokenized, then restore it."""
        if self.style not in ("mbart", "nllb", "m2m100"):
            yield
            return
        src, _ = self._codes(config)
        previous = getattr(self.tokenizer, "src_lang", None)
        self.tokenizer.src_lang = src
        try:
            yield
        finally:
            if previous is not None:
                self.tokenizer.src_lang = previous


def _target(config: Mapping[str, Any]) -> str:
    """The config's ``tgt_lang`` (``prepare_config`` has checked it is there)."""
    return str(config["tgt_lang"])
