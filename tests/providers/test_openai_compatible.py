"""OpenAICompatibleProvider against a real ``transformers serve`` of the embedded SmolLM2."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from serving_server import ServedModel, free_port

from hfbench.core.errors import ConfigError, ProviderError, UnsupportedCapabilityError
from hfbench.providers import GenerationResponse, create_provider
from hfbench.providers.openai_compatible import OpenAICompatibleProvider
from hfbench.providers.openai_errors import (
    EndpointNotServedError,
    ServedModelNotFoundError,
    ServerUnreachableError,
)

QUESTION = "What is the capital of France?"
SECRET = "sk-hfbench-test-secret-4711"


@pytest.fixture
def llm(served_smollm2: ServedModel) -> OpenAICompatibleProvider:
    provider = create_provider(
        "openai-compatible", {"base_url": served_smollm2.base_url, "temperature": 0, "max_tokens": 12}
    )
    assert isinstance(provider, OpenAICompatibleProvider)
    return provider


@pytest.mark.slow
@pytest.mark.real_model
def test_greedy_chat_answer_names_paris(llm: OpenAICompatibleProvider, served_smollm2: ServedModel) -> None:
    response = llm.generate(QUESTION)
    assert isinstance(response, GenerationResponse)
    assert "Paris" in response.text
    assert response.capability == "chat"
    assert response.model == served_smollm2.model  # the server's only model, found at /v1/models
    assert response.output_tokens > 0 and response.input_tokens > 0 and response.latency_s > 0


@pytest.mark.slow
@pytest.mark.real_model
def test_streaming_equals_non_streaming(llm: OpenAICompatibleProvider) -> None:
    pieces = list(llm.stream(QUESTION))
    assert len(pieces) > 1
    assert "".join(pieces) == llm.generate(QUESTION).text


@pytest.mark.slow
@pytest.mark.real_model
def test_async_generate_and_stream_through_the_shared_front_doors(llm: OpenAICompatibleProvider) -> None:
    async def both() -> tuple[str, str]:
        response = await llm.generate_async(QUESTION)
        stream = await llm.generate_async(QUESTION, stream=True)
        assert isinstance(response, GenerationResponse) and isinstance(stream, AsyncIterator)
        return response.text, "".join([piece async for piece in stream])

    text, streamed = asyncio.run(both())
    assert "Paris" in text and streamed == text


@pytest.mark.slow
@pytest.mark.real_model
def test_text_generation_continues_a_raw_prompt_through_completions(llm: OpenAICompatibleProvider) -> None:
    response = llm.generate("The capital of France is", capability="text-generation", max_tokens=4)
    assert response.capability == "text-generation"
    assert "Paris" in response.text


@pytest.mark.slow
@pytest.mark.real_model
def test_capabilities_are_the_endpoints_the_server_has(llm: OpenAICompatibleProvider) -> None:
    capabilities = llm.get_capabilities()
    assert set(capabilities) == {"chat", "text-generation"}  # transformers serve has no /v1/embeddings
    assert capabilities["chat"]["source"] == "prior"
    assert capabilities["chat"]["parameters"]["endpoint"] == "/v1/chat/completions"
    with pytest.raises(EndpointNotServedError, match="does not serve /embeddings"):
        llm.generate("a cat sits", capability="embeddings")


@pytest.mark.slow
@pytest.mark.real_model
def test_a_wrong_model_name_lists_the_served_models(served_smollm2: ServedModel) -> None:
    llm = create_provider("openai", {"base_url": served_smollm2.base_url, "model": "no-such-model"})
    with pytest.raises(ServedModelNotFoundError, match="does not serve the model 'no-such-model'") as caught:
        llm.generate("Hi", max_tokens=2)
    assert caught.value.available == (served_smollm2.model,)
    assert served_smollm2.model in str(caught.value)


@pytest.mark.slow
@pytest.mark.real_model
def test_the_api_key_is_never_logged_shown_or_configured(
    served_smollm2: ServedModel, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HFBENCH_TEST_KEY", SECRET)
    caplog.set_level(logging.DEBUG)  # every logger, the openai and httpx clients' included
    from_env = create_provider(
        "openai", {"base_url": served_smollm2.base_url, "api_key_env": "HFBENCH_TEST_KEY", "max_tokens": 4}
    )
    from_config = create_provider("openai", {"base_url": served_smollm2.base_url, "api_key": SECRET})
    assert from_env.api_key.source == "$HFBENCH_TEST_KEY"  # type: ignore[attr-defined]
    from_env.generate("Hi")
    "".join(from_env.stream("Hi"))
    shown = [repr(from_config), str(from_config.get_config()), str(from_config.get_config("api_key"))]
    shown.append(repr(from_config.api_key))  # type: ignore[attr-defined]
    with pytest.raises(ServedModelNotFoundError) as caught:
        from_config.set_config("model", "wrong")
        from_config.generate("Hi", max_tokens=2)
    shown.append(str(caught.value))
    assert from_config.get_config("api_key") == "****"
    assert caplog.records, "the clients logged nothing at DEBUG: the check would be empty"
    assert SECRET not in caplog.text
    assert not any(SECRET in text for text in shown)


def test_a_refused_connection_asks_whether_the_server_runs() -> None:
    port = free_port()
    llm = create_provider("openai", {"base_url": f"http://127.0.0.1:{port}", "model": "m", "max_retries": 0})
    with pytest.raises(
        ServerUnreachableError, match=rf"is the server running at http://127.0.0.1:{port}/v1\?"
    ):
        llm.generate("Hi")


def test_load_keys_and_run_keys_no_server_takes_are_refused_with_what_applies() -> None:
    with pytest.raises(ConfigError, match="load key, and a served model is loaded by its server"):
        create_provider("openai", {"dtype": "bfloat16"})
    with pytest.raises(ConfigError, match=r"at 'capabilities\.chat\.num_beams'.*extra_body"):
        create_provider("openai", {"capabilities": {"chat": {"num_beams": 2}}})
    llm = create_provider("openai", {"model": "m"})
    with pytest.raises(ConfigError, match=r"call\.top_k"):
        llm.generate("Hi", top_k=5)
    with pytest.raises(ConfigError, match=r"call\.max_tokens"):
        llm.generate("Hi", max_tokens=0)


def test_tree_config_and_per_call_keys_build_the_request_body() -> None:
    llm = OpenAICompatibleProvider(
        {
            "model": "m",
            "temperature": 0.3,
            "system_prompt": "Be brief.",
            "capabilities": {"text-generation": {"max_tokens": 7}, "chat": {"max_tokens": 9}},
            "extra_body": {"top_k": 20},
        }
    )
    from hfbench.providers.request import GenerationRequest

    chat = llm.request_body(GenerationRequest.build("Hi", seed=3, stop=["\n"]))
    assert chat["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert (chat["temperature"], chat["seed"], chat["stop"], chat["max_tokens"]) == (0.3, 3, ["\n"], 9)
    assert chat["extra_body"] == {"top_k": 20} and "top_k" not in chat
    raw = llm.request_body(GenerationRequest.build("Once", capability="text-generation"))
    assert raw["prompt"] == "Once" and raw["max_tokens"] == 7 and "messages" not in raw


def test_media_and_capabilities_without_an_endpoint_are_refused_with_what_would_work(
    sample_image: object,
) -> None:
    llm = create_provider("openai", {"model": "m"})
    with pytest.raises(UnsupportedCapabilityError, match="huggingface provider"):
        llm.generate("What is in the picture?", media=sample_image)
    with pytest.raises(UnsupportedCapabilityError, match="not 'summarization'"):
        llm.generate("Some text.", capability="summarization")


def test_bad_connection_settings_are_config_errors_and_the_config_stays() -> None:
    llm = create_provider("openai", {"base_url": "http://host:8000"})
    assert llm.get_config("base_url") == "http://host:8000/v1"
    for key, value in (
        ("base_url", "ftp://host"),
        ("timeout_s", 0),
        ("max_retries", -1),
        ("api_key_env", "1X"),
    ):
        with pytest.raises(ConfigError, match=key):
            llm.set_config(key, value)
    assert llm.get_config("base_url") == "http://host:8000/v1"
    with pytest.raises(ProviderError, match="Did you mean 'openai-compatible'"):
        create_provider("openai-compatibel")
