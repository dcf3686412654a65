"""``prepare_model``: the one explicit, timed step that puts a model's files on this machine.

Resolving a name and detecting an architecture never prepare anything; loading a model expects
it prepared. Preparation is timed apart from loading, so a benchmark never counts a conversion
or a download as load time.
"""

from __future__ import annotations

import os
from pathlib import Path

from hfbench.sources.embedded.prepare import prepare_embedded
from hfbench.sources.hub_snapshot import prepare_hub_model
from hfbench.sources.prepared import PreparedModel
from hfbench.sources.resolve import check_model_folder, source_kind


def prepare_model(
    source: str | os.PathLike[str],
    *,
    progress: bool = True,
    revision: str | None = None,
    cache_dir: str | None = None,
) -> PreparedModel:
    """Make a model loadable from local files, doing (and timing) whatever that takes.

    * ``embedded:<name>``: converts it once into ``<hfbench cache>/embedded/<name>`` (a progress
      bar over the conversion steps, and an INFO log line); later calls only check the folder.
    * a local folder: checks that it has a ``config.json``.
    * a Hub id: makes sure its config, tokenizer, processor and weight files are in
      huggingface_hub's cache (safetensors, or PyTorch ``.bin`` only when a repository has no
      safetensors); with ``HF_HUB_OFFLINE`` set, only the cache is read.

    Args:
        source: an ``embedded:<name>``, a local folder or a Hub id.
        progress: show progress bars while converting or downloading.
        revision: a Hub branch, tag or commit (Hub ids only).
        cache_dir: another Hub cache folder (Hub ids only).

    Returns:
        A ``PreparedModel``: where the files are, and ``seconds`` spent now (0.0 and
        ``did_work=False`` when everything was already there).

    Raises:
        EmbeddedModelError: an unknown embedded name, a missing package, a failed conversion.
        ModelNotFoundError: a folder that is not a model folder; a Hub model that is not cached
            while offline, or cannot be downloaded.

    Example:
        >>> prepared = prepare_model("embedded:whisper-tiny.en")  # doctest: +SKIP
        >>> prepared.path, prepared.seconds, prepared.did_work  # doctest: +SKIP
    """
    kind = source_kind(source)
    if kind == "embedded":
        return prepare_embedded(str(source), progress=progress)
    if kind == "local":
        folder = check_model_folder(Path(source).expanduser())
        return PreparedModel(source=str(source), kind="local", path=folder)
    return prepare_hub_model(str(source), revision=revision, cache_dir=cache_dir, progress=progress)
