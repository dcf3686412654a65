"""API keys for served models: held masked, resolved from the config or the environment.

A key is a secret: ``ApiKey`` keeps it out of ``repr``, ``str``, logs and copies of a provider's
config (they show ``MASK``); only ``reveal()`` gives the value, to the HTTP client. ``resolve_api_key``
chooses the key a provider sends: the config's ``api_key``, else the environment variable named by
``api_key_env`` (default ``OPENAI_API_KEY``), else none.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from hfbench.core.errors import ConfigError

#: What a key shows instead of its value.
MASK = "****"
#: The environment variable a key is read from unless ``api_key_env`` names another.
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
#: The key sent to servers that need none (``transformers serve``, a local vLLM): the OpenAI
#: client requires one, and such servers ignore it.
NO_KEY = "EMPTY"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ApiKey:
    """A secret string that never shows itself (``repr``, ``str`` and format give ``MASK``).

    Example:
        >>> key = ApiKey("sk-123")
        >>> key, str(key), key.reveal()
        (ApiKey('****'), '****', 'sk-123')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself: for the HTTP client's Authorization header only."""
        return self._value

    def __repr__(self) -> str:
        return f"ApiKey({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __copy__(self) -> ApiKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ApiKey:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # A pickle would hold the key in plain text (a file, a queue, a log of it): refuse.
        raise TypeError(
            "an API key cannot be pickled; give the other process api_key_env and set that variable there"
        )


@dataclass(frozen=True)
class ResolvedKey:
    """The key a provider sends, and where it came from (``config``, ``$NAME`` or ``none``)."""

    key: ApiKey | None
    source: str

    def header_value(self) -> str:
        """What the client sends: the key, or ``NO_KEY`` when there is none."""
        return self.key.reveal() if self.key is not None else NO_KEY


def as_api_key(value: Any) -> ApiKey | None:
    """A config's ``api_key`` value as an ``ApiKey`` (None stays None).

    Raises:
        ConfigError: a value that is neither a string nor an ``ApiKey`` (the value is not shown).
    """
    if value is None or isinstance(value, ApiKey):
        return value
    if isinstance(value, str) and value:
        return ApiKey(value)
    raise ConfigError(
        f"api_key must be a non-empty string (got a value of type {type(value).__name__}; the value is "
        f"not shown). Or leave it out and set the environment variable named by api_key_env "
        f"({DEFAULT_API_KEY_ENV}).",
        key_path="api_key",
    )


def check_env_name(name: Any) -> str:
    """A valid environment variable name for ``api_key_env``.

    Raises:
        ConfigError: not a name like ``OPENAI_API_KEY``.
    """
    if not isinstance(name, str) or not _ENV_NAME.match(name):
        raise ConfigError(
            f"api_key_env names an environment variable (letters, digits, _), got {name!r}; "
            f"e.g. {DEFAULT_API_KEY_ENV!r}.",
            key_path="api_key_env",
        )
    return name


def resolve_api_key(api_key: ApiKey | None, api_key_env: str | None) -> ResolvedKey:
    """The key to send: the config's, else ``$api_key_env``'s (default ``OPENAI_API_KEY``), else none."""
    if api_key is not None:
        return ResolvedKey(api_key, "config")
    env = api_key_env or DEFAULT_API_KEY_ENV
    value = os.environ.get(env)
    if value:
        return ResolvedKey(ApiKey(value), f"${env}")
    return ResolvedKey(None, "none")


def scrub(text: str, *keys: ApiKey | None) -> str:
    """``text`` with every occurrence of the keys' values replaced by ``MASK``."""
    for key in keys:
        if key is not None and key.reveal():
            text = text.replace(key.reveal(), MASK)
    return text
