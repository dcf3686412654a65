"""DecoderOnlyPipeline on the tiny Llama (chat template) and GPT-2 (no pad, no template) models."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hfbench.core.errors import (
    ConfigError,
    MediaInputError,
    PipelineNotLoadedError,
    UnsupportedCapabilityError,
)
from hfbench.pipelines import DecoderOnlyPipeline, MediaInput, pipeline_for
from hfbench.pipelines.results import ClassificationResult, EmbeddingResult, TextResult

GREEDY: dict[str, Any] = {"temperature": 0.0, "max_tokens": 10}
PROMPTS = [
    "Hello",
    "The quick brown fox jumps over the lazy dog near the river bank today",
    "A cat sat on the mat",
]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny models run faster on one thread (no intra-op fan-out cost, no oversubscription)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def llama(tiny_model: Callable[[str], Path]) -> DecoderOnlyPipeline:
    pipe = pipeline_for(str(tiny_model("llama"))).load()
    assert isinstance(pipe, DecoderOnlyPipeline)
    return pipe


@pytest.fixture(scope="module")
def gpt2(tiny_model: Callable[[str], Path]) -> DecoderOnlyPipeline:
    pipe = pipeline_for(str(tiny_model("gpt2"))).load()
    assert isinstance(pipe, DecoderOnlyPipeline)
    return pipe


@pytest.fixture(params=["llama", "gpt2"])
def decoder(request: pytest.FixtureRequest) -> DecoderOnlyPipeline:
    pipe: DecoderOnlyPipeline = request.getfixturevalue(request.param)
    return pipe


# ---- loading -------------------------------------------------------------------------------


def test_loader_loads_causal_lm_with_left_padding(llama: DecoderOnlyPipeline) -> None:
    assert type(llama.loaded.model).__name__ == "LlamaForCausalLM"
    assert llama.loaded.tokenizer.padding_side == "left"
    assert llama.loaded.tokenizer.truncation_side == "left"


def test_tokenizer_without_pad_token_pads_with_eos(gpt2: DecoderOnlyPipeline) -> None:
    tokenizer = gpt2.loaded.tokenizer
    assert tokenizer.pad_token is not None
    assert tokenizer.pad_token_id == tokenizer.eos_token_id


def test_capabilities_keep_generation_and_record_chat_template(
    llama: DecoderOnlyPipeline, gpt2: DecoderOnlyPipeline
) -> None:
    for pipe in (llama, gpt2):
        assert {"text-generation", "chat", "general", "summarization", "embeddings"} <= set(
            pipe.capabilities.names()
        )
    assert llama.capabilities.get("chat").evidence["chat_template"] is True
    assert gpt2.capabilities.get("chat").evidence["chat_template"] is False
    assert "text-classification" in llama.supported_capabilities()


# ---- text generation -----------------------------------------------------------------------


def test_text_generation_counts_prompt_and_new_tokens(llama: DecoderOnlyPipeline) -> None:
    tokenizer = llama.loaded.tokenizer
    results = llama.process(PROMPTS, "text-generation", **GREEDY)
    assert [type(r) for r in results] == [TextResult] * len(PROMPTS)
    for prompt, result in zip(PROMPTS, results, strict=True):
        assert result.input_tokens == len(tokenizer(prompt)["input_ids"])  # unpadded
        assert 0 < result.output_tokens <= GREEDY["max_tokens"]
        assert result.processor == "TextGenerationProcessor"
        assert result.extra["finish_reason"] in {"eos", "length"}


def test_generation_matches_a_direct_generate_call(llama: DecoderOnlyPipeline) -> None:
    import torch

    tokenizer, model = llama.loaded.tokenizer, llama.loaded.model
    (result,) = llama.process([PROMPTS[1]], "text-generation", **GREEDY)
    encoded = tokenizer([PROMPTS[1]], return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**encoded, max_new_tokens=10, do_sample=False)
    new = out[0, encoded["input_ids"].shape[1] :]
    assert result.text == tokenizer.decode(new, skip_special_tokens=True)
    assert result.output_tokens == len(new)


def test_batched_left_padded_generation_equals_one_by_one(decoder: DecoderOnlyPipeline) -> None:
    batched = decoder.process(PROMPTS, "text-generation", batch_size=3, **GREEDY)
    single = [decoder.process([p], "text-generation", batch_size=1, **GREEDY)[0] for p in PROMPTS]
    assert [r.text for r in batched] == [r.text for r in single]
    assert [r.output_tokens for r in batched] == [r.output_tokens for r in single]
    assert [r.input_tokens for r in batched] == [r.input_tokens for r in single]
    # length-sorted batches of 2 come back in input order too
    pairs = decoder.process(PROMPTS, "text-generation", batch_size=2, **GREEDY)
    assert [r.text for r in pairs] == [r.text for r in single]


def test_streaming_yields_the_same_text_as_process(decoder: DecoderOnlyPipeline) -> None:
    for capability in ("text-generation", "chat"):
        (result,) = decoder.process([PROMPTS[2]], capability, **GREEDY)
        pieces = list(decoder.stream(PROMPTS[2], capability, **GREEDY))
        assert "".join(pieces) == result.text


def test_stop_sequence_cuts_the_text_when_processing_and_streaming(llama: DecoderOnlyPipeline) -> None:
    config = {**GREEDY, "max_tokens": 16}
    (full,) = llama.process([PROMPTS[0]], "text-generation", **config)
    assert len(full.text) > 6
    stop = full.text[4:6]
    expected = full.text[: full.text.find(stop)]
    (cut,) = llama.process([PROMPTS[0]], "text-generation", stop=stop, **config)
    assert cut.text == expected
    assert cut.extra["finish_reason"] == "stop"
    assert "".join(llama.stream(PROMPTS[0], "text-generation", stop=[stop], **config)) == expected


def test_temperature_zero_is_greedy_and_a_seed_makes_sampling_repeatable(llama: DecoderOnlyPipeline) -> None:
    greedy = [llama.process([PROMPTS[0]], **GREEDY)[0].text for _ in range(2)]
    assert greedy[0] == greedy[1]
    sampled = [
        llama.process([PROMPTS[0]], temperature=1.5, top_k=0, top_p=1.0, seed=7, max_tokens=10)[0].text
        for _ in range(2)
    ]
    assert sampled[0] == sampled[1]


def test_max_tokens_bounds_the_output(gpt2: DecoderOnlyPipeline) -> None:
    (result,) = gpt2.process([PROMPTS[0]], temperature=0.0, max_tokens=3)
    assert result.output_tokens <= 3


def test_beam_search_cannot_stream(llama: DecoderOnlyPipeline) -> None:
    with pytest.raises(ConfigError, match="num_beams"):
        list(llama.stream(PROMPTS[0], num_beams=2, **GREEDY))


# ---- chat ----------------------------------------------------------------------------------


def test_chat_applies_the_chat_template_with_the_system_prompt(llama: DecoderOnlyPipeline) -> None:
    processor = llama._get_capability_processor("chat")
    prompt = processor.render(MediaInput.text("Hi there"), {"system_prompt": "Be brief."})
    assert "<|im_start|>system\nBe brief.<|im_end|>" in prompt.text
    assert prompt.text.endswith("<|im_start|>assistant\n")
    assert prompt.add_special_tokens is False
    (result,) = llama.process(["Hi there"], "chat", system_prompt="Be brief.", **GREEDY)
    tokenizer = llama.loaded.tokenizer
    assert result.input_tokens == len(tokenizer(prompt.text, add_special_tokens=False)["input_ids"])


def test_chat_without_a_template_writes_a_role_transcript(gpt2: DecoderOnlyPipeline) -> None:
    processor = gpt2._get_capability_processor("chat")
    config = processor.prepare_config({"system_prompt": "Be brief."})
    prompt = processor.render(MediaInput.text("Hi"), config)
    assert prompt.text == "System: Be brief.\n\nUser: Hi\nAssistant:"
    assert "\nUser:" in config["stop"]


# ---- general prompting ---------------------------------------------------------------------


def test_general_prompting_serves_capabilities_without_a_processor(llama: DecoderOnlyPipeline) -> None:
    (summary,) = llama.process(
        ["A long text about cats."], "summarization", min_length=2, max_length=6, **GREEDY
    )
    assert isinstance(summary, TextResult)
    assert summary.processor == "GeneralProcessor"
    assert summary.output_tokens <= 6
    processor = llama._get_capability_processor("summarization")
    prompt = processor.render(MediaInput.text("A long text about cats."), {})
    assert "Summarize the following text" in prompt.text and "A long text about cats." in prompt.text
    assert prompt.text.endswith("<|im_start|>assistant\n")  # chat model: instruction as user turn


def test_general_prompting_on_a_base_model_ends_with_the_answer_cue(gpt2: DecoderOnlyPipeline) -> None:
    processor = gpt2._get_capability_processor("question-answering").fallback()
    prompt = processor.render(MediaInput.text("Who left?", context="Bob left early."), {})
    assert "Context: Bob left early." in prompt.text and "Question: Who left?" in prompt.text
    assert prompt.text.endswith("Answer:")
    no_context = processor.render(MediaInput.text("Who left?"), {})
    assert "Context" not in no_context.text


def test_prompted_classification_ranks_the_labels_by_likelihood(llama: DecoderOnlyPipeline) -> None:
    texts = ["great film", "a truly awful film, avoid it"]
    labels = ["positive", "negative", "mixed"]
    results = llama.process(texts, "sentiment", labels=labels, batch_size=2)
    single = [llama.process([t], "sentiment", labels=labels, batch_size=1)[0] for t in texts]
    for result, alone in zip(results, single, strict=True):
        assert isinstance(result, ClassificationResult) and isinstance(alone, ClassificationResult)
        assert result.processor == "GeneralProcessor" and result.extra["method"] == "likelihood"
        assert sorted(s.label for s in result.labels) == sorted(labels)
        assert abs(sum(s.score for s in result.labels) - 1) < 1e-5
        assert result.output_tokens == 0 and result.input_tokens > 0
        assert {s.label: round(s.score, 4) for s in result.labels} == {
            s.label: round(s.score, 4) for s in alone.labels
        }
    (top,) = llama.process([texts[0]], "sentiment", labels=labels, top_labels=1)
    assert isinstance(top, ClassificationResult) and len(top.labels) == 1
    with pytest.raises(ConfigError, match="labels"):
        llama.process(["great film"], "text-classification", **GREEDY)


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_label_likelihood_is_the_probability_of_the_label_tokens(
    request: pytest.FixtureRequest, kind: str
) -> None:
    import torch

    pipe: DecoderOnlyPipeline = request.getfixturevalue(kind)
    processor = pipe._get_capability_processor("text-classification").fallback()
    config = {"labels": ["yes", "motor sports"]}
    prompt = processor.render(MediaInput.text("ok"), config)
    scores, n_prompt = processor._causal_logprobs(prompt, ["yes", "motor sports"])
    tokenizer, model = pipe.loaded.tokenizer, pipe.loaded.model
    special = prompt.add_special_tokens
    prompt_ids = tokenizer(prompt.text, add_special_tokens=special)["input_ids"]
    assert n_prompt == len(prompt_ids)
    sep = "" if prompt.text.endswith("\n") else " "
    for label, score in zip(["yes", "motor sports"], scores, strict=True):
        full = tokenizer(prompt.text + sep + label, add_special_tokens=special)["input_ids"]
        assert full[: len(prompt_ids)] == prompt_ids
        with torch.inference_mode():
            logits = model(torch.tensor([full])).logits[0].log_softmax(-1)
        expected = sum(float(logits[i - 1, full[i]]) for i in range(len(prompt_ids), len(full)))
        assert abs(score - expected) < 1e-4


def test_multi_label_prompted_zero_shot_scores_every_label(gpt2: DecoderOnlyPipeline) -> None:
    (result,) = gpt2.process(["a text"], "zero-shot", labels=["a", "b", "c"], multi_label=True, **GREEDY)
    assert isinstance(result, ClassificationResult)
    assert sorted(s.label for s in result.labels) == ["a", "b", "c"]
    assert all(0.0 <= s.score <= 1.0 for s in result.labels)
    assert result.extra["method"] == "likelihood per label (yes/no)"
    assert set(result.extra["applies"]) <= {"a", "b", "c"}
    assert result.input_tokens > 0 and result.output_tokens == 0


def test_prompt_template_overrides_the_instruction(gpt2: DecoderOnlyPipeline) -> None:
    processor = gpt2._get_capability_processor("general")
    prompt = processor.render(MediaInput.text("cats"), {"prompt_template": "Write about {text}."})
    assert prompt.text == "Write about cats."
    with pytest.raises(ConfigError, match="prompt_template"):
        gpt2.process(["cats"], "general", prompt_template="no placeholder")


def test_every_capability_of_a_decoder_runs(llama: DecoderOnlyPipeline) -> None:
    from hfbench.pipelines.results import ProcessResult

    item = MediaInput.text("Is this good?", context="It was very good.")
    extra = {"labels": ["yes", "no"], "src_lang": "en", "tgt_lang": "de", "min_length": 1, "max_length": 4}
    for capability in llama.capabilities.names():
        (result,) = llama.process([item], capability, **{**GREEDY, "max_tokens": 4}, **extra)
        assert isinstance(result, ProcessResult), capability
        assert result.capability == capability and result.input_tokens > 0
        assert result.output_tokens <= 4


def test_a_registered_custom_capability_runs_as_its_description(tiny_model: Callable[[str], Path]) -> None:
    from hfbench.core.capability import register_capability, unregister_capability

    register_capability(
        "code-review",
        description="Review the code and list its bugs.",
        inherits="text-generation",
        architectures={"decoder_only": 0.5},
    )
    try:
        pipe = pipeline_for(str(tiny_model("gpt2"))).load()
        assert "code-review" in pipe.supported_capabilities()
        processor = pipe._get_capability_processor("code-review")
        prompt = processor.render(MediaInput.text("x = 1 / 0"), {})
        assert prompt.text == "Review the code and list its bugs.\n\nx = 1 / 0\n\nAnswer:"
        (result,) = pipe.process(["x = 1 / 0"], "code-review", **GREEDY)
        assert isinstance(result, TextResult) and result.processor == "GeneralProcessor"
        assert result.extra["template"] == "default"
    finally:
        unregister_capability("code-review")


def test_beam_search_and_repetition_penalty_reach_generate(llama: DecoderOnlyPipeline) -> None:
    beams = [llama.process([PROMPTS[1]], num_beams=3, repetition_penalty=1.3, **GREEDY)[0] for _ in range(2)]
    assert beams[0].text == beams[1].text
    assert 0 < beams[0].output_tokens <= GREEDY["max_tokens"]


# ---- embeddings ----------------------------------------------------------------------------


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_decoder_embeddings_do_not_depend_on_left_padding(llama: DecoderOnlyPipeline, pooling: str) -> None:
    import numpy as np

    batched = llama.process(PROMPTS, "embeddings", pooling=pooling)
    single = [llama.process([p], "embeddings", pooling=pooling)[0] for p in PROMPTS]
    hidden = llama.loaded.hf_config.hidden_size
    for b, s in zip(batched, single, strict=True):
        assert isinstance(b, EmbeddingResult) and b.vector is not None and s.vector is not None
        assert b.vector.shape == (hidden,)
        assert np.allclose(b.vector, s.vector, atol=1e-5)
        assert abs(float(np.linalg.norm(b.vector)) - 1.0) < 1e-5
        assert b.input_tokens == s.input_tokens


# ---- a decoder checkpoint with a classification head ---------------------------------------


@pytest.fixture(scope="module")
def llama_classifier(tiny_model: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import AutoConfig, AutoTokenizer, LlamaForSequenceClassification

    source = tiny_model("llama")
    config = AutoConfig.from_pretrained(source, num_labels=2, id2label={0: "bad", 1: "good"})
    config.label2id = {"bad": 0, "good": 1}
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("llama-classifier")
    LlamaForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


def test_decoder_classifier_checkpoint_serves_classification_by_its_head(llama_classifier: Path) -> None:
    pipe = pipeline_for(str(llama_classifier)).load()
    assert type(pipe.loaded.model).__name__ == "LlamaForSequenceClassification"
    assert "text-generation" not in pipe.capabilities
    assert pipe.capabilities.get("text-classification").evidence["head"] == "LlamaForSequenceClassification"
    results = pipe.process(PROMPTS, "text-classification")
    for result in results:
        assert isinstance(result, ClassificationResult)
        assert {s.label for s in result.labels} == {"bad", "good"}
        assert abs(sum(s.score for s in result.labels) - 1.0) < 1e-5
    single = pipe.process([PROMPTS[1]], "text-classification")[0]
    assert abs(single.score - results[1].score) < 1e-5
    with pytest.raises(UnsupportedCapabilityError, match="no causal-lm head"):
        pipe.process(["hi"], "text-generation")


# ---- lifecycle and errors ------------------------------------------------------------------


def test_process_before_load_raises(tiny_model: Callable[[str], Path]) -> None:
    pipe = pipeline_for(str(tiny_model("gpt2")))
    with pytest.raises(PipelineNotLoadedError, match="load"):
        pipe.process(["hi"])
    with pytest.raises(PipelineNotLoadedError):
        list(pipe.stream("hi"))


def test_capability_typo_suggests_the_right_name(gpt2: DecoderOnlyPipeline) -> None:
    with pytest.raises(UnsupportedCapabilityError, match="Did you mean 'text-generation'"):
        gpt2.process(["hi"], "text-generaton")


def test_an_image_input_is_refused(gpt2: DecoderOnlyPipeline) -> None:
    from PIL import Image

    with pytest.raises(MediaInputError, match="text"):
        gpt2.process([Image.new("RGB", (8, 8))], "text-generation")


def test_unload_drops_the_model(tiny_model: Callable[[str], Path]) -> None:
    pipe = pipeline_for(str(tiny_model("gpt2"))).load()
    pipe.process(["hi"], max_tokens=2, temperature=0.0)
    list(pipe.stream("hi", max_tokens=2, temperature=0.0))
    ref = weakref.ref(pipe.loaded.model)
    pipe.unload()
    gc.collect()
    assert ref() is None
    assert not pipe.is_loaded
    with pytest.raises(PipelineNotLoadedError):
        pipe.process(["hi"])
