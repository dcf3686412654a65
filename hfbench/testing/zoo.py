"""The tiny random-weight model zoo: one small Hugging Face model folder per architecture.

Every kind builds offline in well under a second or two (after imports): a config, random but
deterministic safetensors weights, a tokenizer trained on a built-in corpus and, where the family
needs one, an image processor, feature extractor or processor. Each folder loads back with the
``transformers`` ``Auto*`` classes, like Hugging Face's ``hf-internal-testing`` tiny models.

Example:
    >>> from hfbench.testing import tiny_model_path
    >>> folder = tiny_model_path("llama")  # built once into the hfbench cache
    >>> from transformers import AutoModelForCausalLM
    >>> model = AutoModelForCausalLM.from_pretrained(folder)
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import ModelNotFoundError, did_you_mean
from hfbench.core.heads import auto_class_for
from hfbench.sources.cache import build_folder_atomically, cache_dir
from hfbench.testing import tokenizers as toks

ZOO_VERSION = 1
"""Bump when any kind's files change, so cached builds are rebuilt under a new folder name."""

ZOO_MANIFEST = "hfbench_zoo.json"
"""The file in every zoo folder naming its kind, architecture, model class and zoo version."""

# Shared tiny sizes.
HIDDEN = 32
LAYERS = 2
HEADS = 4
FFN = 64
IMAGE_SIZE = 32
PATCH = 8

CIFAR10_LABELS = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

Builder = Callable[[Path], Any]


@dataclass(frozen=True)
class TinyModelSpec:
    """What one zoo kind is and how to load it back."""

    kind: str
    architecture: ModelArchitecture
    model_class: str
    preprocessor_class: str
    description: str
    builder: Builder

    @property
    def auto_model_class(self) -> str:
        """The ``transformers`` Auto class that loads it: its model class's row of the head table
        (by class-name ending among the architecture's heads), else the architecture's default."""
        return auto_class_for(self.architecture.value, self.model_class)

    def manifest(self) -> dict[str, Any]:
        """The content of the folder's ``hfbench_zoo.json``."""
        return {
            "kind": self.kind,
            "architecture": self.architecture.value,
            "model_class": self.model_class,
            "auto_model_class": self.auto_model_class,
            "preprocessor_class": self.preprocessor_class,
            "zoo_version": ZOO_VERSION,
        }


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence transformers' logging and Python warnings while building."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()


def _labels(names: tuple[str, ...]) -> dict[str, Any]:
    """``id2label``/``label2id`` config kwargs for ``names``."""
    return {
        "id2label": dict(enumerate(names)),
        "label2id": {name: i for i, name in enumerate(names)},
    }


def _save(model: Any, dest: Path, *preprocessors: Any) -> None:
    """Save ``model`` (safetensors) and every preprocessor into ``dest``."""
    model.save_pretrained(dest, safe_serialization=True)
    for item in preprocessors:
        item.save_pretrained(dest)


def _clip_image_processor() -> Any:
    """A 32x32 CLIP image processor (PIL backend, so it works without torchvision)."""
    from transformers import CLIPImageProcessorPil

    return CLIPImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    )


def _clip_vision_kwargs() -> dict[str, Any]:
    return {
        "image_size": IMAGE_SIZE,
        "patch_size": PATCH,
        "hidden_size": HIDDEN,
        "intermediate_size": FFN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "projection_dim": HIDDEN,
    }


def _llama_text_kwargs(tokenizer: Any) -> dict[str, Any]:
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": HIDDEN,
        "intermediate_size": FFN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": 2,
        "max_position_embeddings": 512,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "tie_word_embeddings": False,
    }


def _chat_generation_config(tokenizer: Any) -> Any:
    """Generation defaults of a chat model: stop at ``</s>`` or ``<|im_end|>``."""
    from transformers import GenerationConfig

    return GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(toks.CHAT_END)],
        pad_token_id=tokenizer.pad_token_id,
    )


# --------------------------------------------------------------------------- builders


def _build_llama(dest: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = toks.train_llama_tokenizer()
    model = LlamaForCausalLM(LlamaConfig(**_llama_text_kwargs(tokenizer)))
    model.generation_config = _chat_generation_config(tokenizer)
    _save(model, dest, tokenizer)


def _build_gpt2(dest: Path) -> None:
    from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel

    tokenizer = toks.train_gpt2_tokenizer()
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=512,
        n_embd=HIDDEN,
        n_layer=LAYERS,
        n_head=HEADS,
        n_inner=FFN,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = GPT2LMHeadModel(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id
    )
    _save(model, dest, tokenizer)


def _bert_config(tokenizer: Any, **extra: Any) -> Any:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=FFN,
        max_position_embeddings=512,
        type_vocab_size=2,
        pad_token_id=tokenizer.pad_token_id,
        **extra,
    )


def _build_bert(dest: Path) -> None:
    from transformers import BertForMaskedLM

    tokenizer = toks.train_bert_tokenizer()
    _save(BertForMaskedLM(_bert_config(tokenizer)), dest, tokenizer)


def _build_bert_classifier(dest: Path) -> None:
    from transformers import BertForSequenceClassification

    tokenizer = toks.train_bert_tokenizer()
    config = _bert_config(tokenizer, **_labels(("NEGATIVE", "POSITIVE")))
    _save(BertForSequenceClassification(config), dest, tokenizer)


def _build_bert_nli(dest: Path) -> None:
    from transformers import BertForSequenceClassification

    tokenizer = toks.train_bert_tokenizer()
    config = _bert_config(tokenizer, **_labels(("contradiction", "neutral", "entailment")))
    _save(BertForSequenceClassification(config), dest, tokenizer)


def _build_bert_qa(dest: Path) -> None:
    from transformers import BertForQuestionAnswering

    tokenizer = toks.train_bert_tokenizer()
    _save(BertForQuestionAnswering(_bert_config(tokenizer)), dest, tokenizer)


def _build_t5(dest: Path) -> None:
    from transformers import GenerationConfig, T5Config, T5ForConditionalGeneration

    tokenizer = toks.train_t5_tokenizer()
    # Accepted as extra config attributes (not declared fields of T5Config).
    extra: dict[str, Any] = {
        "decoder_start_token_id": tokenizer.pad_token_id,
        "task_specific_params": {
            "summarization": {"prefix": "summarize: "},
            "translation_en_to_de": {"prefix": "translate English to German: "},
            "translation_en_to_fr": {"prefix": "translate English to French: "},
        },
    }
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=HIDDEN,
        d_kv=HIDDEN // HEADS,
        d_ff=FFN,
        num_layers=LAYERS,
        num_decoder_layers=LAYERS,
        num_heads=HEADS,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        feed_forward_proj="relu",
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **extra,
    )
    model = T5ForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    _save(model, dest, tokenizer)


def _build_bart(dest: Path) -> None:
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig

    tokenizer = toks.train_bart_tokenizer()
    ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "decoder_start_token_id": tokenizer.eos_token_id,
        "forced_bos_token_id": tokenizer.bos_token_id,
        "forced_eos_token_id": tokenizer.eos_token_id,
    }
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=HIDDEN,
        encoder_layers=LAYERS,
        decoder_layers=LAYERS,
        encoder_attention_heads=HEADS,
        decoder_attention_heads=HEADS,
        encoder_ffn_dim=FFN,
        decoder_ffn_dim=FFN,
        max_position_embeddings=512,
        **ids,
    )
    model = BartForConditionalGeneration(config)
    model.generation_config = GenerationConfig(**ids)
    _save(model, dest, tokenizer)


def _vit_kwargs() -> dict[str, Any]:
    """Sizes shared by the ViT-style vision encoders (ViT, DINOv2, SigLIP's vision tower)."""
    return {
        "image_size": IMAGE_SIZE,
        "patch_size": PATCH,
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
    }


def _vit_image_processor() -> Any:
    from transformers import ViTImageProcessorPil

    return ViTImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})


def _build_vit(dest: Path) -> None:
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(
        num_channels=3,
        intermediate_size=FFN,
        **_vit_kwargs(),
        **_labels(CIFAR10_LABELS),
    )
    _save(ViTForImageClassification(config), dest, _vit_image_processor())


def _build_vit_backbone(dest: Path) -> None:
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(num_channels=3, intermediate_size=FFN, **_vit_kwargs())
    _save(ViTModel(config), dest, _vit_image_processor())


def _build_dinov2(dest: Path) -> None:
    from transformers import BitImageProcessorPil, Dinov2Config, Dinov2Model

    config = Dinov2Config(mlp_ratio=FFN // HIDDEN, **_vit_kwargs())
    image_processor = BitImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    )
    _save(Dinov2Model(config), dest, image_processor)


def _build_siglip(dest: Path) -> None:
    from transformers import SiglipConfig, SiglipImageProcessorPil, SiglipModel, SiglipProcessor

    tokenizer = toks.train_t5_tokenizer()
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": HIDDEN,
        "intermediate_size": FFN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "max_position_embeddings": 16,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "bos_token_id": None,
    }
    config = SiglipConfig(text_config=text, vision_config={**_vit_kwargs(), "intermediate_size": FFN})
    image_processor = SiglipImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    _save(SiglipModel(config), dest, processor)


def _build_clip(dest: Path) -> None:
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    tokenizer = toks.train_clip_tokenizer()
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": HIDDEN,
        "intermediate_size": FFN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "max_position_embeddings": 77,
        "projection_dim": HIDDEN,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    config = CLIPConfig(text_config=text, vision_config=_clip_vision_kwargs(), projection_dim=HIDDEN)
    processor = CLIPProcessor(image_processor=_clip_image_processor(), tokenizer=tokenizer)
    _save(CLIPModel(config), dest, processor)


def _blip_config_and_processor() -> tuple[Any, Any]:
    """The tiny BLIP config and its ``BlipProcessor`` (shared by captioning and VQA)."""
    from transformers import BlipConfig, BlipImageProcessorPil, BlipProcessor

    tokenizer = toks.train_bert_tokenizer()
    # Like Salesforce/blip-*: BERT WordPiece plus a [DEC] bos token that starts every caption.
    tokenizer.add_special_tokens({"bos_token": "[DEC]", "extra_special_tokens": ["[ENC]"]})
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": HIDDEN,
        "encoder_hidden_size": HIDDEN,
        "intermediate_size": FFN,
        "projection_dim": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "max_position_embeddings": 512,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.sep_token_id,
        "sep_token_id": tokenizer.sep_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    vision = {
        "image_size": IMAGE_SIZE,
        "patch_size": PATCH,
        "hidden_size": HIDDEN,
        "intermediate_size": FFN,
        "projection_dim": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "initializer_range": 0.02,
    }
    config = BlipConfig(
        text_config=text, vision_config=vision, projection_dim=HIDDEN, image_text_hidden_size=HIDDEN
    )
    image_processor = BlipImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return config, processor


def _build_blip(dest: Path) -> None:
    from transformers import BlipForConditionalGeneration

    config, processor = _blip_config_and_processor()
    _save(BlipForConditionalGeneration(config), dest, processor)


def _build_blip_vqa(dest: Path) -> None:
    from transformers import BlipForQuestionAnswering

    config, processor = _blip_config_and_processor()
    _save(BlipForQuestionAnswering(config), dest, processor)


VQA_ANSWERS = ("yes", "no", "two", "red")
"""The answer labels of the tiny ViLT VQA classifier."""


def _build_vilt(dest: Path) -> None:
    from transformers import (
        ViltConfig,
        ViltForQuestionAnswering,
        ViltImageProcessorPil,
        ViltProcessor,
    )

    tokenizer = toks.train_bert_tokenizer()
    config = ViltConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=FFN,
        image_size=IMAGE_SIZE,
        patch_size=PATCH,
        max_position_embeddings=40,
        **_labels(VQA_ANSWERS),
    )
    image_processor = ViltImageProcessorPil(  # size_divisor is a kwarg the stubs miss
        size={"shortest_edge": IMAGE_SIZE},
        size_divisor=PATCH,  # type: ignore[call-arg]
    )
    processor = ViltProcessor(image_processor=image_processor, tokenizer=tokenizer)
    _save(ViltForQuestionAnswering(config), dest, processor)


def _build_llava(dest: Path) -> None:
    from transformers import LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    tokenizer = toks.train_llama_tokenizer(image_token=True)
    num_patches = (IMAGE_SIZE // PATCH) ** 2
    config = LlavaConfig(
        vision_config={"model_type": "clip_vision_model", **_clip_vision_kwargs()},
        text_config={"model_type": "llama", **_llama_text_kwargs(tokenizer)},
        image_token_index=tokenizer.convert_tokens_to_ids(toks.IMAGE_TOKEN),
        image_seq_length=num_patches,
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
        projector_hidden_act="gelu",
        tie_word_embeddings=False,
    )
    model = LlavaForConditionalGeneration(config)
    model.generation_config = _chat_generation_config(tokenizer)
    processor = LlavaProcessor(
        image_processor=_clip_image_processor(),
        tokenizer=tokenizer,
        patch_size=PATCH,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=toks.chat_template(with_images=True),
    )
    _save(model, dest, processor)


WHISPER_MAX_LENGTH = 64
"""The tiny Whisper's ``generation_config.max_length`` (decoder prompt included)."""

WHISPER_CHUNK_SECONDS = 30
"""The feature extractor's window; the encoder has ``WHISPER_CHUNK_SECONDS * 50`` positions."""


def _bias_down_timestamps(model: Any, *, first_timestamp: int, bias: float = -10.0) -> None:
    """Make a random Whisper predict timestamp tokens only when ``return_timestamps`` forces them.

    Random weights otherwise emit timestamp pairs at random, which sends Whisper's segment
    seeking into many extra ``generate`` rounds. Feature 0 of the decoder's final layer norm is
    made a constant 1 and column 0 of the (tied) output embedding is ``bias`` for timestamp
    tokens and 0 for all others, i.e. a fixed logit bias against timestamps.
    """
    import torch

    decoder = model.model.decoder
    with torch.no_grad():
        decoder.layer_norm.weight[0] = 0.0
        decoder.layer_norm.bias[0] = 1.0
        decoder.embed_tokens.weight[:, 0] = 0.0
        decoder.embed_tokens.weight[first_timestamp:, 0] = bias


def _build_whisper(dest: Path, chunk_seconds: int = WHISPER_CHUNK_SECONDS) -> None:
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    tokenizer = toks.train_whisper_tokenizer()
    tid = tokenizer.convert_tokens_to_ids
    eot = tid("<|endoftext|>")
    sot = tid("<|startoftranscript|>")
    space = tid("Ġ")
    lang_to_id = {token: tid(token) for token in toks.whisper_language_tokens()}
    source_positions = chunk_seconds * 50  # two mel frames per encoder position
    ids = {"bos_token_id": eot, "eos_token_id": eot, "pad_token_id": eot}
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=HIDDEN,
        encoder_layers=LAYERS,
        decoder_layers=LAYERS,
        encoder_attention_heads=HEADS,
        decoder_attention_heads=HEADS,
        encoder_ffn_dim=FFN,
        decoder_ffn_dim=FFN,
        max_source_positions=source_positions,
        max_target_positions=448,
        decoder_start_token_id=sot,
        begin_suppress_tokens=[space, eot],
        suppress_tokens=[],
        **ids,
    )
    model = WhisperForConditionalGeneration(config)
    _bias_down_timestamps(model, first_timestamp=tid("<|0.00|>"))
    model.generation_config = GenerationConfig(
        **ids,
        decoder_start_token_id=sot,
        # Real Whisper caps at 448; a short cap keeps random transcripts (and pipelines) quick.
        max_length=WHISPER_MAX_LENGTH,
        is_multilingual=True,
        lang_to_id=lang_to_id,
        task_to_id={"translate": tid("<|translate|>"), "transcribe": tid("<|transcribe|>")},
        no_timestamps_token_id=tid("<|notimestamps|>"),
        prev_sot_token_id=tid("<|startofprev|>"),
        begin_suppress_tokens=[space, eot],
        suppress_tokens=[],
        max_initial_timestamp_index=50,
        return_timestamps=False,
        alignment_heads=[[LAYERS - 1, h] for h in range(HEADS)],
    )
    feature_extractor = WhisperFeatureExtractor(
        feature_size=80,
        sampling_rate=16000,
        hop_length=160,
        chunk_length=chunk_seconds,
        n_fft=400,
    )
    processor = WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    _save(model, dest, processor)


WHISPER_SHORT_CHUNK_SECONDS = 3
"""The window of the ``whisper-3s`` kind (ten times less to compute than 30 s)."""


def _build_whisper_short(dest: Path) -> None:
    _build_whisper(dest, chunk_seconds=WHISPER_SHORT_CHUNK_SECONDS)


def _ctc_kwargs_and_processor() -> tuple[dict[str, Any], Any]:
    """Config kwargs of the tiny wav2vec 2.0-style CTC models, and their ``Wav2Vec2Processor``."""
    import tempfile

    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2Processor

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = toks.make_ctc_tokenizer(Path(tmp))
    kwargs = {
        "vocab_size": len(tokenizer),
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "intermediate_size": FFN,
        "conv_dim": (HIDDEN, HIDDEN, HIDDEN),
        "conv_stride": (5, 4, 4),
        "conv_kernel": (10, 8, 8),
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 2,
        "feat_extract_norm": "group",
        "do_stable_layer_norm": False,
        "mask_time_prob": 0.0,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "ctc_loss_reduction": "mean",
    }
    feature_extractor = Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=16000,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=False,
    )
    processor = Wav2Vec2Processor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    return kwargs, processor


def _build_wav2vec2(dest: Path) -> None:
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    kwargs, processor = _ctc_kwargs_and_processor()
    _save(Wav2Vec2ForCTC(Wav2Vec2Config(**kwargs)), dest, processor)


def _build_hubert(dest: Path) -> None:
    from transformers import HubertConfig, HubertForCTC

    kwargs, processor = _ctc_kwargs_and_processor()
    _save(HubertForCTC(HubertConfig(**kwargs)), dest, processor)


# --------------------------------------------------------------------------- registry

_A = ModelArchitecture

TINY_MODEL_SPECS: dict[str, TinyModelSpec] = {
    spec.kind: spec
    for spec in (
        TinyModelSpec(
            "llama",
            _A.DECODER_ONLY,
            "LlamaForCausalLM",
            "AutoTokenizer",
            "Llama decoder; Metaspace BPE tokenizer with byte fallback, pad and a ChatML template.",
            _build_llama,
        ),
        TinyModelSpec(
            "gpt2",
            _A.DECODER_ONLY,
            "GPT2LMHeadModel",
            "AutoTokenizer",
            "GPT-2 decoder; byte-level BPE tokenizer, no pad token, no chat template.",
            _build_gpt2,
        ),
        TinyModelSpec(
            "bert",
            _A.ENCODER_ONLY,
            "BertForMaskedLM",
            "AutoTokenizer",
            "BERT masked LM (AutoModel gives the bare encoder, for embeddings); WordPiece.",
            _build_bert,
        ),
        TinyModelSpec(
            "bert-classifier",
            _A.ENCODER_ONLY,
            "BertForSequenceClassification",
            "AutoTokenizer",
            "BERT sentiment classifier: NEGATIVE / POSITIVE.",
            _build_bert_classifier,
        ),
        TinyModelSpec(
            "bert-nli",
            _A.ENCODER_ONLY,
            "BertForSequenceClassification",
            "AutoTokenizer",
            "BERT NLI classifier: contradiction / neutral / entailment (zero-shot classification).",
            _build_bert_nli,
        ),
        TinyModelSpec(
            "bert-qa",
            _A.ENCODER_ONLY,
            "BertForQuestionAnswering",
            "AutoTokenizer",
            "BERT extractive question answering (start/end logits).",
            _build_bert_qa,
        ),
        TinyModelSpec(
            "t5",
            _A.ENCODER_DECODER,
            "T5ForConditionalGeneration",
            "AutoTokenizer",
            "T5 encoder-decoder; Unigram tokenizer with 100 sentinels; decoder starts with <pad>.",
            _build_t5,
        ),
        TinyModelSpec(
            "bart",
            _A.ENCODER_DECODER,
            "BartForConditionalGeneration",
            "AutoTokenizer",
            "BART encoder-decoder; byte-level BPE tokenizer.",
            _build_bart,
        ),
        TinyModelSpec(
            "vit",
            _A.VISION_ENCODER,
            "ViTForImageClassification",
            "AutoImageProcessor",
            "ViT image classifier on 32x32 images (patch 8) with the CIFAR-10 labels.",
            _build_vit,
        ),
        TinyModelSpec(
            "clip",
            _A.VISION_ENCODER,
            "CLIPModel",
            "AutoProcessor",
            "CLIP text + vision towers (zero-shot image classification, embeddings).",
            _build_clip,
        ),
        TinyModelSpec(
            "siglip",
            _A.VISION_ENCODER,
            "SiglipModel",
            "AutoProcessor",
            "SigLIP text + vision towers (sigmoid zero-shot image classification, embeddings).",
            _build_siglip,
        ),
        TinyModelSpec(
            "vit-backbone",
            _A.VISION_ENCODER,
            "ViTModel",
            "AutoImageProcessor",
            "Bare ViT encoder (no head; pooled image embeddings) on 32x32 images.",
            _build_vit_backbone,
        ),
        TinyModelSpec(
            "dinov2",
            _A.VISION_ENCODER,
            "Dinov2Model",
            "AutoImageProcessor",
            "Bare DINOv2 backbone (image embeddings); BiT image processor with a center crop.",
            _build_dinov2,
        ),
        TinyModelSpec(
            "blip",
            _A.MULTIMODAL,
            "BlipForConditionalGeneration",
            "AutoProcessor",
            "BLIP image captioning (ViT encoder + BERT-style decoder).",
            _build_blip,
        ),
        TinyModelSpec(
            "blip-vqa",
            _A.MULTIMODAL,
            "BlipForQuestionAnswering",
            "AutoProcessor",
            "BLIP generative visual question answering (the blip kind's config and processor).",
            _build_blip_vqa,
        ),
        TinyModelSpec(
            "vilt",
            _A.MULTIMODAL,
            "ViltForQuestionAnswering",
            "AutoProcessor",
            "ViLT VQA classifier over a fixed answer set: yes / no / two / red.",
            _build_vilt,
        ),
        TinyModelSpec(
            "llava",
            _A.MULTIMODAL,
            "LlavaForConditionalGeneration",
            "AutoProcessor",
            "LLaVA: tiny CLIP vision tower + tiny Llama, <image> token and a chat template.",
            _build_llava,
        ),
        TinyModelSpec(
            "whisper",
            _A.SPEECH,
            "WhisperForConditionalGeneration",
            "AutoProcessor",
            "Whisper speech-to-text (80 mel bins, 16 kHz, 30 s window), multilingual tokens.",
            _build_whisper,
        ),
        TinyModelSpec(
            "whisper-3s",
            _A.SPEECH,
            "WhisperForConditionalGeneration",
            "AutoProcessor",
            "The whisper kind with a 3 s input window (ten times less to compute).",
            _build_whisper_short,
        ),
        TinyModelSpec(
            "wav2vec2",
            _A.SPEECH,
            "Wav2Vec2ForCTC",
            "AutoProcessor",
            "wav2vec 2.0 CTC speech recognition with a character vocabulary (16 kHz).",
            _build_wav2vec2,
        ),
        TinyModelSpec(
            "hubert",
            _A.SPEECH,
            "HubertForCTC",
            "AutoProcessor",
            "HuBERT CTC speech recognition with the wav2vec2 kind's sizes and processor.",
            _build_hubert,
        ),
    )
}

TINY_MODEL_KINDS: tuple[str, ...] = tuple(TINY_MODEL_SPECS)
"""Every kind the zoo can build."""


def tiny_model_spec(kind: str) -> TinyModelSpec:
    """The spec of ``kind`` (case and ``_``/``-`` insensitive).

    Raises:
        ModelNotFoundError: no such kind; the message lists the kinds and suggests a close one.
    """
    key = str(kind).strip().lower().replace("_", "-")
    spec = TINY_MODEL_SPECS.get(key)
    if spec is None:
        raise ModelNotFoundError(
            f"No tiny model kind {kind!r} in hfbench's zoo; valid kinds are "
            f"{', '.join(TINY_MODEL_KINDS)}." + did_you_mean(key, TINY_MODEL_KINDS)
        )
    return spec


def _seed_for(kind: str) -> int:
    """A stable per-kind seed, so each kind's weights are the same on every build."""
    return zlib.crc32(kind.encode("utf-8"))


def build_tiny_model(kind: str, dest: Path) -> Path:
    """Build the tiny ``kind`` model into ``dest`` (created if needed) and return ``dest``.

    Writes the config, safetensors weights, the tokenizer / image processor / feature extractor
    / processor the family needs, and ``hfbench_zoo.json``. Weights are deterministic per kind;
    the global torch RNG state is left as it was.

    Raises:
        ModelNotFoundError: ``kind`` is not one of ``TINY_MODEL_KINDS``.
    """
    spec = tiny_model_spec(kind)
    import torch

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    logging.getLogger(__name__).debug("Building tiny %s model into %s", spec.kind, dest)
    with _quiet(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(_seed_for(spec.kind))
        spec.builder(dest)
    manifest = json.dumps(spec.manifest(), indent=2, sort_keys=True) + "\n"
    (dest / ZOO_MANIFEST).write_text(manifest, encoding="utf-8")
    return dest


def tiny_model_path(kind: str) -> Path:
    """The folder of the tiny ``kind`` model in the hfbench cache, building it on first use.

    The folder is ``cache_dir()/"tiny-zoo"/f"{kind}-v{ZOO_VERSION}"``, built atomically (safe
    across processes; a half-written folder is rebuilt).

    Raises:
        ModelNotFoundError: ``kind`` is not one of ``TINY_MODEL_KINDS``.
    """
    spec = tiny_model_spec(kind)
    target = cache_dir() / "tiny-zoo" / f"{spec.kind}-v{ZOO_VERSION}"

    def _build(tmp: Path) -> None:
        build_tiny_model(spec.kind, tmp)

    return build_folder_atomically(target, _build)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The ``hfbench_zoo.json`` of a zoo folder."""
    data: dict[str, Any] = json.loads((Path(folder) / ZOO_MANIFEST).read_text(encoding="utf-8"))
    return data
