"""From config keys to ``generate()`` arguments."""

from __future__ import annotations

from hfbench.core.config import ModelConfig
from hfbench.pipelines.generation import cut_at_stop, generation_kwargs


def test_greedy_when_temperature_is_zero_and_sampling_knobs_are_neutralised() -> None:
    kwargs = generation_kwargs({"temperature": 0.0, "top_p": 0.9, "top_k": 5, "max_tokens": 7})
    assert kwargs["do_sample"] is False and kwargs["max_new_tokens"] == 7
    assert kwargs["temperature"] is None and kwargs["top_p"] is None and kwargs["top_k"] is None


def test_sampling_passes_temperature_top_p_top_k() -> None:
    kwargs = generation_kwargs({"temperature": 0.7, "top_p": 0.9, "top_k": 5})
    assert (kwargs["do_sample"], kwargs["temperature"], kwargs["top_p"], kwargs["top_k"]) == (
        True,
        0.7,
        0.9,
        5,
    )


def test_max_tokens_caps_a_summary_length_and_max_length_can_only_lower_it() -> None:
    summary = ModelConfig().get_merged_config("summarization", {"max_tokens": 80})
    assert generation_kwargs(summary, max_new_tokens_key="max_length")["max_new_tokens"] == 80
    default = ModelConfig().get_merged_config("summarization")  # max_length 128 under max_tokens 256
    kwargs = generation_kwargs(default, max_new_tokens_key="max_length")
    assert kwargs["max_new_tokens"] == 128 and kwargs["min_new_tokens"] == 10


def test_min_new_tokens_never_exceeds_max_new_tokens() -> None:
    merged = ModelConfig().get_merged_config("summarization", {"max_tokens": 4})
    kwargs = generation_kwargs(merged, max_new_tokens_key="max_length")
    assert kwargs["min_new_tokens"] <= kwargs["max_new_tokens"] == 4


def test_cut_at_the_first_stop_sequence() -> None:
    assert cut_at_stop("a b STOP c END", ["END", "STOP"]) == "a b "
    assert cut_at_stop("nothing to cut", None) == "nothing to cut"
