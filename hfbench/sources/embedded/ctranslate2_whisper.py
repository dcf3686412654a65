"""Turn a CTranslate2 Whisper (``WhisperSpec``) into a transformers Whisper folder.

The reader is ``ctranslate2.py`` and the tokenizer ``whisper_tokenizer.py``; this module maps the
variables onto transformers' names and writes the config, generation config and feature
extractor. transformers is imported only to write those files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hfbench.core.errors import EmbeddedModelError
from hfbench.sources.embedded.ctranslate2 import CT2Model, read_ct2_model
from hfbench.sources.embedded.whisper_tokenizer import WhisperSpecialTokens, write_whisper_tokenizer

# Whisper's audio front end (fixed by the model family, not stored in model.bin).
SAMPLING_RATE_HZ = 16_000


# --------------------------------------------------------------------------- name mapping


def _fp32(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)


def _norm(ct2: CT2Model, src: str, dst: str, out: dict[str, np.ndarray]) -> None:
    out[f"{dst}.weight"] = _fp32(ct2.get(f"{src}/gamma"))
    out[f"{dst}.bias"] = _fp32(ct2.get(f"{src}/beta"))


def _linear(ct2: CT2Model, src: str, dst: str, out: dict[str, np.ndarray]) -> None:
    out[f"{dst}.weight"] = _fp32(ct2.get(f"{src}/weight"))
    out[f"{dst}.bias"] = _fp32(ct2.get(f"{src}/bias"))


def _split(ct2: CT2Model, src: str, parts: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split a fused projection (stacked on the output dimension) into ``parts`` pieces."""
    weights = np.split(_fp32(ct2.get(f"{src}/weight")), parts, axis=0)
    biases = np.split(_fp32(ct2.get(f"{src}/bias")), parts, axis=0)
    return weights, biases


def _attention(ct2: CT2Model, src: str, dst: str, out: dict[str, np.ndarray], *, cross: bool) -> None:
    """Map one attention block; Whisper's ``k_proj`` has no bias (CTranslate2 stores zeros)."""
    if cross:
        out[f"{dst}.q_proj.weight"] = _fp32(ct2.get(f"{src}/linear_0/weight"))
        out[f"{dst}.q_proj.bias"] = _fp32(ct2.get(f"{src}/linear_0/bias"))
        (k_w, v_w), (_, v_b) = _split(ct2, f"{src}/linear_1", 2)
        out_proj = f"{src}/linear_2"
    else:
        (q_w, k_w, v_w), (q_b, _, v_b) = _split(ct2, f"{src}/linear_0", 3)
        out[f"{dst}.q_proj.weight"], out[f"{dst}.q_proj.bias"] = q_w, q_b
        out_proj = f"{src}/linear_1"
    out[f"{dst}.k_proj.weight"] = k_w
    out[f"{dst}.v_proj.weight"], out[f"{dst}.v_proj.bias"] = v_w, v_b
    _linear(ct2, out_proj, f"{dst}.out_proj", out)
    _norm(ct2, f"{src}/layer_norm", f"{dst}_layer_norm", out)


def _num_layers(ct2: CT2Model, stack: str) -> int:
    pattern = re.compile(rf"^{stack}/layer_(\d+)/")
    indices = {int(m.group(1)) for name in ct2.variables if (m := pattern.match(name))}
    return max(indices) + 1 if indices else 0


def whisper_state_dict(ct2: CT2Model) -> dict[str, np.ndarray]:
    """Map a CTranslate2 ``WhisperSpec`` onto ``WhisperForConditionalGeneration`` names (fp32).

    ``proj_out.weight`` is left out: it is tied to ``model.decoder.embed_tokens.weight``.
    """
    out: dict[str, np.ndarray] = {}
    for conv in ("conv1", "conv2"):
        _linear(ct2, f"encoder/{conv}", f"model.encoder.{conv}", out)
    for stack in ("encoder", "decoder"):
        hf = f"model.{stack}"
        out[f"{hf}.embed_positions.weight"] = _fp32(ct2.get(f"{stack}/position_encodings/encodings"))
        _norm(ct2, f"{stack}/layer_norm", f"{hf}.layer_norm", out)
        for i in range(_num_layers(ct2, stack)):
            src, dst = f"{stack}/layer_{i}", f"{hf}.layers.{i}"
            _attention(ct2, f"{src}/self_attention", f"{dst}.self_attn", out, cross=False)
            if stack == "decoder":
                _attention(ct2, f"{src}/attention", f"{dst}.encoder_attn", out, cross=True)
            _linear(ct2, f"{src}/ffn/linear_0", f"{dst}.fc1", out)
            _linear(ct2, f"{src}/ffn/linear_1", f"{dst}.fc2", out)
            _norm(ct2, f"{src}/ffn/layer_norm", f"{dst}.final_layer_norm", out)
    out["model.decoder.embed_tokens.weight"] = _fp32(ct2.get("decoder/embeddings/weight"))
    return out


# --------------------------------------------------------------------------- config files


# The first vocabulary size of a multilingual Whisper (English-only models have 51864).
MULTILINGUAL_MIN_VOCAB = 51_865


def whisper_config_kwargs(ct2: CT2Model, tokens: WhisperSpecialTokens) -> dict[str, Any]:
    """``WhisperConfig`` arguments with every size read off the tensors."""
    conv1 = ct2.get("encoder/conv1/weight")  # (d_model, n_mels, kernel)
    vocab_size = int(ct2.get("decoder/embeddings/weight").shape[0])
    return {
        "vocab_size": vocab_size,
        "num_mel_bins": int(conv1.shape[1]),
        "d_model": int(conv1.shape[0]),
        "encoder_layers": _num_layers(ct2, "encoder"),
        "decoder_layers": _num_layers(ct2, "decoder"),
        "encoder_attention_heads": ct2.scalar("encoder/num_heads"),
        "decoder_attention_heads": ct2.scalar("decoder/num_heads"),
        "encoder_ffn_dim": int(ct2.get("encoder/layer_0/ffn/linear_0/weight").shape[0]),
        "decoder_ffn_dim": int(ct2.get("decoder/layer_0/ffn/linear_0/weight").shape[0]),
        "max_source_positions": int(ct2.get("encoder/position_encodings/encodings").shape[0]),
        "max_target_positions": int(ct2.get("decoder/position_encodings/encodings").shape[0]),
        "scale_embedding": bool(ct2.scalar("decoder/scale_embeddings"))
        if "decoder/scale_embeddings" in ct2
        else False,
        "activation_function": "gelu",
        "bos_token_id": tokens.end_of_text,
        "eos_token_id": tokens.end_of_text,
        "pad_token_id": tokens.end_of_text,
        "decoder_start_token_id": tokens.start_of_transcript,
        "tie_word_embeddings": True,
        "architectures": ["WhisperForConditionalGeneration"],
    }


def whisper_generation_kwargs(
    config: Mapping[str, Any], tokens: WhisperSpecialTokens, package_config: Mapping[str, Any]
) -> dict[str, Any]:
    """``GenerationConfig`` arguments transformers' Whisper ``generate`` relies on."""
    multilingual = int(config["vocab_size"]) >= MULTILINGUAL_MIN_VOCAB
    kwargs: dict[str, Any] = {
        "bos_token_id": tokens.end_of_text,
        "eos_token_id": tokens.end_of_text,
        "pad_token_id": tokens.end_of_text,
        "decoder_start_token_id": tokens.start_of_transcript,
        "no_timestamps_token_id": tokens.no_timestamps,
        "prev_sot_token_id": tokens.start_of_prev,
        "suppress_tokens": [int(i) for i in package_config.get("suppress_ids", [])],
        "begin_suppress_tokens": [int(i) for i in package_config.get("suppress_ids_begin", [])],
        "alignment_heads": [[int(a), int(b)] for a, b in package_config.get("alignment_heads", [])],
        "max_initial_timestamp_index": 50,
        "max_length": int(config["max_target_positions"]),
        "return_timestamps": False,
        "is_multilingual": multilingual,
    }
    if multilingual:
        # Without ``task``, transformers' language detection path degenerates into repetition.
        kwargs["lang_to_id"] = dict(tokens.languages)
        kwargs["task_to_id"] = {"transcribe": tokens.transcribe, "translate": tokens.translate}
        kwargs["task"] = "transcribe"
    return kwargs


def convert_ct2_whisper(
    source_dir: Path,
    out_dir: Path,
    *,
    model_bin: Path | None = None,
    normalizer: Path | None = None,
    name_or_path: str = "",
) -> dict[str, Any]:
    """Write a ``WhisperForConditionalGeneration`` folder from a CTranslate2 Whisper folder.

    Weights are stored as fp32 safetensors (an exact widening of the fp16 originals), so the
    folder loads with any ``dtype`` on any device without fp16 CPU kernels. The tokenizer is the
    full one of the Hub checkpoints (see ``whisper_tokenizer``).

    Args:
        source_dir: folder with CTranslate2's ``config.json`` and ``tokenizer.json``.
        out_dir: an existing, empty folder to fill.
        model_bin: the ``model.bin`` to read (default ``source_dir / "model.bin"``).
        normalizer: Whisper's English spelling map, written as ``normalizer.json``.
        name_or_path: written as the config's ``_name_or_path`` (the Hub id it stands for).

    Returns:
        The ``WhisperConfig`` arguments used (sizes read off the tensors).

    Raises:
        EmbeddedModelError: the file is not a CTranslate2 Whisper model, or its tokenizer does
            not match its vocabulary.
    """
    from safetensors.numpy import save_file
    from transformers import GenerationConfig, WhisperConfig, WhisperFeatureExtractor

    ct2 = read_ct2_model(model_bin or source_dir / "model.bin")
    if ct2.spec != "WhisperSpec":
        raise EmbeddedModelError(
            f"Expected a CTranslate2 WhisperSpec model, got spec {ct2.spec!r} in {source_dir}."
        )
    package_config = json.loads((source_dir / "config.json").read_text("utf-8"))
    tokens = WhisperSpecialTokens.from_tokenizer_json(source_dir / "tokenizer.json")
    config_kwargs = whisper_config_kwargs(ct2, tokens)
    write_whisper_tokenizer(
        source_dir / "tokenizer.json",
        out_dir,
        tokens,
        vocab_size=config_kwargs["vocab_size"],
        model_max_length=config_kwargs["max_target_positions"],
        normalizer=normalizer,
    )
    save_file(whisper_state_dict(ct2), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    del ct2

    config = WhisperConfig(**config_kwargs)
    config._name_or_path = name_or_path
    config.dtype = "float32"
    config.save_pretrained(out_dir)
    GenerationConfig(**whisper_generation_kwargs(config_kwargs, tokens, package_config)).save_pretrained(
        out_dir
    )
    feature_extractor = WhisperFeatureExtractor(
        feature_size=config_kwargs["num_mel_bins"], sampling_rate=SAMPLING_RATE_HZ
    )
    feature_extractor.save_pretrained(out_dir)
    return config_kwargs
