"""The provider-neutral interface every provider implements, and its typed response."""

from __future__ import annotations

import asyncio
import copy
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hfbench.core.errors import ConfigError, did_you_mean

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

    Subclasses implement ``generate`` and ``get_capabilities`` and list the config keys they
    accept in ``CONFIG_KEYS`` (unknown keys are rejected with a did-you-mean).
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
        """Merge keys into the config (validated; nested tables are replaced, not merged)."""
        for key in updates:
            self._check_key(key)
        self._config.update(copy.deepcopy(dict(updates)))
        self._on_config_change(set(updates))

    def _check_key(self, key: str) -> None:
        if self.CONFIG_KEYS and key not in self.CONFIG_KEYS:
            raise ConfigError(
                f"unknown provider key {key!r} for {type(self).__name__}; valid keys: "
                f"{', '.join(sorted(self.CONFIG_KEYS))}." + did_you_mean(key, self.CONFIG_KEYS),
                key_path=key,
            )

    def _on_config_change(self, keys: set[str]) -> None:  # noqa: B027 - an optional hook
        """Hook: react to changed keys (e.g. drop a loaded model when ``model`` changes)."""

    # ---- generation -----------------------------------------------------------------------
    @abstractmethod
    def generate(
        self,
        prompt: str,
        capability: str | None = None,
        system_prompt: str | None = None,
        media: Any = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> GenerationResponse | Iterator[str]:
        """Generate output for a prompt (and optional media); ``stream=True`` yields text pieces."""

    async def generate_async(
        self,
        prompt: str,
        capability: str | None = None,
        system_prompt: str | None = None,
        media: Any = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> GenerationResponse | AsyncIterator[str]:
        """``generate`` without blocking the event loop (it runs in a worker thread).

        With ``stream=True`` the result is an async iterator of text pieces.
        """
        if stream:
            return self._stream_async(prompt, capability, system_prompt, media, **kwargs)
        response = await asyncio.to_thread(
            self.generate, prompt, capability, system_prompt, media, False, **kwargs
        )
        assert isinstance(response, GenerationResponse)
        return response

    async def _stream_async(
        self, prompt: str, capability: str | None, system_prompt: str | None, media: Any, **kwargs: Any
    ) -> AsyncIterator[str]:
        pieces = await asyncio.to_thread(
            self.generate, prompt, capability, system_prompt, media, True, **kwargs
        )
        assert not isinstance(pieces, GenerationResponse)
        sentinel = object()
        while True:
            piece = await asyncio.to_thread(next, pieces, sentinel)
            if piece is sentinel:
                return
            yield str(piece)

    @abstractmethod
    def get_capabilities(self) -> dict[str, dict[str, Any]]:
        """The model's capabilities: name -> confidence, source, requires_finetuning, parameters."""
