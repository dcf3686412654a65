"""Preparing models: where their files come from and how they get onto this machine.

``prepare_model`` is the one explicit, timed step that converts (embedded models) or downloads
(Hub models); ``resolve_model_source``, ``load_config_dict`` and ``detect_architecture`` only
look at what is already there. The embedded-model catalogue and converters are in
``hfbench.sources.embedded``; hfbench's own cache folder in ``hfbench.sources.cache``. I/O lives
here, not in ``hfbench.core``; nothing here imports torch or transformers at module level.
"""

from hfbench.sources.cache import cache_dir
from hfbench.sources.configs import detect_architecture, load_config_dict
from hfbench.sources.embedded import embedded_model_path, embedded_models
from hfbench.sources.prepare import prepare_model
from hfbench.sources.prepared import PreparedModel, SourceKind
from hfbench.sources.resolve import resolve_model_source, source_kind
from hfbench.sources.setup import setup_embedded

__all__ = [
    "PreparedModel",
    "SourceKind",
    "cache_dir",
    "detect_architecture",
    "embedded_model_path",
    "embedded_models",
    "load_config_dict",
    "prepare_model",
    "resolve_model_source",
    "setup_embedded",
    "source_kind",
]
