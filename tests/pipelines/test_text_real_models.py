"""The text pipelines on real embedded models: MiniLM (encoder), SmolLM2-Instruct and Gemma 3 (decoders).

They need the embedded models' PyPI packages and skip with the reason when those are missing.
Conversions go to the normal hfbench cache (the one ``hfbench setup`` fills; or
``$HFBENCH_REAL_MODEL_CACHE``), so they happen once. Generation is greedy and short.
Run with ``-s`` to see the answers and scores.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from hfbench.pipelines import BasePipeline, pipeline_for
from hfbench.pipelines.results import ClassificationResult, EmbeddingResult, TextResult

pytestmark = pytest.mark.real_model

GREEDY = {"temperature": 0.0}
PARAGRAPH = (
    "The history of the city goes back more than two thousand years. It was founded on the "
    "banks of a river, where traders from the north and the south met to exchange goods. Over "
    "the centuries it grew into a busy port, and today it is known for its museums, its old "
    "churches and its markets."
)
SENTIMENT = [
    ("I absolutely loved this movie, it was wonderful!", "positive"),
    ("This was the worst meal I have ever eaten.", "negative"),
    ("What a fantastic day, everything went perfectly.", "positive"),
    ("The service was terrible and the staff were rude.", "negative"),
    ("I am so happy with my new phone, it works great.", "positive"),
    ("The book was boring and I regret buying it.", "negative"),
    ("Our holiday was amazing and the hotel was beautiful.", "positive"),
    ("The product broke after one day, a complete waste of money.", "negative"),
]


def report(label: str, value: object) -> None:
    """Print a measured figure (visible with ``pytest -s``)."""
    print(f"\n[text real models] {label}: {value}")


@pytest.fixture(scope="module")
def real_pipeline() -> Iterator[Callable[[str], BasePipeline]]:
    """``real_pipeline(name)``: the loaded pipeline of ``embedded:<name>``, or skip with the reason."""
    try:
        from hfbench.sources import prepare_model
        from hfbench.sources.embedded import get_embedded_model
        from hfbench.sources.embedded.packages import missing_modules
    except ImportError as exc:  # pragma: no cover - the embedded package is part of hfbench
        pytest.skip(f"hfbench.sources.embedded cannot provide real models here: {exc}")
    pipes: dict[str, BasePipeline] = {}
    with pytest.MonkeyPatch.context() as patch:
        if os.environ.get("HFBENCH_REAL_MODEL_CACHE"):
            patch.setenv("HFBENCH_CACHE", os.environ["HFBENCH_REAL_MODEL_CACHE"])

        def get(name: str) -> BasePipeline:
            if name not in pipes:
                model = get_embedded_model(name)
                missing = missing_modules(model)
                if missing:
                    pytest.skip(f"embedded:{name} needs {', '.join(missing)}; run: {model.install_command}")
                prepare_model(f"embedded:{name}", progress=False)  # a failed conversion fails the test
                pipes[name] = pipeline_for(f"embedded:{name}").load()
            return pipes[name]

        yield get
    for pipe in pipes.values():
        pipe.unload()


def test_minilm_ranks_a_paraphrase_above_an_unrelated_sentence(
    real_pipeline: Callable[[str], BasePipeline],
) -> None:
    pipe = real_pipeline("all-minilm-l6-v2")
    assert type(pipe.loaded.model).__name__ == "BertModel"
    assert pipe.capabilities.names() == ["embeddings"]
    texts = [
        "A man is playing a guitar.",
        "Someone is strumming a guitar.",
        "The stock market fell sharply on Monday.",
    ]
    results = pipe.process(texts, "embeddings")
    vectors = []
    for result in results:
        assert isinstance(result, EmbeddingResult) and result.vector is not None
        assert result.vector.shape == (384,)
        assert result.extra["pooling"] == "mean"  # from the folder's 1_Pooling/config.json
        vectors.append(result.vector)
    paraphrase, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    report("MiniLM cosine paraphrase / unrelated", (round(paraphrase, 3), round(unrelated, 3)))
    assert abs(float(np.linalg.norm(vectors[0])) - 1) < 1e-5
    assert paraphrase > unrelated + 0.3


def test_smollm2_chat_knows_the_capital_of_france(real_pipeline: Callable[[str], BasePipeline]) -> None:
    pipe = real_pipeline("smollm2-135m-instruct")
    question = "What is the capital of France?"
    (result,) = pipe.process([question], "chat", max_tokens=16, **GREEDY)
    assert isinstance(result, TextResult)
    report("SmolLM2 chat", result.text)
    assert "Paris" in result.text
    assert result.input_tokens > len(question.split())  # the chat template's tokens are counted
    assert 0 < result.output_tokens <= 16
    assert "".join(pipe.stream(question, "chat", max_tokens=16, **GREEDY)) == result.text


def test_smollm2_summarizes_by_general_prompting(real_pipeline: Callable[[str], BasePipeline]) -> None:
    pipe = real_pipeline("smollm2-135m-instruct")
    (result,) = pipe.process([PARAGRAPH], "summarization", min_length=5, max_length=48, **GREEDY)
    assert isinstance(result, TextResult)
    report("SmolLM2 summary", result.text)
    assert result.processor == "GeneralProcessor"
    assert 0 < len(result.text) < len(PARAGRAPH)
    words = set(re.findall(r"[a-z]+", result.text.lower()))
    assert words & {"city", "port", "river", "traders", "museums", "history", "markets", "churches"}


def test_smollm2_classifies_sentiment_better_than_chance(
    real_pipeline: Callable[[str], BasePipeline],
) -> None:
    pipe = real_pipeline("smollm2-135m-instruct")
    results = pipe.process([t for t, _ in SENTIMENT], "sentiment", labels=["positive", "negative"])
    correct = 0
    for (_, gold), result in zip(SENTIMENT, results, strict=True):
        assert isinstance(result, ClassificationResult)
        correct += result.label == gold
    report("SmolLM2 sentiment accuracy", f"{correct}/{len(SENTIMENT)}")
    assert correct >= 6


def test_gemma_base_model_continues_a_prompt(real_pipeline: Callable[[str], BasePipeline]) -> None:
    pipe = real_pipeline("gemma-3-270m")
    (result,) = pipe.process(["The capital of France is"], "text-generation", max_tokens=8, **GREEDY)
    assert isinstance(result, TextResult)
    report("Gemma 3 270M continuation", result.text)
    assert result.input_tokens == len(pipe.loaded.tokenizer("The capital of France is")["input_ids"])
    assert 0 < result.output_tokens <= 8
    assert result.text.strip()


def test_gemma_base_model_summary_stops_at_the_answer(real_pipeline: Callable[[str], BasePipeline]) -> None:
    """A base model prompted to summarise stops where it would start the next example."""
    pipe = real_pipeline("gemma-3-270m")
    (result,) = pipe.process([PARAGRAPH], "summarization", max_length=80, **GREEDY)
    assert isinstance(result, TextResult)
    report("gemma summary", result.text)
    assert result.text and "Summarize the following" not in result.text and "Text:" not in result.text
    assert result.extra["finish_reason"] in ("stop", "eos") or result.output_tokens < 80
    assert not result.text.lower().startswith("summary:")  # the cue is not part of the answer


def test_gemma_base_model_translation_stops_at_the_answer(
    real_pipeline: Callable[[str], BasePipeline],
) -> None:
    pipe = real_pipeline("gemma-3-270m")
    (result,) = pipe.process(
        ["Good morning, my friend."], "translation", tgt_lang="fr", max_length=60, **GREEDY
    )
    report("gemma translation", result.text)
    assert "English:" not in result.text and "Translate the following" not in result.text


def test_smollm2_does_not_loop_on_one_line(real_pipeline: Callable[[str], BasePipeline]) -> None:
    """The chat defaults (repetition_penalty 1.1) keep a small model from repeating one line."""
    pipe = real_pipeline("smollm2-135m-instruct")
    (result,) = pipe.process(
        ["Tell me about your ship and the sea."],
        "chat",
        system_prompt="You are a pirate. Always answer like a pirate.",
        max_tokens=160,
        **GREEDY,
    )
    lines = [line.strip() for line in str(result.text).splitlines() if line.strip()]
    report("pirate", result.text[:300])
    assert lines and max(lines.count(line) for line in lines) <= 2
    words = str(result.text).split()
    eight_grams = [" ".join(words[i : i + 8]) for i in range(len(words) - 7)]
    assert all(eight_grams.count(g) <= 2 for g in eight_grams)
