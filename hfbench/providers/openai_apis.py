"""The OpenAI endpoints a served model answers on, one class each, in a table by capability.

Each ``ServedAPI`` knows its endpoint (relative to the base URL), the ``openai`` client resource
that calls it, how a request becomes its body, and where the text is in an answer and in a
streamed chunk. ``SERVED_APIS`` maps a capability to its API: ``chat`` → ``/chat/completions``,
``text-generation`` → ``/completions`` (a raw prompt), ``embeddings`` → ``/embeddings``. The
provider and the serving benchmark both use it, so a request is built one way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from hfbench.core.errors import ConfigError
from hfbench.providers.request import GenerationRequest


class ServedAPI:
    """One OpenAI endpoint.

    Attributes:
        capability: the capability it answers.
        endpoint: its path under the base URL (``/chat/completions``).
        prior_architecture: whose prior confidence (``capabilities.toml``) a served model gets for it.
        streams: whether answers can be streamed.
    """

    capability: ClassVar[str]
    endpoint: ClassVar[str]
    prior_architecture: ClassVar[str] = "decoder_only"
    streams: ClassVar[bool] = True

    def resource(self, client: Any) -> Any:
        """The client resource whose ``create`` calls this endpoint (sync or async client)."""
        raise NotImplementedError

    def body(
        self, request: GenerationRequest, fields: Mapping[str, Any], system_prompt: str | None
    ) -> dict[str, Any]:
        """The request body without ``model`` and ``stream``: the input and the request fields.

        Raises:
            ConfigError: the request holds something this endpoint cannot take.
        """
        raise NotImplementedError

    def text(self, response: Any) -> str:
        """The answer's text."""
        raise NotImplementedError

    def piece(self, chunk: Any) -> str:
        """A streamed chunk's text ("" for chunks that carry none: role, finish, usage)."""
        raise NotImplementedError


class ChatAPI(ServedAPI):
    """``/chat/completions``: a conversation (system prompt, earlier turns, the prompt)."""

    capability = "chat"
    endpoint = "/chat/completions"

    def resource(self, client: Any) -> Any:
        return client.chat.completions

    def body(
        self, request: GenerationRequest, fields: Mapping[str, Any], system_prompt: str | None
    ) -> dict[str, Any]:
        if request.system_prompt is None and system_prompt:
            request = dataclasses.replace(request, system_prompt=system_prompt)
        return {"messages": request.chat_messages(), **fields}

    def text(self, response: Any) -> str:
        return str(response.choices[0].message.content or "") if response.choices else ""

    def piece(self, chunk: Any) -> str:
        if not chunk.choices:
            return ""
        delta = chunk.choices[0].delta
        return str(getattr(delta, "content", None) or "") if delta is not None else ""


class CompletionsAPI(ServedAPI):
    """``/completions``: a raw prompt continued (no chat template)."""

    capability = "text-generation"
    endpoint = "/completions"

    def resource(self, client: Any) -> Any:
        return client.completions

    def body(
        self, request: GenerationRequest, fields: Mapping[str, Any], system_prompt: str | None
    ) -> dict[str, Any]:
        if request.messages or request.system_prompt is not None:
            raise ConfigError(
                "text-generation continues a raw prompt (/v1/completions): it takes no conversation or "
                "system prompt. Use capability='chat' for those.",
                key_path="messages" if request.messages else "system_prompt",
            )
        return {"prompt": request.prompt, **fields}

    def text(self, response: Any) -> str:
        return str(response.choices[0].text or "") if response.choices else ""

    def piece(self, chunk: Any) -> str:
        return str(chunk.choices[0].text or "") if chunk.choices else ""


class EmbeddingsAPI(ServedAPI):
    """``/embeddings``: the vector of a text."""

    capability = "embeddings"
    endpoint = "/embeddings"
    prior_architecture = "encoder_only"
    streams = False

    def resource(self, client: Any) -> Any:
        return client.embeddings

    def body(
        self, request: GenerationRequest, fields: Mapping[str, Any], system_prompt: str | None
    ) -> dict[str, Any]:
        if request.messages:
            raise ConfigError("embeddings take one text, not a conversation.", key_path="messages")
        return {"input": request.prompt}

    def text(self, response: Any) -> str:
        return ""

    def vector(self, response: Any) -> list[float]:
        """The embedding of the one input."""
        return [float(x) for x in response.data[0].embedding]

    def piece(self, chunk: Any) -> str:
        return ""


#: capability -> the endpoint that answers it.
SERVED_APIS: dict[str, ServedAPI] = {
    api.capability: api for api in (ChatAPI(), CompletionsAPI(), EmbeddingsAPI())
}
