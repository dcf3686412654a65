"""Make sure a Hub model's files are in huggingface_hub's cache, fetching only what loading needs.

What loading needs: the top-level config, tokenizer and processor files, and the safetensors
weights — or the PyTorch ``.bin`` weights, only when the repository has no safetensors. Other
frameworks' weights (TensorFlow, Flax, ONNX, GGUF) and sub-folders are never fetched. The files
stay in huggingface_hub's own cache (``HF_HUB_CACHE``), shared with every other library.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hfbench.core.errors import ModelNotFoundError
from hfbench.core.hub import hub_offline, offline_hint
from hfbench.sources.prepared import PreparedModel

logger = logging.getLogger(__name__)

#: Top-level files that configure a model, its tokenizer or its processor.
CONFIG_SUFFIXES = (".json", ".txt", ".model", ".tiktoken", ".jinja")
_PYTORCH_WEIGHTS = re.compile(r"^pytorch_model(-\d+-of-\d+)?\.bin$")
_WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
_SINGLE_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def files_to_fetch(repo_files: Iterable[str]) -> list[str]:
    """The files of a repository that loading a model needs (see the module docstring).

    Example:
        >>> files_to_fetch(["config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5"])
        ['config.json', 'model.safetensors']
    """
    top = [name for name in repo_files if "/" not in name]
    safetensors = [name for name in top if name.endswith(".safetensors")]
    weights = safetensors or [name for name in top if _PYTORCH_WEIGHTS.match(name)]
    unused_index = "pytorch_model.bin.index.json" if safetensors else "model.safetensors.index.json"
    configs = [name for name in top if name.endswith(CONFIG_SUFFIXES) and name != unused_index]
    return sorted(configs + weights)


def is_loadable_snapshot(folder: Path) -> bool:
    """True when ``folder`` has ``config.json`` and a complete set of weights.

    Complete: every shard a weight index names, or a single ``model.safetensors`` /
    ``pytorch_model.bin``.
    """
    if not (folder / "config.json").is_file():
        return False
    for index_name in _WEIGHT_INDEXES:
        index = folder / index_name
        if index.is_file():
            try:
                shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError, AttributeError):
                continue
            if all((folder / shard).is_file() for shard in shards):
                return True
    return any((folder / name).is_file() for name in _SINGLE_WEIGHTS)


def _hub_errors() -> tuple[type[Exception], ...]:
    """What huggingface_hub raises for a missing repo, a bad id or no connection."""
    from huggingface_hub import errors

    return (OSError, ValueError, getattr(errors, "HTTPError", OSError))


@contextmanager
def _hub_progress_bars(enabled: bool) -> Iterator[None]:
    """huggingface_hub's download bars on or off for the duration (restored afterwards)."""
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    if not enabled and not was_disabled:
        disable_progress_bars()
    try:
        yield
    finally:
        if not enabled and not was_disabled:
            enable_progress_bars()


def cached_snapshot(
    repo_id: str, *, revision: str | None = None, cache_dir: str | None = None
) -> Path | None:
    """The repository's snapshot folder in the Hub cache if it can be loaded as it is, else None.

    Reads the cache only (no network).
    """
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=True,
            allow_patterns=["config.json"],
        )
    except _hub_errors():
        return None
    path = Path(str(folder))
    return path if is_loadable_snapshot(path) else None


def prepare_hub_model(
    repo_id: str, *, revision: str | None = None, cache_dir: str | None = None, progress: bool = True
) -> PreparedModel:
    """Make sure a Hub model can be loaded from the Hub cache; download what it lacks, timed.

    With ``HF_HUB_OFFLINE`` set, only the cache is read.

    Raises:
        ModelNotFoundError: offline and not (completely) cached, no such repository or revision,
            no access, no network, or a repository without loadable weights.
    """
    cached = cached_snapshot(repo_id, revision=revision, cache_dir=cache_dir)
    if cached is not None:
        return PreparedModel(source=repo_id, kind="hub", path=cached, hub_id=repo_id)
    if hub_offline():
        raise ModelNotFoundError(
            f"The Hub model {repo_id!r} is not in the Hub cache with its config and weights." + offline_hint()
        )
    from huggingface_hub import list_repo_files, snapshot_download

    logger.info("Preparing %s (downloading from the Hub into its cache, once)", repo_id)
    start = time.perf_counter()
    try:
        wanted = files_to_fetch(list_repo_files(repo_id, revision=revision))
        with _hub_progress_bars(progress):
            folder = Path(
                str(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, allow_patterns=wanted))
            )
    except _hub_errors() as exc:
        raise ModelNotFoundError(
            f"Could not download {repo_id!r} from the Hub.{offline_hint()} (cause: {exc})"
        ) from exc
    if not is_loadable_snapshot(folder):
        raise ModelNotFoundError(
            f"The Hub repository {repo_id!r} has no config.json with safetensors or PyTorch .bin "
            "weights at its top level, so transformers cannot load it "
            f"(fetched: {', '.join(wanted) or 'nothing'})."
        )
    seconds = time.perf_counter() - start
    return PreparedModel(
        source=repo_id, kind="hub", path=folder, seconds=seconds, did_work=True, hub_id=repo_id
    )
