"""Per-capability processor throughput on the tiny zoo: one batch through ``pipeline.process``.

What hfbench's own code adds per call (batching, tokenizing, pooling, decoding) on models small
enough that the model itself costs little. The JSON output loads into the harness's table:

    pytest benchmarks/test_processor_throughput.py --benchmark-only --benchmark-json results/processors.json
    python -c "import hfbench as hb; print(hb.bench.load_results('results/'))"
"""

from __future__ import annotations

from typing import Any

import pytest

from hfbench.testing import synthetic_audio, synthetic_image, tiny_model_path

ROUNDS: dict[str, int] = {"rounds": 20, "warmup_rounds": 3, "iterations": 1}
BATCH = 8

# capability -> (zoo kind, inputs of one batch, per-call config)
CASES: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "embeddings": ("bert", [f"sentence number {i} about the weather" for i in range(BATCH)], {}),
    "text-classification": ("bert-classifier", [f"review {i}: it was fine" for i in range(BATCH)], {}),
    "text-generation": ("llama", ["Once upon a time"] * BATCH, {"max_tokens": 8, "temperature": 0.0}),
    "image-classification": ("vit", None, {}),
    "speech-recognition": ("whisper", None, {"max_tokens": 8}),
}


def _inputs(capability: str, given: Any) -> Any:
    from hfbench.pipelines import MediaInput

    if capability == "image-classification":
        return [MediaInput.image(synthetic_image(seed=i)) for i in range(BATCH)]
    if capability == "speech-recognition":
        clips = [synthetic_audio(seconds=1.0, seed=i) for i in range(BATCH)]
        return [MediaInput.audio(clip, sampling_rate=16000) for clip in clips]
    return given


@pytest.mark.parametrize("capability", sorted(CASES))
def test_processor_batch(benchmark: Any, capability: str) -> None:
    import hfbench

    kind, given, config = CASES[capability]
    pipe = hfbench.pipeline_for(str(tiny_model_path(kind))).load(progress=False)
    inputs = _inputs(capability, given)
    benchmark.group = "processor throughput"
    benchmark.extra_info.update(capability=capability, model=f"tiny-zoo/{kind}", batch=BATCH)
    results = benchmark.pedantic(pipe.process, args=(inputs, capability), kwargs=config, **ROUNDS)
    assert len(results) == BATCH
