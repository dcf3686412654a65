"""The serving benchmark: measure any OpenAI-compatible endpoint the way vLLM's benchmark does.

Example:
    >>> from hfbench.bench.serving import run_served
    >>> run = run_served("http://127.0.0.1:8000/v1", concurrency=(1, 2, 4, 8),
    ...                  slo="ttft_ms=500,itl_ms=50")                       # doctest: +SKIP
    >>> for record in run.records: print(level_line(record))             # doctest: +SKIP

Units (one concern each): ``slo`` (limits and goodput), ``metrics`` (per-request timings and a
level's figures, with the definitions), ``request`` (one streamed, timed request), ``load`` (a
closed loop of asyncio workers per level), ``prompts`` (seeded Brown Corpus text cut to N
tokens), ``tokens`` (counting with the model's tokenizer), ``output_length`` (a fixed answer
length by the server's means), ``workloads`` (which endpoint, from a suite), ``cell`` (a level's
identity and record), ``runner`` (the driver). Importing it imports neither torch, transformers
nor openai.
"""

from __future__ import annotations

from hfbench.bench.serving.cell import SERVED_KIND, ServedCell, record_kind
from hfbench.bench.serving.metrics import LevelMetrics, RequestTiming, level_metrics
from hfbench.bench.serving.output_length import OUTPUT_LENGTH_METHODS
from hfbench.bench.serving.runner import ServedRun, ServingOptions, level_line, parse_concurrency, run_served
from hfbench.bench.serving.slo import SLO, SLO_METRICS, parse_slo
from hfbench.bench.serving.workloads import ServedWorkload, served_workloads

__all__ = [
    "OUTPUT_LENGTH_METHODS",
    "SERVED_KIND",
    "SLO",
    "SLO_METRICS",
    "LevelMetrics",
    "RequestTiming",
    "ServedCell",
    "ServedRun",
    "ServedWorkload",
    "ServingOptions",
    "level_line",
    "level_metrics",
    "parse_concurrency",
    "parse_slo",
    "record_kind",
    "run_served",
    "served_workloads",
]
