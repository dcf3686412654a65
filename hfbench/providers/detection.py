"""Capability detection: from the media, the call's keywords, the prompt, else the architecture.

Answers the seed's "how to best detect required capabilities from input?": a fixed order of
evidence, strongest first, and every decision carries a human-readable reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability, primary_capability
from hfbench.pipelines.languages import find_language

_SUMMARIZE = re.compile(r"^\s*(please\s+)?(summari[sz]e|write a summary|give me a summary|tl;?dr)\b", re.I)
# A request for a summary in the first or last line ("Can you give me a summary of this?"), or the
# "TL;DR:" cue after a text: summarization wherever the text itself is.
_SUMMARY_REQUEST = re.compile(r"(\bsummari[sz]e\b|\ba summary\b|\btl;?\s?dr\b)", re.I)
_TRANSLATE = re.compile(
    r"^\s*(please\s+)?translate\b(?:.*?\bfrom\s+(?P<src>[a-z]+))?.*?\b(?:to|into)\s+(?P<tgt>[a-z]+)",
    re.I | re.S,
)


@dataclass(frozen=True)
class CapabilityDetection:
    """A detected capability, why it was chosen, and parameters read off the request."""

    capability: str
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.capability} ({self.reason})"


def detect_capability(
    prompt: str,
    *,
    architecture: ModelArchitecture,
    media_kinds: Sequence[str] = (),
    kwargs: Mapping[str, Any] | None = None,
    has_chat_template: bool = False,
    mask_token: str | None = None,
) -> CapabilityDetection:
    """Decide which capability a request asks for.

    Order: media (audio -> speech recognition; image -> image capabilities), keywords
    (``src_lang``/``tgt_lang`` -> translation, ``labels`` -> zero-shot classification,
    ``context`` -> question answering), the prompt ("Summarize ...", "Translate ... to X",
    a mask token on an encoder), else the architecture's primary capability (``chat`` for a
    generative model whose tokenizer has a chat template).
    """
    kwargs = kwargs or {}
    if "audio" in media_kinds:
        return CapabilityDetection(Capability.SPEECH_RECOGNITION.value, "the request has audio")
    if "image" in media_kinds:
        return _image_capability(prompt, architecture, kwargs)
    if kwargs.get("src_lang") or kwargs.get("tgt_lang"):
        return CapabilityDetection(Capability.TRANSLATION.value, "src_lang/tgt_lang were given")
    if kwargs.get("labels"):
        return CapabilityDetection(Capability.ZERO_SHOT_CLASSIFICATION.value, "candidate labels were given")
    if kwargs.get("context"):
        return CapabilityDetection(Capability.QUESTION_ANSWERING.value, "a context passage was given")
    if _SUMMARIZE.search(prompt) or _asks_for_summary(prompt):
        return CapabilityDetection(Capability.SUMMARIZATION.value, "the prompt asks for a summary")
    match = _TRANSLATE.search(prompt)
    if match:
        params = {}
        for key, group in (("tgt_lang", "tgt"), ("src_lang", "src")):
            word = (match.group(group) or "").lower()
            language = find_language(word)
            if language is not None and language.name.lower() == word:  # names only: "to it" is no code
                params[key] = language.code
        return CapabilityDetection(Capability.TRANSLATION.value, "the prompt asks for a translation", params)
    if mask_token and mask_token in prompt and architecture is ModelArchitecture.ENCODER_ONLY:
        return CapabilityDetection(Capability.FILL_MASK.value, f"the prompt contains {mask_token}")
    primary = primary_capability(architecture)
    generative = architecture in (ModelArchitecture.DECODER_ONLY, ModelArchitecture.MULTIMODAL)
    if generative and has_chat_template and primary == Capability.TEXT_GENERATION.value:
        return CapabilityDetection(
            Capability.CHAT.value, "no other evidence; the tokenizer has a chat template"
        )
    return CapabilityDetection(primary, f"no other evidence; the {architecture.value} primary capability")


def _asks_for_summary(prompt: str) -> bool:
    """A summary request in the prompt's first or last line (instructions stand there)."""
    lines = [line.strip() for line in prompt.strip().splitlines() if line.strip()]
    return bool(lines) and any(_SUMMARY_REQUEST.search(line) for line in {lines[0], lines[-1]})


def _image_capability(
    prompt: str, architecture: ModelArchitecture, kwargs: Mapping[str, Any]
) -> CapabilityDetection:
    if architecture is ModelArchitecture.VISION_ENCODER:
        if kwargs.get("labels"):
            return CapabilityDetection(
                Capability.ZERO_SHOT_IMAGE_CLASSIFICATION.value, "an image and candidate labels were given"
            )
        return CapabilityDetection(Capability.IMAGE_CLASSIFICATION.value, "the request has an image")
    if prompt.strip():
        return CapabilityDetection(
            Capability.VISUAL_QUESTION_ANSWERING.value, "an image with a question or instruction"
        )
    return CapabilityDetection(Capability.IMAGE_CAPTIONING.value, "an image without a prompt")
