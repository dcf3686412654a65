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
- ``speech`` (Whisper): seconds of audio per second on seeded English clips (the harness's
  ``asterisk-en`` eval set at 16 kHz), greedy. Runners: raw ``model.generate`` fp32 one clip at a
  time (the baseline), ``transformers.pipeline("automatic-speech-recognition")``, hfbench
  ``exact`` and ``fast``, and faster-whisper float32 and int8 on the embedded CTranslate2 files
  when ``faster-whisper`` is installed. Each row carries its word error rate against the clips'
  transcripts and whether its transcripts equal the baseline's.

Runners are registered per kind with ``@register_runner``; a runner whose package is missing is a
``skipped`` row that says what to install, and one that fails is a ``failed`` row (the baseline
failing ends the comparison). Encoder-decoder text models are not compared yet.
"""

from hfbench.bench.compare_speed.core import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CLIPS,
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
from hfbench.bench.compare_speed.speech_clips import ClipSample, sample_clips

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CLIPS",
    "DEFAULT_MAX_NEW_TOKENS",
    "DEFAULT_REPEATS",
    "DEFAULT_SENTENCES",
    "ClipSample",
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
    "sample_clips",
    "sample_sentences",
]
