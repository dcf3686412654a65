"""``GenerationRequest``: one request to any provider, built and checked once at the front door.

Every provider implements ``generate`` / ``stream`` / ``generate_async`` on this one type (see
``providers.interface``), so the Hugging Face provider and an OpenAI-compatible one read the same
fields. A request holds either a prompt or a list of chat messages, optional media (file paths,
PIL images or ``MediaInput`` s: files are read and checked here, before any model runs), an
optional capability, and per-call run keys (``max_tokens``, ``temperature`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hfbench.core.capability import canonical_capability
from hfbench.core.errors import ConfigError, MediaInputError

#: Roles a chat message may have.
MESSAGE_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Message:
    """One chat turn: ``role`` (system / user / assistant) and its text ``content``."""

    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        """The ``{"role", "content"}`` form chat templates and OpenAI-style APIs take."""
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class GenerationRequest:
    """What a caller asks a provider for.

    Attributes:
        prompt: the text (for chat requests: the last user turn, taken from ``messages``).
        messages: earlier chat turns, oldest first, without the system prompt and without the
            last user turn (which is ``prompt``); empty for single-turn requests.
        capability: a forced capability (canonical name), or None to detect it.
        system_prompt: the system message for chat models.
        media: images or audio as ``MediaInput`` s (at most one; see ``GenerationRequest.build``).
        context: the passage a question is about (question answering).
        params: per-call run keys (validated against the config schema when merged).
        stream: yield text pieces instead of one response.
    """

    prompt: str = ""
    messages: tuple[Message, ...] = ()
    capability: str | None = None
    system_prompt: str | None = None
    media: tuple[Any, ...] = ()
    context: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    stream: bool = False

    @classmethod
    def build(
        cls,
        prompt: str | Sequence[Mapping[str, Any]] | None = None,
        capability: str | None = None,
        system_prompt: str | None = None,
        media: Any = None,
        stream: bool = False,
        *,
        messages: Sequence[Mapping[str, Any]] | None = None,
        context: str | None = None,
        **params: Any,
    ) -> GenerationRequest:
        """Check what a caller passed and make the request.

        Args:
            prompt: the text, or a list of chat messages (``[{"role": "user", "content": ...}]``).
            capability: force a capability (aliases accepted).
            system_prompt: system message for chat models.
            media: one image or audio: a file path (by type), a PIL image or a ``MediaInput``.
                A list is accepted when it holds one item; ``generate`` returns one response, so
                several media items are refused (call once per item, or use a pipeline's
                ``process`` for a batch).
            stream: yield text pieces.
            messages: chat turns instead of ``prompt``; a ``system`` turn first sets the system
                prompt; the last turn must be the user's.
            context: the passage for question answering.
            **params: per-call run keys (``max_tokens``, ``temperature``, ``labels`` ...).

        Raises:
            ConfigError: a prompt that is not text, malformed messages, prompt and messages both.
            MediaInputError: unreadable media, more than one item, or a value that is not media.
            UnsupportedCapabilityError: an unknown capability name (with did-you-mean).
        """
        if prompt is not None and not isinstance(prompt, str):
            if isinstance(prompt, Sequence) and messages is None:
                prompt, messages = None, prompt
            else:
                raise ConfigError(
                    f"prompt must be a str or a list of chat messages, got {type(prompt).__name__}.",
                    key_path="prompt",
                )
        turns: tuple[Message, ...] = ()
        text = prompt or ""
        if messages is not None:
            if prompt:
                raise ConfigError(
                    "give either a prompt or messages, not both (the last user message is the prompt).",
                    key_path="messages",
                )
            system_from_messages, turns, text = _split_messages(messages)
            if system_from_messages is not None:
                if system_prompt is not None:
                    raise ConfigError(
                        "the system prompt is given twice (system_prompt= and a 'system' message); keep one.",
                        key_path="system_prompt",
                    )
                system_prompt = system_from_messages
        if context is not None and not isinstance(context, str):
            raise ConfigError(f"context must be a str, got {type(context).__name__}.", key_path="context")
        return cls(
            prompt=text,
            messages=turns,
            capability=canonical_capability(capability) if capability is not None else None,
            system_prompt=system_prompt,
            media=_media(media),
            context=context,
            params=dict(params),
            stream=bool(stream),
        )

    @property
    def media_kinds(self) -> list[str]:
        """The kinds of the media items (``image``, ``audio``)."""
        return [item.kind for item in self.media]

    def chat_messages(self) -> list[dict[str, str]]:
        """The whole conversation as role/content dictionaries: system, earlier turns, this prompt."""
        turns = [Message("system", self.system_prompt)] if self.system_prompt else []
        return [m.to_dict() for m in (*turns, *self.messages, Message("user", self.prompt))]


def _split_messages(messages: Sequence[Mapping[str, Any]]) -> tuple[str | None, tuple[Message, ...], str]:
    """``(system prompt, earlier turns, last user text)`` from a list of chat messages."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise ConfigError(
            "messages must be a non-empty list of {'role': ..., 'content': ...} tables.", key_path="messages"
        )
    parsed: list[Message] = []
    for index, entry in enumerate(messages):
        path = f"messages[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"expected a {{'role', 'content'}} table, got {entry!r}.", key_path=path)
        role, content = entry.get("role"), entry.get("content")
        if role not in MESSAGE_ROLES:
            raise ConfigError(
                f"role must be one of {', '.join(MESSAGE_ROLES)}, got {role!r}.", key_path=f"{path}.role"
            )
        if not isinstance(content, str):
            raise ConfigError(
                f"content must be text, got {type(content).__name__}.", key_path=f"{path}.content"
            )
        if role == "system" and index != 0:
            raise ConfigError("a system message may only come first.", key_path=path)
        parsed.append(Message(str(role), content))
    system = parsed.pop(0).content if parsed[0].role == "system" else None
    if not parsed or parsed[-1].role != "user":
        raise ConfigError(
            "the last message must be the user's (it is what the model answers).", key_path="messages"
        )
    return system, tuple(parsed[:-1]), parsed[-1].content


def _media(media: Any) -> tuple[Any, ...]:
    """The media items as ``MediaInput`` s, read and checked now (paths by file type)."""
    if media is None:
        return ()
    from hfbench.pipelines.media import MediaInput

    items = list(media) if isinstance(media, (list, tuple)) else [media]
    if len(items) > 1:
        raise MediaInputError(
            f"generate() answers one request with one response, but {len(items)} media items were "
            "given: call generate() once per item, or run a batch with a pipeline's process() "
            "(hfbench.pipeline_for(model).load().process([...]))."
        )
    return tuple(MediaInput.media(item) for item in items)
