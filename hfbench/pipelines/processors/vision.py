"""Vision-encoder processors: image classification, zero-shot image classification, image embeddings.

Also the helpers every image-reading processor shares (pixel inputs on the model's device and
dtype, patch counts for the speed figures, the batch size).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.capability import Capability
from hfbench.core.errors import ConfigError, ModelLoadError
from hfbench.pipelines.batch_tuning import AUTO
from hfbench.pipelines.batching import run_batched
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.processor import CapabilityProcessor
from hfbench.pipelines.registry import register_processor
from hfbench.pipelines.results import (
    ClassificationResult,
    EmbeddingResult,
    LabelScore,
    ProcessResult,
)
from hfbench.pipelines.text_loading import log_once

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 8
"""Inputs per forward pass when the config sets no ``batch_size``."""

_VISION = [ModelArchitecture.VISION_ENCODER]
_logged: set[str] = set()


def batch_size(config: Mapping[str, Any]) -> int:
    """The config's ``batch_size``, or ``DEFAULT_BATCH_SIZE``, which ``"auto"`` also gets here:
    only the text processors tune their batch size so far (``batch_tuning``)."""
    value = config.get("batch_size")
    if value == AUTO:
        log_once(
            logger,
            _logged,
            AUTO,
            "batch_size 'auto' is tuned for text capabilities only; "
            "image and audio inputs run in batches of %d.",
            DEFAULT_BATCH_SIZE,
        )
        return DEFAULT_BATCH_SIZE
    return int(value or DEFAULT_BATCH_SIZE)


def to_model(encoded: Mapping[str, Any], model: Any) -> dict[str, Any]:
    """Move a processor's tensors to the model's device; floating ones take the model's dtype."""
    device, dtype = model.device, model.dtype
    moved: dict[str, Any] = {}
    for key, value in encoded.items():
        if hasattr(value, "to"):
            value = value.to(device=device, dtype=dtype) if value.is_floating_point() else value.to(device)
        moved[key] = value
    return moved


def image_inputs(processor: Any, images: list[Any], model: Any) -> dict[str, Any]:
    """Pixel inputs for ``images``, ready for ``model``."""
    if processor is None:
        raise ModelLoadError("This model was loaded without an image processor; it cannot read images.")
    return to_model(processor(images=images, return_tensors="pt"), model)


def patch_count(hf_config: Any, pixel_values: Any) -> tuple[int, str]:
    """Patches one image becomes (``(count, "patches")``), or its pixels for models without patches."""
    vision = getattr(hf_config, "vision_config", None) or hf_config
    patch = getattr(vision, "patch_size", None)
    height, width = (int(n) for n in pixel_values.shape[-2:])
    if isinstance(patch, (list, tuple)) and len(patch) == 2:
        return (height // int(patch[0])) * (width // int(patch[1])), "patches"
    if isinstance(patch, int) and patch > 0:
        return (height // patch) * (width // patch), "patches"
    return height * width, "pixels"


def image_area(item: MediaInput) -> int:
    """Sort key for batching images: their pixel count."""
    width, height = item.as_image().size
    return int(width * height)


@register_processor(Capability.IMAGE_CLASSIFICATION, architectures=_VISION)
class ImageClassificationProcessor(CapabilityProcessor):
    """The checkpoint's own labels (``id2label``), best first.

    Reads: ``top_labels``, ``batch_size``. Scores are a softmax over the labels, or independent
    sigmoids for multi-label checkpoints (``problem_type="multi_label_classification"``).
    """

    accepts = ("image",)

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Classify each image."""
        import torch

        hf_config = self.model.config
        id2label = dict(hf_config.id2label)
        top = min(int(config.get("top_labels", 5)), len(id2label))
        multi_label = hf_config.problem_type == "multi_label_classification" or len(id2label) == 1
        scoring = "sigmoid" if multi_label else "softmax"

        def run(batch: list[MediaInput]) -> list[ProcessResult]:
            encoded = image_inputs(self.processor, [item.as_image() for item in batch], self.model)
            logits = self.model(**encoded).logits.float()
            scores = torch.sigmoid(logits) if multi_label else logits.softmax(dim=-1)
            values, indices = scores.topk(top, dim=-1)
            tokens, unit = patch_count(hf_config, encoded["pixel_values"])
            results: list[ProcessResult] = []
            for row_values, row_indices in zip(values.tolist(), indices.tolist(), strict=True):
                labels = [
                    LabelScore(str(id2label.get(i, f"LABEL_{i}")), float(v))
                    for v, i in zip(row_values, row_indices, strict=True)
                ]
                results.append(
                    ClassificationResult(
                        capability=self.requested_capability,
                        labels=labels,
                        input_tokens=tokens,
                        input_unit=unit,
                        processor=type(self).__name__,
                        extra={"scoring": scoring},
                    )
                )
            return results

        return run_batched(inputs, batch_size(config), image_area, run)


@register_processor(Capability.ZERO_SHOT_IMAGE_CLASSIFICATION, architectures=_VISION)
class ZeroShotImageClassificationProcessor(CapabilityProcessor):
    """Scores each image against labels given at call time (CLIP, SigLIP ...).

    Reads: ``labels`` (required), ``hypothesis_template`` (``"a photo of a {}."``),
    ``top_labels`` (default: all), ``batch_size``. CLIP-style models get a softmax over
    ``logits_per_image``; models trained with a sigmoid loss (SigLIP: they carry a
    ``logit_bias``) get an independent sigmoid per label, so their scores need not sum to 1.
    """

    accepts = ("image",)

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Score each image against every label."""
        import torch

        labels = list(config.get("labels") or [])
        if not labels:
            raise ConfigError(
                f"{self.requested_capability} needs candidate labels: pass labels=['cat', 'dog'] "
                "(per call or in the capability's config).",
                key_path="labels",
            )
        if self.tokenizer is None:
            raise ModelLoadError(f"{self.loaded.model_name} was loaded without a text tokenizer.")
        template = str(config.get("hypothesis_template") or "a photo of a {}.")
        sigmoid = hasattr(self.model, "logit_bias")
        text_config = getattr(self.model.config, "text_config", None)
        if sigmoid:
            # SigLIP was trained on texts padded to its full length; shorter padding changes scores.
            length = int(getattr(text_config, "max_position_embeddings", 64))
            padding: dict[str, Any] = {"padding": "max_length", "max_length": length}
        else:
            padding = {"padding": True}
        texts = [template.format(label) for label in labels]
        text_inputs = to_model(
            self.tokenizer(texts, return_tensors="pt", truncation=True, **padding), self.model
        )
        top = min(int(config.get("top_labels") or len(labels)), len(labels))

        def run(batch: list[MediaInput]) -> list[ProcessResult]:
            encoded = image_inputs(self.processor, [item.as_image() for item in batch], self.model)
            logits = self.model(pixel_values=encoded["pixel_values"], **text_inputs).logits_per_image
            scores = torch.sigmoid(logits.float()) if sigmoid else logits.float().softmax(dim=-1)
            values, indices = scores.topk(top, dim=-1)
            tokens, unit = patch_count(self.model.config, encoded["pixel_values"])
            return [
                ClassificationResult(
                    capability=self.requested_capability,
                    labels=[LabelScore(labels[i], float(v)) for v, i in zip(row_v, row_i, strict=True)],
                    input_tokens=tokens,
                    input_unit=unit,
                    processor=type(self).__name__,
                    extra={"scoring": "sigmoid" if sigmoid else "softmax"},
                )
                for row_v, row_i in zip(values.tolist(), indices.tolist(), strict=True)
            ]

        return run_batched(inputs, batch_size(config), image_area, run)


@register_processor(Capability.IMAGE_EMBEDDINGS, architectures=_VISION)
class ImageEmbeddingsProcessor(CapabilityProcessor):
    """One vector per image.

    Reads: ``normalize`` (L2, default true), ``batch_size``. Dual encoders give their projected
    ``image_embeds`` (``get_image_features``), so vectors compare with their text embeddings;
    other models give the backbone's pooled output, else its first (CLS) token, else the mean of
    a convolutional feature map. Classifiers are read through their backbone, without the head.
    """

    accepts = ("image",)

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Embed each image."""
        import numpy as np
        import torch

        normalize = bool(config.get("normalize", True))

        def run(batch: list[MediaInput]) -> list[ProcessResult]:
            encoded = image_inputs(self.processor, [item.as_image() for item in batch], self.model)
            vectors = self._embed(encoded).float()
            if normalize:
                vectors = torch.nn.functional.normalize(vectors, dim=-1)
            tokens, unit = patch_count(self.model.config, encoded["pixel_values"])
            array = vectors.cpu().numpy().astype(np.float32)
            return [
                EmbeddingResult(
                    capability=self.requested_capability,
                    vector=row,
                    input_tokens=tokens,
                    input_unit=unit,
                    processor=type(self).__name__,
                    extra={"dim": int(row.shape[0]), "normalized": normalize},
                )
                for row in array
            ]

        return run_batched(inputs, batch_size(config), image_area, run)

    def _embed(self, encoded: dict[str, Any]) -> Any:
        """A ``(batch, dim)`` tensor for the pixel inputs."""
        import torch

        model = self.model
        if hasattr(model, "get_image_features"):
            features = model.get_image_features(pixel_values=encoded["pixel_values"])
            # transformers 5 returns the model output with the projection in pooler_output.
            return features if isinstance(features, torch.Tensor) else features.pooler_output
        backbone = getattr(model, "base_model", model)
        output = backbone(pixel_values=encoded["pixel_values"])
        pooled = getattr(output, "pooler_output", None)
        if pooled is None:
            hidden = output.last_hidden_state
            pooled = hidden[:, 0] if hidden.dim() == 3 else hidden.mean(dim=tuple(range(2, hidden.dim())))
        return pooled.flatten(1)
