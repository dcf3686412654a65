"""VisionEncoderPipeline on tiny models: ViT classifier, CLIP, SigLIP, bare ViT and DINOv2 backbones."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import numpy as np
import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import (
    ConfigError,
    MediaInputError,
    PipelineNotLoadedError,
    UnsupportedCapabilityError,
)
from hfbench.pipelines import VisionEncoderPipeline, pipeline_for
from hfbench.pipelines.media import MediaInput
from hfbench.pipelines.results import ClassificationResult, EmbeddingResult
from hfbench.testing import synthetic_audio, synthetic_image

SIZE, PATCH, HIDDEN = 32, 8, 32
PATCHES = (SIZE // PATCH) ** 2
CIFAR10 = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

# ---- loaded pipelines ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vit(tiny_vit: Path) -> VisionEncoderPipeline:
    pipe = pipeline_for(str(tiny_vit))
    assert isinstance(pipe, VisionEncoderPipeline)
    return pipe.load()  # type: ignore[return-value]


@pytest.fixture(scope="module")
def clip(tiny_clip: Path) -> VisionEncoderPipeline:
    return VisionEncoderPipeline().load(str(tiny_clip))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def siglip(tiny_siglip: Path) -> VisionEncoderPipeline:
    return VisionEncoderPipeline().load(str(tiny_siglip))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def backbone(tiny_vit_backbone: Path) -> VisionEncoderPipeline:
    return VisionEncoderPipeline().load(str(tiny_vit_backbone))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def dinov2(tiny_dinov2: Path) -> VisionEncoderPipeline:
    return VisionEncoderPipeline().load(str(tiny_dinov2))  # type: ignore[return-value]


def images(n: int, size: tuple[int, int] = (SIZE, SIZE)) -> list[MediaInput]:
    return [MediaInput.image(synthetic_image(size, seed=i)) for i in range(n)]


# ---- loading: the Auto class and the capabilities follow the checkpoint's head ---------------


@pytest.mark.parametrize(
    ("fixture", "model_class", "capabilities"),
    [
        ("vit", "ViTForImageClassification", {"image-classification", "image-embeddings"}),
        ("clip", "CLIPModel", {"zero-shot-image-classification", "image-embeddings"}),
        ("siglip", "SiglipModel", {"zero-shot-image-classification", "image-embeddings"}),
        ("backbone", "ViTModel", {"image-embeddings"}),
        ("dinov2", "Dinov2Model", {"image-embeddings"}),
    ],
)
def test_loader_picks_the_checkpoints_head_and_keeps_only_what_it_serves(
    request: pytest.FixtureRequest, fixture: str, model_class: str, capabilities: set[str]
) -> None:
    pipe: VisionEncoderPipeline = request.getfixturevalue(fixture)
    assert pipe.architecture is ModelArchitecture.VISION_ENCODER
    assert type(pipe.loaded.model).__name__ == model_class
    assert set(pipe.capabilities.names()) == capabilities


def test_classifiers_get_an_image_processor_and_dual_encoders_a_processor_with_tokenizer(
    vit: VisionEncoderPipeline, clip: VisionEncoderPipeline
) -> None:
    assert vit.loaded.tokenizer is None
    assert type(vit.loaded.processor).__name__.endswith("ImageProcessorPil")
    assert type(clip.loaded.processor).__name__ == "CLIPProcessor"
    assert clip.loaded.tokenizer is not None


@pytest.mark.parametrize(
    ("fixture", "capability"),
    [
        ("clip", "image-classification"),
        ("backbone", "image-classification"),
        ("backbone", "zero-shot-image-classification"),
        ("vit", "zero-shot-image-classification"),
    ],
)
def test_capabilities_the_checkpoint_lacks_are_refused(
    request: pytest.FixtureRequest, fixture: str, capability: str
) -> None:
    pipe: VisionEncoderPipeline = request.getfixturevalue(fixture)
    with pytest.raises(UnsupportedCapabilityError, match="cannot serve"):
        pipe.process(images(1), capability=capability, labels=["cat"])


def test_loading_for_a_head_the_checkpoint_does_not_have_is_refused(tiny_vit_backbone: Path) -> None:
    with pytest.raises(UnsupportedCapabilityError, match="no head for 'image-classification'"):
        VisionEncoderPipeline().load(str(tiny_vit_backbone), capability="image-classification")


def test_loading_a_classifier_for_embeddings_keeps_the_trained_head(tiny_vit: Path) -> None:
    pipe = VisionEncoderPipeline().load(str(tiny_vit), capability="image-embeddings")
    assert type(pipe.loaded.model).__name__ == "ViTForImageClassification"


# ---- image classification --------------------------------------------------------------------


def test_classification_softmax_over_all_labels_sums_to_one(vit: VisionEncoderPipeline) -> None:
    (result,) = vit.process(images(1), capability="image-classification", top_labels=10)
    assert isinstance(result, ClassificationResult)
    assert {ls.label for ls in result.labels} == CIFAR10
    assert sum(ls.score for ls in result.labels) == pytest.approx(1.0, abs=1e-5)
    assert result.extra["scoring"] == "softmax"


def test_classification_returns_top_labels_best_first_with_patch_counts(vit: VisionEncoderPipeline) -> None:
    (result,) = vit.process(images(1), top_labels=3)  # image-classification is the primary capability
    assert isinstance(result, ClassificationResult)
    scores = [ls.score for ls in result.labels]
    assert len(scores) == 3
    assert scores == sorted(scores, reverse=True)
    assert result.label == result.labels[0].label and result.score == scores[0]
    assert (result.input_tokens, result.input_unit, result.output_tokens) == (PATCHES, "patches", 0)
    assert result.capability == "image-classification"
    assert result.processor == "ImageClassificationProcessor"


def test_classification_batches_come_back_in_input_order(vit: VisionEncoderPipeline) -> None:
    # Different sizes, so the length-sorted batches reorder them internally.
    items = [MediaInput.image(synthetic_image((24 + 8 * i, 32), seed=i)) for i in range(5)]
    batched = vit.process(items, top_labels=10, batch_size=2)
    single = [vit.process([item], top_labels=10, batch_size=1)[0] for item in items]
    for b, s in zip(batched, single, strict=True):
        assert isinstance(b, ClassificationResult) and isinstance(s, ClassificationResult)
        assert [ls.label for ls in b.labels] == [ls.label for ls in s.labels]
        assert [ls.score for ls in b.labels] == pytest.approx([ls.score for ls in s.labels], abs=1e-5)
    distinct = {
        tuple(round(ls.score, 4) for ls in r.labels) for r in batched if isinstance(r, ClassificationResult)
    }
    assert len(distinct) == 5  # the images really score differently


def test_images_from_files_and_arrays_classify_like_pil_images(
    vit: VisionEncoderPipeline, tmp_path: Path
) -> None:
    image = synthetic_image(seed=3)
    path = tmp_path / "img.png"
    image.save(path)
    items = [MediaInput.image(image), MediaInput.image(path), MediaInput.image(np.asarray(image)), image]
    results = vit.process(items, top_labels=10)
    first = results[0]
    assert isinstance(first, ClassificationResult)
    for other in results[1:]:
        assert isinstance(other, ClassificationResult)
        assert [ls.score for ls in other.labels] == pytest.approx([ls.score for ls in first.labels])


# ---- zero-shot image classification ----------------------------------------------------------


def test_clip_zero_shot_is_a_softmax_over_the_given_labels(clip: VisionEncoderPipeline) -> None:
    labels = ["cat", "dog", "car"]
    results = clip.process(images(2), capability="zero-shot-image-classification", labels=labels)
    for result in results:
        assert isinstance(result, ClassificationResult)
        assert sorted(ls.label for ls in result.labels) == sorted(labels)
        assert sum(ls.score for ls in result.labels) == pytest.approx(1.0, abs=1e-5)
        assert [ls.score for ls in result.labels] == sorted((ls.score for ls in result.labels), reverse=True)
        assert (result.input_tokens, result.input_unit) == (PATCHES, "patches")
        assert result.extra["scoring"] == "softmax"


def test_zero_shot_follows_the_hypothesis_template(clip: VisionEncoderPipeline) -> None:
    def scores(template: str) -> dict[str, float]:
        (result,) = clip.process(
            images(1), capability="zero-shot-image", labels=["cat", "dog"], hypothesis_template=template
        )
        assert isinstance(result, ClassificationResult)
        return {ls.label: ls.score for ls in result.labels}

    assert scores("a photo of a {}.") != pytest.approx(scores("{} in the style of an oil painting"))


def test_siglip_scores_each_label_with_its_own_sigmoid(siglip: VisionEncoderPipeline) -> None:
    (two,) = siglip.process(images(1), capability="zero-shot-image-classification", labels=["cat", "dog"])
    (three,) = siglip.process(
        images(1), capability="zero-shot-image-classification", labels=["cat", "dog", "tree"]
    )
    assert isinstance(two, ClassificationResult) and isinstance(three, ClassificationResult)
    assert two.extra["scoring"] == "sigmoid"
    assert all(0.0 < ls.score < 1.0 for ls in three.labels)
    # Independent scores: adding a label leaves the others unchanged (a softmax would not).
    by_label = {ls.label: ls.score for ls in three.labels}
    for ls in two.labels:
        assert by_label[ls.label] == pytest.approx(ls.score, abs=1e-6)


def test_clip_scores_change_when_a_label_is_added(clip: VisionEncoderPipeline) -> None:
    (two,) = clip.process(images(1), capability="zero-shot-image-classification", labels=["cat", "dog"])
    (three,) = clip.process(
        images(1), capability="zero-shot-image-classification", labels=["cat", "dog", "tree"]
    )
    assert isinstance(two, ClassificationResult) and isinstance(three, ClassificationResult)
    cat_of_two, cat_of_three = ({ls.label: ls.score for ls in r.labels}["cat"] for r in (two, three))
    assert cat_of_three < cat_of_two


def test_zero_shot_without_labels_says_how_to_pass_them(clip: VisionEncoderPipeline) -> None:
    with pytest.raises(ConfigError, match=r"needs candidate labels.*labels=\[") as err:
        clip.process(images(1), capability="zero-shot-image-classification")
    assert err.value.key_path == "labels"


def test_zero_shot_batches_come_back_in_input_order(clip: VisionEncoderPipeline) -> None:
    items = images(4)
    labels = ["cat", "dog", "car"]
    batched = clip.process(items, capability="zero-shot-image-classification", labels=labels, batch_size=3)
    for item, b in zip(items, batched, strict=True):
        (s,) = clip.process([item], capability="zero-shot-image-classification", labels=labels)
        assert isinstance(b, ClassificationResult) and isinstance(s, ClassificationResult)
        assert {ls.label: ls.score for ls in b.labels} == pytest.approx(
            {ls.label: ls.score for ls in s.labels}
        )


# ---- image embeddings ------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["vit", "clip", "siglip", "backbone", "dinov2"])
def test_embeddings_are_unit_vectors_by_default_and_raw_when_asked(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    pipe: VisionEncoderPipeline = request.getfixturevalue(fixture)
    normalized = pipe.process(images(2), capability="image-embeddings")
    raw = pipe.process(images(2), capability="image-embeddings", normalize=False)
    for n, r in zip(normalized, raw, strict=True):
        assert isinstance(n, EmbeddingResult) and isinstance(r, EmbeddingResult)
        assert n.vector is not None and r.vector is not None
        assert n.vector.dtype == np.float32 and n.vector.shape == (HIDDEN,)
        assert np.linalg.norm(n.vector) == pytest.approx(1.0, abs=1e-5)
        assert np.linalg.norm(r.vector) != pytest.approx(1.0, abs=1e-3)
        assert np.allclose(n.vector, r.vector / np.linalg.norm(r.vector), atol=1e-5)
        assert (n.input_tokens, n.input_unit) == (PATCHES, "patches")
    assert not np.allclose(normalized[0].vector, normalized[1].vector)  # type: ignore[attr-defined]


def test_dual_encoder_embeddings_are_the_projected_image_embeds(clip: VisionEncoderPipeline) -> None:
    import torch

    (result,) = clip.process(images(1), capability="image-embeddings", normalize=False)
    assert isinstance(result, EmbeddingResult)
    pixels = clip.loaded.processor(images=[synthetic_image(seed=0)], return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        expected = clip.loaded.model(
            pixel_values=pixels, input_ids=torch.tensor([[0, 1]]), return_dict=True
        ).image_embeds
    # CLIPModel's forward normalises image_embeds; the raw vector points the same way.
    assert result.vector is not None
    direction = result.vector / np.linalg.norm(result.vector)
    assert np.allclose(direction, expected[0].numpy() / np.linalg.norm(expected[0].numpy()), atol=1e-5)


def test_classifier_embeddings_are_the_backbones_cls_token(vit: VisionEncoderPipeline) -> None:
    import torch

    (result,) = vit.process(images(1), capability="image-embeddings", normalize=False)
    assert isinstance(result, EmbeddingResult)
    pixels = vit.loaded.processor(images=[synthetic_image(seed=0)], return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        hidden = vit.loaded.model(pixel_values=pixels, output_hidden_states=True).hidden_states[-1]
        cls = vit.loaded.model.vit.layernorm(hidden)[0, 0]
    assert np.allclose(result.vector, cls.numpy(), atol=1e-5)  # type: ignore[arg-type]


def test_embedding_batches_come_back_in_input_order(dinov2: VisionEncoderPipeline) -> None:
    items = [MediaInput.image(synthetic_image((32 + 16 * (i % 3), 32), seed=i)) for i in range(5)]
    batched = dinov2.process(items, capability="image-embeddings", batch_size=2)
    for item, b in zip(items, batched, strict=True):
        (s,) = dinov2.process([item], capability="image-embeddings", batch_size=1)
        assert np.allclose(b.vector, s.vector, atol=1e-5)  # type: ignore[attr-defined]


# ---- inputs and lifecycle --------------------------------------------------------------------


@pytest.mark.parametrize("capability", ["image-classification", "image-embeddings"])
def test_text_or_audio_inputs_are_media_errors(vit: VisionEncoderPipeline, capability: str) -> None:
    with pytest.raises(MediaInputError, match="takes image inputs, got text"):
        vit.process(["a sentence"], capability=capability)
    audio = MediaInput.audio(synthetic_audio(0.1), sampling_rate=16000)
    with pytest.raises(MediaInputError, match="takes image inputs, got audio"):
        vit.process([audio], capability=capability)


def test_unload_drops_the_model_and_processing_then_needs_a_load(tiny_vit: Path) -> None:
    pipe = VisionEncoderPipeline().load(str(tiny_vit))
    pipe.process(images(1))
    model_ref = weakref.ref(pipe.loaded.model)
    processor_ref = weakref.ref(pipe.loaded.processor)
    pipe.unload()
    gc.collect()
    assert not pipe.is_loaded
    assert model_ref() is None and processor_ref() is None
    with pytest.raises(PipelineNotLoadedError, match="load"):
        pipe.process(images(1))


# ---- the head table --------------------------------------------------------------------------


def test_choose_head_follows_the_class_a_checkpoint_names() -> None:
    from transformers import CLIPConfig, ViTConfig

    from hfbench.pipelines.heads import choose_head
    from hfbench.pipelines.vision_encoder import VISION_HEADS

    classifier = ViTConfig(architectures=["ViTForImageClassification"])
    assert choose_head(classifier, VISION_HEADS).auto_class == "AutoModelForImageClassification"
    assert (
        choose_head(classifier, VISION_HEADS, "image-embeddings").auto_class
        == "AutoModelForImageClassification"
    )
    masked = ViTConfig(architectures=["ViTForMaskedImageModeling"])  # a class no head loads
    assert choose_head(masked, VISION_HEADS).auto_class == "AutoModel"
    with pytest.raises(UnsupportedCapabilityError, match="it can serve: image-embeddings"):
        choose_head(masked, VISION_HEADS, "image-classification")
    dual = CLIPConfig(architectures=["CLIPModel"])
    assert choose_head(dual, VISION_HEADS).auto_class == "AutoModelForZeroShotImageClassification"


def test_choose_head_without_architectures_adds_no_random_head_unless_asked() -> None:
    from transformers import ViTConfig

    from hfbench.pipelines.heads import choose_head
    from hfbench.pipelines.vision_encoder import VISION_HEADS

    bare = ViTConfig()
    assert not bare.architectures
    assert choose_head(bare, VISION_HEADS).auto_class == "AutoModel"
    asked = choose_head(bare, VISION_HEADS, "image-classification")
    assert asked.auto_class == "AutoModelForImageClassification"


def test_choose_head_refuses_a_model_type_no_head_knows() -> None:
    from transformers import BertConfig

    from hfbench.core.errors import ModelLoadError
    from hfbench.pipelines.heads import choose_head
    from hfbench.pipelines.speech import SPEECH_HEADS

    with pytest.raises(ModelLoadError, match="model_type='bert'"):
        choose_head(BertConfig(), SPEECH_HEADS)
