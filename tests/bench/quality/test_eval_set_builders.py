"""The eval set builders on their real sources: counts, formats, provenance, seeded subsets."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable

import pytest

from hfbench.bench.quality import EvalSet, build_eval_set, eval_set_builder, eval_set_builders
from hfbench.bench.quality.datasets import draw_subset, eval_set_path, make_eval_set
from hfbench.bench.quality.fetch import evaldata_dir
from hfbench.core.errors import ConfigError

GetSet = Callable[..., EvalSet]

#: Usable items per source (EVAL_DATA.md's verified counts, less what the builders drop).
TOTALS = {
    "xsum": 1001,
    "squad-v1.1": 10565,
    "vitaminc": 54668,
    "cifar10": 10000,
    "uci-sentiment": 3000,  # 3 x 1,000; the empty trailing entries dropped
    "udhr-en-fr": 50,
    "udhr-en-de": 50,
    "udhr-en-es": 50,
    "lee-similarity": 1225,  # 50 * 49 / 2 pairs
    "asterisk-en": 553,  # 568 recordings less 5 tones and 10 silences
    "sklearn-digits": 1797,
    "chat-exact-answers": 32,
}


def test_every_builder_is_registered_with_a_capability_and_metric() -> None:
    builders = eval_set_builders()
    assert set(TOTALS) | {"brown-passages"} == set(builders)
    for builder in builders.values():
        assert builder.capability and builder.metric and builder.description


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_a_built_set_has_complete_provenance(eval_set: GetSet, name: str) -> None:
    built = eval_set(name)
    p = built.provenance
    assert len(built) == p.subset_size == 12
    assert p.total_items == TOTALS[name]
    assert list(p.item_ids) == built.ids and len(set(built.ids)) == 12
    assert p.package and p.version and p.registry and p.files and p.licence and p.source
    assert p.seed == 0 and p.builder_version >= 1
    assert p.hand_made is (name == "chat-exact-answers")
    assert built.capability == eval_set_builder(name).capability


def test_brown_passages_are_untagged_plain_english(eval_set: GetSet) -> None:
    built = eval_set("brown-passages")
    assert built.provenance.total_items > 5000
    for item in built.items:
        text = item.inputs["text"]
        assert len(text.split()) >= 60  # 90 tokens before punctuation is joined to words
        assert not re.search(r"\w/(at|nn|nns|np|in|jj|vbd|vbn|cc|rb|pps|md)(-tl|-hl|\$)?\b", text), text[:200]
        assert "``" not in text and "''" not in text
        assert re.fullmatch(r"c[a-r]\d\d-\d+", item.id)


def test_a_subset_is_seeded_random_not_the_first_items() -> None:
    builder = eval_set_builder("uci-sentiment")
    source = builder.load()
    first = make_eval_set(builder, source, 20, seed=0)
    again = make_eval_set(builder, source, 20, seed=0)
    other = make_eval_set(builder, source, 20, seed=1)
    assert first.ids == again.ids
    assert first.ids != [item.id for item in source.items[:20]]
    assert first.ids != other.ids
    sites = {item.inputs["site"] for item in first.items}
    assert len(sites) > 1  # drawn across the three files, not from the first one


def test_a_smaller_subset_is_the_start_of_a_larger_one() -> None:
    assert draw_subset(1000, 10, seed=3) == draw_subset(1000, 100, seed=3)[:10]
    assert sorted(draw_subset(5, None, seed=0)) == [0, 1, 2, 3, 4]
    assert len(draw_subset(5, 50, seed=0)) == 5


def test_a_built_set_is_cached_as_jsonl_with_a_provenance_header(eval_set: GetSet) -> None:
    built = eval_set("uci-sentiment")
    path = eval_set_path(eval_set_builder("uci-sentiment"), 12, 0)
    assert path.is_file() and evaldata_dir() in path.parents
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["hfbench_eval_set"] == 1
    assert header["set"]["provenance"]["item_ids"] == built.ids
    assert [json.loads(line)["id"] for line in lines[1:]] == built.ids
    assert EvalSet.read_jsonl(path) == build_eval_set("uci-sentiment", 12, 0)


def test_sentiment_items_are_labelled_reviews(eval_set: GetSet) -> None:
    built = eval_set("uci-sentiment", n=60)
    assert built.labels == ("negative", "positive")
    assert {item.reference for item in built.items} == {"negative", "positive"}
    assert all(item.inputs["text"].strip() for item in built.items)


def test_squad_items_hold_question_context_and_answers_from_the_context(eval_set: GetSet) -> None:
    for item in eval_set("squad-v1.1").items:
        assert item.inputs["question"].strip()
        assert isinstance(item.reference, list) and item.reference
        assert all(answer in item.inputs["context"] for answer in item.reference)


def test_vitaminc_items_split_evidence_and_claim(eval_set: GetSet) -> None:
    built = eval_set("vitaminc")
    assert built.labels == ("True", "False", "Neither")
    for item in built.items:
        assert item.inputs["evidence"] and item.inputs["claim"] and item.reference in built.labels


def test_udhr_translations_align_across_languages(eval_set: GetSet) -> None:
    french, german = eval_set("udhr-en-fr", n=50), eval_set("udhr-en-de", n=50)
    assert sorted(french.ids) == sorted(german.ids)
    by_id = {item.id: item for item in french.items}
    assert by_id["udhr-art1-1"].inputs["text"].startswith("All human beings are born free")
    assert by_id["udhr-art1-1"].reference.startswith("Tous les êtres humains naissent libres")
    assert by_id["udhr-art1-1"].inputs["tgt_lang"] == "fr"


def test_lee_pairs_carry_human_scores(eval_set: GetSet) -> None:
    for item in eval_set("lee-similarity").items:
        i, j = (int(x) for x in item.id.split("-")[1:])
        assert 0 <= i < j < 50
        assert 0.0 <= item.reference <= 1.0
        assert item.inputs["text_a"] and item.inputs["text_b"]


def test_asterisk_items_are_speech_with_clean_transcripts(eval_set: GetSet) -> None:
    import soundfile

    for item in eval_set("asterisk-en", n=40).items:
        assert not re.search(r"[\[\]()]", item.reference), item.reference
        path = evaldata_dir() / item.inputs["audio_file"]
        info = soundfile.info(str(path))
        assert info.samplerate == 8000 and info.channels == 1
    ids = set(build_eval_set("asterisk-en", None, 0).ids)
    assert not ids & {"beep", "tt-monkeys", "silence/1", "ascending-2tone"}
    assert {"vm-intro", "digits/7"} <= ids


def test_image_items_decode_to_labelled_images(eval_set: GetSet) -> None:
    from PIL import Image

    cifar = eval_set("cifar10")
    assert len(cifar.labels) == 10 and "airplane" in cifar.labels
    image = Image.open(io.BytesIO(base64.b64decode(cifar.items[0].inputs["image_png_base64"])))
    assert image.size == (32, 32)
    digits = eval_set("sklearn-digits")
    assert all(len(item.inputs["pixels"]) == 64 and item.reference in digits.labels for item in digits.items)


def test_the_hand_made_chat_set_says_how_it_was_made(eval_set: GetSet) -> None:
    chat = eval_set("chat-exact-answers", n=32)
    assert chat.provenance.hand_made and "not taken from any dataset" in chat.provenance.how_made
    assert all(item.reference and item.inputs["question"].endswith("?") for item in chat.items)
    history = chat.items[0].inputs["history"]
    assert [role for role, _ in history] == ["user", "assistant"] * 3
    assert not {text for _, text in history} & {item.inputs["question"] for item in chat.items}


def test_an_unknown_eval_set_name_gets_a_did_you_mean() -> None:
    with pytest.raises(ConfigError, match=r"Did you mean 'squad-v1\.1'"):
        build_eval_set("squad-v1", 5)
    with pytest.raises(ConfigError, match="at least 1 item"):
        build_eval_set("xsum", 0)
