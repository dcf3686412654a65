"""Served workloads: which endpoint a benchmark drives, and with how many output tokens.

A served workload is an endpoint (chat completions or completions) with a fixed output length.
``hfbench run --endpoint URL`` measures one (``chat`` unless ``--capability text-generation``).
With a suite (``--suite quick --endpoint URL``), the suite's *generative text* cells decide the
workloads: ``text-generation`` cells drive completions, every other one (chat, summarization,
translation, question answering, general) chat completions, each with the cell's ``speed_tokens``
(the same fixed decode length the local cell measures). The suite's models are not used — the
server decides the model — and cells of other capabilities (embeddings, speech, classification
by a head) have no served workload; ``served_workloads`` lists what it left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hfbench.bench.workloads import DEFAULT_SPEED_TOKENS

#: A suite cell's capability -> the capability (endpoint) its served workload drives.
SERVED_WORKLOAD_OF: dict[str, str] = {
    "text-generation": "text-generation",
    "chat": "chat",
    "summarization": "chat",
    "translation": "chat",
    "question-answering": "chat",
    "general": "chat",
}


@dataclass(frozen=True)
class ServedWorkload:
    """An endpoint to drive and the answers' length.

    Attributes:
        capability: ``chat`` (chat completions) or ``text-generation`` (completions).
        output_tokens: new tokens per answer.
        from_cells: the suite cells it stands for (``model · capability``), for messages.
    """

    capability: str
    output_tokens: int
    from_cells: tuple[str, ...] = ()


def served_workloads(suite: Any) -> tuple[list[ServedWorkload], list[str]]:
    """A suite's served workloads (one per endpoint and output length, in suite order) and the
    cells left out (no served workload).

    Args:
        suite: a ``hfbench.bench.Suite``.
    """
    found: dict[tuple[str, int], list[str]] = {}
    left_out: list[str] = []
    for cell in suite.cells():
        capability = SERVED_WORKLOAD_OF.get(cell.capability)
        if capability is None:
            left_out.append(f"{cell.label()} (no served workload for {cell.capability})")
            continue
        tokens = int(cell.settings.get("speed_tokens") or DEFAULT_SPEED_TOKENS)
        found.setdefault((capability, tokens), []).append(cell.label())
    workloads = [ServedWorkload(c, t, tuple(cells)) for (c, t), cells in found.items()]
    return workloads, left_out
