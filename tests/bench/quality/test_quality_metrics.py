"""Each metric against examples that can be checked by hand; corpus metrics are corpus-level."""

from __future__ import annotations

import math

import pytest

from hfbench.bench.quality import get_metric, metric_names
from hfbench.bench.quality.normalizer import english_normalizer
from hfbench.core.errors import ConfigError

SENTENCE = "the cat sat on the mat near the door"


def value(name: str, predictions: list, references: list) -> float:
    return get_metric(name).value(predictions, references)


@pytest.mark.parametrize(
    ("name", "perfect"),
    [
        ("rouge-l", 1.0),
        ("chrf", 100.0),
        ("bleu", 100.0),
        ("squad-exact-match", 100.0),
        ("squad-f1", 100.0),
        ("wer", 0.0),
        ("accuracy", 1.0),
        ("macro-f1", 1.0),
    ],
)
def test_identical_predictions_score_perfectly(name: str, perfect: float) -> None:
    texts = [SENTENCE, "a second sentence that is long enough"]
    assert value(name, texts, texts) == pytest.approx(perfect)


def test_accuracy_and_macro_f1_by_hand() -> None:
    refs = ["pos", "pos", "neg", "neg"]
    preds = ["pos", "neg", "neg", "neg"]
    assert value("accuracy", preds, refs) == 0.75
    # pos: P=1, R=1/2, F1=2/3; neg: P=2/3, R=1, F1=4/5; mean = 11/15
    assert value("macro-f1", preds, refs) == pytest.approx(11 / 15)


def test_wer_normalises_then_counts_edits_over_the_whole_corpus() -> None:
    assert value("wer", ["Hello, World!"], ["hello world"]) == 0.0
    assert value("wer", ["please press the pound key"], ["please press the hash key"]) == 0.2
    # corpus WER is all edits / all reference words (1/5), not the mean of item WERs (0.5)
    assert value("wer", ["a b c d", "x"], ["a b c d", "e"]) == pytest.approx(0.2)


def test_whisper_normaliser_uses_its_spelling_map() -> None:
    normalise = english_normalizer()
    assert normalise("Mr. Smith likes the colour grey.") == "mister smith likes the color gray"
    assert normalise("Press two.") == "press 2"


def test_squad_scores_follow_the_official_normalisation() -> None:
    assert value("squad-exact-match", ["the Broncos."], [["Broncos"]]) == 100.0
    # "Denver" vs "Denver Broncos": P=1, R=1/2, F1=2/3
    assert value("squad-f1", ["Denver"], [["Denver Broncos"]]) == pytest.approx(200 / 3)
    assert value("squad-exact-match", ["4"], [["four", "4"]]) == 100.0
    assert value("squad-exact-match", ["Paris", "Rome"], [["Paris"], ["Madrid"]]) == 50.0


def test_rouge_l_is_the_lcs_f_measure() -> None:
    # LCS("the cat sat", "the cat ran") = 2 tokens; P = R = 2/3
    assert value("rouge-l", ["the cat sat"], ["the cat ran"]) == pytest.approx(2 / 3)


def test_bleu_and_chrf_are_corpus_metrics_not_item_means() -> None:
    preds = [SENTENCE, "completely different words here now"]
    refs = [SENTENCE, "a second sentence that is long enough"]
    bleu = value("bleu", preds, refs)
    item_mean = (value("bleu", preds[:1], refs[:1]) + value("bleu", preds[1:], refs[1:])) / 2
    assert 0 < bleu < 100 and bleu != pytest.approx(item_mean)
    assert 0 < value("chrf", preds, refs) < 100


def test_spearman_ranks_predictions_against_human_scores() -> None:
    human = [0.1, 0.4, 0.2, 0.9]
    assert value("spearman", [1, 3, 2, 4], human) == pytest.approx(1.0)
    assert value("spearman", [4, 2, 3, 1], human) == pytest.approx(-1.0)
    assert value("spearman", [0.5, 0.5, 0.5, 0.5], human) == 0.0  # undefined -> 0


def test_perplexity_is_exp_of_the_mean_token_nll() -> None:
    predictions = [{"nll": 3 * math.log(10), "tokens": 3}, {"nll": 7 * math.log(10), "tokens": 7}]
    assert value("perplexity", predictions, [None, None]) == pytest.approx(10.0)


def test_metrics_know_their_direction() -> None:
    lower = {name for name in metric_names() if not get_metric(name).higher_is_better}
    assert lower == {"wer", "perplexity"}
    assert get_metric("top-1-accuracy") is get_metric("accuracy")


def test_an_unknown_metric_gets_a_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'rouge-l'"):
        get_metric("rouge-k")


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="as many predictions as references"):
        value("accuracy", ["a"], ["a", "b"])
