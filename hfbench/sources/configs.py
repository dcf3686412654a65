"""Read a model's config from a folder, the Hub cache or the embedded catalogue, and detect its architecture.

The pure decision (config dictionary -> architecture) is ``hfbench.core.architecture``; this module
finds the config. Nothing here converts or downloads a model: an embedded model's architecture
comes from its catalogue entry, and its config from its prepared folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hfbench.core.architecture import (
    ModelArchitecture,
    architecture_from_config,
    architecture_from_config_dict,
)
from hfbench.core.errors import ModelNotFoundError
from hfbench.core.hub import offline_hint
from hfbench.core.model_source import is_embedded
from hfbench.sources.embedded.catalog import get_embedded_model
from hfbench.sources.resolve import check_model_folder, resolve_model_source, source_kind


def load_config_dict(
    source: str | os.PathLike[str],
    *,
    revision: str | None = None,
    cache_dir: str | None = None,
    local_files_only: bool | None = None,
) -> dict[str, Any]:
    """Read ``config.json`` of a local folder, a prepared ``embedded:`` model or a Hub id.

    Hub ids go through ``transformers``/``huggingface_hub`` and their cache, so
    ``HF_HUB_OFFLINE=1`` and a warm cache work as usual (only ``config.json`` is fetched).

    Raises:
        ModelNotFoundError: no such folder, a folder without config.json, no cached config while
            offline, or no such repo.
        EmbeddedModelError: an embedded model that is not prepared yet.
    """
    resolved = resolve_model_source(source)
    if source_kind(source) != "hub":
        check_model_folder(Path(resolved))
    from transformers import PretrainedConfig

    kwargs: dict[str, Any] = {"revision": revision, "cache_dir": cache_dir}
    if local_files_only is not None:
        kwargs["local_files_only"] = local_files_only
    try:
        config_dict, _ = PretrainedConfig.get_config_dict(resolved, **kwargs)
    except OSError as exc:
        raise ModelNotFoundError(
            f"Could not read the config of {str(source)!r}.{offline_hint()} (cause: {exc})"
        ) from exc
    return dict(config_dict)


def detect_architecture(source: Any, **load_kwargs: Any) -> ModelArchitecture:
    """Detect the architecture of a model, without preparing it.

    Args:
        source: a Hub id, a local folder, an ``embedded:<name>`` (answered from the catalogue,
            nothing read or converted), a config dictionary, a ``transformers.PretrainedConfig``
            or a loaded model (anything with ``.config``).
        **load_kwargs: ``revision``, ``cache_dir``, ``local_files_only`` for Hub ids.

    Returns:
        The ``ModelArchitecture``.

    Raises:
        ModelNotFoundError: the config could not be read (see ``load_config_dict``).
        EmbeddedModelError: an unknown embedded name (with a did-you-mean).
        ArchitectureDetectionError: ``source`` is of a type that carries no config.

    Example:
        >>> detect_architecture({"model_type": "llama"})
        <ModelArchitecture.DECODER_ONLY: 'decoder_only'>
    """
    if isinstance(source, (str, os.PathLike)):
        if is_embedded(source):
            return get_embedded_model(str(source)).architecture
        return architecture_from_config_dict(load_config_dict(source, **load_kwargs))
    return architecture_from_config(source)
