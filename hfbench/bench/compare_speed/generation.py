"""Generation runners: raw ``model.generate``, hfbench ``exact``/``fast``, ``pipeline()``, llama.cpp."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hfbench.bench.compare_speed.core import (
    SkipRunner,
    Timed,
    Workload,
    fp32_pipeline,
    quiet_load,
    register_levels,
    register_runner,
    timed_pipeline,
)
from hfbench.bench.trackers.latency import GenerationLatency
from hfbench.core.errors import BenchmarkError, HFBenchError


def _measure_generation(call: Callable[[], str], workload: Workload) -> tuple[list[float], str]:
    """Decode tokens/s of each timed call (from the timing seam) and the last call's text."""
    measured = workload.measure(call, workload.rule)
    per_call = [t.decode_tokens_per_s for t in measured.generation if t.decode_tokens_per_s]
    if len(per_call) != workload.repeats:
        summary = GenerationLatency.from_timings(measured.generation).decode_tokens_per_s
        raise BenchmarkError(
            f"expected {workload.repeats} timed generate calls, got {len(per_call)} ({summary})."
        )
    return per_call, measured.outputs[-1]


def _greedy_kwargs(workload: Workload) -> dict[str, Any]:
    n = workload.max_new_tokens
    return {
        "max_new_tokens": n,
        "min_new_tokens": n,
        "do_sample": False,
        "temperature": None,
        "top_p": None,
        "top_k": None,
    }


@register_runner("generation", "raw", "transformers generate fp32", baseline=True)
def _raw_generate(workload: Workload) -> Timed:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hfbench.pipelines.timing import timed_generate

    with quiet_load():
        tokenizer = AutoTokenizer.from_pretrained(workload.folder)
        model: Any = AutoModelForCausalLM.from_pretrained(workload.folder, dtype=torch.float32)
    model = model.to(workload.device).eval()
    encoded = tokenizer(workload.prompt, return_tensors="pt").to(workload.device)
    prompt_tokens = int(encoded["input_ids"].shape[1])

    def call() -> str:
        kwargs = _greedy_kwargs(workload)
        if tokenizer.pad_token_id is None:
            kwargs["pad_token_id"] = tokenizer.eos_token_id
        with timed_generate(model, kwargs, prompt_tokens=prompt_tokens, batch_size=1):
            output = model.generate(**encoded, **kwargs)
        return str(tokenizer.decode(output[0, prompt_tokens:], skip_special_tokens=True))

    values, text = _measure_generation(call, workload)
    return Timed(values, text, note="eager, fp32, no hfbench code in the timed call")


def _hfbench_generate(workload: Workload, level: str, *, compiled: bool = False) -> Timed:
    import time

    from hfbench.bench.workloads import speed_workload
    from hfbench.pipelines import pipeline_for
    from hfbench.pipelines.results import TextResult

    base = {"optimize": level, "device": workload.device, "compile": compiled}
    pipe = pipeline_for(workload.model).load(workload.model, {"base": base}, progress=False)
    speed = speed_workload("text-generation", {"speed_tokens": workload.max_new_tokens})
    merged = pipe.config.get_merged_config("text-generation", speed.overrides)

    def call() -> str:
        (result,) = pipe.run(speed.inputs, "text-generation", merged)
        assert isinstance(result, TextResult)
        return result.text

    first_s = None
    if compiled:  # the compiling call, timed apart (it is not the decode speed)
        started = time.perf_counter()
        call()
        first_s = time.perf_counter() - started
    timed = timed_pipeline(pipe, lambda: _measure_generation(call, workload))
    if first_s is not None:
        timed.note = f"first call (compiling) {first_s:.1f} s; {timed.note}"
    return timed


register_levels("generation", _hfbench_generate)


@register_runner("generation", "hfbench-compiled", "hfbench exact + compile")
def _hfbench_compiled_generate(workload: Workload) -> Timed:
    """The opt-in ``compile`` load key on the exact level; its compile time is in the note."""
    return _hfbench_generate(workload, "exact", compiled=True)


@register_runner("generation", "provider", "hfbench provider.generate (exact)")
def _provider_generate(workload: Workload) -> Timed:
    """The whole front door — request typing, config merge, cache lookup, result — around the same
    pipeline call: its ratio to ``hfbench-exact`` is the provider's overhead."""
    from hfbench.bench.workloads import speed_workload
    from hfbench.providers.huggingface import HuggingFaceProvider
    from hfbench.providers.interface import GenerationResponse
    from hfbench.providers.model_cache import ModelCache

    cache = ModelCache()
    llm = HuggingFaceProvider({"model": workload.model, "device": workload.device}, model_cache=cache)
    speed = speed_workload("text-generation", {"speed_tokens": workload.max_new_tokens})
    prompt = str(speed.inputs[0].value)

    def call() -> str:
        response = llm.generate(prompt, capability="text-generation", **speed.overrides)
        assert isinstance(response, GenerationResponse)  # not streamed
        return response.text

    try:
        values, text = _measure_generation(call, workload)
    finally:
        cache.clear()
    return Timed(values, text, note="provider.generate with the run keys of the pipeline rows")


@register_runner("generation", "pipeline", "transformers pipeline() fp32")
def _pipeline_generate(workload: Workload) -> Timed:
    from hfbench.pipelines.timing import timed_generate

    generator = fp32_pipeline("text-generation", workload)
    prompt_tokens = len(generator.tokenizer(workload.prompt)["input_ids"])

    def call() -> str:
        kwargs = _greedy_kwargs(workload)
        with timed_generate(generator.model, kwargs, prompt_tokens=prompt_tokens, batch_size=1):
            out = generator(workload.prompt, return_full_text=False, **kwargs)
        return str(out[0]["generated_text"])

    values, text = _measure_generation(call, workload)
    return Timed(values, text, note="eager, fp32")


@register_runner("generation", "llama.cpp", "llama.cpp on the GGUF")
def _llama_cpp_generate(workload: Workload) -> Timed:
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise SkipRunner("not installed: pip install llama-cpp-python (build flags: docs/fast.md)")
    gguf = _embedded_gguf(workload.model)
    import time

    from llama_cpp import Llama

    from hfbench.pipelines.timing import GenerationTiming, current_recorder

    llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=workload.threads, verbose=False)
    prompt = llm.tokenize(workload.prompt.encode("utf-8"))

    def call() -> str:
        llm.reset()
        timing = GenerationTiming(start=time.perf_counter(), prompt_tokens=len(prompt))
        tokens: list[int] = []
        # generate() never stops by itself: the loop forces the length (end-of-sequence ignored).
        for token in llm.generate(prompt, top_k=1, temp=0.0, reset=True):
            timing.token_times.append(time.perf_counter())
            tokens.append(token)
            if len(tokens) == workload.max_new_tokens:
                break
        timing.end = time.perf_counter()
        recorder = current_recorder()
        if recorder is not None:
            recorder.calls.append(timing)
        return str(llm.detokenize(tokens).decode("utf-8", errors="replace"))

    values, text = _measure_generation(call, workload)
    return Timed(values, text, lossy=True, note=f"{gguf.name}, {workload.threads} threads")


def _embedded_gguf(model: str) -> Any:
    """The GGUF file an embedded model ships in, as shipped (``sources.embedded.originals``).

    Raises:
        SkipRunner: the model is not an embedded model shipped as one GGUF file.
    """
    from hfbench.sources.embedded.catalog import get_embedded_model
    from hfbench.sources.embedded.originals import original_files

    if not model.startswith("embedded:"):
        raise SkipRunner("llama.cpp runs only on an embedded model shipped as GGUF")
    name = model.split(":", 1)[1]
    ggufs = [out for out in get_embedded_model(name).files if out.endswith(".gguf")]
    if len(ggufs) != 1:
        raise SkipRunner(f"{model} is not shipped as a single GGUF file")
    try:
        return original_files(name)[ggufs[0]]
    except HFBenchError as exc:
        raise SkipRunner(f"the GGUF file could not be staged: {exc}") from None
