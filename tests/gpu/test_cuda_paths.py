"""CUDA paths, on a machine with a GPU (skipped elsewhere): placement, bf16, CUDA memory peaks,
out-of-memory as data, the timing seam's synchronisation, the bandwidth ceiling, optional backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.gpu


def test_system_info_sees_the_gpu() -> None:
    from hfbench.core.hardware import system_info

    info = system_info(refresh=True)
    assert info.accelerator == "cuda" and info.cuda_devices
    gpu = info.cuda_devices[0]
    assert gpu.total_memory_gb > 1 and gpu.compute_capability
    assert info.model_memory_gb <= info.gpu_total_memory_gb
    print(
        f"\n{gpu.name}: {gpu.total_memory_gb:.1f} GiB, sm {gpu.compute_capability}, bf16 {info.supports_bf16}"
    )


def test_a_pipeline_loads_on_cuda_by_default_and_times_tokens(tiny_llama: Path) -> None:
    from hfbench.pipelines import pipeline_for
    from hfbench.pipelines.timing import record_timings

    pipe = pipeline_for(str(tiny_llama)).load(progress=False)
    assert pipe.loaded.device.type == "cuda" and pipe.loaded.options.device == "auto"
    with record_timings() as recorder:
        (result,) = pipe.process(
            ["Once upon a time"], "text-generation", max_tokens=8, ignore_eos=True, temperature=0
        )
    timing = recorder.calls[0]
    assert result.output_tokens == 8 and timing.steps == 8 and 0 < timing.ttft_s < timing.e2e_s  # type: ignore[operator]


def test_bf16_loads_and_runs_on_cuda(tiny_llama: Path, tiny_bert: Path) -> None:
    import torch

    from hfbench.pipelines import pipeline_for

    llama = pipeline_for(str(tiny_llama)).load(config={"model_specific": {"dtype": "bf16"}}, progress=False)
    assert llama.loaded.model.dtype == torch.bfloat16
    assert llama.process(["hello"], "text-generation", max_tokens=4, temperature=0)[0].output_tokens > 0
    bert = pipeline_for(str(tiny_bert)).load(config={"base": {"dtype": "bfloat16"}}, progress=False)
    (vector,) = bert.process(["a sentence"], "embeddings")
    assert vector.vector is not None and str(vector.vector.dtype) == "float32"


def test_out_of_memory_on_cuda_is_its_own_error() -> None:
    import torch

    from hfbench.core.errors import OutOfMemoryError
    from hfbench.pipelines.loading import call_transformers

    with pytest.raises(OutOfMemoryError) as info:
        call_transformers(
            "weights", "huge/model", lambda: torch.empty(2**45, dtype=torch.uint8, device="cuda")
        )
    assert info.value.device == "cuda"
    torch.cuda.empty_cache()


def test_a_cell_records_cuda_memory_peaks_and_the_bandwidth_ceiling(tiny_llama: Path) -> None:
    from hfbench.bench.cell import run_cell
    from hfbench.bench.fingerprint import memory_bandwidth_gbps
    from hfbench.bench.suites import Cell

    settings = {"warmup": 1, "min_iterations": 6, "max_duration_s": 5.0, "speed_tokens": 8, "quality": False}
    record = run_cell(Cell(str(tiny_llama), "text-generation", settings))
    assert record["status"] == "ok", record.get("error")
    memory = record["memory"]
    assert memory["inference"]["cuda_max_allocated_mb"] > 0
    assert memory["inference"]["cuda_max_reserved_mb"] >= memory["inference"]["cuda_max_allocated_mb"]
    assert memory["model_mb_method"] == "CUDA max_memory_reserved"
    assert record["recipe"]["device"].startswith("cuda")
    assert memory["decode_ceiling_tokens_per_s"] > 0 and not record["flags"]
    bandwidth = memory_bandwidth_gbps(refresh=True)
    assert bandwidth > 100  # GB/s: HBM, not host memory
    decode = record["latency"]["generation"]["decode_tokens_per_s"]["median"]
    print(f"\nbandwidth {bandwidth:.0f} GB/s; decode {decode:.0f} tokens/s")


def test_flash_attention_auto_falls_back_to_transformers_default_without_the_package(
    tiny_llama: Path,
) -> None:
    from transformers.utils import is_flash_attn_2_available

    from hfbench.pipelines import pipeline_for

    pipe = pipeline_for(str(tiny_llama)).load(config={"base": {"dtype": "bf16"}}, progress=False)
    expected = "flash_attention_2" if is_flash_attn_2_available() else "sdpa"
    assert pipe.loaded.hf_config._attn_implementation == expected


def test_bitsandbytes_quantization_loads_or_says_what_is_missing(tiny_llama: Path) -> None:
    from hfbench.core.errors import DependencyMissingError
    from hfbench.pipelines import pipeline_for

    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        with pytest.raises(DependencyMissingError, match="bitsandbytes"):
            pipeline_for(str(tiny_llama)).load(config={"base": {"quantization": "4bit"}}, progress=False)
        return
    pipe = pipeline_for(str(tiny_llama)).load(config={"base": {"quantization": "4bit"}}, progress=False)
    assert pipe.process(["hello"], "text-generation", max_tokens=4, temperature=0)[0].output_tokens > 0


@pytest.mark.parametrize(
    ("kind", "capability"), [("vit", "image-classification"), ("whisper", "speech-recognition")]
)
def test_media_pipelines_run_on_cuda(tiny_model: Callable[[str], Path], kind: str, capability: str) -> None:
    from hfbench.pipelines import MediaInput, pipeline_for
    from hfbench.testing import synthetic_audio, synthetic_image

    pipe = pipeline_for(str(tiny_model(kind))).load(progress=False)
    assert pipe.loaded.device.type == "cuda"
    item = (
        MediaInput.image(synthetic_image())
        if kind == "vit"
        else MediaInput.audio(synthetic_audio(seconds=2.0), sampling_rate=16000)
    )
    (result,) = pipe.process([item], capability, **({"max_tokens": 4} if kind == "whisper" else {}))
    assert result.capability == capability


def _greedy(pipe: object, prompt: str = "The quick brown fox jumps over") -> str:
    (result,) = pipe.process([prompt], "text-generation", max_tokens=12, ignore_eos=True, temperature=0)  # type: ignore[attr-defined]
    return str(result.text)


def test_exact_on_cuda_applies_only_the_cuda_row(tiny_llama: Path) -> None:
    from hfbench.pipelines import pipeline_for
    from hfbench.pipelines.prepacked_linear import PrepackedLinear

    pipe = pipeline_for(str(tiny_llama)).load(config={"base": {"optimize": "exact"}}, progress=False)
    report = pipe.loaded.optimization
    assert report is not None and report.device == "cuda" and not report.lossy
    assert report.applied == ["sdpa", "inference-mode"]
    assert not any(isinstance(m, PrepackedLinear) for m in pipe.loaded.model.modules())


def test_fast_on_cuda_loads_16_bit_weights_and_is_recorded_as_lossy(tiny_llama: Path) -> None:
    import torch

    from hfbench.pipelines import pipeline_for

    pipe = pipeline_for(str(tiny_llama)).load(config={"base": {"optimize": "fast"}}, progress=False)
    report = pipe.loaded.optimization
    (step,) = [s for s in report.steps if s.name == "half-precision"]
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert step.applied and report.lossy and pipe.loaded.model.dtype == expected
    assert _greedy(pipe)


def test_compile_on_cuda_keeps_the_eager_greedy_tokens(tiny_llama: Path) -> None:
    from hfbench.pipelines import pipeline_for

    eager = pipeline_for(str(tiny_llama)).load(config={"base": {"dtype": "float32"}}, progress=False)
    compiled = pipeline_for(str(tiny_llama)).load(
        config={"base": {"dtype": "float32", "compile": True}}, progress=False
    )
    (step,) = [s for s in compiled.loaded.optimization.steps if s.name == "compile"]
    assert step.applied and "frozen" not in step.detail  # CPU-only inductor settings stay off
    assert _greedy(compiled) == _greedy(compiled) == _greedy(eager)
