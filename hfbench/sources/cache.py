"""Where hfbench keeps its own files (converted models, the tiny zoo), and how it builds them safely."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

COMPLETE_MARKER = ".hfbench-complete"


def cache_dir() -> Path:
    """hfbench's cache root.

    ``$HFBENCH_CACHE`` if set, else ``$HF_HOME/hfbench`` if ``HF_HOME`` is set, else
    ``$XDG_CACHE_HOME/hfbench``, else ``~/.cache/hfbench``. Model weights downloaded from the
    Hub stay in huggingface_hub's own cache; this folder holds only what hfbench makes
    (converted embedded models, the tiny-model zoo, eval sets).
    """
    if os.environ.get("HFBENCH_CACHE"):
        return Path(os.environ["HFBENCH_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hfbench"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "hfbench"


def is_complete(folder: Path) -> bool:
    """True when ``folder`` was finished by ``build_folder_atomically``."""
    return (folder / COMPLETE_MARKER).is_file()


def build_folder_atomically(
    target: Path, build: Callable[[Path], None], *, is_ready: Callable[[Path], bool] = is_complete
) -> Path:
    """Build ``target`` once, safely across processes.

    ``build(tmp)`` fills a temporary sibling folder; on success it gets a completion marker and
    is renamed onto ``target``. A file lock serialises concurrent first uses; a ``target`` that
    is not ready (no marker: left by a killed process; or ``is_ready`` says it is stale) is
    removed and rebuilt.

    Args:
        target: the folder to build.
        build: fills the temporary folder it is given.
        is_ready: whether an existing ``target`` can be used as it is (default: it has the
            completion marker).

    Returns:
        ``target``.
    """
    from filelock import FileLock

    if is_ready(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if is_ready(target):
            return target
        if target.exists():
            shutil.rmtree(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            build(tmp)
            (tmp / COMPLETE_MARKER).write_text("ok\n", encoding="utf-8")
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target
