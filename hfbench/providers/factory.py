"""Provider registry: name -> provider class, and ``create_provider``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hfbench.core.errors import ProviderError, did_you_mean
from hfbench.providers.interface import AbstractLLMInterface

T = TypeVar("T", bound=type[AbstractLLMInterface])

_PROVIDERS: dict[str, type[AbstractLLMInterface]] = {}
_ALIASES = {"hf": "huggingface", "transformers": "huggingface", "openai": "openai-compatible"}
# Built-in providers register themselves when their module is imported.
_BUILTIN = {
    "huggingface": "hfbench.providers.huggingface",
    "openai-compatible": "hfbench.providers.openai_compatible",
}


def register_provider(name: str) -> Callable[[T], T]:
    """Class decorator: make a provider available to ``create_provider(name, ...)``."""

    def decorate(cls: T) -> T:
        _PROVIDERS[name] = cls
        return cls

    return decorate


def provider_names() -> list[str]:
    """Names ``create_provider`` accepts (built-in and registered)."""
    return sorted(set(_PROVIDERS) | set(_BUILTIN))


def create_provider(name: str, config: Mapping[str, Any] | None = None) -> AbstractLLMInterface:
    """Create a provider by name.

    Example:
        >>> llm = create_provider("huggingface", {"model": "embedded:smollm2-135m-instruct"})

    Raises:
        ProviderError: unknown name (with did-you-mean).
    """
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _PROVIDERS and key in _BUILTIN:
        importlib.import_module(_BUILTIN[key])
    if key not in _PROVIDERS:
        raise ProviderError(
            f"Unknown provider {name!r}; available: {', '.join(provider_names())}."
            + did_you_mean(key, provider_names())
        )
    return _PROVIDERS[key](config)
