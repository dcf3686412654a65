"""The tree config: precedence, files, and every validation error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfbench.core.config import ModelConfig, default_base
from hfbench.core.config_schema import ConfigKey, config_keys, load_keys, register_config_key
from hfbench.core.errors import ConfigError, UnsupportedCapabilityError


def test_precedence_base_architecture_capability_model_call() -> None:
    cfg = ModelConfig(
        base={"temperature": 0.1, "max_tokens": 10, "top_k": 5},
        architecture={"temperature": 0.2, "max_tokens": 20},
        capabilities={"summarization": {"temperature": 0.3, "max_length": 60}},
        model_specific={"temperature": 0.4},
    )
    merged = cfg.get_merged_config("summarization")
    assert merged["top_k"] == 5  # base
    assert merged["max_tokens"] == 20  # architecture over base
    assert merged["max_length"] == 60  # user capability over hfbench's capability default (128)
    assert merged["min_length"] == 10  # hfbench's capability default
    assert merged["temperature"] == 0.4  # model over all
    assert cfg.get_merged_config("summarization", {"temperature": 0.0})["temperature"] == 0.0  # call wins


def test_capability_inheritance_applies_parent_first() -> None:
    cfg = ModelConfig(
        capabilities={"text-generation": {"max_tokens": 50, "top_k": 7}, "chat": {"max_tokens": 30}}
    )
    merged = cfg.get_merged_config("chat")
    assert merged["max_tokens"] == 30 and merged["top_k"] == 7
    assert cfg.get_merged_config("summarization")["top_k"] == 50  # unrelated capability unaffected


def test_aliases_in_capability_tables_become_canonical() -> None:
    cfg = ModelConfig(capabilities={"summarize": {"max_length": 70}})
    assert "summarization" in cfg.capabilities
    assert cfg.get_merged_config("summarization")["max_length"] == 70


def test_base_defaults_follow_the_seed_except_max_tokens() -> None:
    assert default_base() == {"temperature": 0.7, "max_tokens": 256, "top_p": 1.0, "top_k": 50}
    assert ModelConfig().get_merged_config("text-generation")["temperature"] == 0.7


@pytest.mark.parametrize(
    ("data", "key_path", "message"),
    [
        ({"base": {"temprature": 0.5}}, "base.temprature", "Did you mean 'temperature'"),
        ({"base": {"temperature": -0.1}}, "base.temperature", ">= 0"),
        ({"base": {"temperature": "hot"}}, "base.temperature", "expected a number"),
        ({"base": {"top_p": 0}}, "base.top_p", r"\(0, 1\]"),
        ({"base": {"top_p": 1.5}}, "base.top_p", r"\(0, 1\]"),
        ({"base": {"max_tokens": 0}}, "base.max_tokens", "> 0"),
        ({"base": {"max_tokens": 2.5}}, "base.max_tokens", "expected a whole number"),
        ({"base": {"max_tokens": True}}, "base.max_tokens", "boolean"),
        ({"base": {"top_k": -1}}, "base.top_k", ">= 0"),
        ({"architecture": {"device": "gpu"}}, "architecture.device", "cuda"),
        ({"architecture": {"device": "cuda:x"}}, "architecture.device", "index"),
        ({"architecture": {"dtype": "float8"}}, "architecture.dtype", "not one of"),
        ({"architecture": {"quantization": "3bit"}}, "architecture.quantization", "not one of"),
        (
            {"capabilities": {"summarization": {"max_length": -3}}},
            "capabilities.summarization.max_length",
            "> 0",
        ),
        (
            {"capabilities": {"summarization": {"max_lenght": 3}}},
            "capabilities.summarization.max_lenght",
            "Did you mean 'max_length'",
        ),
        ({"capabilities": {"sumarization": {}}}, "capabilities.sumarization", "Did you mean 'summarization'"),
        ({"capabilities": {"summarization": 5}}, "capabilities.summarization", "expected a table"),
        (
            {"capabilities": {"zero-shot-classification": {"labels": ["a", 3]}}},
            "capabilities.zero-shot-classification.labels",
            "non-empty string",
        ),
        (
            {"capabilities": {"zero-shot-classification": {"hypothesis_template": "no slot"}}},
            "capabilities.zero-shot-classification.hypothesis_template",
            "'{}'",
        ),
        ({"model_specific": {"stop": ["ok", ""]}}, "model_specific.stop", "non-empty"),
        ({"model_specific": {"temperature": float("nan")}}, "model_specific.temperature", "finite"),
        ({"base": []}, "base", "expected a table"),
        ({"model_specfic": {}}, "model_specfic", "Did you mean 'model_specific'"),
    ],
)
def test_validation_errors_name_key_path_and_file(
    data: dict, key_path: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "hfbench.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message) as info:
        ModelConfig.from_file(path)
    assert info.value.key_path == key_path
    assert info.value.file == str(path)
    assert str(path) in str(info.value) and key_path in str(info.value)


def test_min_length_above_max_length_is_rejected_at_merge() -> None:
    cfg = ModelConfig(capabilities={"summarization": {"min_length": 200}})
    with pytest.raises(ConfigError, match="min_length"):
        cfg.get_merged_config("summarization")


def test_a_more_specific_max_length_lowers_an_inherited_min_length() -> None:
    merged = ModelConfig().get_merged_config("summarization", {"max_length": 5})
    assert (merged["min_length"], merged["max_length"]) == (5, 5)


def test_per_call_override_is_validated_with_call_key_path() -> None:
    with pytest.raises(ConfigError) as info:
        ModelConfig().get_merged_config("chat", {"temperature": -1})
    assert info.value.key_path == "call.temperature"


def test_unknown_capability_at_merge_raises_did_you_mean() -> None:
    with pytest.raises(UnsupportedCapabilityError, match="Did you mean"):
        ModelConfig().get_merged_config("translaton")


def test_toml_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "hfbench.toml"
    path.write_text(
        """
[base]
temperature = 0.2

[architecture]
device = "cpu"
dtype = "float32"

[capabilities.summarization]
max_length = 80

[capabilities."zero-shot-classification"]
labels = ["sports", "politics"]

[model_specific]
max_tokens = 64
"""
    )
    cfg = ModelConfig.from_file(path)
    merged = cfg.get_merged_config("summarization")
    assert merged["max_length"] == 80 and merged["max_tokens"] == 64
    assert merged["temperature"] == 0.0  # summaries decode greedily unless the capability says otherwise
    assert cfg.get_merged_config("text-generation")["temperature"] == 0.2
    assert merged["top_p"] == 1.0  # base defaults still fill what the file leaves out
    for suffix in (".toml", ".json"):
        saved = cfg.save(tmp_path / f"copy{suffix}")
        assert ModelConfig.from_file(saved) == cfg


def test_toml_save_drops_nulls_json_keeps_them(tmp_path: Path) -> None:
    cfg = ModelConfig(model_specific={"revision": None, "max_tokens": 5})
    assert "revision" not in (cfg.save(tmp_path / "c.toml")).read_text()
    assert json.loads(cfg.save(tmp_path / "c.json").read_text())["model_specific"]["revision"] is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.toml", "[base\ntemperature = 1", "not valid TOML"),
        ("bad.json", "{", "not valid JSON"),
        ("cfg.yaml", "base: {}", "must end in .json or .toml"),
        ("top.json", "[1, 2]", "must hold a table at the top"),
    ],
)
def test_unreadable_files_give_config_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        ModelConfig.from_file(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        ModelConfig.from_file(tmp_path / "nope.toml")


def test_merge_and_set() -> None:
    a = ModelConfig(capabilities={"summarization": {"max_length": 50}})
    b = ModelConfig(base={"temperature": 0.0}, capabilities={"summarization": {"min_length": 5}})
    merged = a.merge(b).get_merged_config("summarization")
    assert (merged["max_length"], merged["min_length"], merged["temperature"]) == (50, 5, 0.0)
    a.set("capabilities.summarize.max_length", 90)
    assert a.capabilities["summarization"]["max_length"] == 90
    a.set("base.top_p", 0.5)
    assert a.base["top_p"] == 0.5
    with pytest.raises(ConfigError, match=r"must be in"):
        a.set("base.top_p", 2.0)
    with pytest.raises(ConfigError, match="key path"):
        a.set("nonsense", 1)


def test_model_table_is_an_alias_of_model_specific() -> None:
    assert ModelConfig.from_dict({"model": {"max_tokens": 9}}).model_specific == {"max_tokens": 9}


def test_registered_keys_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    from hfbench.core import config_schema

    monkeypatch.setattr(config_schema, "_KEYS", dict(config_schema._KEYS))
    assert "beam_groups" not in config_keys()
    register_config_key(
        ConfigKey("beam_groups", (int,), "Diverse beam groups.", lambda v: None if v > 0 else "> 0")
    )
    cfg = ModelConfig(base={"beam_groups": 2})
    assert cfg.get_merged_config("text-generation")["beam_groups"] == 2


def test_a_config_file_reports_every_mistake_at_once(tmp_path: Path) -> None:
    path = tmp_path / "seven.toml"
    path.write_text(
        "\n".join(
            [
                "[base]",
                "temperature = -1",
                "max_tokens = 2.5",
                "top_p = 3",
                "colour = 'red'",
                "[capabilities.summarize]",
                "max_length = 0",
                "[capabilities.nonsense]",
                "x = 1",
                "[modle]",
            ]
        )
    )
    with pytest.raises(ConfigError) as info:
        ModelConfig.from_file(path)
    paths = {p.key_path for p in info.value.problems}
    assert paths == {
        "base.temperature",
        "base.max_tokens",
        "base.top_p",
        "base.colour",
        "capabilities.summarize.max_length",
        "capabilities.nonsense",
        "modle",
    }
    message = str(info.value)
    assert "7 problems" in message and str(path) in message
    assert "Did you mean 'model'" in message


@pytest.mark.parametrize("key", ["dtype", "device", "quantization", "attn_implementation", "optimize"])
def test_load_keys_are_refused_per_capability_and_per_call(key: str) -> None:
    value = {
        "dtype": "bf16",
        "device": "cpu",
        "quantization": "4bit",
        "attn_implementation": "sdpa",
        "optimize": "fast",
    }[key]
    with pytest.raises(ConfigError, match="is a load key") as info:
        ModelConfig(capabilities={"chat": {key: value}})
    assert info.value.key_path == f"capabilities.chat.{key}"
    with pytest.raises(ConfigError, match="is a load key") as info:
        ModelConfig().get_merged_config("chat", {key: value})
    assert info.value.key_path == f"call.{key}"


def test_load_config_merges_load_keys_of_the_model_levels_only() -> None:
    config = ModelConfig(
        base={"dtype": "float32", "temperature": 0.3},
        architecture={"device": "cpu"},
        model_specific={"dtype": "bf16"},
    )
    assert config.load_config() == {"dtype": "bf16", "device": "cpu"}
    assert "temperature" not in config.load_config()


def test_optimize_names_its_valid_values_when_given_a_bogus_one() -> None:
    with pytest.raises(ConfigError, match="'bogus' is not one of 'exact', 'fast'") as info:
        ModelConfig(base={"optimize": "bogus"})
    assert info.value.key_path == "base.optimize"


def test_optimize_is_a_load_key_that_defaults_to_exact() -> None:
    from hfbench.pipelines.loading import LoadOptions

    assert "optimize" in load_keys()
    assert LoadOptions.from_config({}).optimize == "exact"
    exact = LoadOptions.from_config({"optimize": "exact"}).cache_key()
    assert LoadOptions.from_config({"optimize": "fast"}).cache_key() != exact
