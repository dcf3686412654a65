"""Facts about the Hugging Face Hub connection, read through ``huggingface_hub`` itself."""

from __future__ import annotations


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set, as ``huggingface_hub.constants`` reads it.

    huggingface_hub reads the variable once, when it is first imported; hfbench asks it rather
    than parsing the variable again, so both always agree.
    """
    from huggingface_hub import constants

    return bool(constants.is_offline_mode())


def offline_hint() -> str:
    """A sentence for "not found" messages: what offline mode means, when it is on."""
    if hub_offline():
        return (
            " HF_HUB_OFFLINE is set, so only files already in the Hub cache can be used: download "
            "the model once with network access, or pass a local folder."
        )
    return " Check the id (owner/name) and your network, or pass a local folder."
