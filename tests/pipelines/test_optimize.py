"""The ``optimize`` load key: the levels table, what each level applies, and that ``exact`` keeps outputs.

Every load here names ``device='cpu'`` (the CPU rows; tests/gpu checks the CUDA row).

Numerical equivalence is checked against plain transformers on the same tiny folder: greedy
tokens for a decoder, embeddings for an encoder. ``fast`` is lossy by design: here it is only
checked that it is applied and recorded as lossy (compare-speed measures its quality change).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hfbench.core.config_schema import config_keys
from hfbench.core.errors import ConfigError
from hfbench.pipelines import pipeline_for
from hfbench.pipelines.loading import LoadOptions
from hfbench.pipelines.optimize import (
    HalfPrecision,
    SkipStep,
    optimization_plan,
    optimize_levels,
    registered_steps,
)

PROMPT = "The quick brown fox jumps over"
TOKENS = 12


def _raw_greedy(folder: Path) -> str:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    encoded = tokenizer(PROMPT, return_tensors="pt")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    output = model.generate(
        **encoded, max_new_tokens=TOKENS, min_new_tokens=TOKENS, do_sample=False, pad_token_id=pad
    )
    return str(tokenizer.decode(output[0, encoded["input_ids"].shape[1] :], skip_special_tokens=True))


def _hfbench_greedy(folder: Path, level: str) -> tuple[str, Any]:
    pipe = pipeline_for(str(folder)).load(
        str(folder), {"base": {"device": "cpu", "optimize": level}}, progress=False
    )
    (result,) = pipe.process([PROMPT], "text-generation", max_tokens=TOKENS, ignore_eos=True, temperature=0)
    return result.text, pipe.loaded


def test_the_levels_table_has_a_row_per_optimize_choice_and_only_registered_steps() -> None:
    levels = optimize_levels()
    assert set(levels) == set(config_keys()["optimize"].choices or ())
    for level in levels.values():
        assert level.description
        for steps in level.steps.values():
            assert set(steps) <= set(registered_steps())
    assert not any(registered_steps()[s].lossy for s in levels["exact"].steps["cpu"])
    assert "int8-dynamic" in levels["fast"].steps["cpu"]
    assert "half-precision" in levels["fast"].steps["cuda"]


def test_exact_is_the_default_and_is_recorded_as_lossless(tiny_llama: Path) -> None:
    pipe = pipeline_for(str(tiny_llama)).load(str(tiny_llama), {"base": {"device": "cpu"}}, progress=False)
    report = pipe.loaded.optimization
    assert report is not None and report.level == "exact" and report.device == "cpu"
    assert not report.lossy
    assert report.applied == ["sdpa", "inference-mode", "cpu-threads", "prepacked-linear"]
    assert not any(type(m) is torch.nn.Linear for m in pipe.loaded.model.modules())
    assert pipe.loaded.hf_config._attn_implementation == "sdpa"  # transformers' own default, verified


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_exact_greedy_tokens_equal_plain_model_generate(tiny_model: Any, kind: str) -> None:
    folder = tiny_model(kind)
    text, loaded = _hfbench_greedy(folder, "exact")
    assert text == _raw_greedy(folder)
    assert loaded.optimization.level == "exact"


def test_cpu_threads_lowers_torch_threads_to_usable_cores_without_changing_greedy_tokens(
    tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = torch.get_num_threads()
    expected = _raw_greedy(tiny_llama)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("hfbench.core.hardware.usable_cpu_cores", lambda: 1)
    torch.set_num_threads(max(2, before))
    try:
        text, loaded = _hfbench_greedy(tiny_llama, "exact")
        assert torch.get_num_threads() == 1
        (step,) = [s for s in loaded.optimization.steps if s.name == "cpu-threads"]
        assert step.applied and "-> 1" in step.detail
        assert text == expected
    finally:
        torch.set_num_threads(before)


def test_cpu_threads_never_overrides_omp_num_threads(
    tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", str(before))
    monkeypatch.setattr("hfbench.core.hardware.usable_cpu_cores", lambda: 1)
    try:
        _, loaded = _hfbench_greedy(tiny_llama, "exact")
        assert torch.get_num_threads() == before
        (step,) = [s for s in loaded.optimization.steps if s.name == "cpu-threads"]
        assert "OMP_NUM_THREADS" in step.detail
    finally:
        torch.set_num_threads(before)


def test_exact_embeddings_equal_plain_transformers_mean_pooling(tiny_bert: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    sentences = ["a short one", "a rather longer sentence about the weather today"]
    pipe = pipeline_for(str(tiny_bert)).load(
        str(tiny_bert),
        {"base": {"device": "cpu", "optimize": "exact"}},
        capability="embeddings",
        progress=False,
    )
    results = pipe.process(sentences, "embeddings", pooling="mean", normalize=False)
    ours = torch.from_numpy(np.stack([r.vector for r in results]))
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    model = AutoModel.from_pretrained(tiny_bert, dtype=torch.float32).eval()
    encoded = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).float()
    plain = (hidden * mask).sum(1) / mask.sum(1)
    assert torch.allclose(ours, plain, atol=1e-5)


def test_fast_on_cpu_quantizes_linear_layers_and_is_recorded_as_lossy(tiny_llama: Path) -> None:
    text, loaded = _hfbench_greedy(tiny_llama, "fast")
    report = loaded.optimization
    assert report.level == "fast" and report.lossy
    (step,) = [s for s in report.steps if s.name == "int8-dynamic"]
    assert step.applied and step.lossy and "int8" in step.detail
    assert not any(type(m) is torch.nn.Linear for m in loaded.model.modules())
    assert isinstance(text, str) and text  # it still generates; how much it changed is measured elsewhere


def test_exact_and_fast_are_two_entries_of_the_model_cache(tiny_llama: Path) -> None:
    from hfbench.providers.huggingface import HuggingFaceProvider
    from hfbench.providers.model_cache import ModelCache

    cache = ModelCache(max_models=2)
    for level in ("exact", "fast"):
        provider = HuggingFaceProvider(
            {"model": str(tiny_llama), "device": "cpu", "optimize": level}, model_cache=cache
        )
        assert provider.pipeline.loaded.optimization.level == level
    assert len(cache) == 2 and cache.stats.loads == 2


def test_fast_refuses_non_float32_weights_on_cpu(tiny_llama: Path) -> None:
    with pytest.raises(ConfigError, match="float32") as info:
        pipeline_for(str(tiny_llama)).load(
            str(tiny_llama),
            {"base": {"device": "cpu", "optimize": "fast", "dtype": "bfloat16"}},
            progress=False,
        )
    assert info.value.key_path == "optimize"


def test_half_precision_sets_a_16_bit_dtype_unless_the_config_sets_one() -> None:
    step = HalfPrecision()
    config: dict[str, Any] = {"dtype": "float32"}
    assert "kept" in (step.configure(config) or "") and config["dtype"] == "float32"
    config = {"dtype": "auto"}
    step.configure(config)
    expected = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float16"
    assert config["dtype"] == expected and step.lossy


def test_a_skipped_step_is_recorded_as_not_applied() -> None:
    plan = optimization_plan(LoadOptions(device="cpu", optimize="fast"))

    class Missing(HalfPrecision):
        def configure(self, config: dict[str, Any]) -> str | None:
            raise SkipStep("not here")

    plan.steps = [Missing()]
    plan.configure({})
    report = plan.apply(torch.nn.Linear(2, 2), LoadOptions())
    (step,) = report.steps
    assert not step.applied and step.detail == "not here" and not report.lossy


@pytest.mark.slow
def test_compile_keeps_greedy_tokens_and_is_recorded(tiny_llama: Path) -> None:
    pipe = pipeline_for(str(tiny_llama)).load(
        str(tiny_llama), {"base": {"device": "cpu", "optimize": "exact", "compile": True}}, progress=False
    )
    first = pipe.process([PROMPT], "text-generation", max_tokens=TOKENS, ignore_eos=True, temperature=0)
    again = pipe.process([PROMPT], "text-generation", max_tokens=TOKENS, ignore_eos=True, temperature=0)
    assert first[0].text == again[0].text == _raw_greedy(tiny_llama)  # compiled: the same tokens
    report = pipe.loaded.optimization
    (step,) = [s for s in report.steps if s.name == "compile"]
    assert step.applied and not step.lossy and "static KV cache" in step.detail
    assert not report.lossy and pipe.loaded.model.generation_config.cache_implementation == "static"


def test_compile_is_skipped_on_int8_layers_and_says_so(tiny_llama: Path) -> None:
    pipe = pipeline_for(str(tiny_llama)).load(
        str(tiny_llama), {"base": {"device": "cpu", "optimize": "fast", "compile": True}}, progress=False
    )
    (step,) = [s for s in pipe.loaded.optimization.steps if s.name == "compile"]
    assert not step.applied and "int8-dynamic" in step.detail


def test_compile_is_a_load_key_off_by_default() -> None:
    key = config_keys()["compile"]
    assert key.scope == "load" and LoadOptions().compile is False
    assert LoadOptions(compile=True).cache_key() != LoadOptions().cache_key()


# ---- prepacked-linear (exact, CPU) ----------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 48), (2, 7, 48), (1, 1, 48)])
def test_a_prepacked_linear_computes_what_nn_linear_does(bias: bool, shape: tuple[int, ...]) -> None:
    from hfbench.pipelines.prepacked_linear import PrepackedLinear, prepacking_available

    if not prepacking_available():
        pytest.skip("this torch build has no oneDNN linear")
    torch.manual_seed(0)
    linear = torch.nn.Linear(48, 80, bias=bias)
    x = torch.randn(*shape)
    with torch.inference_mode():
        expected = linear(x)
        got = PrepackedLinear(linear)(x)
    assert got.shape == expected.shape and got.dtype == torch.float32
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert not torch.equal(got, torch.zeros_like(got))


def test_prepacking_keeps_a_tied_weight_and_counts_its_copy() -> None:
    from hfbench.pipelines.prepacked_linear import PrepackedLinear, prepack_linears, prepacking_available

    if not prepacking_available():
        pytest.skip("this torch build has no oneDNN linear")
    embed = torch.nn.Embedding(100, 16)
    head = torch.nn.Linear(16, 100, bias=False)
    head.weight = embed.weight  # tied, as a language model's output projection often is
    model = torch.nn.ModuleDict({"embed": embed, "head": head, "mlp": torch.nn.Linear(16, 16)})
    replaced, extra = prepack_linears(model)
    assert replaced == 2 and extra == 100 * 16 * 4
    assert isinstance(model["head"], PrepackedLinear) and model["embed"].weight.shape == (100, 16)
    assert "packed_weight" not in model.state_dict()  # non-persistent: saving is unchanged


def test_prepacked_linear_is_skipped_under_compile_and_for_other_dtypes(tiny_llama: Path) -> None:
    from hfbench.pipelines.optimize import PrepackedLinearStep

    step = PrepackedLinearStep()
    with pytest.raises(SkipStep, match="compile"):
        step.apply(torch.nn.Linear(2, 2), LoadOptions(compile=True))
    pipe = pipeline_for(str(tiny_llama)).load(
        str(tiny_llama), {"base": {"device": "cpu", "optimize": "exact", "dtype": "bfloat16"}}, progress=False
    )
    (record,) = [s for s in pipe.loaded.optimization.steps if s.name == "prepacked-linear"]
    assert not record.applied and "bfloat16" in record.detail
    assert any(type(m) is torch.nn.Linear for m in pipe.loaded.model.modules())


def test_exact_whisper_transcribes_what_it_does_without_prepacking(
    tiny_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hfbench.pipelines import MediaInput
    from hfbench.testing import synthetic_audio

    folder = tiny_model("whisper")
    clip = MediaInput.audio(synthetic_audio(seconds=2.0), sampling_rate=16000)

    def transcribe() -> tuple[str, list[str]]:
        pipe = pipeline_for(str(folder)).load(
            str(folder), {"base": {"device": "cpu", "optimize": "exact"}}, progress=False
        )
        (result,) = pipe.process([clip], "speech-recognition", max_tokens=6)
        return result.text, pipe.loaded.optimization.applied

    packed, applied = transcribe()
    monkeypatch.setattr("hfbench.pipelines.prepacked_linear.prepacking_available", lambda: False)
    plain, applied_plain = transcribe()
    assert "prepacked-linear" in applied and "prepacked-linear" not in applied_plain
    assert packed == plain and packed


def test_a_prepacked_linear_keeps_a_readable_weight_without_its_memory() -> None:
    from hfbench.pipelines.prepacked_linear import PrepackedLinear, prepacking_available

    if not prepacking_available():
        pytest.skip("this torch build has no oneDNN linear")
    layer = PrepackedLinear(torch.nn.Linear(48, 80))
    assert isinstance(layer.weight, torch.Tensor)  # models read weight.dtype (T5 casts to it)
    assert layer.weight.shape == (80, 48) and layer.weight.dtype == torch.float32
    assert layer.weight.device.type == "cpu" and layer.weight.untyped_storage().nbytes() == 4
    assert "weight" not in dict(layer.named_parameters())


# ---- encoder-reuse (exact, every device) -----------------------------------------------------
def test_whisper_encodes_each_batch_once_and_transcribes_as_without_the_memo(
    tiny_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hfbench.pipelines import MediaInput
    from hfbench.pipelines.encoder_reuse import EncoderMemo
    from hfbench.testing import synthetic_audio

    folder = tiny_model("whisper")
    clips = [MediaInput.audio(synthetic_audio(seconds=s), sampling_rate=16000) for s in (1.0, 2.0, 3.0)]
    config = {"base": {"device": "cpu", "optimize": "exact", "batch_size": 3}}
    pipe = pipeline_for(str(folder)).load(str(folder), config, progress=False)
    memo = pipe.loaded.model.get_encoder().forward
    assert isinstance(memo, EncoderMemo) and "encoder-reuse" in pipe.loaded.optimization.applied
    encoder_runs: list[int] = []
    encode = memo.forward
    memo.forward = lambda *a, **k: encoder_runs.append(1) or encode(*a, **k)
    reused = [r.text for r in pipe.process(clips, "speech-recognition", max_tokens=6)]
    assert len(encoder_runs) == 1 and memo.hits >= 1  # no-speech check and fallback retries reuse it
    assert not memo.active and not memo._entries  # scoped to the generate call, then released

    monkeypatch.setattr("hfbench.pipelines.encoder_reuse.reuse_encoder_outputs", lambda model: None)
    plain = pipeline_for(str(folder)).load(str(folder), config, progress=False)
    assert "encoder-reuse" not in plain.loaded.optimization.applied
    assert [r.text for r in plain.process(clips, "speech-recognition", max_tokens=6)] == reused


def test_the_encoder_memo_runs_the_encoder_for_other_features_or_options() -> None:
    from hfbench.pipelines.encoder_reuse import EncoderMemo

    runs: list[torch.Tensor] = []

    def encoder(input_features: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        runs.append(input_features)
        return input_features * 2

    memo = EncoderMemo(encoder)
    a, b = torch.ones(1, 4), torch.ones(1, 4)
    memo(a)  # inactive: nothing remembered
    memo.active = True
    first = memo(input_features=a, return_dict=True, output_attentions=None)
    assert memo(a) is first and memo(b) is first and memo.hits == 2  # equal features: reused
    assert memo(a[:, :2]) is not first and memo(a * 3) is not first  # other shape, other values
    assert memo(b, output_hidden_states=True) is not None  # other options: encoded again
    assert len(runs) == 5


def test_prepacking_is_skipped_when_the_packed_copy_would_not_fit(
    tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hfbench.pipelines.optimize._available_memory_bytes", lambda: 1024)
    pipe = pipeline_for(str(tiny_llama)).load(
        str(tiny_llama), {"base": {"device": "cpu", "optimize": "exact"}}, progress=False
    )
    (record,) = [s for s in pipe.loaded.optimization.steps if s.name == "prepacked-linear"]
    assert not record.applied and "does not fit" in record.detail
    assert any(type(m) is torch.nn.Linear for m in pipe.loaded.model.modules())


def test_prepacking_gives_the_other_weights_their_own_memory_and_keeps_outputs(tiny_llama: Path) -> None:
    from transformers import AutoModelForCausalLM

    from hfbench.pipelines.prepacked_linear import prepack_linears, prepacking_available

    if not prepacking_available():
        pytest.skip("this torch build has no oneDNN linear")
    model = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32).eval()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    ids = torch.tensor([[1, 5, 9, 2]])
    with torch.inference_mode():
        expected = model(ids).logits
    storages = {n: p.untyped_storage().data_ptr() for n, p in model.named_parameters()}
    prepack_linears(model)
    for name, parameter in model.named_parameters():  # copied (new memory), values unchanged
        assert (
            torch.equal(parameter, before[name]) and parameter.untyped_storage().data_ptr() != storages[name]
        )
    with torch.inference_mode():
        assert torch.allclose(model(ids).logits, expected, atol=1e-5)
