"""The tiny-model zoo: every kind builds, loads back with its Auto classes offline, and runs."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import ModelNotFoundError
from hfbench.core.heads import auto_class_for
from hfbench.sources import detect_architecture
from hfbench.sources.cache import COMPLETE_MARKER
from hfbench.testing import (
    TINY_MODEL_KINDS,
    TINY_MODEL_SPECS,
    ZOO_MANIFEST,
    ZOO_VERSION,
    build_tiny_model,
    read_manifest,
    synthetic_audio,
    synthetic_image,
    tiny_model_path,
)
from hfbench.testing import zoo as zoo_module
from hfbench.testing.zoo import TinyModelSpec

TinyModel = Callable[[str], Path]

EXPECTED_KINDS = {
    "llama",
    "gpt2",
    "bert",
    "bert-classifier",
    "bert-nli",
    "bert-qa",
    "t5",
    "bart",
    "vit",
    "clip",
    "siglip",
    "vit-backbone",
    "dinov2",
    "blip",
    "blip-vqa",
    "vilt",
    "llava",
    "whisper",
    "whisper-3s",
    "wav2vec2",
    "hubert",
}


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def _auto(name: str) -> Any:
    import transformers

    return getattr(transformers, name)


# --------------------------------------------------------------------------- every kind


def test_kinds_are_the_documented_set() -> None:
    assert set(TINY_MODEL_KINDS) == EXPECTED_KINDS
    assert len(TINY_MODEL_KINDS) == len(EXPECTED_KINDS)


@pytest.mark.parametrize("kind", TINY_MODEL_KINDS)
def test_folder_has_safetensors_and_manifest(kind: str, tiny_model: TinyModel) -> None:
    folder = tiny_model(kind)
    assert (folder / "config.json").is_file()
    assert (folder / "model.safetensors").is_file()
    assert not list(folder.glob("*.bin"))
    assert (folder / COMPLETE_MARKER).is_file()
    manifest = json.loads((folder / ZOO_MANIFEST).read_text(encoding="utf-8"))
    spec = TINY_MODEL_SPECS[kind]
    assert manifest["kind"] == kind
    assert manifest["architecture"] == spec.architecture.value
    assert manifest["model_class"] == spec.model_class
    assert manifest["zoo_version"] == ZOO_VERSION
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == [spec.model_class]
    assert (folder / "model.safetensors").stat().st_size < 2_000_000


@pytest.mark.parametrize("kind", TINY_MODEL_KINDS)
def test_architecture_detection_agrees_with_manifest(kind: str, tiny_model: TinyModel) -> None:
    folder = tiny_model(kind)
    expected = ModelArchitecture(read_manifest(folder)["architecture"])
    assert detect_architecture(folder) is expected
    assert detect_architecture(str(folder)) is expected


@pytest.mark.parametrize("kind", TINY_MODEL_KINDS)
def test_loads_with_the_auto_class_its_head_row_gives(kind: str, tiny_model: TinyModel) -> None:
    folder = tiny_model(kind)
    spec = TINY_MODEL_SPECS[kind]
    assert spec.auto_model_class == auto_class_for(spec.architecture, spec.model_class)
    model = _auto(spec.auto_model_class).from_pretrained(folder)
    assert type(model).__name__ == spec.model_class
    assert _auto(spec.preprocessor_class).from_pretrained(folder) is not None


def test_auto_classes_are_derived_not_declared() -> None:
    assert "auto_model_class" not in {f.name for f in dataclasses.fields(TinyModelSpec)}
    for spec in TINY_MODEL_SPECS.values():
        assert spec.manifest()["auto_model_class"] == spec.auto_model_class


def test_weights_are_deterministic_and_rng_is_untouched(tmp_path: Path) -> None:
    import torch

    state = torch.random.get_rng_state()
    first = build_tiny_model("bert-qa", tmp_path / "a")
    second = build_tiny_model("bert-qa", tmp_path / "b")
    assert torch.equal(state, torch.random.get_rng_state())
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("kind", TINY_MODEL_KINDS)
def test_every_kind_rebuilds_byte_identically(kind: str, tiny_model: TinyModel, tmp_path: Path) -> None:
    cached = tiny_model(kind)
    rebuilt = build_tiny_model(kind, tmp_path / kind)
    names = sorted(p.name for p in rebuilt.iterdir())
    assert names == sorted(p.name for p in cached.iterdir() if p.name != COMPLETE_MARKER)
    for name in names:
        assert (rebuilt / name).read_bytes() == (cached / name).read_bytes(), name


# --------------------------------------------------------------------------- per kind


def test_llama_generates_and_has_chat_template(tiny_llama: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(tiny_llama)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert tokenizer.bos_token and tokenizer.eos_token and tokenizer.pad_token
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt.startswith("<s><|im_start|>user\n")
    assert prompt.endswith("<|im_start|>assistant\n")
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        logits = model(**inputs).logits
        out = model.generate(**inputs, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    assert logits.shape == (1, inputs["input_ids"].shape[1], len(tokenizer))
    assert out.shape == (1, inputs["input_ids"].shape[1] + 4)
    assert tokenizer.eos_token_id in model.generation_config.eos_token_id


def test_llama_tokenizer_round_trips_unicode(tiny_llama: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    text = "Zürich, 25 °C — naïve café ✓"
    ids = tokenizer(text, add_special_tokens=False).input_ids
    assert tokenizer.unk_token_id not in ids  # byte fallback covers everything
    assert tokenizer.decode(ids) == text


def test_gpt2_generates_without_chat_template(tiny_gpt2: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2)
    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2)
    assert type(model).__name__ == "GPT2LMHeadModel"
    assert tokenizer.chat_template is None
    inputs = tokenizer("The quick brown fox", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(
            **inputs, max_new_tokens=3, min_new_tokens=3, pad_token_id=tokenizer.eos_token_id
        )
    assert out.shape == (1, inputs["input_ids"].shape[1] + 3)


def test_bert_masked_lm_and_bare_encoder(tiny_bert: Path) -> None:
    import torch
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    for token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"):
        assert token in tokenizer.all_special_tokens
    inputs = tokenizer(["the train was [MASK] .", "hello"], padding=True, return_tensors="pt")
    with torch.no_grad():
        mlm = AutoModelForMaskedLM.from_pretrained(tiny_bert)
        logits = mlm(**inputs).logits
        encoder = AutoModel.from_pretrained(tiny_bert)
        hidden = encoder(**inputs).last_hidden_state
    assert type(mlm).__name__ == "BertForMaskedLM"
    assert type(encoder).__name__ == "BertModel"
    seq = inputs["input_ids"].shape[1]
    assert logits.shape == (2, seq, len(tokenizer))
    assert hidden.shape == (2, seq, encoder.config.hidden_size)


@pytest.mark.parametrize(
    ("kind", "labels"),
    [
        ("bert-classifier", ["NEGATIVE", "POSITIVE"]),
        ("bert-nli", ["contradiction", "neutral", "entailment"]),
    ],
)
def test_bert_sequence_classifiers(kind: str, labels: list[str], tiny_model: TinyModel) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tiny_model(kind)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    assert [model.config.id2label[i] for i in range(len(labels))] == labels
    assert model.config.label2id == {name: i for i, name in enumerate(labels)}
    inputs = tokenizer(
        ["I love it", "It rained all day"], ["This is good", "Sport"], padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape == (2, len(labels))


def test_bert_question_answering(tiny_bert_qa: Path) -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_qa)
    model = AutoModelForQuestionAnswering.from_pretrained(tiny_bert_qa)
    inputs = tokenizer("Where is the station?", "The station is in Paris.", return_tensors="pt")
    with torch.no_grad():
        out = model(**inputs)
    seq = inputs["input_ids"].shape[1]
    assert out.start_logits.shape == (1, seq)
    assert out.end_logits.shape == (1, seq)


@pytest.mark.parametrize("kind", ["t5", "bart"])
def test_seq2seq_generates(kind: str, tiny_model: TinyModel) -> None:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    folder = tiny_model(kind)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder)
    assert type(model).__name__ == TINY_MODEL_SPECS[kind].model_class
    inputs = tokenizer(["summarize: the train was late", "hello"], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=5, min_new_tokens=5, num_beams=1)
    assert out.shape[0] == 2
    assert out.shape[1] >= 5
    assert int(out[0, 0]) == model.config.decoder_start_token_id
    assert isinstance(tokenizer.decode(out[0], skip_special_tokens=True), str)


def test_t5_special_token_layout(tiny_t5: Path) -> None:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_t5)
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_t5)
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    assert model.config.decoder_start_token_id == tokenizer.pad_token_id == 0
    assert tokenizer.convert_tokens_to_ids("<extra_id_0>") == len(tokenizer) - 1


def test_vit_classifies_a_synthetic_image(tiny_vit: Path) -> None:
    import torch
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    processor = AutoImageProcessor.from_pretrained(tiny_vit)
    model = AutoModelForImageClassification.from_pretrained(tiny_vit)
    inputs = processor(images=synthetic_image((48, 40)), return_tensors="pt")
    assert inputs["pixel_values"].shape == (1, 3, 32, 32)
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape == (1, 10)
    assert "cat" in model.config.label2id


def test_clip_processor_and_similarity(tiny_clip: Path, sample_image: Any) -> None:
    import torch
    from transformers import AutoModel, AutoProcessor, CLIPModel

    processor = AutoProcessor.from_pretrained(tiny_clip)
    assert type(processor).__name__ == "CLIPProcessor"
    model = AutoModel.from_pretrained(tiny_clip)
    assert isinstance(model, CLIPModel)
    inputs = processor(
        text=["a photo of a cat", "a photo of a dog", "a car"],
        images=[sample_image, synthetic_image(seed=1)],
        return_tensors="pt",
        padding=True,
    )
    with torch.no_grad():
        out = model(**inputs)
        image_embeds = model.get_image_features(pixel_values=inputs["pixel_values"])
    assert out.logits_per_image.shape == (2, 3)
    dim = model.config.projection_dim
    assert torch.as_tensor(getattr(image_embeds, "pooler_output", image_embeds)).shape == (2, dim)


def test_siglip_processor_and_similarity(tiny_siglip: Path, sample_image: Any) -> None:
    import torch
    from transformers import AutoModel, AutoProcessor, SiglipModel

    processor = AutoProcessor.from_pretrained(tiny_siglip)
    assert type(processor).__name__ == "SiglipProcessor"
    model = AutoModel.from_pretrained(tiny_siglip)
    assert isinstance(model, SiglipModel)
    inputs = processor(
        text=["a photo of a cat", "a photo of a dog", "a car"],
        images=[sample_image, synthetic_image(seed=1)],
        return_tensors="pt",
        padding="max_length",
        max_length=16,
    )
    assert inputs["pixel_values"].shape == (2, 3, 32, 32)
    with torch.no_grad():
        out = model(**inputs)
    assert out.logits_per_image.shape == (2, 3)
    assert out.image_embeds.shape == (2, model.config.vision_config.hidden_size)


@pytest.mark.parametrize("kind", ["vit-backbone", "dinov2"])
def test_bare_vision_backbones_embed_an_image(kind: str, tiny_model: TinyModel) -> None:
    import torch
    from transformers import AutoImageProcessor, AutoModel

    folder = tiny_model(kind)
    processor = AutoImageProcessor.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder)
    assert type(model).__name__ == TINY_MODEL_SPECS[kind].model_class
    inputs = processor(images=synthetic_image((48, 40)), return_tensors="pt")
    assert inputs["pixel_values"].shape == (1, 3, 32, 32)
    with torch.no_grad():
        out = model(**inputs)
    hidden = model.config.hidden_size
    assert out.last_hidden_state.shape == (1, 1 + 16, hidden)  # [CLS] + 4x4 patches
    assert out.pooler_output.shape == (1, hidden)


def test_blip_captions_an_image(tiny_blip: Path, sample_image: Any) -> None:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_blip)
    assert type(processor).__name__ == "BlipProcessor"
    model = AutoModelForImageTextToText.from_pretrained(tiny_blip)
    assert type(model).__name__ == "BlipForConditionalGeneration"
    inputs = processor(images=sample_image, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=4, min_new_tokens=4)
    assert out.shape == (1, 5)  # [DEC] + 4 new tokens
    assert int(out[0, 0]) == model.config.text_config.bos_token_id
    prompted = processor(images=sample_image, text="a picture of", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**prompted, max_new_tokens=3, min_new_tokens=3)
    assert out.shape[1] == prompted["input_ids"].shape[1] - 1 + 3  # the prompt's [SEP] is dropped
    assert isinstance(processor.decode(out[0], skip_special_tokens=True), str)


def test_blip_vqa_generates_an_answer(tiny_blip_vqa: Path, sample_image: Any) -> None:
    import torch
    from transformers import AutoModelForVisualQuestionAnswering, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_blip_vqa)
    assert type(processor).__name__ == "BlipProcessor"
    model = AutoModelForVisualQuestionAnswering.from_pretrained(tiny_blip_vqa)
    assert type(model).__name__ == "BlipForQuestionAnswering"
    inputs = processor(images=sample_image, text="what colour is it?", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=3, min_new_tokens=3)
    assert out.shape == (1, 4)  # [DEC] + 3 new tokens
    assert int(out[0, 0]) == model.config.text_config.bos_token_id
    assert isinstance(processor.decode(out[0], skip_special_tokens=True), str)


def test_vilt_scores_a_fixed_answer_set(tiny_vilt: Path, sample_image: Any) -> None:
    import torch
    from transformers import AutoModelForVisualQuestionAnswering, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_vilt)
    assert type(processor).__name__ == "ViltProcessor"
    model = AutoModelForVisualQuestionAnswering.from_pretrained(tiny_vilt)
    assert type(model).__name__ == "ViltForQuestionAnswering"
    assert [model.config.id2label[i] for i in range(4)] == ["yes", "no", "two", "red"]
    inputs = processor(
        images=[sample_image, synthetic_image((48, 40), seed=1)],
        text=["is it red?", "how many cats are there?"],
        padding=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape == (2, 4)


def test_llava_generates_from_image_and_prompt(tiny_llava: Path, sample_image: Any) -> None:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_llava)
    assert type(processor).__name__ == "LlavaProcessor"
    model = AutoModelForImageTextToText.from_pretrained(tiny_llava)
    assert type(model).__name__ == "LlavaForConditionalGeneration"
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
    assert "<image>" in prompt
    inputs = processor(images=sample_image, text=prompt, return_tensors="pt")
    image_tokens = int((inputs["input_ids"] == model.config.image_token_index).sum())
    assert image_tokens == model.config.image_seq_length == 16
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=3, min_new_tokens=3, do_sample=False)
    assert out.shape == (1, inputs["input_ids"].shape[1] + 3)


@pytest.mark.parametrize(("kind", "window_s"), [("whisper", 30), ("whisper-3s", 3)])
def test_whisper_generates_on_short_audio(kind: str, window_s: int, tiny_model: TinyModel) -> None:
    import torch
    from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

    folder = tiny_model(kind)
    processor = AutoProcessor.from_pretrained(folder)
    assert type(processor).__name__ == "WhisperProcessor"
    assert processor.feature_extractor.chunk_length == window_s
    model = AutoModelForSpeechSeq2Seq.from_pretrained(folder)
    assert type(model).__name__ == "WhisperForConditionalGeneration"
    assert model.config.max_source_positions == window_s * 50
    tokenizer = processor.tokenizer
    for token in ("<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>"):
        assert token in tokenizer.get_vocab()
    config = model.generation_config
    assert config.decoder_start_token_id == tokenizer.convert_tokens_to_ids("<|startoftranscript|>")
    assert config.no_timestamps_token_id == tokenizer.convert_tokens_to_ids("<|notimestamps|>")
    assert config.lang_to_id["<|en|>"] == tokenizer.convert_tokens_to_ids("<|en|>")
    assert config.task_to_id["translate"] == tokenizer.convert_tokens_to_ids("<|translate|>")
    for seconds in (1.0, 3.0):
        features = processor(
            synthetic_audio(seconds), sampling_rate=16000, return_tensors="pt"
        ).input_features
        assert features.shape == (1, 80, 2 * model.config.max_source_positions)
        with torch.no_grad():
            out = model.generate(features, max_new_tokens=4)  # detects the language itself
            english = model.generate(features, language="en", task="transcribe", max_new_tokens=4)
        assert out.ndim == english.ndim == 2
        assert 1 <= out.shape[1] <= 8
        assert isinstance(processor.batch_decode(english, skip_special_tokens=True)[0], str)


def test_whisper_asr_pipeline_makes_one_generate_call(tiny_whisper: Path) -> None:
    from transformers import pipeline

    asr: Any = pipeline("automatic-speech-recognition", model=str(tiny_whisper))
    started = time.perf_counter()
    result = asr(synthetic_audio(2.0), generate_kwargs={"num_beams": 1})
    assert isinstance(result["text"], str)
    assert time.perf_counter() - started < 30  # random timestamps would loop much longer
    stamped = asr(synthetic_audio(2.0), return_timestamps=True, generate_kwargs={"num_beams": 1})
    assert isinstance(stamped["chunks"], list)


@pytest.mark.parametrize("kind", ["wav2vec2", "hubert"])
def test_ctc_logits_and_decode(kind: str, tiny_model: TinyModel, sample_audio: np.ndarray) -> None:
    import torch
    from transformers import AutoModelForCTC, AutoProcessor

    folder = tiny_model(kind)
    processor = AutoProcessor.from_pretrained(folder)
    assert type(processor).__name__ == "Wav2Vec2Processor"
    assert processor.feature_extractor.sampling_rate == 16000
    model = AutoModelForCTC.from_pretrained(folder)
    assert type(model).__name__ == TINY_MODEL_SPECS[kind].model_class
    inputs = processor(sample_audio, sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    frames = int(model._get_feat_extract_output_lengths(torch.tensor(len(sample_audio))))
    assert logits.shape == (1, frames, len(processor.tokenizer))
    text = processor.batch_decode(logits.argmax(-1))[0]
    assert isinstance(text, str)
    assert processor.tokenizer("HELLO WORLD").input_ids[:2] == [
        processor.tokenizer.convert_tokens_to_ids("H"),
        processor.tokenizer.convert_tokens_to_ids("E"),
    ]


# --------------------------------------------------------------------------- API behaviour


def test_unknown_kind_suggests_a_close_one(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        build_tiny_model("lama", tmp_path)
    message = str(info.value)
    assert "Did you mean 'llama'" in message
    assert "wav2vec2" in message  # lists the valid kinds
    with pytest.raises(ModelNotFoundError, match="Did you mean 'whisper'"):
        tiny_model_path("wisper")
    assert not any(tmp_path.iterdir())


def test_kind_names_are_normalised(tmp_path: Path) -> None:
    folder = build_tiny_model("BERT_QA", tmp_path / "qa")
    assert read_manifest(folder)["kind"] == "bert-qa"


def test_tiny_model_path_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hfbench_cache: Path
) -> None:
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path))
    first = tiny_model_path("bert-qa")
    assert first == tmp_path / "tiny-zoo" / f"bert-qa-v{ZOO_VERSION}"
    assert not str(first).startswith(str(Path.home() / ".cache"))

    def _no_rebuild(kind: str, dest: Path) -> Path:
        raise AssertionError("rebuilt a complete folder")

    monkeypatch.setattr(zoo_module, "build_tiny_model", _no_rebuild)
    started = time.perf_counter()
    second = tiny_model_path("bert-qa")
    assert second == first
    assert time.perf_counter() - started < 0.5


def test_half_written_folder_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFBENCH_CACHE", str(tmp_path))
    target = tmp_path / "tiny-zoo" / f"gpt2-v{ZOO_VERSION}"
    target.mkdir(parents=True)
    (target / "config.json").write_text("{ half written", encoding="utf-8")
    folder = tiny_model_path("gpt2")
    assert folder == target
    assert (folder / COMPLETE_MARKER).is_file()
    assert (folder / "model.safetensors").is_file()
    assert json.loads((folder / "config.json").read_text(encoding="utf-8"))["model_type"] == "gpt2"


def test_session_zoo_is_not_built_into_the_user_cache(tiny_model: Any) -> None:
    from hfbench.sources.cache import cache_dir

    folder = tiny_model("gpt2")
    if not os.environ.get("HFBENCH_TEST_CACHE"):  # unless a kept test cache was asked for
        assert not str(folder).startswith(str(cache_dir()))


# --------------------------------------------------------------------------- media


def test_synthetic_image_is_deterministic() -> None:
    image = synthetic_image((40, 24), seed=3)
    assert image.size == (40, 24)
    assert image.mode == "RGB"
    assert image.tobytes() == synthetic_image((40, 24), seed=3).tobytes()
    assert image.tobytes() != synthetic_image((40, 24), seed=4).tobytes()


def test_synthetic_audio_is_a_deterministic_float32_clip() -> None:
    audio = synthetic_audio(seconds=1.5, sampling_rate=8000, seed=1)
    assert audio.dtype == np.float32
    assert audio.shape == (12000,)
    assert float(np.abs(audio).max()) <= 1.0
    assert float(np.abs(audio).mean()) > 0.05
    np.testing.assert_array_equal(audio, synthetic_audio(seconds=1.5, sampling_rate=8000, seed=1))
