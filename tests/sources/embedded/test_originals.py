"""The files an embedded model ships in, kept as shipped for engines that read them (llama.cpp)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.embedded import EmbeddedModel
from hfbench.sources.embedded.originals import original_files, originals_dir
from hfbench.sources.embedded.staging import sha256_of

pytestmark = pytest.mark.real_model


def test_the_smollm2_gguf_is_staged_once_as_shipped(
    real_cache: Path, require_packages: Callable[[str], EmbeddedModel]
) -> None:
    model = require_packages("smollm2-135m-instruct")
    files = original_files("smollm2-135m-instruct")
    (gguf,) = files.values()
    assert gguf.parent == originals_dir("smollm2-135m-instruct") and gguf.name.endswith(".gguf")
    assert gguf.read_bytes()[:4] == b"GGUF"
    assert sha256_of(gguf) == model.sha256[gguf.name]  # the catalogue's checksum
    started = time.perf_counter()
    assert original_files("smollm2-135m-instruct") == files  # cached: not staged again
    assert time.perf_counter() - started < 1.0


def test_an_unknown_name_is_an_embedded_model_error() -> None:
    with pytest.raises(EmbeddedModelError, match="smollm2-135m-instruct"):
        original_files("smollm3")
