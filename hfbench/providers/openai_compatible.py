"""``OpenAICompatibleProvider``: a model behind an OpenAI-compatible server, on the provider interface.

vLLM, TGI, llama.cpp's server, ``transformers serve``, Ollama and OpenAI itself answer the same
three endpoints (``openai_apis``): chat completions (capability ``chat``, the default),
completions (``text-generation``: a raw prompt) and embeddings (``embeddings``: the vector is in
``GenerationResponse.raw``). The provider takes the same requests, front doors and run keys as
``HuggingFaceProvider`` — ``temperature``, ``max_tokens``, ``top_p``, ``stop``, ``seed``,
``system_prompt``, through the same config tree (base → capability → model → per call) — and
talks to the server through the ``openai`` client (retries with backoff on 429 and 5xx, a timeout).

Load keys (``dtype``, ``device`` …) are refused: the server decides how its model is loaded. The
API key (``api_key``, else the variable named by ``api_key_env``) is never logged, shown by
``repr`` or ``get_config``, nor written into results.

Example:
    >>> llm = OpenAICompatibleProvider({"base_url": "http://127.0.0.1:8000/v1", "temperature": 0})
    >>> llm.generate("What is the capital of France?").text        # doctest: +SKIP
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hfbench.core.capability import ModelCapabilities, ModelCapability
from hfbench.core.config import ModelConfig, default_base
from hfbench.core.config_schema import config_keys, load_keys
from hfbench.core.datafiles import read_data_file
from hfbench.core.errors import (
    ConfigError,
    DependencyMissingError,
    Problem,
    UnsupportedCapabilityError,
)
from hfbench.core.validation import join_path
from hfbench.providers.api_key import (
    DEFAULT_API_KEY_ENV,
    MASK,
    ApiKey,
    ResolvedKey,
    as_api_key,
    check_env_name,
    resolve_api_key,
)
from hfbench.providers.factory import register_provider
from hfbench.providers.interface import AbstractLLMInterface, GenerationResponse
from hfbench.providers.openai_apis import SERVED_APIS, EmbeddingsAPI, ServedAPI
from hfbench.providers.openai_errors import (
    MODEL_REFUSAL_STATUSES,
    CallContext,
    model_not_found,
    server_error,
)
from hfbench.providers.request import GenerationRequest
from hfbench.providers.server_info import (
    ServerInfo,
    endpoint_exists,
    public_url,
    server_version,
    version_headers,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_RETRIES = 2

#: How the provider reaches the server.
CONNECTION_KEYS = frozenset(
    {
        "base_url",  # http(s)://host:port/v1 (a URL without a path gets /v1)
        "model",  # the served model's name; default: the server's only model
        "api_key",  # the key itself (masked everywhere) ...
        "api_key_env",  # ... or the environment variable holding it (default OPENAI_API_KEY)
        "timeout_s",  # seconds a call may take
        "max_retries",  # retries with backoff on connection errors, 408, 409, 429 and 5xx
        "extra_body",  # server-specific request fields sent as they are (e.g. {"top_k": 20} for vLLM)
    }
)
#: The config tree's levels, as for ``HuggingFaceProvider``.
TREE_KEYS = frozenset({"config_file", "base", "capabilities", "model_specific"})
PROVIDER_KEYS = CONNECTION_KEYS | TREE_KEYS

#: hfbench's run keys a server takes, and the OpenAI request field each becomes.
REQUEST_FIELDS: dict[str, str] = {
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "top_p": "top_p",
    "stop": "stop",
    "seed": "seed",
}
#: Run keys that apply to a served model: the request fields, and the system prompt (a message).
SERVED_RUN_KEYS = frozenset({*REQUEST_FIELDS, "system_prompt"})


def _import_openai() -> Any:
    try:
        import openai
    except ImportError:  # pragma: no cover - the serving extra is missing
        raise DependencyMissingError("The OpenAI-compatible provider", "openai", extra="serving") from None
    return openai


def normalise_base_url(value: Any) -> str:
    """``http://host:8000/v1`` from ``http://host:8000``, ``http://host:8000/v1/`` ….

    Raises:
        ConfigError: not an http(s) URL with a host.
    """
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"expected an http(s) URL such as {DEFAULT_BASE_URL!r}, got {value!r}.", key_path="base_url"
        )
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


@register_provider("openai-compatible")
class OpenAICompatibleProvider(AbstractLLMInterface):
    """A model behind an OpenAI-compatible server (vLLM, TGI, llama.cpp, ``transformers serve`` …).

    Config keys: ``CONNECTION_KEYS`` (``base_url``, ``model``, ``api_key``, ``api_key_env``,
    ``timeout_s``, ``max_retries``, ``extra_body``), the config tree (``config_file``, ``base``,
    ``capabilities``, ``model_specific``) and the run keys in ``SERVED_RUN_KEYS`` at the top level.

    Example:
        >>> llm = OpenAICompatibleProvider({"base_url": "http://127.0.0.1:8000/v1", "temperature": 0})
        >>> llm.generate("What is the capital of France?").text          # doctest: +SKIP
        >>> llm.generate("Once upon a time", capability="text-generation")  # doctest: +SKIP
        >>> llm.generate("a cat sits", capability="embeddings").raw[:3]     # doctest: +SKIP
    """

    CONFIG_KEYS = PROVIDER_KEYS | frozenset(config_keys())

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self._client: Any = None
        self._model_config: ModelConfig | None = None
        self._served_model: str | None = None
        self._capabilities: dict[str, dict[str, Any]] | None = None
        self.CONFIG_KEYS = PROVIDER_KEYS | frozenset(config_keys())
        defaults = {
            "base_url": DEFAULT_BASE_URL,
            "api_key_env": DEFAULT_API_KEY_ENV,
            "timeout_s": DEFAULT_TIMEOUT_S,
            "max_retries": DEFAULT_MAX_RETRIES,
        }
        super().__init__({**defaults, **dict(config or {})})

    def __repr__(self) -> str:
        model = self._config.get("model") or "(the server's model)"
        return f"{type(self).__name__}(base_url={public_url(self.base_url)!r}, model={model!r})"

    # ---- configuration --------------------------------------------------------------------
    def get_config(self, key: str | None = None, default: Any = None) -> Any:
        """The config (a copy), or one key of it; the API key shows as ``****``."""
        if key is not None:
            value = self._config.get(key, default)
            return MASK if isinstance(value, ApiKey) else copy.deepcopy(value)
        return {k: MASK if isinstance(v, ApiKey) else copy.deepcopy(v) for k, v in self._config.items()}

    def _on_config_change(self, keys: set[str]) -> None:
        # Only the keys present are checked: after a failed update the base class restores the old
        # config (at construction, an empty one) and calls this hook again.
        config = self._config
        present = keys & set(config)
        if "base_url" in present:
            config["base_url"] = normalise_base_url(config["base_url"])
        if "api_key" in present:
            config["api_key"] = as_api_key(config["api_key"])
        if "api_key_env" in present:
            config["api_key_env"] = check_env_name(config["api_key_env"])
        if "timeout_s" in present:
            config["timeout_s"] = _positive_number(config["timeout_s"], "timeout_s")
        if "max_retries" in present:
            config["max_retries"] = _count(config["max_retries"], "max_retries")
        if "model" in present and config["model"] is not None and not isinstance(config["model"], str):
            raise ConfigError(f"expected the served model's name, got {config['model']!r}.", key_path="model")
        if "extra_body" in present and not isinstance(config["extra_body"] or {}, Mapping):
            raise ConfigError(
                f"expected a table of request fields, got {config['extra_body']!r}.", key_path="extra_body"
            )
        if keys & CONNECTION_KEYS:
            self._client = None
            self._served_model = None
            self._capabilities = None
        if keys - CONNECTION_KEYS:
            self._model_config = None
            self.model_config  # noqa: B018 - validate the new values now, not at the first call

    @property
    def base_url(self) -> str:
        """The API's base URL (``http://host:port/v1``)."""
        return str(self._config.get("base_url", DEFAULT_BASE_URL))

    @property
    def model_config(self) -> ModelConfig:
        """The config tree: hfbench's defaults for the keys that apply, the config file, the inline
        levels and top-level run keys.

        Raises:
            ConfigError: load keys (the server decides how it loads its model) or run keys no
                OpenAI-compatible server takes, each with its key path.
        """
        if self._model_config is None:
            _check_served_keys(self._user_levels())
            base = {k: v for k, v in default_base().items() if k in SERVED_RUN_KEYS}
            tree = ModelConfig(base=base, source="provider defaults")
            if self._config.get("config_file"):
                tree = tree.merge(ModelConfig.from_file(self._config["config_file"]))
            levels = {
                name: dict(self._config.get(name) or {})
                for name in ("base", "capabilities", "model_specific")
            }
            levels["base"].update((k, v) for k, v in self._config.items() if k in config_keys())
            self._model_config = tree.merge(ModelConfig(**levels, source="provider config"))
        return self._model_config

    def _user_levels(self) -> list[tuple[str, Mapping[str, Any]]]:
        """Every table of run keys the user wrote: (key path, table)."""
        config = self._config
        levels: list[tuple[str, Mapping[str, Any]]] = [
            ("", {k: v for k, v in config.items() if k in config_keys()}),
            ("base", config.get("base") or {}),
            ("model_specific", config.get("model_specific") or {}),
        ]
        levels += [(f"capabilities.{c}", p) for c, p in (config.get("capabilities") or {}).items()]
        if config.get("config_file"):
            data = read_data_file(config["config_file"], what="config file", error=ConfigError)
            file = config["config_file"]
            for name in ("base", "architecture", "model", "model_specific"):
                if isinstance(data.get(name), Mapping):
                    levels.append((f"{file}: {name}", data[name]))
            for capability, params in (data.get("capabilities") or {}).items():
                levels.append((f"{file}: capabilities.{capability}", params))
        return [(path, table) for path, table in levels if isinstance(table, Mapping)]

    # ---- the client -----------------------------------------------------------------------
    @property
    def api_key(self) -> ResolvedKey:
        """The key the provider sends (masked) and where it came from (``config``, ``$NAME``, ``none``)."""
        return resolve_api_key(self._config.get("api_key"), self._config.get("api_key_env"))

    def client(self) -> Any:
        """The ``openai.OpenAI`` client for this server (built once per connection config).

        Raises:
            DependencyMissingError: the ``openai`` package is not installed (``hfbench[serving]``).
        """
        if self._client is None:
            openai = _import_openai()
            self._client = openai.OpenAI(
                base_url=self.base_url,
                api_key=self.api_key.header_value(),
                timeout=float(self._config["timeout_s"]),
                max_retries=int(self._config["max_retries"]),
            )
        return self._client

    def async_client(self, *, max_retries: int | None = None, timeout_s: float | None = None) -> Any:
        """A new ``openai.AsyncOpenAI`` client for this server (the serving benchmark's).

        Args:
            max_retries: retries (default: the provider's; a benchmark passes 0, so that a
                failure is recorded, not hidden in a retried request's timing).
            timeout_s: seconds a call may take (default: the provider's).
        """
        openai = _import_openai()
        return openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self.api_key.header_value(),
            timeout=float(timeout_s if timeout_s is not None else self._config["timeout_s"]),
            max_retries=int(max_retries if max_retries is not None else self._config["max_retries"]),
        )

    def call_context(self, endpoint: str) -> CallContext:
        """Where a call goes, for error messages."""
        key = self.api_key
        return CallContext(
            base_url=public_url(self.base_url),
            endpoint=endpoint,
            model=self._config.get("model"),
            key=key.key,
            timeout_s=float(self._config["timeout_s"]),
            api_key_source=key.source,
        )

    # ---- the server -----------------------------------------------------------------------
    def served_models(self) -> list[str]:
        """The ids the server lists at ``/v1/models``.

        Raises:
            ServerUnreachableError, ServerHTTPError, ServerAuthError: the server could not be asked.
        """
        return [entry["id"] for entry in self._model_entries()[0]]

    def _model_entries(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        openai = _import_openai()
        try:
            raw = self.client().models.with_raw_response.list()
        except openai.OpenAIError as exc:
            raise server_error(exc, self.call_context("/models")) from exc
        page = raw.parse()
        return [m.model_dump() for m in page.data], dict(raw.headers)

    @property
    def served_model(self) -> str:
        """The model requests name: the configured one, else the server's only model.

        Raises:
            ServedModelNotFoundError: no model configured and the server serves several (or none).
        """
        configured = self._config.get("model")
        if configured:
            return str(configured)
        if self._served_model is None:
            models = self.served_models()
            if len(models) != 1:
                raise model_not_found(
                    "(none given)",
                    models,
                    self.call_context("/models"),
                    "the server serves several models, so 'model' must name one"
                    if models
                    else "it lists no model",
                )
            self._served_model = models[0]
        return self._served_model

    def server_info(self) -> ServerInfo:
        """What the server says about itself: its models, its version (where it reports one) and
        its version headers — for records (no key in it)."""
        entries, headers = self._model_entries()
        version, source = server_version(self.base_url, authorization=self.api_key.header_value())
        ids = tuple(str(e["id"]) for e in entries)
        model = self._config.get("model") or (ids[0] if len(ids) == 1 else None)
        return ServerInfo(
            base_url=public_url(self.base_url),
            models=ids,
            model=model,
            version=version,
            version_source=source,
            headers=version_headers(headers),
            model_entries=tuple(entries),
        )

    def get_capabilities(self) -> dict[str, dict[str, Any]]:
        """What the served model offers: chat and text-generation (chat / completions endpoints),
        embeddings when the server has ``/v1/embeddings``; prior confidences (``capabilities.toml``:
        a decoder's for chat and text-generation, an encoder's for embeddings).

        An endpoint counts as served when a GET on it answers 405 (the route exists, for POST);
        404 rules it out; any other answer keeps chat and completions (every OpenAI-compatible
        server has them) and leaves embeddings out. Asked once per connection config.
        """
        if self._capabilities is None:
            found: dict[str, dict[str, Any]] = {}
            key = self.api_key.header_value()
            for name, api in SERVED_APIS.items():
                exists = endpoint_exists(self.base_url, api.endpoint, authorization=key)
                if exists is False or (exists is None and isinstance(api, EmbeddingsAPI)):
                    continue
                prior = ModelCapabilities(api.prior_architecture).get(name)
                capability = ModelCapability(
                    name=name,
                    confidence=prior.confidence,
                    requires_finetuning=prior.requires_finetuning,
                    parameters={"endpoint": urlsplit(self.base_url).path + api.endpoint},
                    evidence={
                        "served": "GET answered 405: the endpoint exists"
                        if exists
                        else "assumed: every OpenAI-compatible server has it"
                    },
                )
                found[name] = {
                    "confidence": capability.confidence,
                    "requires_finetuning": capability.requires_finetuning,
                    "source": capability.source,
                    "parameters": dict(capability.parameters),
                    "evidence": dict(capability.evidence),
                }
            self._capabilities = found
        return copy.deepcopy(self._capabilities)

    # ---- requests -------------------------------------------------------------------------
    def served_api(self, request: GenerationRequest) -> ServedAPI:
        """The endpoint that answers a request: its capability's, ``chat`` when none is given.

        Raises:
            UnsupportedCapabilityError: media, or a capability no OpenAI endpoint answers.
            ConfigError: a passage (``context``) or a conversation where the endpoint takes none.
        """
        if request.media:
            raise UnsupportedCapabilityError(
                f"The OpenAI-compatible provider sends text only, and servers differ in how they take "
                f"{' and '.join(request.media_kinds)} (image_url content parts, /v1/audio/transcriptions, "
                "or not at all). Run the model locally with the huggingface provider "
                "(create_provider('huggingface', {'model': ...}).generate(prompt, media=...)), or send the "
                "content parts yourself with the openai client."
            )
        capability = request.capability or "chat"
        api = SERVED_APIS.get(capability)
        if api is None:
            raise UnsupportedCapabilityError(
                f"A served model answers {', '.join(SERVED_APIS)} (the chat, completions and embeddings "
                f"endpoints), not {capability!r}. Ask for it in a chat prompt (capability='chat', e.g. "
                "'Summarize this text: …'), or run the model locally with the huggingface provider, "
                "which has a processor for it."
            )
        if request.context is not None:
            raise ConfigError(
                "a served model takes no separate passage (context=): put it in the prompt.",
                key_path="context",
            )
        return api

    def request_body(self, request: GenerationRequest, api: ServedAPI | None = None) -> dict[str, Any]:
        """The JSON body for a request: model, input, the merged run keys that apply, extra_body.

        Raises:
            ConfigError: load keys or run keys no server takes (per call), invalid values.
        """
        api = api or self.served_api(request)
        _check_served_keys([("call", request.params)])
        merged = self.model_config.get_merged_config(api.capability, dict(request.params))
        fields = {REQUEST_FIELDS[k]: v for k, v in merged.items() if k in REQUEST_FIELDS and v is not None}
        if isinstance(api, EmbeddingsAPI):
            fields = {}
        body = {"model": self.served_model, **api.body(request, fields, merged.get("system_prompt"))}
        extra = dict(self._config.get("extra_body") or {})
        return {**body, **({"extra_body": extra} if extra and not isinstance(api, EmbeddingsAPI) else {})}

    def _create(self, api: ServedAPI, body: dict[str, Any], **options: Any) -> Any:
        """Call an endpoint, turning the client's errors into hfbench's (a refused request whose
        model the server does not list becomes ``ServedModelNotFoundError``)."""
        openai = _import_openai()
        try:
            return api.resource(self.client()).create(**body, **options)
        except openai.APIStatusError as exc:
            if exc.status_code in MODEL_REFUSAL_STATUSES:
                self._raise_if_model_not_served(str(body.get("model")), exc)
            raise server_error(exc, self.call_context(api.endpoint)) from exc
        except openai.OpenAIError as exc:
            raise server_error(exc, self.call_context(api.endpoint)) from exc

    def _raise_if_model_not_served(self, model: str, exc: Any) -> None:
        from hfbench.providers.openai_errors import body_message

        try:
            models = self.served_models()
        except Exception:  # the model list is a hint; the request's own error is raised instead
            return
        if model not in models:
            raise model_not_found(
                model, models, self.call_context("/models"), body_message(exc.body)
            ) from exc

    def generate_request(self, request: GenerationRequest) -> GenerationResponse:
        """Answer one request through its endpoint.

        Raises:
            UnsupportedCapabilityError: media or a capability no endpoint answers.
            ConfigError: run keys that do not apply, load keys, invalid values.
            ServerUnreachableError, ServerTimeoutError, ServerAuthError, ServedModelNotFoundError,
            ServerHTTPError: the server could not answer (each message says what to do).
        """
        api = self.served_api(request)
        body = self.request_body(request, api)
        start = time.perf_counter()
        response = self._create(api, body)
        latency = time.perf_counter() - start
        usage = getattr(response, "usage", None)
        raw: Any = api.vector(response) if isinstance(api, EmbeddingsAPI) else response.model_dump()
        logger.info("%s %s: %.3f s", public_url(self.base_url), api.endpoint, latency)
        return GenerationResponse(
            text=api.text(response),
            capability=api.capability,
            model=str(getattr(response, "model", None) or body["model"]),
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            latency_s=latency,
            detection_reason="asked for explicitly" if request.capability else "served models answer in chat",
            raw=raw,
        )

    def stream_request(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the answer's text as the server streams it (the request is sent now, so a
        server that cannot be reached fails here, not at the first piece)."""
        api = self.served_api(request)
        if not api.streams:
            raise UnsupportedCapabilityError(f"{api.capability} answers are not streamed; call generate().")
        stream = self._create(api, self.request_body(request, api), stream=True)
        return self._pieces(api, stream)

    def _pieces(self, api: ServedAPI, stream: Any) -> Iterator[str]:
        openai = _import_openai()
        try:
            for chunk in stream:
                piece = api.piece(chunk)
                if piece:
                    yield piece
        except openai.OpenAIError as exc:
            raise server_error(exc, self.call_context(api.endpoint)) from exc
        finally:
            stream.close()


def _check_served_keys(levels: list[tuple[str, Mapping[str, Any]]]) -> None:
    """Refuse load keys and run keys no OpenAI-compatible server takes, every one at once.

    Raises:
        ConfigError: one problem per key, with its key path and what applies instead.
    """
    problems: list[Problem] = []
    loading = load_keys()
    for path, table in levels:
        for key in table:
            where = join_path(path, key) if path else str(key)
            if key in loading:
                flag = "--" + key.replace("_", "-")
                problems.append(
                    Problem(
                        where,
                        f"{key!r} is a load key, and a served model is loaded by its server: set it there "
                        f"(e.g. `transformers serve {flag} …`, `vllm serve {flag} …`)",
                    )
                )
            elif key in config_keys() and key not in SERVED_RUN_KEYS:
                problems.append(
                    Problem(
                        where,
                        f"{key!r} has no field in the OpenAI API; the run keys that apply to a served model "
                        f"are {', '.join(sorted(SERVED_RUN_KEYS))}. A field one server takes (such as "
                        "vLLM's top_k) goes in the provider's 'extra_body'",
                    )
                )
    if problems:
        raise ConfigError.from_problems(problems)


def _positive_number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"expected a number of seconds > 0, got {value!r}.", key_path=key)
    return float(value)


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"expected a whole number >= 0, got {value!r}.", key_path=key)
    return value
