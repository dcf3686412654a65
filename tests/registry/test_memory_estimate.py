"""Memory estimates: weights x bytes per dtype + KV cache + overhead, by arithmetic or from a config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hfbench.core.errors import RecommendationError
from hfbench.registry.memory import (
    GIB,
    OVERHEAD_FRACTION,
    ModelShape,
    estimate_memory,
    estimate_memory_from_config,
)
from hfbench.registry.recommendation import ModelRecommendation

LLAMA_LIKE = ModelShape(num_layers=32, hidden_size=4096, num_attention_heads=32, num_key_value_heads=8)


def test_weights_kv_cache_and_overhead_add_up() -> None:
    est = estimate_memory(7.0, "bf16", shape=LLAMA_LIKE, context_tokens=4096)
    weights = 7e9 * 2 / GIB
    kv = 2 * 32 * (8 * 128) * 2 * 4096 / GIB  # K and V, layers, kv heads x head dim, bytes, tokens
    assert est.weights_gb == pytest.approx(weights)
    assert est.kv_cache_gb == pytest.approx(kv)
    assert est.overhead_gb == pytest.approx(OVERHEAD_FRACTION * weights)
    assert est.total_gb == pytest.approx(weights + kv + OVERHEAD_FRACTION * weights)
    assert est.fits(est.total_gb) and not est.fits(est.total_gb - 0.01)
    assert "KV cache" in est.describe() and "bf16" in est.describe()


def test_batch_scales_the_kv_cache_and_fp32_doubles_the_weights() -> None:
    one = estimate_memory(7.0, "bf16", shape=LLAMA_LIKE, context_tokens=1024)
    four = estimate_memory(7.0, "bf16", shape=LLAMA_LIKE, context_tokens=1024, batch_size=4)
    assert four.kv_cache_gb == pytest.approx(4 * one.kv_cache_gb)
    assert estimate_memory(7.0, "fp32").weights_gb == pytest.approx(2 * one.weights_gb)


def test_quantized_weights_keep_a_16_bit_kv_cache() -> None:
    int4 = estimate_memory(7.0, "int4", shape=LLAMA_LIKE, context_tokens=1024)
    bf16 = estimate_memory(7.0, "bf16", shape=LLAMA_LIKE, context_tokens=1024)
    assert int4.weights_gb == pytest.approx(bf16.weights_gb / 4)
    assert int4.kv_cache_gb == pytest.approx(bf16.kv_cache_gb)


def test_no_context_means_no_kv_cache_and_a_guessed_shape_is_said() -> None:
    assert estimate_memory(7.0).kv_cache_gb == 0
    guessed = estimate_memory(7.0, context_tokens=4096)
    assert guessed.kv_cache_gb > 0 and "guessed" in guessed.method
    assert ModelShape.guess(7.0).num_layers == 33  # Llama-2-7B has 32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"params_b": -1.0}, "> 0"),
        ({"params_b": float("nan")}, "number"),
        ({"params_b": 1.0, "dtype": "fp8x"}, "unknown dtype 'fp8x'"),
        ({"params_b": 1.0, "context_tokens": -5}, "context_tokens"),
        ({"params_b": 1.0, "batch_size": 0}, "batch_size"),
    ],
)
def test_bad_inputs_raise_recommendation_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(RecommendationError, match=match):
        estimate_memory(**kwargs)


def test_shape_rejects_non_positive_sizes() -> None:
    with pytest.raises(RecommendationError, match="num_layers"):
        ModelShape(num_layers=0, hidden_size=64)


def test_shape_from_configs_of_each_kind() -> None:
    llama = ModelShape.from_config(
        {"num_hidden_layers": 28, "hidden_size": 3584, "num_attention_heads": 28, "num_key_value_heads": 4}
    )
    assert llama is not None and llama.kv_width == 4 * 128
    gemma = ModelShape.from_config(
        {
            "model_type": "gemma3",
            "text_config": {
                "num_hidden_layers": 34,
                "hidden_size": 2560,
                "num_attention_heads": 8,
                "num_key_value_heads": 4,
                "head_dim": 256,
            },
        }
    )
    assert gemma is not None and gemma.kv_width == 4 * 256
    bart = ModelShape.from_config(
        {"encoder_layers": 12, "decoder_layers": 6, "d_model": 1024, "decoder_attention_heads": 16}
    )
    assert bart is not None and bart.num_layers == 6 and bart.kv_width == 1024
    assert ModelShape.from_config({"model_type": "vit"}) is None


def test_recommendation_memory_counts_kv_only_when_generating() -> None:
    decoder = ModelRecommendation(
        "d",
        7.0,
        ["text-generation", "embeddings"],
        architecture="decoder_only",
        context_length=2048,
        shape=LLAMA_LIKE,
    )
    encoder = ModelRecommendation("e", 0.3, ["embeddings"], architecture="encoder_only", context_length=512)
    assert decoder.estimate_memory("bf16").context_tokens == 2048  # capped by context_length
    assert decoder.estimate_memory("bf16", capability="embeddings").kv_cache_gb == 0
    assert encoder.estimate_memory("bf16").kv_cache_gb == 0
    assert decoder.memory_gb("bf16") > decoder.estimate_memory("bf16", capability="embeddings").total_gb


@pytest.mark.slow
def test_config_path_uses_accelerate_on_an_empty_weights_model(tmp_path: Path) -> None:
    config = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": 1000,
        "tie_word_embeddings": False,
    }
    est = estimate_memory_from_config(config, "bf16", context_tokens=100)
    params = 2 * 1000 * 64 + 2 * (4 * 64 * 64 // 2 + 2 * 64 * 32 + 3 * 64 * 128 + 2 * 64) + 64
    assert est.params_b * 1e9 == pytest.approx(params)
    assert est.weights_gb == pytest.approx(params * 2 / GIB, rel=0.01)
    assert est.kv_cache_gb == pytest.approx(2 * 2 * (2 * 16) * 2 * 100 / GIB)
    assert "accelerate" in est.method
    arithmetic = estimate_memory(
        est.params_b, "bf16", shape=ModelShape.from_config(config), context_tokens=100
    )  # one KV-cache and overhead formula for both paths
    assert (est.kv_cache_gb, est.overhead_gb / est.weights_gb) == pytest.approx(
        (arithmetic.kv_cache_gb, arithmetic.overhead_gb / arithmetic.weights_gb)
    )
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    assert estimate_memory_from_config(folder, "int4").weights_gb == pytest.approx(
        est.weights_gb / 4, rel=0.01
    )
    with pytest.raises(RecommendationError, match="model_type"):
        estimate_memory_from_config({"hidden_size": 3})


def stored_tensor_bytes(folder: Path) -> int:
    """Bytes of the tensors in a folder's ``*.safetensors`` files, read from their headers."""
    total = 0
    for file in sorted(folder.glob("*.safetensors")):
        with file.open("rb") as fh:
            header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
        tensors = [entry for key, entry in header.items() if key != "__metadata__"]
        assert {t["dtype"] for t in tensors} == {"F32"}, file  # the estimates below are at fp32
        total += sum(end - start for start, end in (t["data_offsets"] for t in tensors))
    return total


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "tied"), [("llama", False), ("gpt2", True), ("t5", True)])
def test_config_estimate_counts_tied_weights_once_like_the_checkpoint(
    tiny_model: Callable[[str], Path], kind: str, tied: bool
) -> None:
    folder = tiny_model(kind)
    config = json.loads((folder / "config.json").read_text())
    assert config.get("tie_word_embeddings", True) is tied  # gpt2 ties its head; t5 shares one matrix thrice
    stored = stored_tensor_bytes(folder)
    est = estimate_memory_from_config(folder, "fp32")
    assert est.weights_gb * GIB == pytest.approx(stored, rel=0.01)
    assert est.params_b * 1e9 * 4 == pytest.approx(stored, rel=0.01)


@pytest.mark.real_model
@pytest.mark.parametrize("name", ["embedded:smollm2-135m-instruct", "embedded:gemma-3-270m"])
def test_embedded_tied_models_are_sized_like_their_checkpoint(name: str) -> None:
    import hfbench

    folder = Path(hfbench.embedded_model_path(name))
    stored = stored_tensor_bytes(folder)  # 513 MiB for SmolLM2, 1023 MiB for Gemma-3-270M
    est = estimate_memory_from_config(folder, "fp32")
    assert est.weights_gb * GIB == pytest.approx(stored, rel=0.01)  # not 621 / 1663 MiB (head counted twice)
    assert est.params_b * 1e9 * 4 == pytest.approx(stored, rel=0.01)
