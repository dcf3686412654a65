"""The embeddings runners' inputs: seeded random sentences of real English from the Brown Corpus.

Passages of the Brown Corpus (``quality`` eval set ``brown-passages``: edited American English,
all 15 genres), drawn in a seeded order; each is cut, at its start, to a seeded length of 5 to 60
words — the range of sentences people embed. The same seed gives the same texts; the sample says
which passages it came from and the package they were read from.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

#: The eval set the sentences are drawn from.
SENTENCE_SOURCE = "brown-passages"
#: The shortest and longest text, in words.
MIN_WORDS, MAX_WORDS = 5, 60


@dataclass(frozen=True)
class SentenceSample:
    """Texts for one comparison, with where they came from.

    Attributes:
        texts: the texts, in order.
        ids: the passage each text was cut from.
        seed: the draw's seed.
        provenance: the eval set's provenance (package, version, licence …).
    """

    texts: list[str]
    ids: list[str]
    seed: int
    provenance: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        """For the comparison's settings: the source, count, seed and package (not the texts)."""
        return {
            "source": SENTENCE_SOURCE,
            "count": len(self.texts),
            "seed": self.seed,
            "words": f"{MIN_WORDS}-{MAX_WORDS}",
            "package": self.provenance.get("package"),
            "version": self.provenance.get("version"),
        }


def sample_sentences(n: int, seed: int = 0) -> SentenceSample:
    """``n`` texts of 5–60 words from seeded Brown Corpus passages (see the module's docstring).

    Raises:
        BenchmarkError: the corpus could not be read (the message says what to run), or it holds
            fewer than ``n`` passages long enough.
    """
    from hfbench.bench.quality import build_eval_set
    from hfbench.core.errors import BenchmarkError

    eval_set = build_eval_set(SENTENCE_SOURCE, None, seed)  # every passage, in a seeded order (cached)
    rng = random.Random(seed)
    texts: list[str] = []
    ids: list[str] = []
    for item in eval_set.items:
        if len(texts) == n:
            break
        words = str(item.inputs["text"]).split()
        if len(words) < MIN_WORDS:
            continue
        texts.append(" ".join(words[: rng.randint(MIN_WORDS, min(MAX_WORDS, len(words)))]))
        ids.append(item.id)
    if len(texts) < n:
        raise BenchmarkError(
            f"The Brown Corpus gave {len(texts)} passages of at least {MIN_WORDS} words; "
            "ask for fewer sentences."
        )
    return SentenceSample(texts, ids, seed, asdict(eval_set.provenance))
