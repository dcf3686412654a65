"""``CapabilityProcessor``: runs one capability on a loaded model (registered per architecture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from hfbench.core.errors import MediaInputError, UnsupportedCapabilityError
from hfbench.pipelines.loader import LoadedModel
from hfbench.pipelines.media import MEDIA_SUFFIXES, MediaInput, MediaKind
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

    def prepare_inputs(self, inputs: list[MediaInput]) -> list[MediaInput]:
        """The inputs, checked; for a processor that takes no text, a text that is the path of an
        existing file is read as that file (by its type), so ``process(["clip.wav"], "asr")`` works.

        Raises:
            MediaInputError: an input of a kind this processor does not take (saying how to pass
                a file when the text looks like a path).
        """
        items = [self._as_file(item) for item in inputs]
        for item in items:
            if item.kind not in self.accepts:
                hint = ""
                if item.kind == "text" and Path(str(item.value)).suffix.lower() in MEDIA_SUFFIXES:
                    hint = (
                        f" There is no file {str(item.value)!r}; pass an existing path, or "
                        f"MediaInput.{self.accepts[0]}(...) for data in memory."
                    )
                raise MediaInputError(
                    f"{self.requested_capability} takes {' or '.join(self.accepts)} inputs, "
                    f"got {item.describe()}.{hint}"
                )
        return items

    def _as_file(self, item: MediaInput) -> MediaInput:
        if item.kind != "text" or "text" in self.accepts or not isinstance(item.value, str):
            return item
        if len(item.value) > 4096 or "\n" in item.value or not Path(item.value).expanduser().is_file():
            return item
        return MediaInput.from_file(item.value, prompt=item.prompt)

    def process(self, inputs: list[MediaInput], config: dict[str, Any]) -> list[ProcessResult]:
        """Run the capability on a batch of inputs; results come back in input order."""
        raise NotImplementedError

    def stream(self, item: MediaInput, config: dict[str, Any]) -> Iterator[str]:
        """Yield text pieces as they are generated (generative processors only)."""
        raise UnsupportedCapabilityError(
            f"{self.requested_capability} does not stream; call process() instead."
        )
