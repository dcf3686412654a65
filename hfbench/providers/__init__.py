"""Providers: a provider-neutral interface, the Hugging Face provider, the model cache."""

from hfbench.providers.factory import create_provider, provider_names, register_provider
from hfbench.providers.interface import AbstractLLMInterface, GenerationResponse
from hfbench.providers.request import GenerationRequest, Message

__all__ = [
    "AbstractLLMInterface",
    "GenerationRequest",
    "GenerationResponse",
    "HuggingFaceProvider",
    "Message",
    "create_provider",
    "provider_names",
    "register_provider",
]


def __getattr__(name: str) -> object:
    if name == "HuggingFaceProvider":
        from hfbench.providers.huggingface import HuggingFaceProvider

        return HuggingFaceProvider
    raise AttributeError(name)
