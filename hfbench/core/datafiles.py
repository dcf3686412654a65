"""Read the package's own data files (TOML/JSON under ``hfbench/*/data``)."""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_package_toml(name: str, package: str = "hfbench.core") -> dict[str, Any]:
    """Parse ``<package>/data/<name>`` as TOML."""
    text = resources.files(package).joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def read_package_json(name: str, package: str = "hfbench.core") -> Any:
    """Parse ``<package>/data/<name>`` as JSON."""
    text = resources.files(package).joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)
