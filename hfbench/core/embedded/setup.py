"""Convert embedded models once into the cache, and set several up at a time."""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hfbench.core.embedded.catalog import EmbeddedModel, embedded_catalog, get_embedded_model
from hfbench.core.embedded.sources import (
    install_packages,
    installed_version,
    is_installed,
    missing_modules,
    require_installed,
    resolve,
    stage_files,
)
from hfbench.core.errors import EmbeddedModelError
from hfbench.core.paths import build_folder_atomically, cache_dir, is_complete

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

#: The metadata file written into every converted folder.
METADATA_FILE = "hfbench_embedded.json"
#: Every converted model is stored with fp32 weights (GGUF de-quantizes to fp32; CTranslate2
#: fp16 is widened exactly), so it loads with any dtype on CPU.
STORED_DTYPE = "float32"

Converter = Callable[[EmbeddedModel, Path, Path], None]


def embedded_root() -> Path:
    """``<hfbench cache>/embedded``: where converted models live."""
    return cache_dir() / "embedded"


def embedded_folder(model: EmbeddedModel | str) -> Path:
    """Where a model is (or will be) converted, whether or not it exists yet."""
    name = model.name if isinstance(model, EmbeddedModel) else get_embedded_model(model).name
    return embedded_root() / name


# --------------------------------------------------------------------------- converters


def _convert_copy(model: EmbeddedModel, out: Path, workdir: Path) -> None:
    """The package already holds a transformers folder: copy it unchanged."""
    assert model.folder is not None
    shutil.copytree(resolve(model.folder), out, dirs_exist_ok=True)


def _convert_gguf(model: EmbeddedModel, out: Path, workdir: Path) -> None:
    from hfbench.core.embedded.gguf import convert_gguf_causal_lm

    staged = stage_files(model, workdir)
    ggufs = [path for name, path in staged.items() if name.endswith(".gguf")]
    if len(ggufs) != 1:
        raise EmbeddedModelError(
            f"Embedded model {model.name!r}: the 'gguf' converter needs exactly one .gguf file "
            f"under 'files', got {sorted(staged)}."
        )
    convert_gguf_causal_lm(ggufs[0], out, name_or_path=model.hub_id)


def _convert_ct2_whisper(model: EmbeddedModel, out: Path, workdir: Path) -> None:
    from hfbench.core.embedded.ctranslate2_whisper import convert_ct2_whisper

    if model.folder is None:
        raise EmbeddedModelError(
            f"Embedded model {model.name!r}: the 'ctranslate2-whisper' converter needs a 'folder' "
            "holding CTranslate2's config.json and tokenizer.json."
        )
    staged = stage_files(model, workdir)
    convert_ct2_whisper(
        resolve(model.folder), out, model_bin=staged.get("model.bin"), name_or_path=model.hub_id
    )


#: Converter name (the catalogue's ``converter``) -> function filling the output folder.
CONVERTERS: dict[str, Converter] = {
    "copy": _convert_copy,
    "gguf": _convert_gguf,
    "ctranslate2-whisper": _convert_ct2_whisper,
}


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


def _build(model: EmbeddedModel, out: Path) -> None:
    """Fill ``out`` (a temporary folder) with the converted model and its metadata."""
    _remove_stale_builds(embedded_folder(model), out)
    logger.info("Converting embedded model %s (%s) once into %s", model.name, model.hub_id, out)
    start = time.perf_counter()
    workdir = out / ".work"
    workdir.mkdir()
    try:
        CONVERTERS[model.converter](model, out, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for ref in model.license_files:
        source = resolve(ref)
        shutil.copy2(source, out / source.name)
    seconds = time.perf_counter() - start
    metadata: dict[str, Any] = {
        **model.to_dict(),
        "stored_dtype": STORED_DTYPE,
        "installed_versions": {p.name: installed_version(p) for p in model.packages},
        "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "conversion_seconds": round(seconds, 2),
        "files": sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()),
    }
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    # mkdtemp makes 0700 folders and some writers 0600 files; a shared cache wants 0755/0644.
    for path in [out, *out.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    logger.info("Converted %s in %.1f s", model.name, seconds)


# --------------------------------------------------------------------------- public API


def embedded_model_path(name: str) -> Path:
    """The converted transformers folder of an embedded model, converting it on first use.

    The first call converts into ``<hfbench cache>/embedded/<name>`` (seconds to a minute,
    safe across processes); later calls only check the folder's completion marker.

    Args:
        name: a catalogue name, with or without the ``embedded:`` prefix.

    Returns:
        The folder, loadable with ``from_pretrained``.

    Raises:
        EmbeddedModelError: unknown name (with a did-you-mean), a package is not installed
            (with the exact ``pip install`` command), or the conversion failed.

    Example:
        >>> from transformers import AutoModel
        >>> AutoModel.from_pretrained(embedded_model_path("embedded:all-minilm-l6-v2"))  # doctest: +SKIP
    """
    model = get_embedded_model(name)
    target = embedded_folder(model)
    if is_complete(target):
        return target
    require_installed(model)
    return build_folder_atomically(target, lambda tmp: _build(model, tmp))


def converted_folder(model: EmbeddedModel | str) -> Path | None:
    """The model's converted folder if it is complete, else None (never converts)."""
    folder = embedded_folder(model)
    return folder if is_complete(folder) else None


def embedded_models() -> pd.DataFrame:
    """A table of the embedded models: what they are, where from, and whether they are ready.

    Columns: name, hub_id, architecture, capabilities, params, format_on_disk, source_package,
    license, local_folder (None until converted), installed (every package present; wheel-only
    packages are fetched at conversion and count as present).
    """
    import pandas as pd

    rows = []
    for model in embedded_catalog():
        folder = converted_folder(model)
        rows.append(
            {
                "name": model.name,
                "hub_id": model.hub_id,
                "architecture": model.architecture.value,
                "capabilities": ", ".join(model.capabilities),
                "params": model.params,
                "format_on_disk": model.format_on_disk,
                "source_package": ", ".join(
                    p.requirement + (" (wheel only)" if p.delivery == "wheel" else "") for p in model.packages
                ),
                "license": model.license,
                "local_folder": str(folder) if folder else None,
                "installed": is_installed(model),
            }
        )
    return pd.DataFrame(rows)


def setup_embedded(names: Sequence[str] | None = None, *, install: bool = False) -> dict[str, Path]:
    """Convert several embedded models (all by default), installing packages only if asked.

    Args:
        names: catalogue names (``embedded:`` prefix optional); None means all of them.
        install: ``pip install`` missing packages into this interpreter first. Without it,
            missing packages raise before anything is converted.

    Returns:
        Name -> converted folder.

    Raises:
        EmbeddedModelError: unknown name, missing packages (with one ``pip install`` command
            for all of them), or a failed conversion.
    """
    models = [get_embedded_model(n) for n in names] if names is not None else embedded_catalog()
    lacking = [m for m in models if missing_modules(m)]
    packages = list(dict.fromkeys(p for m in lacking for p in m.installed_packages))
    if packages and install:
        install_packages(packages)
        lacking = [m for m in models if missing_modules(m)]
    if lacking:
        command = "pip install " + " ".join(
            dict.fromkeys(p.requirement for m in lacking for p in m.installed_packages)
        )
        raise EmbeddedModelError(
            f"Embedded model(s) {', '.join(m.name for m in lacking)} need packages that are not "
            f"installed. Run: {command} (or call setup_embedded(..., install=True))."
        )
    return {model.name: embedded_model_path(model.name) for model in models}
