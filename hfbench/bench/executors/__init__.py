"""Executors: where a cell runs. Registered by name (``@register_executor``); the driver alone
appends the records they yield to the store.

- ``local`` (default): each cell in its own child process, so a segfault, an out-of-memory kill
  or a timeout ends that cell (recorded, with its reason) and not the run;
- ``inline`` (``--no-isolation``): in the driver's process, for debugging;
- ``ray`` (``--executor ray [--address ...]``): a Ray task per cell on a cluster, placed by the
  resources the cell needs (extra ``ray``).
"""

from hfbench.bench.executors.base import (
    CellRunner,
    Executor,
    ProgressCallback,
    executor_class,
    executor_names,
    register_executor,
)

__all__ = [
    "CellRunner",
    "Executor",
    "ProgressCallback",
    "executor_class",
    "executor_names",
    "register_executor",
]
