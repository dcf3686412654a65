"""Sentence embeddings from the last hidden state, on every text architecture.

Encoders run their base model (any head is skipped), encoder-decoders their encoder,
decoders their base model. Pooling: ``pooling`` = ``mean``, ``cls``, ``max`` or ``last``
(each over real tokens only, whichever side is padded); ``auto`` takes the mode of a
sentence-transformers model folder (``modules.json`` -> ``1_Pooling/config.json``) when there
is one, else ``mean``. ``normalize`` L2-normalises the vectors. A sentence-transformers
``max_seq_length`` (``sentence_bert_config.json``) bounds the input unless
``max_input_tokens`` is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfbench.core.capability import Capability
from hfbench.core.datafiles import read_json_if_any
from hfbench.core.errors import ConfigError
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import EmbeddingResult, ProcessResult
from hfbench.pipelines.text_loading import batch_size_for, max_input_tokens

logger = logging.getLogger(__name__)

POOLING_MODES = ("mean", "cls", "max", "last")

# sentence-transformers Pooling config keys -> hfbench pooling, in the order it checks them.
_ST_POOLING_KEYS: tuple[tuple[str, str], ...] = (
    ("pooling_mode_cls_token", "cls"),
    ("pooling_mode_lasttoken", "last"),
    ("pooling_mode_max_tokens", "max"),
    ("pooling_mode_mean_tokens", "mean"),
    ("pooling_mode_mean_sqrt_len_tokens", "mean"),
    ("pooling_mode_weightedmean_tokens", "mean"),
)


@dataclass(frozen=True)
class SentenceTransformersInfo:
    """What a sentence-transformers folder says about pooling (None where it says nothing)."""

    pooling: str | None = None
    max_seq_length: int | None = None
    has_dense: bool = False


def _model_file(source: str, name: str, hub: dict[str, Any]) -> Path | None:
    """A file of a model folder or cached Hub repo, or None when it has none."""
    folder = Path(source)
    if folder.is_dir():
        path = folder / name
        return path if path.is_file() else None
    try:
        from transformers.utils import cached_file

        found = cached_file(
            source,
            name,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
            **hub,
        )
    except OSError:
        return None
    return Path(found) if found else None


def _read_json(path: Path | None) -> Any:
    found = read_json_if_any(path)
    if path is not None and found is None:
        logger.warning("Could not read %s; ignoring it.", path)
    return found


def pooling_from_st_config(data: dict[str, Any]) -> str | None:
    """The hfbench pooling mode of a sentence-transformers ``Pooling`` config."""
    mode = data.get("pooling_mode")
    if isinstance(mode, str):
        mode = {"lasttoken": "last", "mean_sqrt_len_tokens": "mean", "weightedmean": "mean"}.get(mode, mode)
        return mode if mode in POOLING_MODES else None
    for key, pooling in _ST_POOLING_KEYS:
        if data.get(key):
            if key in ("pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens"):
                logger.info("sentence-transformers pooling %s is approximated by mean pooling.", key)
            return pooling
    return None


def read_sentence_transformers(source: str, hub: dict[str, Any] | None = None) -> SentenceTransformersInfo:
    """Pooling mode, max length and Dense layers of a sentence-transformers model folder.

    Args:
        source: a local folder or a Hub id (read from the Hub cache).
        hub: ``revision``/``cache_dir``/``local_files_only`` for Hub ids.
    """
    config = dict(hub or {})
    modules = _read_json(_model_file(source, "modules.json", config))
    pooling_dir = "1_Pooling"
    has_dense = False
    if isinstance(modules, list):
        for module in modules:
            kind = str(module.get("type", ""))
            if kind.endswith("Pooling"):
                pooling_dir = str(module.get("path") or pooling_dir)
            has_dense = has_dense or kind.endswith("Dense")
    pooling_config = _read_json(_model_file(source, f"{pooling_dir}/config.json", config))
    st_config = _read_json(_model_file(source, "sentence_bert_config.json", config))
    max_len = st_config.get("max_seq_length") if isinstance(st_config, dict) else None
    return SentenceTransformersInfo(
        pooling=pooling_from_st_config(pooling_config) if isinstance(pooling_config, dict) else None,
        max_seq_length=int(max_len) if isinstance(max_len, int) else None,
        has_dense=has_dense,
    )


def pool(hidden: Any, attention_mask: Any, mode: str) -> Any:
    """Pool ``[batch, tokens, dim]`` hidden states over real tokens (mask 1), padding on either side."""
    import torch

    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    if mode == "mean":
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    if mode == "max":
        return hidden.masked_fill(mask == 0, torch.finfo(hidden.dtype).min).max(dim=1).values
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    if mode == "cls":
        first = attention_mask.int().argmax(dim=1)
        return hidden[rows, first]
    if mode == "last":
        last = attention_mask.shape[1] - 1 - attention_mask.int().flip(dims=[1]).argmax(dim=1)
        return hidden[rows, last]
    raise ConfigError(f"unknown pooling {mode!r}; valid: {', '.join(POOLING_MODES)}.", key_path="pooling")


@register_processor(Capability.EMBEDDINGS, architectures=("encoder_only", "decoder_only", "enc_dec"))
class EmbeddingsProcessor(CapabilityProcessor):
    """One float32 vector per text.

    Config keys: ``pooling`` (auto/mean/cls/max/last), ``normalize``, ``max_input_tokens``,
    ``batch_size``.
    """

    def __init__(self, loaded: Any, capability: str | None = None) -> None:
        super().__init__(loaded, capability)
        self._st: SentenceTransformersInfo | None = None

    @property
    def sentence_transformers(self) -> SentenceTransformersInfo:
        """What the model folder's sentence-transformers files say (read once)."""
        if self._st is None:
            self._st = read_sentence_transformers(self.loaded.source, self._hub_config())
            if self._st.has_dense:
                logger.warning(
                    "%s has sentence-transformers Dense layers, which hfbench does not apply; its "
                    "vectors differ from sentence-transformers' own.",
                    self.loaded.model_name,
                )
        return self._st

    def _hub_config(self) -> dict[str, Any]:
        options = self.loaded.options
        return {
            "revision": options.revision,
            "cache_dir": options.cache_dir,
            "local_files_only": options.local_files_only,
        }

    def pooling_mode(self, config: dict[str, Any]) -> str:
        """The pooling to use: the ``pooling`` key, or ``auto`` -> sentence-transformers' mode or mean."""
        mode = str(config.get("pooling") or "auto")
        if mode != "auto":
            return mode
        return self.sentence_transformers.pooling or "mean"

    def input_limit(self, config: dict[str, Any]) -> int | None:
        """Tokens per input: ``max_input_tokens``, else sentence-transformers' max, else the model's."""
        if config.get("max_input_tokens") is None and self.sentence_transformers.max_seq_length:
            model_limit = max_input_tokens(self.loaded, config)
            st_limit = self.sentence_transformers.max_seq_length
            return min(st_limit, model_limit) if model_limit else st_limit
        return max_input_tokens(self.loaded, config)

    def hidden_states(self, encoded: Any) -> Any:
        """The last hidden state: the encoder of an encoder-decoder, else the base model."""
        if getattr(self.loaded.hf_config, "is_encoder_decoder", False):
            encoder = self.model.get_encoder()
            return encoder(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])[0]
        inputs = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
        if "token_type_ids" in encoded:
            inputs["token_type_ids"] = encoded["token_type_ids"]
        return self.model.base_model(**inputs)[0]

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Embed every input (length-sorted batches), in input order."""
        mode = self.pooling_mode(config)
        normalize = bool(config.get("normalize", True))
        limit = self.input_limit(config)
        texts = [item.as_text() for item in inputs]

        def run(batch: list[str]) -> list[ProcessResult]:
            import torch

            encoded = self.tokenizer(
                batch, padding=True, truncation=limit is not None, max_length=limit, return_tensors="pt"
            ).to(self.loaded.device)
            vectors = pool(self.hidden_states(encoded).float(), encoded["attention_mask"], mode)
            if normalize:
                vectors = torch.nn.functional.normalize(vectors, p=2, dim=-1)
            counts = encoded["attention_mask"].sum(dim=1).tolist()
            return [
                EmbeddingResult(
                    capability=self.requested_capability,
                    input_tokens=int(n),
                    processor=type(self).__name__,
                    extra={"pooling": mode, "normalized": normalize},
                    vector=vector.cpu().numpy().astype("float32"),
                )
                for vector, n in zip(vectors, counts, strict=True)
            ]

        return run_batched(texts, batch_size_for(self.loaded, config, self.requested_capability), len, run)
