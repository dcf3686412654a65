"""The overview table of the embedded models: what they are, where from, and whether they are ready."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hfbench.sources.embedded.catalog import embedded_catalog
from hfbench.sources.embedded.packages import is_installed
from hfbench.sources.embedded.prepare import converted_folder

if TYPE_CHECKING:
    import pandas as pd


def embedded_models() -> pd.DataFrame:
    """A table of the embedded models (looks only: nothing is converted or downloaded).

    Columns: name, hub_id, architecture, capabilities, params, format_on_disk, source_package,
    license, local_folder (None until prepared), installed (every pip-installed package present;
    packages fetched as a wheel or sdist at preparation count as present).
    """
    import pandas as pd

    rows = []
    for model in embedded_catalog():
        folder = converted_folder(model)
        rows.append(
            {
                "name": model.name,
                "hub_id": model.hub_id,
                "architecture": model.architecture.value,
                "capabilities": ", ".join(model.capabilities),
                "params": model.params,
                "format_on_disk": model.format_on_disk,
                "source_package": ", ".join(
                    p.requirement + (f" ({p.delivery} only)" if p.is_downloaded else "")
                    for p in model.packages
                ),
                "license": model.license,
                "local_folder": str(folder) if folder else None,
                "installed": is_installed(model),
            }
        )
    return pd.DataFrame(rows)
