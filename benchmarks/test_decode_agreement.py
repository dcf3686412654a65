"""hfbench's decode tokens/s agrees with a plain ``model.generate`` timing of the same settings.

Both in one run, on one loaded model (the embedded SmolLM2 by default; ``HFBENCH_BENCH_MODEL``
names another), greedy, a fixed number of new tokens (end-of-sequence ignored), the same prompt:

- hfbench: the harness's path — ``pipeline.run`` inside ``record_timings()``, decode tokens/s =
  tokens after the first / (end - first token), median over calls;
- plain: ``model.generate`` timed whole, with the prefill timed separately by a one-token
  ``generate`` (optimum-benchmark's method): (tokens - 1) / (whole - prefill), median over calls.

The ratio is reported (``extra_info``) and must lie within 10 %:

    pytest benchmarks/test_decode_agreement.py --benchmark-only -s
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import pytest

MODEL = os.environ.get("HFBENCH_BENCH_MODEL", "embedded:smollm2-135m-instruct")
PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
NEW_TOKENS = 32
CALLS = 7


@pytest.fixture(scope="module")
def pipe() -> Any:
    import hfbench

    return hfbench.pipeline_for(MODEL).load(progress=False)


def _hfbench_decode(pipe: Any) -> list[float]:
    from hfbench.pipelines.timing import record_timings

    merged = pipe.config.get_merged_config(
        "text-generation", {"max_tokens": NEW_TOKENS, "ignore_eos": True, "temperature": 0.0}
    )
    items = [hfbench_input()]
    pipe.run(items, "text-generation", merged)  # warm-up
    rates = []
    for _ in range(CALLS):
        with record_timings() as recorder:
            pipe.run(items, "text-generation", merged)
        rates.append(recorder.calls[0].decode_tokens_per_s)
    return rates


def hfbench_input() -> Any:
    from hfbench.pipelines import MediaInput

    return MediaInput.text(PROMPT)


def _plain_decode(pipe: Any) -> list[float]:
    import torch

    loaded = pipe.loaded
    inputs = loaded.tokenizer(PROMPT, return_tensors="pt")
    common = {"do_sample": False, "pad_token_id": loaded.tokenizer.eos_token_id}

    def generate(tokens: int) -> float:
        start = time.perf_counter()
        with torch.inference_mode():
            loaded.model.generate(**inputs, max_new_tokens=tokens, min_new_tokens=tokens, **common)
        return time.perf_counter() - start

    generate(NEW_TOKENS)  # warm-up
    rates = []
    for _ in range(CALLS):
        prefill = generate(1)
        whole = generate(NEW_TOKENS)
        rates.append((NEW_TOKENS - 1) / (whole - prefill))
    return rates


def test_decode_tokens_per_s_agree_with_plain_generate(benchmark: Any, pipe: Any) -> None:
    def both() -> tuple[float, float]:
        return statistics.median(_hfbench_decode(pipe)), statistics.median(_plain_decode(pipe))

    ours, plain = benchmark.pedantic(both, rounds=1, iterations=1)
    ratio = ours / plain
    benchmark.extra_info.update(
        model=MODEL, hfbench_decode_tokens_per_s=ours, plain_decode_tokens_per_s=plain, ratio=ratio
    )
    print(f"\ndecode tokens/s: hfbench {ours:.2f}, plain generate {plain:.2f}, ratio {ratio:.3f}")
    assert 0.9 <= ratio <= 1.1
