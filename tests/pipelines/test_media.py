"""MediaInput validation: files, types, numpy shapes, channels, integer PCM and resampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from hfbench.core.errors import MediaInputError
from hfbench.pipelines.media import MediaInput, as_media_inputs, resample
from hfbench.testing import synthetic_audio, synthetic_image

# ---- images ----------------------------------------------------------------------------------


def test_image_from_png_file_is_rgb_and_remembers_its_source(tmp_path: Path) -> None:
    path = tmp_path / "grey.png"
    Image.new("L", (12, 8), color=100).save(path)
    item = MediaInput.image(path, prompt="what is it?")
    assert item.kind == "image"
    assert item.as_image().mode == "RGB"
    assert item.as_image().size == (12, 8)
    assert item.source == str(path)
    assert item.prompt == "what is it?"


def test_missing_image_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(MediaInputError, match="not found") as err:
        MediaInput.image(missing)
    assert "nope.png" in str(err.value)


def test_unreadable_image_file_is_a_media_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_text("this is not a png")
    with pytest.raises(MediaInputError, match=r"Cannot read .* as an image"):
        MediaInput.image(path)


@pytest.mark.parametrize("value", [42, 3.5, b"bytes", ["list"]])
def test_image_of_the_wrong_type_is_refused(value: object) -> None:
    with pytest.raises(MediaInputError, match="path, a PIL image or a numpy array"):
        MediaInput.image(value)


def test_pil_image_in_another_mode_becomes_rgb() -> None:
    item = MediaInput.image(Image.new("RGBA", (5, 4), (10, 20, 30, 40)))
    assert item.as_image().mode == "RGB"
    assert item.as_image().getpixel((0, 0)) == (10, 20, 30)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((6, 7), np.uint8),
        ((6, 7, 1), np.uint8),
        ((6, 7, 3), np.uint8),
        ((6, 7, 4), np.uint8),
        ((6, 7, 3), np.float32),
    ],
)
def test_numpy_images_of_the_accepted_shapes_become_rgb(shape: tuple[int, ...], dtype: type) -> None:
    array: np.ndarray = np.full(shape, 0.5 if dtype is np.float32 else 128, dtype=dtype)
    image = MediaInput.image(array).as_image()
    assert image.mode == "RGB"
    assert image.size == (7, 6)  # PIL sizes are width × height
    assert image.getpixel((0, 0)) == (128, 128, 128)


@pytest.mark.parametrize("shape", [(3, 16, 16), (6, 7, 2), (6,), (2, 6, 7, 3)])
def test_numpy_images_of_other_shapes_are_refused_with_the_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(MediaInputError, match="H×W") as err:
        MediaInput.image(np.zeros(shape, dtype=np.uint8))
    assert str(shape) in str(err.value)


def test_float_image_outside_unit_range_is_refused() -> None:
    with pytest.raises(MediaInputError, match=r"\[0, 1\]"):
        MediaInput.image(np.full((4, 4, 3), 2.0, dtype=np.float32))


# ---- audio -----------------------------------------------------------------------------------


def test_audio_from_wav_file_keeps_its_rate(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    sf.write(path, synthetic_audio(0.5, sampling_rate=8000), 8000)
    item = MediaInput.audio(path)
    assert item.kind == "audio"
    assert item.sampling_rate == 8000
    assert item.as_audio().dtype == np.float32
    assert item.as_audio().shape == (4000,)
    assert item.source == str(path)


def test_stereo_wav_file_is_averaged_to_mono(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    frames = np.stack([np.full(100, 0.5), np.full(100, -0.25)], axis=1)
    sf.write(path, frames, 16000, subtype="FLOAT")
    samples = MediaInput.audio(path).as_audio()
    assert samples.shape == (100,)
    assert np.allclose(samples, 0.125)


def test_missing_audio_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="Audio file not found") as err:
        MediaInput.audio(tmp_path / "gone.wav")
    assert "gone.wav" in str(err.value)


def test_unreadable_audio_file_is_a_media_error(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(b"RIFF but not really a wave file")
    with pytest.raises(MediaInputError, match=r"Cannot read .* as audio"):
        MediaInput.audio(path)


def test_file_rate_that_contradicts_the_given_rate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    sf.write(path, synthetic_audio(0.1), 16000)
    with pytest.raises(MediaInputError, match="16000 Hz but sampling_rate=8000"):
        MediaInput.audio(path, sampling_rate=8000)


@pytest.mark.parametrize("value", [[0.1, 0.2], 1.0, {"samples": []}])
def test_audio_of_the_wrong_type_is_refused(value: object) -> None:
    with pytest.raises(MediaInputError, match="file path or a numpy array"):
        MediaInput.audio(value, sampling_rate=16000)


def test_numpy_audio_needs_its_sampling_rate() -> None:
    with pytest.raises(MediaInputError, match="need their sampling_rate"):
        MediaInput.audio(np.zeros(10, dtype=np.float32))


@pytest.mark.parametrize("rate", [0, -16000, 16000.0, True])
def test_sampling_rate_must_be_a_positive_int(rate: object) -> None:
    with pytest.raises(MediaInputError, match="positive int"):
        MediaInput.audio(np.zeros(10, dtype=np.float32), sampling_rate=rate)  # type: ignore[arg-type]


def test_numpy_integer_sampling_rate_is_accepted() -> None:
    item = MediaInput.audio(np.zeros(10, dtype=np.float32), sampling_rate=np.int64(22050))  # type: ignore[arg-type]
    assert item.sampling_rate == 22050
    assert type(item.sampling_rate) is int


@pytest.mark.parametrize("layout", ["frames_by_channels", "channels_by_frames"])
def test_two_channel_arrays_become_mono_either_way_round(layout: str) -> None:
    left, right = np.full(50, 0.4), np.full(50, 0.2)
    array = np.stack([left, right], axis=1 if layout == "frames_by_channels" else 0)
    samples = MediaInput.audio(array, sampling_rate=16000).as_audio()
    assert samples.shape == (50,)
    assert np.allclose(samples, 0.3)


@pytest.mark.parametrize("shape", [(0,), (2, 3, 4)])
def test_empty_or_three_dimensional_audio_is_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(MediaInputError, match="non-empty 1-D or 2-D"):
        MediaInput.audio(np.zeros(shape, dtype=np.float32), sampling_rate=16000)


def test_float64_audio_becomes_float32() -> None:
    samples = MediaInput.audio(np.linspace(-1, 1, 11), sampling_rate=16000).as_audio()
    assert samples.dtype == np.float32


def test_int16_pcm_is_scaled_to_unit_range() -> None:
    pcm = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    samples = MediaInput.audio(pcm, sampling_rate=16000).as_audio()
    assert samples.dtype == np.float32
    assert np.allclose(samples, [0.0, 0.5, -1.0, 32767 / 32768])


def test_uint8_pcm_is_centred_on_zero() -> None:
    samples = MediaInput.audio(np.array([128, 255, 0], dtype=np.uint8), sampling_rate=8000).as_audio()
    assert np.allclose(samples, [0.0, 127 / 128, -1.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_audio_is_refused(bad: float) -> None:
    samples = np.zeros(10, dtype=np.float32)
    samples[3] = bad
    with pytest.raises(MediaInputError, match="finite"):
        MediaInput.audio(samples, sampling_rate=16000)


def test_non_numeric_audio_is_refused() -> None:
    with pytest.raises(MediaInputError, match="integers or floats"):
        MediaInput.audio(np.array(["a", "b"]), sampling_rate=16000)


# ---- resampling ------------------------------------------------------------------------------


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(("source", "target"), [(44100, 16000), (8000, 16000), (48000, 16000)])
def test_resampling_keeps_duration_and_pitch(source: int, target: int) -> None:
    t = np.arange(source) / source  # one second
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = resample(tone, source, target)
    assert out.dtype == np.float32
    assert abs(len(out) - target) <= 1
    assert abs(_dominant_hz(out, target) - 440) <= 2


def test_resampling_to_the_same_rate_returns_the_samples() -> None:
    samples = synthetic_audio(0.1)
    assert resample(samples, 16000, 16000) is samples


# ---- kinds -----------------------------------------------------------------------------------


def test_reading_an_input_as_another_kind_is_a_media_error() -> None:
    image = MediaInput.image(synthetic_image())
    with pytest.raises(MediaInputError, match=r"Expected .*audio input, got image 32x32"):
        image.as_audio()
    with pytest.raises(MediaInputError, match=r"Expected .*image input, got text"):
        MediaInput.text("hello").as_image()


def test_coercion_takes_strings_and_pil_images_but_not_bare_arrays() -> None:
    items = as_media_inputs(["hello", synthetic_image()])
    assert [i.kind for i in items] == ["text", "image"]
    with pytest.raises(MediaInputError, match=r"MediaInput\.image"):
        as_media_inputs([np.zeros(4)])
