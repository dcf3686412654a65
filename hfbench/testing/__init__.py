"""Testing helpers: the tiny random-weight model zoo and synthetic test media.

Nothing here imports torch or transformers at module level.
"""

from __future__ import annotations

from hfbench.testing.media import synthetic_audio, synthetic_image
from hfbench.testing.zoo import (
    TINY_MODEL_KINDS,
    TINY_MODEL_SPECS,
    ZOO_MANIFEST,
    ZOO_VERSION,
    TinyModelSpec,
    build_tiny_model,
    read_manifest,
    tiny_model_path,
    tiny_model_spec,
)

__all__ = [
    "TINY_MODEL_KINDS",
    "TINY_MODEL_SPECS",
    "ZOO_MANIFEST",
    "ZOO_VERSION",
    "TinyModelSpec",
    "build_tiny_model",
    "read_manifest",
    "synthetic_audio",
    "synthetic_image",
    "tiny_model_path",
    "tiny_model_spec",
]
