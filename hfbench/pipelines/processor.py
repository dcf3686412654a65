"""``CapabilityProcessor``: runs one capability on a loaded model (registered per architecture)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from hfbench.core.errors import MediaInputError, UnsupportedCapabilityError
from hfbench.pipelines.loader import LoadedModel
from hfbench.pipelines.media import MediaInput, MediaKind
from hfbench.pipelines.results import ProcessResult


class CapabilityProcessor:
    """Runs one capability on a loaded model. Subclasses register with ``@register_processor``.

    Attributes:
        capability: set by the registration decorator.
        accepts: the input kinds it takes.
        streams: whether ``stream`` is implemented.
    """

    capability: ClassVar[str] = ""
    accepts: ClassVar[tuple[MediaKind, ...]] = ("text",)
    streams: ClassVar[bool] = False

    def __init__(self, loaded: LoadedModel, capability: str | None = None) -> None:
        self.loaded = loaded
        self.requested_capability = capability or self.capability

    @property
    def model(self) -> Any:
        """The loaded model."""
        return self.loaded.model

    @property
    def tokenizer(self) -> Any:
        """The loaded tokenizer (may be None for vision models)."""
        return self.loaded.tokenizer

    @property
    def processor(self) -> Any:
        """The loaded image processor / feature extractor / processor (may be None)."""
        return self.loaded.processor

    def check_inputs(self, inputs: list[MediaInput]) -> None:
        """Raise ``MediaInputError`` for an input kind this processor does not take."""
        for item in inputs:
            if item.kind not in self.accepts:
                raise MediaInputError(
                    f"{self.requested_capability} takes {' or '.join(self.accepts)} inputs, "
                    f"got {item.describe()}."
                )

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Run the capability on a batch of inputs; results come back in input order."""
        raise NotImplementedError

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Yield text pieces as they are generated (generative processors only)."""
        raise UnsupportedCapabilityError(
            f"{self.requested_capability} does not stream; call process() instead."
        )
