"""Session-wide test setup: offline Hugging Face, the tiny-model zoo in a throw-away folder.

* ``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1`` for the whole session (set before
  ``huggingface_hub`` is imported, since it reads them at import time).
* ``tiny_model("llama")`` (and one ``tiny_<kind>`` fixture per zoo kind) builds a tiny
  random-weight model on first request, once per session, into a temporary folder that is
  removed afterwards (``HFBENCH_TEST_CACHE=<folder>`` keeps the builds in that folder instead).
* Embedded real models are converted into the normal hfbench cache (``hfbench.cache_dir()``),
  the same place ``hfbench setup`` fills, so the one-time conversions are shared with the user.
* ``batch_size="auto"`` keeps its tuned sizes in the session folder, not in the user's
  ``<hfbench cache>/hardware/<id>-batch-sizes.json``, and starts the session with none remembered.
* ``served_smollm2``: a real ``transformers serve`` of the embedded SmolLM2 folder on 127.0.0.1,
  started on first use, stopped at the session's end (``serving_server.py``).
* Tests marked ``gpu`` are skipped when ``torch.cuda.is_available()`` is false.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serving_server import ServedModel, shared_server, stop_shared

_SESSION_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
_saved_env: dict[str, str | None] = {}
_session_cache: Path | None = None
_keep_cache = False


def pytest_configure(config: pytest.Config) -> None:
    """Go offline and make the folder the tiny zoo is built into for this session."""
    global _session_cache, _keep_cache
    kept = os.environ.get("HFBENCH_TEST_CACHE")
    _keep_cache = bool(kept)
    if kept:
        _session_cache = Path(kept).expanduser()
        _session_cache.mkdir(parents=True, exist_ok=True)
    else:
        _session_cache = Path(tempfile.mkdtemp(prefix="hfbench-test-cache-"))
    for key, value in _SESSION_ENV.items():
        _saved_env[key] = os.environ.get(key)
        os.environ[key] = value


def pytest_unconfigure(config: pytest.Config) -> None:
    """Restore the environment and remove the session's zoo folder."""
    for key, value in _saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if _session_cache is not None and not _keep_cache:
        shutil.rmtree(_session_cache, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``@pytest.mark.gpu`` tests when no CUDA device is available."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (torch.cuda.is_available() is False)")
    for item in gpu_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def hfbench_cache() -> Path:
    """The session's temporary folder the tiny zoo is built into (as its ``HFBENCH_CACHE``)."""
    assert _session_cache is not None
    return _session_cache


@pytest.fixture(scope="session", autouse=True)
def _tuned_batch_sizes_in_the_session_folder(hfbench_cache: Path) -> Iterator[Path]:
    """Point ``batch_tuning.tuned_batch_sizes_path`` (which every reader and writer of the tuned
    sizes calls through the module) at ``<session folder>/tuned-batch-sizes/``, emptied first,
    and forget what the process has tuned, so tests neither read nor write the user's sizes."""
    from hfbench.pipelines import batch_tuning

    folder = hfbench_cache / "tuned-batch-sizes"
    shutil.rmtree(folder, ignore_errors=True)  # a kept HFBENCH_TEST_CACHE: a fresh start

    def path(hardware_id: str) -> Path:
        return folder / f"{hardware_id}-batch-sizes.json"

    batch_tuning.forget_tuned_batch_sizes()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch_tuning, "tuned_batch_sizes_path", path)
        yield folder
    batch_tuning.forget_tuned_batch_sizes()


@pytest.fixture(scope="session")
def tiny_model(hfbench_cache: Path) -> Callable[[str], Path]:
    """Factory: ``tiny_model(kind) -> Path`` of a tiny random-weight model, built on first use.

    Kinds are ``hfbench.testing.TINY_MODEL_KINDS``; builds go to the session cache.
    """
    from hfbench.testing import tiny_model_path

    def _get(kind: str) -> Path:
        # Pin the session cache even if the calling test has re-pointed HFBENCH_CACHE.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HFBENCH_CACHE", str(hfbench_cache))
            return tiny_model_path(kind)

    return _get


@pytest.fixture(scope="session")
def tiny_llama(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``LlamaForCausalLM`` folder (tokenizer with pad and chat template)."""
    return tiny_model("llama")


@pytest.fixture(scope="session")
def tiny_gpt2(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``GPT2LMHeadModel`` folder."""
    return tiny_model("gpt2")


@pytest.fixture(scope="session")
def tiny_bert(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``BertForMaskedLM`` folder (``AutoModel`` gives the bare encoder)."""
    return tiny_model("bert")


@pytest.fixture(scope="session")
def tiny_bert_classifier(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``BertForSequenceClassification`` folder, labels NEGATIVE / POSITIVE."""
    return tiny_model("bert-classifier")


@pytest.fixture(scope="session")
def tiny_bert_nli(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny NLI ``BertForSequenceClassification`` folder (contradiction / neutral / entailment)."""
    return tiny_model("bert-nli")


@pytest.fixture(scope="session")
def tiny_bert_qa(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``BertForQuestionAnswering`` folder."""
    return tiny_model("bert-qa")


@pytest.fixture(scope="session")
def tiny_t5(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``T5ForConditionalGeneration`` folder."""
    return tiny_model("t5")


@pytest.fixture(scope="session")
def tiny_bart(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``BartForConditionalGeneration`` folder."""
    return tiny_model("bart")


@pytest.fixture(scope="session")
def tiny_vit(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``ViTForImageClassification`` folder (32x32 images, CIFAR-10 labels)."""
    return tiny_model("vit")


@pytest.fixture(scope="session")
def tiny_clip(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``CLIPModel`` folder with a ``CLIPProcessor``."""
    return tiny_model("clip")


@pytest.fixture(scope="session")
def tiny_siglip(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``SiglipModel`` folder with a ``SiglipProcessor``."""
    return tiny_model("siglip")


@pytest.fixture(scope="session")
def tiny_vit_backbone(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny bare ``ViTModel`` folder (no head)."""
    return tiny_model("vit-backbone")


@pytest.fixture(scope="session")
def tiny_dinov2(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny bare ``Dinov2Model`` folder (BiT image processor)."""
    return tiny_model("dinov2")


@pytest.fixture(scope="session")
def tiny_blip(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``BlipForConditionalGeneration`` (captioning) folder with a ``BlipProcessor``."""
    return tiny_model("blip")


@pytest.fixture(scope="session")
def tiny_blip_vqa(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``BlipForQuestionAnswering`` folder with a ``BlipProcessor``."""
    return tiny_model("blip-vqa")


@pytest.fixture(scope="session")
def tiny_vilt(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``ViltForQuestionAnswering`` folder (answers yes / no / two / red)."""
    return tiny_model("vilt")


@pytest.fixture(scope="session")
def tiny_llava(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``LlavaForConditionalGeneration`` folder with a ``LlavaProcessor``."""
    return tiny_model("llava")


@pytest.fixture(scope="session")
def tiny_whisper(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``WhisperForConditionalGeneration`` folder with a ``WhisperProcessor``."""
    return tiny_model("whisper")


@pytest.fixture(scope="session")
def tiny_whisper_3s(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``WhisperForConditionalGeneration`` with a 3 s input window."""
    return tiny_model("whisper-3s")


@pytest.fixture(scope="session")
def tiny_wav2vec2(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``Wav2Vec2ForCTC`` folder with a ``Wav2Vec2Processor``."""
    return tiny_model("wav2vec2")


@pytest.fixture(scope="session")
def tiny_hubert(tiny_model: Callable[[str], Path]) -> Path:
    """Tiny ``HubertForCTC`` folder with a ``Wav2Vec2Processor``."""
    return tiny_model("hubert")


@pytest.fixture(scope="session")
def sample_image() -> Any:
    """A deterministic 32x32 RGB ``PIL.Image``."""
    from hfbench.testing import synthetic_image

    return synthetic_image()


@pytest.fixture(scope="session")
def sample_audio() -> Any:
    """Two seconds of deterministic 16 kHz float32 audio (a chirp)."""
    from hfbench.testing import synthetic_audio

    return synthetic_audio(seconds=2.0)


@pytest.fixture(scope="session")
def served_smollm2() -> Iterator[ServedModel]:
    """``transformers serve`` of the embedded SmolLM2 folder on 127.0.0.1, stopped at the session's end."""
    try:
        yield shared_server()
    finally:
        stop_shared()
