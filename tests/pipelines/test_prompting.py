"""General prompting on base models: stops derived from the template, languages, targets, files as media."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfbench.core.errors import ConfigError, MediaInputError
from hfbench.pipelines import pipeline_for
from hfbench.pipelines.processors.prompts import prompt_for
from hfbench.pipelines.results import TranscriptResult

FIXTURES = Path(__file__).parent.parent / "fixtures"
GREEDY = {"temperature": 0.0}


def test_base_model_stops_come_from_the_template() -> None:
    summary = prompt_for("summarization").stop_sequences({})
    assert "\nSummarize the following" in summary and "\nText:" in summary and "\nSummary:" in summary
    translation = prompt_for("translation").stop_sequences({"src_lang": "English", "tgt_lang": "French"})
    assert (
        "\nEnglish:" in translation
        and "\nFrench:" in translation
        and "\nTranslate the following" in translation
    )
    assert prompt_for("general").stop_sequences({}) == []
    assert prompt_for("summarization").clean_answer("  Summary: A city grew. ", {}) == "A city grew."


def test_a_raw_prompt_gets_the_template_stops_and_a_chat_prompt_does_not(
    tiny_gpt2: Path, tiny_llama: Path
) -> None:
    base = pipeline_for(str(tiny_gpt2)).load()  # no chat template
    processor = base._get_capability_processor("summarization")
    run = processor.prepare_config(base.config.get_merged_config("summarization"))
    assert "\nText:" in run["stop"]
    chat = pipeline_for(str(tiny_llama)).load()
    chat_run = chat._get_capability_processor("summarization").prepare_config(
        chat.config.get_merged_config("summarization")
    )
    assert "\nText:" not in (chat_run.get("stop") or [])


def test_unknown_languages_fail_before_anything_runs_on_the_prompting_path(tiny_gpt2: Path) -> None:
    pipe = pipeline_for(str(tiny_gpt2)).load()
    with pytest.raises(ConfigError, match=r"'frnch'.*Did you mean") as info:
        pipe.process(["hello"], "translation", tgt_lang="frnch", **GREEDY)
    assert info.value.key_path == "tgt_lang"
    with pytest.raises(ConfigError, match="src_lang"):
        pipe.process(["hello"], "translation", src_lang="englsh", tgt_lang="fr", **GREEDY)


def test_translation_needs_a_target_language(tiny_gpt2: Path, tiny_model) -> None:  # type: ignore[no-untyped-def]
    pipe = pipeline_for(str(tiny_gpt2)).load()
    with pytest.raises(ConfigError, match="needs the target language") as info:
        pipe.process(["hello"], "translation", **GREEDY)
    assert info.value.key_path == "tgt_lang"
    (result,) = pipe.process(["hello"], "translation", tgt_lang="German", max_length=3, **GREEDY)
    assert result.capability == "translation"


def test_a_file_path_is_read_as_media_where_the_capability_takes_no_text(tiny_model) -> None:  # type: ignore[no-untyped-def]
    pipe = pipeline_for(str(tiny_model("whisper"))).load()
    (result,) = pipe.process([str(FIXTURES / "quick_brown_fox.wav")], "speech-recognition", max_tokens=4)
    assert isinstance(result, TranscriptResult) and result.extra["audio_s"] > 2.0
    with pytest.raises(MediaInputError, match=r"There is no file 'nope\.wav'"):
        pipe.process(["nope.wav"], "speech-recognition")
    with pytest.raises(MediaInputError, match="takes audio inputs, got text 'a long sentence"):
        pipe.process(["a long sentence that is not a path " * 3], "speech-recognition")
