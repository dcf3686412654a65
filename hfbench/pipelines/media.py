"""``MediaInput``: one text, image or audio input, validated when it is made."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hfbench.core.errors import MediaInputError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

MediaKind = Literal["text", "image", "audio"]

#: File suffixes read as images or audio when a path is given as media (by file type).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".ppm"})
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au"})
MEDIA_SUFFIXES = IMAGE_SUFFIXES | AUDIO_SUFFIXES


@dataclass(frozen=True)
class MediaInput:
    """One input to a pipeline.

    Build one with ``MediaInput.text(...)``, ``MediaInput.image(...)`` or
    ``MediaInput.audio(...)``; read it back with ``as_text()``, ``as_image()``, ``as_audio()``.

    Attributes:
        kind: ``text``, ``image`` or ``audio``.
        value: the str, RGB ``PIL.Image`` or mono float32 numpy samples.
        prompt: a question or instruction that goes with an image or audio input.
        context: the passage a text question is about (extractive question answering).
        sampling_rate: the samples' rate in Hz (audio only).
        source: the file it was read from, if any.
        history: earlier chat turns as ``(role, content)`` pairs, oldest first (``role`` is
            ``user`` or ``assistant``); the text is the user's next turn. Read by chat only.
    """

    kind: MediaKind
    value: Any
    prompt: str | None = None
    context: str | None = None
    sampling_rate: int | None = None
    source: str | None = None
    history: tuple[tuple[str, str], ...] = ()

    @classmethod
    def text(
        cls, value: str, *, context: str | None = None, history: Sequence[tuple[str, str]] = ()
    ) -> MediaInput:
        """A text input (``context``: the passage for extractive question answering; ``history``:
        earlier chat turns, ``(role, content)`` with role ``user`` or ``assistant``)."""
        if not isinstance(value, str):
            raise MediaInputError(f"A text input must be a str, got {type(value).__name__}.")
        if context is not None and not isinstance(context, str):
            raise MediaInputError(f"context must be a str, got {type(context).__name__}.")
        turns = tuple((str(role), content) for role, content in history)
        for role, content in turns:
            if role not in ("user", "assistant") or not isinstance(content, str):
                raise MediaInputError(
                    f"history turns are ('user' | 'assistant', text) pairs, got {(role, content)!r}."
                )
        return cls(kind="text", value=value, context=context, history=turns)

    @classmethod
    def image(cls, value: Any, *, prompt: str | None = None) -> MediaInput:
        """An image from a path, a ``PIL.Image`` or a numpy array (H×W×C, uint8 or [0, 1] floats).

        Raises:
            MediaInputError: a missing or unreadable file, or a value of the wrong type/shape.
        """
        image, source = _load_image(value)
        return cls(kind="image", value=image, prompt=prompt, source=source)

    @classmethod
    def audio(cls, value: Any, *, sampling_rate: int | None = None, prompt: str | None = None) -> MediaInput:
        """Audio from a path (wav/flac/ogg) or a 1-D/2-D numpy array with its ``sampling_rate``.

        Multi-channel audio is averaged to mono; samples become float32 (integer PCM, e.g.
        int16, is scaled to [-1, 1)).

        Raises:
            MediaInputError: a missing or unreadable file, a missing rate, or a wrong type.
        """
        samples, rate, source = _load_audio(value, sampling_rate)
        return cls(kind="audio", value=samples, sampling_rate=rate, prompt=prompt, source=source)

    @classmethod
    def coerce(cls, value: Any) -> MediaInput:
        """Turn what a user passes (str, PIL image, ``MediaInput``) into a ``MediaInput``.

        Plain strings count as text; numpy arrays are ambiguous, so wrap them explicitly.
        """
        if isinstance(value, MediaInput):
            return value
        if isinstance(value, str):
            return cls.text(value)
        from PIL import Image

        if isinstance(value, Image.Image):
            return cls.image(value)
        raise MediaInputError(
            f"Cannot use a {type(value).__name__} as an input; pass a str (text), a PIL image, or "
            "MediaInput.image(...)/MediaInput.audio(..., sampling_rate=...)."
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, prompt: str | None = None) -> MediaInput:
        """An image or audio input from a file, by its type (suffix, else its content).

        Raises:
            MediaInputError: a missing file, or one that is neither a readable image nor audio.
        """
        file = Path(path).expanduser()
        if not file.is_file():
            raise MediaInputError(f"Media file not found: {file}")
        suffix = file.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            return cls.image(file, prompt=prompt)
        if suffix in AUDIO_SUFFIXES:
            return cls.audio(file, prompt=prompt)
        for make in (cls.image, cls.audio):
            try:
                return make(file, prompt=prompt)
            except MediaInputError:
                continue
        raise MediaInputError(
            f"{file} is neither an image ({', '.join(sorted(IMAGE_SUFFIXES))}) nor audio "
            f"({', '.join(sorted(AUDIO_SUFFIXES))}) that can be read."
        )

    @classmethod
    def media(cls, value: Any) -> MediaInput:
        """An image or audio input from what a user passes as media: a file path (by its type),
        a PIL image, or a ``MediaInput`` of kind image/audio.

        Raises:
            MediaInputError: text, a missing or unreadable file, or a value that is not media.
        """
        if isinstance(value, MediaInput):
            if value.kind == "text":
                raise MediaInputError(
                    f"media must be an image or audio, got {value.describe()}; put text in the prompt."
                )
            return value
        if isinstance(value, (str, os.PathLike)):
            if not Path(value).expanduser().is_file():
                raise MediaInputError(
                    f"media must be an image or audio file path, a PIL image or a MediaInput; "
                    f"{_shorten(str(value))!r} is not a file (text belongs in the prompt)."
                )
            return cls.from_file(value)
        from PIL import Image

        if isinstance(value, Image.Image):
            return cls.image(value)
        raise MediaInputError(
            f"Cannot use a {type(value).__name__} as media; pass a file path, a PIL image, "
            "MediaInput.image(...) or MediaInput.audio(samples, sampling_rate=...)."
        )

    def as_text(self) -> str:
        """The text of a text input."""
        self._expect("text")
        return str(self.value)

    def as_image(self) -> Image.Image:
        """The RGB image of an image input."""
        self._expect("image")
        image: Image.Image = self.value
        return image

    def as_audio(self) -> np.ndarray:
        """The mono float32 samples of an audio input."""
        self._expect("audio")
        samples: np.ndarray = self.value
        return samples

    def _expect(self, kind: MediaKind) -> None:
        if self.kind != kind:
            raise MediaInputError(f"Expected a {kind} input, got {self.describe()}.")

    def describe(self) -> str:
        """A short description for error messages and logs."""
        if self.kind == "text":
            return f"text {_shorten(str(self.value))!r}"
        if self.kind == "image":
            w, h = self.value.size
            return f"image {w}x{h}" + (f" from {self.source}" if self.source else "")
        seconds = len(self.value) / (self.sampling_rate or 1)
        return f"audio {seconds:.2f} s at {self.sampling_rate} Hz"


def _shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_media_inputs(inputs: Any) -> list[MediaInput]:
    """Coerce one input or a list of inputs into a list of ``MediaInput``."""
    if isinstance(inputs, (str, MediaInput)) or not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    return [MediaInput.coerce(item) for item in inputs]


def _load_image(value: Any) -> tuple[Image.Image, str | None]:
    from PIL import Image, UnidentifiedImageError

    if isinstance(value, Image.Image):
        return value.convert("RGB"), None
    if isinstance(value, (str, os.PathLike)):
        path = Path(value).expanduser()
        if not path.is_file():
            raise MediaInputError(f"Image file not found: {path}")
        try:
            with Image.open(path) as img:
                return img.convert("RGB"), str(path)
        except (UnidentifiedImageError, OSError) as exc:
            raise MediaInputError(f"Cannot read {path} as an image: {exc}") from None
    import numpy as np

    if isinstance(value, np.ndarray):
        array = value
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
            raise MediaInputError(
                f"An image array must be H×W, H×W×1, H×W×3 or H×W×4, got shape {value.shape}."
            )
        if array.shape[-1] == 1:
            array = np.repeat(array, 3, axis=-1)
        if np.issubdtype(array.dtype, np.floating):
            if array.min() < 0 or array.max() > 1:
                raise MediaInputError("A float image array must hold values in [0, 1].")
            array = (array * 255).round()
        return Image.fromarray(array.astype(np.uint8)).convert("RGB"), None
    raise MediaInputError(
        f"An image must be a path, a PIL image or a numpy array, got {type(value).__name__}."
    )


def _load_audio(value: Any, sampling_rate: int | None) -> tuple[np.ndarray, int, str | None]:
    import numpy as np

    source = None
    if isinstance(value, (str, os.PathLike)):
        path = Path(value).expanduser()
        if not path.is_file():
            raise MediaInputError(f"Audio file not found: {path}")
        import soundfile as sf

        try:
            samples, file_rate = sf.read(str(path), dtype="float32", always_2d=False)
        except Exception as exc:  # soundfile raises its own LibsndfileError and RuntimeError
            raise MediaInputError(f"Cannot read {path} as audio (wav/flac/ogg): {exc}") from None
        if sampling_rate is not None and sampling_rate != file_rate:
            raise MediaInputError(
                f"{path} is sampled at {file_rate} Hz but sampling_rate={sampling_rate} was given; "
                "leave sampling_rate out for files."
            )
        sampling_rate, source, array = int(file_rate), str(path), np.asarray(samples)
    elif isinstance(value, np.ndarray):
        if sampling_rate is None:
            raise MediaInputError("Audio samples need their sampling_rate (e.g. 16000).")
        array = _pcm_to_float(value)
    else:
        raise MediaInputError(f"Audio must be a file path or a numpy array, got {type(value).__name__}.")
    if isinstance(sampling_rate, np.integer):
        sampling_rate = int(sampling_rate)
    if not isinstance(sampling_rate, int) or isinstance(sampling_rate, bool) or sampling_rate <= 0:
        raise MediaInputError(f"sampling_rate must be a positive int, got {sampling_rate!r}.")
    if array.ndim == 2:
        # soundfile gives frames × channels; a channels-first array is the other way round.
        array = array.mean(axis=1) if array.shape[0] > array.shape[1] else array.mean(axis=0)
    if array.ndim != 1 or array.size == 0:
        raise MediaInputError(f"Audio must be a non-empty 1-D or 2-D array, got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise MediaInputError("Audio samples must be finite numbers; found NaN or infinity.")
    return array.astype(np.float32, copy=False), sampling_rate, source


def _pcm_to_float(array: np.ndarray) -> np.ndarray:
    """Integer PCM samples scaled to [-1, 1) (int16 / 32768, uint8 centred on 128); floats as they are."""
    import numpy as np

    if np.issubdtype(array.dtype, np.integer):
        half = float(2 ** (8 * array.dtype.itemsize - 1))
        offset = half if np.issubdtype(array.dtype, np.unsignedinteger) else 0.0
        return (array.astype(np.float64) - offset) / half
    if not np.issubdtype(array.dtype, np.floating):
        raise MediaInputError(f"Audio samples must be integers or floats, got dtype {array.dtype}.")
    return array


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono audio with a polyphase filter (scipy); unchanged when the rates match."""
    if from_rate == to_rate:
        return samples
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(from_rate, to_rate)
    out: np.ndarray = resample_poly(samples, to_rate // g, from_rate // g).astype("float32")
    return out
