"""The provider-neutral interface every provider implements, and its typed response.

A provider implements two methods on one request type (``GenerationRequest``):
``generate_request`` (one response) and ``stream_request`` (text pieces). The front doors a user
calls — ``generate``, ``stream``, ``generate_async`` — are written once, here: they build the
request (checking it) and hand it on, so every provider takes the same arguments.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hfbench.core.errors import ConfigError, did_you_mean
from hfbench.providers.request import GenerationRequest

# Parameter names every provider understands, whatever its backend calls them.
COMMON_PARAMETERS = ("max_tokens", "temperature", "top_p", "top_k", "system_prompt", "stop")


@dataclass
class GenerationResponse:
    """What ``generate`` returns: the text, plus what is needed to judge speed and cost.

    ``str(response)`` is the text, so a response can be used where a string is expected.
    """

    text: str
    capability: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    detection_reason: str = ""
    raw: Any = field(default=None, repr=False)

    @property
    def output_tokens_per_s(self) -> float:
        """Generated tokens per second of wall time (0 when nothing was generated)."""
        return self.output_tokens / self.latency_s if self.latency_s > 0 else 0.0

    def __str__(self) -> str:
        return self.text


class AbstractLLMInterface(ABC):
    """A provider: one model behind ``generate``, configured by a dictionary.

    Subclasses implement ``generate_request``, ``stream_request`` and ``get_capabilities``, and
    list the config keys they accept in ``CONFIG_KEYS`` (unknown keys are rejected with a
    did-you-mean).
    """

    CONFIG_KEYS: frozenset[str] = frozenset()

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self._config: dict[str, Any] = {}
        self.update_config(dict(config or {}))

    # ---- configuration --------------------------------------------------------------------
    def get_config(self, key: str | None = None, default: Any = None) -> Any:
        """The whole config (a copy), or one key of it."""
        if key is None:
            return copy.deepcopy(self._config)
        return copy.deepcopy(self._config.get(key, default))

    def set_config(self, key: str, value: Any) -> None:
        """Set one config key (validated)."""
        self.update_config({key: value})

    def update_config(self, updates: Mapping[str, Any]) -> None:
        """Merge keys into the config (validated now; nested tables are replaced, not merged).

        Raises:
            ConfigError: an unknown key or an invalid value; the config is left unchanged.
        """
        for key in updates:
            self._check_key(key)
        before = copy.deepcopy(self._config)
        self._config.update(copy.deepcopy(dict(updates)))
        try:
            self._on_config_change(set(updates))
        except Exception:
            self._config = before
            self._on_config_change(set(updates))
            raise

    def _check_key(self, key: str) -> None:
        if self.CONFIG_KEYS and key not in self.CONFIG_KEYS:
            raise ConfigError(
                f"unknown provider key {key!r} for {type(self).__name__}; valid keys: "
                f"{', '.join(sorted(self.CONFIG_KEYS))}." + did_you_mean(key, self.CONFIG_KEYS),
                key_path=key,
            )

    def _on_config_change(self, keys: set[str]) -> None:  # noqa: B027 - an optional hook
        """Hook: check and react to changed keys (e.g. drop a loaded model when ``model`` changes)."""

    # ---- what providers implement ---------------------------------------------------------
    @abstractmethod
    def generate_request(self, request: GenerationRequest) -> GenerationResponse:
        """Answer one request with one response."""

    @abstractmethod
    def stream_request(self, request: GenerationRequest) -> Iterator[str]:
        """Answer one request piece by piece (generative capabilities)."""

    @abstractmethod
    def get_capabilities(self) -> dict[str, dict[str, Any]]:
        """The model's capabilities: name -> confidence, source, requires_finetuning, parameters."""

    # ---- front doors ----------------------------------------------------------------------
    def generate(
        self,
        prompt: Any = None,
        capability: str | None = None,
        system_prompt: str | None = None,
        media: Any = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> GenerationResponse | Iterator[str]:
        """Generate output for a prompt (and optional media); ``stream=True`` yields text pieces.

        Args:
            prompt: the text, a list of chat messages (``[{"role": "user", "content": ...}]``),
                or a ready ``GenerationRequest`` (then no other argument is given).
            capability: force a capability (aliases accepted); detected when omitted.
            system_prompt: system message for chat models.
            media: one image or audio: a file path (by type), a PIL image or a ``MediaInput``.
            stream: yield text pieces instead of returning a response.
            **kwargs: ``messages=`` (chat turns), ``context=`` (question answering) and per-call
                run keys (``max_tokens``, ``temperature``, ``labels`` ...). Load keys (``dtype``,
                ``device`` ...) belong in the provider's config.

        Raises:
            ConfigError: an invalid per-call value, or a load key given per call.
            MediaInputError: unreadable media (before any model runs), or several items.
            UnsupportedCapabilityError: the model cannot serve the request (names one that can).
        """
        request = self._request(prompt, capability, system_prompt, media, stream, kwargs)
        return self.stream_request(request) if request.stream else self.generate_request(request)

    def stream(
        self,
        prompt: Any = None,
        capability: str | None = None,
        system_prompt: str | None = None,
        media: Any = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        """``generate(..., stream=True)``: yield the answer's text as it is generated."""
        request = self._request(prompt, capability, system_prompt, media, True, kwargs)
        return self.stream_request(request)

    async def generate_async(
        self,
        prompt: Any = None,
        capability: str | None = None,
        system_prompt: str | None = None,
        media: Any = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> GenerationResponse | AsyncIterator[str]:
        """``generate`` without blocking the event loop (it runs in a worker thread).

        With ``stream=True`` the result is an async iterator of text pieces.
        """
        request = self._request(prompt, capability, system_prompt, media, stream, kwargs)
        if request.stream:
            return self._stream_async(request)
        return await asyncio.to_thread(self.generate_request, request)

    async def _stream_async(self, request: GenerationRequest) -> AsyncIterator[str]:
        pieces = await asyncio.to_thread(self.stream_request, request)
        sentinel = object()
        while True:
            piece = await asyncio.to_thread(next, pieces, sentinel)
            if piece is sentinel:
                return
            yield str(piece)

    @staticmethod
    def _request(
        prompt: Any,
        capability: str | None,
        system_prompt: str | None,
        media: Any,
        stream: bool,
        kwargs: Mapping[str, Any],
    ) -> GenerationRequest:
        if isinstance(prompt, GenerationRequest):
            if capability is not None or system_prompt is not None or media is not None or kwargs:
                raise ConfigError(
                    "a GenerationRequest carries everything; pass no other arguments with it.",
                    key_path="prompt",
                )
            return dataclasses.replace(prompt, stream=True) if stream else prompt
        return GenerationRequest.build(prompt, capability, system_prompt, media, stream, **kwargs)
