"""Quality metrics, registered by name, each computed by an established library.

Every metric knows its direction, its range, the library that computes it, and how to compute
its *corpus-level* value from per-item predictions and references. Corpus metrics (BLEU, chrF,
WER, macro-F1, Spearman, perplexity) are recomputed from the items on every bootstrap resample;
metrics that are by definition the mean of per-item scores (ROUGE-L, SQuAD exact match/F1)
declare ``mean_of_items`` so the resampling can average their item scores (the same number,
faster). Libraries are imported when a metric is computed, not when this module is.

===================  ============================================  ==========  =========
name                 library                                       direction   range
===================  ============================================  ==========  =========
accuracy             scikit-learn ``accuracy_score``               higher      0-1
macro-f1             scikit-learn ``f1_score(average="macro")``     higher      0-1
rouge-l              rouge-score (``rougeL`` F-measure, stemmer)   higher      0-1
chrf                 sacrebleu ``corpus_chrf``                     higher      0-100
bleu                 sacrebleu ``corpus_bleu``                     higher      0-100
squad-exact-match    torchmetrics ``squad``                        higher      0-100
squad-f1             torchmetrics ``squad``                        higher      0-100
spearman             scipy ``spearmanr``                           higher      -1-1
wer                  jiwer ``wer`` after Whisper's normaliser      lower       0-inf
perplexity           exp(sum NLL / tokens) of the model's own      lower       1-inf
                     log-likelihoods (``likelihood.passage_nll``)
===================  ============================================  ==========  =========
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np

from hfbench.core.errors import ConfigError, did_you_mean


class Metric:
    """One quality metric. Subclasses set the class attributes and ``corpus`` (or ``item_scores``).

    Attributes:
        name: the registered name.
        aliases: other accepted names.
        library: what computes it.
        higher_is_better: the direction.
        value_range: ``(lowest, highest)``; None for an unbounded end.
        mean_of_items: the corpus value is the mean of ``item_scores`` (resampling may average them).
        confidence_worst, confidence_best: the values that map to confidence 0 and 1 (see
            ``confidence.confidence_from_metric``); ``confidence_log`` maps on a log scale.
    """

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    library: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    value_range: ClassVar[tuple[float | None, float | None]] = (0.0, 1.0)
    mean_of_items: ClassVar[bool] = False
    confidence_worst: ClassVar[float] = 0.0
    confidence_best: ClassVar[float] = 1.0
    confidence_log: ClassVar[bool] = False

    def prepare(self, predictions: Sequence[Any], references: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        """Per-item preparation done once before scoring and resampling (default: none)."""
        return list(predictions), list(references)

    def item_scores(self, predictions: Sequence[Any], references: Sequence[Any]) -> np.ndarray:
        """Per-item scores of prepared items (only for ``mean_of_items`` metrics)."""
        raise NotImplementedError(f"{self.name} is a corpus metric; it has no per-item scores.")

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        """The corpus-level value of prepared items (default: the mean of ``item_scores``)."""
        return float(np.mean(self.item_scores(predictions, references)))

    def value(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        """The metric over raw predictions and references (``prepare`` then ``corpus``).

        Raises:
            ValueError: different numbers of predictions and references, or none.
        """
        if len(predictions) != len(references) or not predictions:
            raise ValueError(
                f"{self.name} needs as many predictions as references (and at least one), got "
                f"{len(predictions)} and {len(references)}."
            )
        return self.corpus(*self.prepare(predictions, references))

    def __repr__(self) -> str:
        direction = "higher" if self.higher_is_better else "lower"
        return f"<metric {self.name} ({self.library}, {direction} is better)>"


_METRICS: dict[str, Metric] = {}
_ALIASES: dict[str, str] = {}
M = TypeVar("M", bound=type[Metric])


def register_metric(cls: M) -> M:
    """Class decorator: register a ``Metric`` subclass under its ``name`` and ``aliases``."""
    instance = cls()
    _METRICS[cls.name] = instance
    for alias in cls.aliases:
        _ALIASES[alias] = cls.name
    return cls


def metric_names(*, aliases: bool = False) -> list[str]:
    """Registered metric names, sorted (with their aliases when ``aliases``)."""
    return sorted([*_METRICS, *_ALIASES]) if aliases else sorted(_METRICS)


def get_metric(name: str | Metric) -> Metric:
    """The registered metric called ``name`` (or one of its aliases).

    Raises:
        ConfigError: an unknown name, with a did-you-mean and the valid names.
    """
    if isinstance(name, Metric):
        return name
    key = _ALIASES.get(name, name)
    if key not in _METRICS:
        known = [*_METRICS, *_ALIASES]
        raise ConfigError(
            f"unknown metric {name!r}; known: {', '.join(metric_names())}." + did_you_mean(name, known),
            key_path="metric",
        )
    return _METRICS[key]


# ---- classification ----------------------------------------------------------------------------
@register_metric
class Accuracy(Metric):
    """Share of items whose predicted label is the reference (top-1 accuracy for images)."""

    name = "accuracy"
    aliases = ("top-1-accuracy", "top1-accuracy", "acc")
    library = "scikit-learn accuracy_score"

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(list(references), list(predictions)))


@register_metric
class MacroF1(Metric):
    """F1 per label, averaged with equal weight per label (labels absent from both sides skipped)."""

    name = "macro-f1"
    aliases = ("f1-macro", "macro_f1")
    library = "scikit-learn f1_score(average='macro', zero_division=0)"

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        from sklearn.metrics import f1_score

        return float(f1_score(list(references), list(predictions), average="macro", zero_division=0))


# ---- generated text ----------------------------------------------------------------------------
@register_metric
class RougeL(Metric):
    """ROUGE-L F-measure (longest common subsequence), Porter stemmer on, mean over items."""

    name = "rouge-l"
    aliases = ("rougeL", "rouge_l")
    library = "rouge-score RougeScorer(['rougeL'], use_stemmer=True)"
    mean_of_items = True
    confidence_best = 0.5

    def item_scores(self, predictions: Sequence[Any], references: Sequence[Any]) -> np.ndarray:
        from rouge_score import rouge_scorer

        scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
        return np.array(
            [
                scorer.score(str(ref), str(pred))["rougeL"].fmeasure
                for pred, ref in zip(predictions, references, strict=True)
            ]
        )


@register_metric
class ChrF(Metric):
    """Character n-gram F-score (chrF, β = 2) over the corpus, sacrebleu defaults."""

    name = "chrf"
    aliases = ("chrF", "chr-f")
    library = "sacrebleu corpus_chrf"
    value_range = (0.0, 100.0)
    confidence_best = 70.0

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        import sacrebleu

        return float(
            sacrebleu.corpus_chrf([str(p) for p in predictions], [[str(r) for r in references]]).score
        )


@register_metric
class Bleu(Metric):
    """Corpus BLEU (4-gram, brevity penalty, 13a tokenisation), sacrebleu defaults."""

    name = "bleu"
    aliases = ("sacrebleu",)
    library = "sacrebleu corpus_bleu"
    value_range = (0.0, 100.0)
    confidence_best = 50.0

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        import sacrebleu

        return float(
            sacrebleu.corpus_bleu([str(p) for p in predictions], [[str(r) for r in references]]).score
        )


def _answers(reference: Any) -> list[str]:
    """A reference as a list of acceptable answers."""
    return [str(a) for a in reference] if isinstance(reference, (list, tuple)) else [str(reference)]


class _Squad(Metric):
    """SQuAD v1.1 scoring (the official normalisation), best over the acceptable answers."""

    library = "torchmetrics.functional.text.squad"
    value_range = (0.0, 100.0)
    mean_of_items = True
    confidence_best = 100.0
    key: ClassVar[str] = ""

    def item_scores(self, predictions: Sequence[Any], references: Sequence[Any]) -> np.ndarray:
        from torchmetrics.functional.text import squad

        scores = []
        for pred, ref in zip(predictions, references, strict=True):
            answers = _answers(ref)
            result = squad(
                preds=[{"prediction_text": str(pred), "id": "0"}],
                target=[{"answers": {"text": answers, "answer_start": [0] * len(answers)}, "id": "0"}],
            )
            scores.append(float(result[self.key]))
        return np.array(scores)


@register_metric
class SquadExactMatch(_Squad):
    """SQuAD exact match: 100 when the normalised answer equals a normalised reference answer."""

    name = "squad-exact-match"
    aliases = ("exact-match", "exact_match", "em")
    key = "exact_match"


@register_metric
class SquadF1(_Squad):
    """SQuAD token F1 between the normalised answer and the best reference answer."""

    name = "squad-f1"
    aliases = ("squad_f1", "qa-f1")
    key = "f1"


# ---- similarity --------------------------------------------------------------------------------
@register_metric
class Spearman(Metric):
    """Spearman rank correlation between predicted and human scores (0 when undefined: constant input)."""

    name = "spearman"
    aliases = ("spearmanr", "spearman-rho")
    library = "scipy.stats.spearmanr"
    value_range = (-1.0, 1.0)

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        import warnings

        from scipy.stats import spearmanr

        if len(predictions) < 2:
            return 0.0
        with warnings.catch_warnings():  # constant input: rho is undefined, reported as 0 below
            warnings.simplefilter("ignore")
            rho = float(
                spearmanr(np.asarray(predictions, dtype=float), np.asarray(references, dtype=float))[0]
            )
        return 0.0 if math.isnan(rho) else rho


# ---- speech ------------------------------------------------------------------------------------
@register_metric
class WordErrorRate(Metric):
    """Corpus word error rate (all edits / all reference words) after Whisper's English normaliser."""

    name = "wer"
    aliases = ("word-error-rate",)
    library = "jiwer wer, after transformers' Whisper EnglishTextNormalizer (openai-whisper english.json)"
    higher_is_better = False
    value_range = (0.0, None)
    confidence_worst = 1.0
    confidence_best = 0.0

    def prepare(self, predictions: Sequence[Any], references: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        """Normalise both sides once (numbers, spelling, punctuation, case)."""
        from hfbench.bench.quality.normalizer import english_normalizer

        normalise = english_normalizer()
        return [normalise(str(p)) for p in predictions], [normalise(str(r)) for r in references]

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        import jiwer

        return float(jiwer.wer(list(references), list(predictions)))


# ---- language modelling ------------------------------------------------------------------------
@register_metric
class Perplexity(Metric):
    """exp(total negative log-likelihood / total scored tokens); a prediction is ``{"nll", "tokens"}``."""

    name = "perplexity"
    aliases = ("ppl",)
    library = "the model's own token log-likelihoods (hfbench.bench.quality.likelihood)"
    higher_is_better = False
    value_range = (1.0, None)
    confidence_worst = 1000.0
    confidence_best = 1.0
    confidence_log = True

    def corpus(self, predictions: Sequence[Any], references: Sequence[Any]) -> float:
        nll = sum(float(p["nll"]) for p in predictions)
        tokens = sum(int(p["tokens"]) for p in predictions)
        return math.exp(nll / tokens) if tokens else math.inf
