"""HTTP answers ``transformers serve`` does not give on demand — 429, 5xx, 401, error bodies, an
embeddings endpoint — from a small standard-library HTTP server on 127.0.0.1 that plays back set
responses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hfbench.providers import create_provider
from hfbench.providers.openai_errors import ServerAuthError, ServerHTTPError

SECRET = "sk-hfbench-playback-secret-0815"
ANSWER = {
    "id": "x",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


class Playback:
    """A local HTTP server answering each POST with the next (status, body) and noting what it got."""

    def __init__(self) -> None:
        self.responses: list[tuple[int, dict[str, Any]]] = []
        self.seen: list[dict[str, Any]] = []
        playback = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                playback.seen.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("authorization")}
                )
                status, answer = playback.responses.pop(0) if playback.responses else (200, ANSWER)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("retry-after-ms", "10")  # keep the client's backoff short
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # /v1/models; 405 on the POST-only endpoints, as FastAPI
                if not self.path.endswith("/models"):
                    self.send_response(405)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                data = json.dumps({"object": "list", "data": [{"id": "m", "object": "model", "created": 0}]})
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data.encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def playback() -> Iterator[Playback]:
    server = Playback()
    try:
        yield server
    finally:
        server.close()


def test_429_and_5xx_are_retried_with_backoff(playback: Playback) -> None:
    playback.responses = [(503, {"detail": "loading"}), (429, {"error": {"message": "slow down"}})]
    llm = create_provider("openai", {"base_url": playback.base_url, "model": "m", "max_retries": 2})
    assert llm.generate("Hi").text == "ok"
    assert len(playback.seen) == 3


def test_an_http_error_body_is_in_the_message_once_retries_are_spent(playback: Playback) -> None:
    playback.responses = [(503, {"detail": "the model is still loading"})] * 2
    llm = create_provider("openai", {"base_url": playback.base_url, "model": "m", "max_retries": 1})
    with pytest.raises(ServerHTTPError, match="HTTP 503: the model is still loading") as caught:
        llm.generate("Hi")
    assert caught.value.status_code == 503 and len(playback.seen) == 2


def test_a_refused_key_says_where_it_came_from_without_showing_it(
    playback: Playback, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HFBENCH_PLAYBACK_KEY", SECRET)
    playback.responses = [(401, {"error": {"message": f"invalid key {SECRET}"}})]
    llm = create_provider(
        "openai", {"base_url": playback.base_url, "model": "m", "api_key_env": "HFBENCH_PLAYBACK_KEY"}
    )
    with pytest.raises(ServerAuthError, match="environment variable HFBENCH_PLAYBACK_KEY") as caught:
        llm.generate("Hi")
    assert playback.seen[0]["auth"] == f"Bearer {SECRET}"  # sent to the server, and only there
    assert SECRET not in str(caught.value)


def test_a_rejected_field_names_extra_body(playback: Playback) -> None:
    playback.responses = [(422, {"detail": "Unexpected fields in the request: {'top_k'}"})]
    llm = create_provider("openai", {"base_url": playback.base_url, "model": "m", "extra_body": {"top_k": 2}})
    with pytest.raises(ServerHTTPError, match=r"HTTP 422: Unexpected fields.*extra_body"):
        llm.generate("Hi")
    assert playback.seen[0]["body"]["top_k"] == 2


def test_an_embeddings_endpoint_answers_with_the_vector_in_raw(playback: Playback) -> None:
    vector = {"object": "embedding", "index": 0, "embedding": [0.25, -0.5, 1.0]}
    usage = {"prompt_tokens": 3, "total_tokens": 3}
    playback.responses = [(200, {"object": "list", "data": [vector], "model": "m", "usage": usage})]
    llm = create_provider("openai", {"base_url": playback.base_url, "model": "m", "temperature": 0})
    response = llm.generate("a cat sits", capability="embeddings")
    assert response.raw == [0.25, -0.5, 1.0] and response.capability == "embeddings"
    assert response.input_tokens == 3
    assert playback.seen[0]["path"] == "/v1/embeddings"
    body = playback.seen[0]["body"]
    assert body["input"] == "a cat sits" and body["model"] == "m" and "temperature" not in body
    assert set(llm.get_capabilities()) == {"chat", "text-generation", "embeddings"}  # GETs answer 405
