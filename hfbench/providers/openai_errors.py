"""Errors of served models (OpenAI-compatible endpoints), and the translation of the client's.

Every class is a ``ProviderError``; each message names the server, what went wrong and what to do.
``server_error`` turns an exception of the ``openai`` client into one of them: a refused
connection (is the server running?), a timeout, a refused key, an endpoint the server does not
serve, or any other HTTP error with the message from its body. A wrong model name needs the
server's model list, so the provider raises ``ServedModelNotFoundError`` itself (it asks
``/v1/models`` when a request is refused). Messages never carry the API key (``scrub``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hfbench.core.errors import ProviderError, did_you_mean
from hfbench.providers.api_key import ApiKey, scrub

#: Statuses whose body may say that the model name is wrong (vLLM: 404, ``transformers serve``:
#: 400, others 422): the provider then checks the name against ``/v1/models``.
MODEL_REFUSAL_STATUSES = frozenset({400, 404, 422})


class ServerUnreachableError(ProviderError):
    """No connection to the server (refused, unknown host, reset)."""


class ServerTimeoutError(ProviderError):
    """The server did not answer within ``timeout_s``."""


class ServerAuthError(ProviderError):
    """The server refused the API key (HTTP 401 or 403)."""


class ServerHTTPError(ProviderError):
    """The server answered with an HTTP error.

    Attributes:
        status_code: the HTTP status.
        body_message: the message the response body carried ("" when none).
    """

    def __init__(self, message: str, *, status_code: int, body_message: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body_message = body_message


class EndpointNotServedError(ServerHTTPError):
    """The server has no such endpoint (e.g. no ``/v1/embeddings``)."""


class ServedModelNotFoundError(ProviderError):
    """The server does not serve the model asked for.

    Attributes:
        model: the name asked for.
        available: the server's models (``/v1/models``).
    """

    def __init__(self, message: str, *, model: str, available: Sequence[str]) -> None:
        super().__init__(message)
        self.model = model
        self.available = tuple(available)


@dataclass(frozen=True)
class CallContext:
    """Where a failed call went, for messages: the base URL, the endpoint, the model, the key."""

    base_url: str
    endpoint: str
    model: str | None = None
    key: ApiKey | None = None
    timeout_s: float | None = None
    api_key_source: str = "none"


def body_message(body: Any) -> str:
    """The human message of an error body: OpenAI's ``error.message``, FastAPI's ``detail``,
    ``message``, or the text itself."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
        for key in ("detail", "message", "error"):
            if body.get(key):
                value = body[key]
                return value if isinstance(value, str) else str(value)
        return str(dict(body))
    return "" if body is None else str(body)


def model_not_found(
    model: str, available: Sequence[str], where: CallContext, detail: str = ""
) -> ProviderError:
    """The error for a model name the server does not serve, listing what it serves."""
    served = ", ".join(repr(m) for m in available) or "(none listed)"
    said = f" (the server said: {detail})" if detail else ""
    return ServedModelNotFoundError(
        scrub(
            f"The server at {where.base_url} does not serve the model {model!r}{said}. It serves: "
            f"{served}.{did_you_mean(model, available)} Set the provider's 'model' to one of them "
            "(or leave 'model' out when the server serves one model).",
            where.key,
        ),
        model=model,
        available=available,
    )


def server_error(exc: BaseException, where: CallContext) -> ProviderError:
    """An ``openai`` client exception as an hfbench error that says what to do.

    Args:
        exc: what the client raised (``APIConnectionError``, ``APITimeoutError``,
            ``APIStatusError`` ...); anything else is wrapped as a ``ProviderError``.
        where: the call, for the message.

    Returns:
        The hfbench error (raise it ``from exc``).
    """
    import openai

    url = where.base_url
    if isinstance(exc, openai.APITimeoutError):
        message = (
            f"The server at {url} did not answer {where.endpoint} within timeout_s={where.timeout_s:g} s. "
            "It may be busy or generating a long answer: raise the provider's timeout_s, ask for fewer "
            "max_tokens, or check the server's log."
            if where.timeout_s is not None
            else f"The server at {url} did not answer {where.endpoint} in time; raise timeout_s."
        )
        return ServerTimeoutError(scrub(message, where.key))
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        reason = f" ({cause})" if cause else ""
        return ServerUnreachableError(
            scrub(
                f"Cannot connect to {url}{reason}: is the server running at {url}? Start one (for "
                "example `transformers serve MODEL --host 127.0.0.1 --port 8000` and base_url "
                "'http://127.0.0.1:8000/v1'), or fix the provider's base_url.",
                where.key,
            )
        )
    if isinstance(exc, openai.APIStatusError):
        status = int(exc.status_code)
        said = body_message(exc.body) or exc.message
        return http_error(status, said, where)
    return ProviderError(scrub(f"The call to {url}{where.endpoint} failed: {exc}", where.key))


def http_error(status: int, said: str, where: CallContext) -> ServerHTTPError | ServerAuthError:
    """The error for an HTTP error status with the message its body carried."""
    url, endpoint = where.base_url, where.endpoint
    if status in (401, 403):
        return ServerAuthError(
            scrub(
                f"The server at {url} refused the API key (HTTP {status}: {said}). The key came from "
                f"{_key_source(where)}: set the provider's 'api_key', or the environment variable "
                "named by 'api_key_env' (default OPENAI_API_KEY), to a key this server accepts.",
                where.key,
            )
        )
    if status in (404, 405) and said.strip().lower() in ("not found", "method not allowed", ""):
        return EndpointNotServedError(
            scrub(
                f"The server at {url} does not serve {endpoint} (HTTP {status}: {said or 'no body'}). "
                f"{ENDPOINT_HINTS.get(endpoint, 'Check that base_url ends with /v1.')}",
                where.key,
            ),
            status_code=status,
            body_message=said,
        )
    hint = STATUS_HINTS.get(status, "")
    if status >= 500:
        hint = "A server-side error (retried with backoff up to max_retries): check the server's log."
    return ServerHTTPError(
        scrub(
            f"The server at {url} refused {endpoint} with HTTP {status}: {said}. {hint}".rstrip(), where.key
        ),
        status_code=status,
        body_message=scrub(said, where.key),
    )


def _key_source(where: CallContext) -> str:
    return {"config": "the provider's 'api_key'", "none": "nowhere (no key was set)"}.get(
        where.api_key_source, f"the environment variable {where.api_key_source.lstrip('$')}"
    )


#: What to do when a server lacks an endpoint.
ENDPOINT_HINTS: dict[str, str] = {
    "/embeddings": "Serve an embedding model on a server with /v1/embeddings (vLLM, TEI, llama.cpp's "
    "server with --embeddings), or run it locally: create_provider('huggingface', {'model': ...}).",
    "/completions": "Use capability='chat' (chat completions), which every OpenAI-compatible server has.",
    "/chat/completions": "Check that base_url ends with /v1 (e.g. http://127.0.0.1:8000/v1).",
}

#: What an HTTP error status usually means for a served model.
STATUS_HINTS: dict[int, str] = {
    400: "The server rejected the request's fields: check the parameters (a field this server "
    "does not take goes out of 'extra_body').",
    413: "The prompt is too long for this server: send a shorter one.",
    422: "The server rejected a field it does not know: remove it (or its key in 'extra_body').",
    429: "The server is rate-limiting (retried with backoff up to max_retries): send fewer requests at a "
    "time or raise max_retries.",
}
