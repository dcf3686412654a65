"""What a checkpoint can serve, known before loading it: its architecture's priors, refined by its head.

``checkpoint_capabilities`` does from the config (its ``architectures`` list, ``model_type`` and
labels) and the tokenizer's files (a chat template) what ``BasePipeline.load`` does after loading
(``HeadLoader.refine_capabilities``): a bare sentence-embedding BERT serves embeddings only, a
masked-LM BERT fill-mask and embeddings, a classifier its classification capabilities. No weights
are read, and nothing is prepared: an embedded model that is not converted yet is answered from
its catalogue entry. ``hfbench detect`` prints it; a provider can show it before loading.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from hfbench.core.architecture import ModelArchitecture, architecture_from_config
from hfbench.core.capability import ModelCapabilities
from hfbench.core.model_source import is_embedded
from hfbench.pipelines.heads import HeadLoader
from hfbench.pipelines.registry import loader_class
from hfbench.sources.configs import detect_architecture, load_config_dict
from hfbench.sources.embedded import converted_folder, get_embedded_model
from hfbench.sources.tokenizer_files import tokenizer_facts

CATALOGUE_EVIDENCE = "catalogue"
"""The ``evidence`` key of a capability answered from an unprepared embedded model's catalogue entry."""


def checkpoint_capabilities(
    model: Any,
    *,
    architecture: ModelArchitecture | str | None = None,
    **hub: Any,
) -> ModelCapabilities:
    """The capabilities a checkpoint can serve, from its config alone (no weights loaded).

    The same set, confidences and ``requires_finetuning`` as ``pipeline_for(model).load()`` gives
    in ``pipe.capabilities`` (the head a load without a capability picks). Whether the tokenizer
    has a chat template (which decides what a multimodal generator serves) is read from its files
    (``hfbench.sources.tokenizer_files``); where they cannot be read (a config given alone, a Hub
    model whose files are not cached) it is not known and the head's row decides.

    Args:
        model: a Hub id, a local folder, ``embedded:<name>``, a config dictionary, a
            ``transformers.PretrainedConfig`` or a loaded model.
        architecture: pin the architecture instead of detecting it.
        **hub: ``revision``, ``cache_dir``, ``local_files_only`` for Hub ids.

    Returns:
        The architecture's ``ModelCapabilities`` without what the checkpoint's head cannot serve.
        An embedded model that is not prepared yet gets the capabilities its catalogue entry
        lists, each with ``evidence["catalogue"]`` set (nothing is converted).

    Raises:
        ModelNotFoundError: the config could not be read.
        EmbeddedModelError: an unknown embedded name.

    Example:
        >>> checkpoint_capabilities("embedded:all-minilm-l6-v2").names()
        ['embeddings']
    """
    pinned = ModelArchitecture.parse(architecture) if architecture is not None else None
    chat_template: bool | None = None
    if isinstance(model, (str, os.PathLike)):
        if is_embedded(model) and converted_folder(str(model)) is None:
            return catalogue_capabilities(str(model))
        arch = pinned or detect_architecture(model, **hub)
        hf_config = _config_of(load_config_dict(model, **hub))
        facts = tokenizer_facts(model, revision=hub.get("revision"))
        chat_template = facts.chat_template if facts.known else None
    else:
        hf_config = _config_of(model)
        arch = pinned or architecture_from_config(model)
    loader = loader_class(arch)()
    capabilities = ModelCapabilities(arch)
    if isinstance(loader, HeadLoader):
        loader.refine(loader.checkpoint(hf_config, chat_template), capabilities)
    return capabilities


def catalogue_capabilities(name: str) -> ModelCapabilities:
    """The capabilities an embedded model's catalogue entry lists (architecture priors, the rest
    dropped), each marked ``evidence["catalogue"] = "embedded:<name>"``; nothing is converted.

    Raises:
        EmbeddedModelError: an unknown embedded name (with a did-you-mean).
    """
    entry = get_embedded_model(name)
    capabilities = ModelCapabilities(entry.architecture)
    for capability in list(capabilities):
        if capability.name in entry.capabilities:
            capability.evidence = {**capability.evidence, CATALOGUE_EVIDENCE: entry.source_id}
        else:
            capabilities.remove(capability.name)
    return capabilities


def _config_of(model: Any) -> Any:
    """The config of a loaded model or a ``PretrainedConfig``; a dictionary (``config.json``) read as
    attributes, so a ``model_type`` transformers does not know (remote code) needs no code run."""
    if isinstance(model, Mapping):
        return SimpleNamespace(**{str(k): v for k, v in model.items()})
    return getattr(model, "config", model)
