"""De-quantize a GGUF causal LM into a plain transformers safetensors folder (once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Keys transformers 5 writes into tokenizer_config.json that describe how it was loaded, not
# the tokenizer; they would only confuse a later load of the saved folder.
_LOAD_TIME_TOKENIZER_KEYS = ("is_local", "local_files_only")


def convert_gguf_causal_lm(gguf_file: Path, out_dir: Path, *, name_or_path: str = "") -> dict[str, Any]:
    """Write ``config.json``, fp32 ``model.safetensors``, tokenizer files and generation config.

    transformers de-quantizes a GGUF to fp32 on load but refuses to ``save_pretrained`` a model
    that carries a GGUF quantization config, so the model is rebuilt from its config without
    it, given the de-quantized state dict, and saved. The tokenizer (and chat template, when the
    GGUF has one) is read from the GGUF too.

    Args:
        gguf_file: the ``.gguf`` file; the folder it lies in is what transformers opens.
        out_dir: an existing folder to write into.
        name_or_path: written as the config's ``_name_or_path`` (the Hub id it stands for).

    Returns:
        The saved config as a dictionary.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_file.parent), gguf_file.name
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    for attr in ("quantization_config", "_model_name_or_path"):  # the latter is the GGUF's title
        if hasattr(config, attr):
            delattr(config, attr)
    config._name_or_path = name_or_path
    _tidy_float32_values(config)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = loaded.generation_config
    del loaded
    model.save_pretrained(out_dir)

    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    max_positions = getattr(config, "max_position_embeddings", None)
    if max_positions:
        tokenizer.model_max_length = int(max_positions)
    tokenizer.save_pretrained(out_dir)
    _drop_load_time_keys(out_dir / "tokenizer_config.json")
    return dict(config.to_dict())


def _tidy_float32_values(config: Any) -> None:
    """Write GGUF's float32 hyper-parameters as their shortest decimal (``1e-05``, not ``9.99e-06``).

    The value the model computes with (float32) is unchanged.
    """
    import numpy as np

    for key, value in list(vars(config).items()):
        if isinstance(value, float) and float(np.float32(value)) == value:
            setattr(config, key, float(str(np.float32(value))))


def _drop_load_time_keys(path: Path) -> None:
    if not path.is_file():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in _LOAD_TIME_TOKENIZER_KEYS:
        data.pop(key, None)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
