"""``compare_speed``: hfbench's ``optimize`` levels against the libraries people would use instead.

One run, one model, the same inputs, one runner after the other (each loads its own copy and
frees it): every figure is a median over ``repeats`` timed calls after one warm-up call that is
not counted (``trackers.latency.measure_latency``), and every ratio is to the baseline measured
in the same run — figures from different runs or machines are not compared.

Two kinds, by architecture:

- ``generation`` (decoder-only): decode tokens/s, optimum-benchmark's definition (tokens after
  the first / time from the first token to the end), greedy, a forced length
  (``min_new_tokens = max_new_tokens``), per-token times from the pipelines' timing seam. Runners:
  raw ``model.generate`` in fp32 (the baseline), hfbench ``exact`` and ``fast``,
  ``transformers.pipeline("text-generation")``, and llama.cpp on the embedded GGUF when
  ``llama-cpp-python`` is installed. Each row says whether its greedy text equals the baseline's.
- ``embeddings`` (encoder-only): sentences/s on a fixed, seeded set of sentences. Runners:
  sentence-transformers ``encode`` (the baseline), hfbench ``exact`` and ``fast``. Each row
  carries the cosine similarity of its vectors to the baseline's fp32 vectors (mean and minimum).

Runners are registered per kind with ``@register_runner``; a runner whose package is missing is a
``skipped`` row that says what to install, and one that fails is a ``failed`` row (the baseline
failing ends the comparison). Whisper and encoder-decoders are not compared yet.
"""

from hfbench.bench.compare_speed.core import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_REPEATS,
    DEFAULT_SENTENCES,
    Runner,
    SkipRunner,
    SpeedComparison,
    SpeedRow,
    Timed,
    Workload,
    compare_speed,
    register_runner,
    runners,
)
from hfbench.bench.compare_speed.sentences import SentenceSample, sample_sentences

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_NEW_TOKENS",
    "DEFAULT_REPEATS",
    "DEFAULT_SENTENCES",
    "Runner",
    "SentenceSample",
    "SkipRunner",
    "SpeedComparison",
    "SpeedRow",
    "Timed",
    "Workload",
    "compare_speed",
    "register_runner",
    "runners",
    "sample_sentences",
]
