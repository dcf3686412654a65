"""The pipeline seams the harness stands on: registration, phases, preparation, timings, out-of-memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hfbench.core.errors import ConfigError, ModelLoadError, OutOfMemoryError
from hfbench.pipelines import BasePipeline, DecoderOnlyPipeline, pipeline_for
from hfbench.pipelines.loading import call_transformers, is_out_of_memory
from hfbench.pipelines.registry import BUILTIN_MODULES, registered_processors
from hfbench.pipelines.timing import record_timings


def test_a_fresh_process_that_imports_hfbench_pipelines_has_the_same_registry() -> None:
    here = sorted(
        f"{arch.value}/{cap}:{cls.__name__}" for (arch, cap), cls in registered_processors().items()
    )
    code = (
        "import json, hfbench.pipelines as p\n"
        "from hfbench.pipelines.registry import _PROCESSORS\n"  # no lookup: only what importing registered
        "print(json.dumps(sorted(f'{a.value}/{c}:{k.__name__}' for (a, c), k in _PROCESSORS.items())))"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(child.stdout.strip().splitlines()[-1]) == here
    assert len(here) > 20


def test_builtin_modules_are_listed_explicitly_and_each_registers_something() -> None:
    assert all(m.startswith("hfbench.pipelines.") for m in BUILTIN_MODULES)
    processors = {cls.__module__ for cls in registered_processors().values()}
    assert processors <= set(BUILTIN_MODULES)


def test_base_pipeline_takes_any_architecture_and_needs_one() -> None:
    pipe = BasePipeline("decoder_only")
    assert pipe.architecture.value == "decoder_only" and "chat" in pipe.supported_capabilities()
    assert isinstance(pipeline_for(pipe.architecture), DecoderOnlyPipeline)
    with pytest.raises(ConfigError, match="needs an architecture"):
        BasePipeline()


def test_loading_reports_its_phases_and_preparation_apart(tiny_llama: Path) -> None:
    pipe = pipeline_for(str(tiny_llama)).load()
    phases = pipe.loaded.load_phases
    assert set(phases) == {"config", "weights", "placement", "optimize", "tokenizer"}
    assert all(seconds >= 0 for seconds in phases.values())
    assert pipe.loaded.load_seconds == pytest.approx(sum(phases.values()))
    assert pipe.loaded.prepare_seconds == 0.0  # a local folder needs no preparation


def test_load_keys_come_from_the_model_levels(tiny_llama: Path) -> None:
    import torch

    pipe = pipeline_for(str(tiny_llama)).load(config={"model_specific": {"dtype": "bf16"}})
    assert pipe.loaded.model.dtype == torch.bfloat16 and pipe.loaded.options.dtype == "bf16"


def test_out_of_memory_is_its_own_error_class() -> None:
    def oom() -> None:
        import torch

        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    with pytest.raises(OutOfMemoryError) as info:
        call_transformers("weights", "big/model", oom)
    assert isinstance(info.value, ModelLoadError) and info.value.device == "cuda"

    def cpu() -> None:
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    with pytest.raises(OutOfMemoryError, match="ran out of memory"):
        call_transformers("weights", "big/model", cpu)
    with pytest.raises(OutOfMemoryError):
        call_transformers("weights", "big/model", lambda: (_ for _ in ()).throw(MemoryError()))
    assert not is_out_of_memory(ValueError("bad config"))
    with pytest.raises(ModelLoadError) as other:
        call_transformers("weights", "big/model", lambda: (_ for _ in ()).throw(ValueError("bad")))
    assert not isinstance(other.value, OutOfMemoryError)


def test_timings_are_recorded_only_when_asked_and_per_call(tiny_llama: Path) -> None:
    pipe = pipeline_for(str(tiny_llama)).load()
    plain = pipe.process(["Once upon a time"], "text-generation", max_tokens=5, temperature=0)
    assert plain[0].timing is None
    with record_timings() as recorder:
        (first,) = pipe.process(
            ["Once upon a time"], "text-generation", max_tokens=7, temperature=0, ignore_eos=True
        )
        pipe.process(["Hello"], "text-generation", max_tokens=3, temperature=0, ignore_eos=True)
    assert [call.steps for call in recorder.calls] == [7, 3]  # one list per call, never a session's
    timing = first.timing
    assert timing is recorder.calls[0] and first.output_tokens == 7  # ignore_eos: a fixed length
    assert timing.ttft_s is not None and 0 < timing.ttft_s < timing.e2e_s
    assert len(timing.inter_token_s) == 6 and all(gap > 0 for gap in timing.inter_token_s)
    assert timing.decode_tokens_per_s == pytest.approx(6 / timing.decode_s)
    assert timing.prompt_tokens == first.input_tokens
