"""What an OpenAI-compatible server says about itself: its models, version and endpoints.

Small GET requests through the standard library (no generation, no state change on the server):

* ``/v1/models`` — the models it serves (through the provider's ``openai`` client, with the
  response headers);
* the version, where the server reports one: vLLM's ``/version``, TGI's ``/info``, else the
  ``server`` response header (``uvicorn`` for ``transformers serve``, which reports none);
* whether an endpoint exists: a ``GET`` on a POST-only route answers 405 (it exists) or 404 (it
  does not) on FastAPI-based servers (vLLM, ``transformers serve``, TGI's router).

None of it sends or records the API key beyond the ``Authorization`` header of the request.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Response headers worth recording (lower case): what the server is and which version.
VERSION_HEADERS = ("server", "x-powered-by", "x-vllm-version", "x-tgi-version", "openai-version")
#: Version endpoints, relative to the server's root, and the JSON field holding the version.
VERSION_ENDPOINTS: tuple[tuple[str, str], ...] = (("/version", "version"), ("/info", "version"))
#: Seconds a probe may take (they are small GETs).
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ServerInfo:
    """A served model's server, as it describes itself.

    Attributes:
        base_url: the API's base URL (``http://host:port/v1``), without credentials.
        models: the ids ``/v1/models`` lists.
        model: the model the provider uses (configured, or the only one served).
        version: the server's version where it reports one (``vllm 0.9.1``), else None.
        version_source: where ``version`` came from (``/version``, ``/info``, or why unknown).
        headers: the version-related response headers of ``/v1/models`` (``server: uvicorn``).
        model_entries: the ``/v1/models`` entries as JSON (owner, creation time, root ...).
    """

    base_url: str
    models: tuple[str, ...]
    model: str | None
    version: str | None = None
    version_source: str = "not reported"
    headers: Mapping[str, str] = field(default_factory=dict)
    model_entries: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for records."""
        return {
            "base_url": self.base_url,
            "models": list(self.models),
            "model": self.model,
            "version": self.version,
            "version_source": self.version_source,
            "headers": dict(self.headers),
            "model_entries": [dict(e) for e in self.model_entries],
        }


def server_root(base_url: str) -> str:
    """``http://host:8000`` for ``http://host:8000/v1`` (the root holds /health, /version)."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def public_url(url: str) -> str:
    """The URL without user:password and without a query string (what records keep)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def http_get(url: str, *, authorization: str | None, timeout_s: float = PROBE_TIMEOUT_S) -> tuple[int, Any]:
    """``(status, JSON body or text)`` of a GET; status 0 when the server cannot be reached."""
    headers = {"Accept": "application/json"}
    if authorization:
        headers["Authorization"] = f"Bearer {authorization}"
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), _body(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), _body(exc.read())
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


def _body(data: bytes) -> Any:
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def server_version(base_url: str, *, authorization: str | None) -> tuple[str | None, str]:
    """The version the server reports, and where it came from (or why it is unknown)."""
    root = server_root(base_url)
    for path, key in VERSION_ENDPOINTS:
        status, body = http_get(root + path, authorization=authorization)
        if status == 200 and isinstance(body, Mapping) and body.get(key):
            tgi = path == "/info" and "model_id" in body
            return (f"text-generation-inference {body[key]}" if tgi else str(body[key])), path
    return None, "not reported (no /version or /info endpoint)"


def endpoint_exists(base_url: str, endpoint: str, *, authorization: str | None) -> bool | None:
    """Whether ``base_url + endpoint`` is a route: a GET on a POST-only route answers 405 when it
    exists, 404 when it does not; None when the answer says neither (auth, another server)."""
    status, _ = http_get(base_url.rstrip("/") + endpoint, authorization=authorization)
    if status == 405:
        return True
    if status == 404:
        return False
    return None


def version_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers that say what the server is (``VERSION_HEADERS``)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return {k: lowered[k] for k in VERSION_HEADERS if k in lowered}
