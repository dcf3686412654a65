"""Read data files: the package's own (``hfbench/*/data``) and a user's JSON/TOML files.

The one place that parses TOML/JSON for hfbench (and the one ``tomllib`` import shim). Files are
parsed as data only, never evaluated.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from hfbench.core.errors import HFBenchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Suffixes of the data files hfbench reads and writes (chosen by suffix).
DATA_SUFFIXES = (".json", ".toml")

TOMLDecodeError = tomllib.TOMLDecodeError


def loads_toml(text: str) -> dict[str, Any]:
    """Parse TOML text (``tomllib``, or ``tomli`` before Python 3.11)."""
    return tomllib.loads(text)


def read_package_text(name: str, package: str = "hfbench.core") -> str:
    """The text of ``<package>/data/<name>``."""
    return resources.files(package).joinpath("data", name).read_text(encoding="utf-8")


def read_package_toml(name: str, package: str = "hfbench.core") -> dict[str, Any]:
    """Parse ``<package>/data/<name>`` as TOML."""
    return tomllib.loads(read_package_text(name, package))


def read_package_json(name: str, package: str = "hfbench.core") -> Any:
    """Parse ``<package>/data/<name>`` as JSON."""
    return json.loads(read_package_text(name, package))


def read_json_if_any(path: Path | None) -> Any:
    """The JSON in ``path``, or None when there is no path or it cannot be read as JSON."""
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_data_file(
    path: str | os.PathLike[str],
    *,
    what: str = "data file",
    error: type[HFBenchError] = HFBenchError,
) -> dict[str, Any]:
    """Parse a ``.json`` or ``.toml`` file (by suffix) into a dictionary.

    Args:
        path: the file.
        what: how messages name it (``"recommendation file"``, ``"hardware profile"`` ...).
        error: the hfbench error class to raise.

    Raises:
        error: a missing file, an unknown suffix, a syntax error (with line and column), or a top
            level that is not a table; the message names the file.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise error(f"The {what} {file} must end in .json or .toml, got {suffix or 'no suffix'!r}.")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"The {what} {file} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"Cannot read the {what} {file}: {exc}") from None
    try:
        data = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"The {what} {file} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"The {what} {file} is not valid TOML: {exc}.") from None
    if not isinstance(data, dict):
        raise error(f"The {what} {file} must hold a table at the top, got {type(data).__name__}.")
    return data


def write_data_file(path: str | os.PathLike[str], data: dict[str, Any], *, sort_keys: bool = False) -> Path:
    """Write ``data`` as JSON or TOML (by suffix), atomically (a temporary file renamed over it).

    ``None`` values are left out of TOML, which has no null.

    Raises:
        HFBenchError: an unknown suffix.
    """
    import tempfile

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"
    elif suffix == ".toml":
        import tomli_w

        text = tomli_w.dumps(_drop_none(data))
    else:
        raise HFBenchError(f"{target.name}: a data file must end in .json or .toml.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
