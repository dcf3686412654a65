"""Synthetic test media: a deterministic image and a deterministic audio clip, no downloads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image


def synthetic_image(size: tuple[int, int] = (32, 32), seed: int = 0) -> Image.Image:
    """An RGB ``PIL.Image`` of ``size`` (width, height): colour gradients, a disc and light noise.

    The same ``size`` and ``seed`` always give the same pixels.
    """
    from PIL import Image

    width, height = size
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u = xs / max(width - 1, 1)
    v = ys / max(height - 1, 1)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    red = 0.5 + 0.5 * np.sin(2 * np.pi * u + phase[0])
    green = 0.5 + 0.5 * np.sin(2 * np.pi * v + phase[1])
    blue = 0.5 + 0.5 * np.sin(2 * np.pi * (u + v) + phase[2])
    pixels = np.stack([red, green, blue], axis=-1)
    cx, cy = rng.uniform(0.3, 0.7, size=2)
    disc = (u - cx) ** 2 + (v - cy) ** 2 < 0.05
    pixels[disc] = rng.uniform(0, 1, size=3)
    pixels += rng.normal(0, 0.03, size=pixels.shape)
    data = (np.clip(pixels, 0, 1) * 255).astype(np.uint8)
    return Image.fromarray(data)


def synthetic_audio(seconds: float = 1.0, sampling_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """A mono float32 waveform in [-1, 1]: a rising chirp (200 Hz to 2 kHz) with a little noise.

    The same arguments always give the same samples.
    """
    n = max(round(seconds * sampling_rate), 1)
    t = np.arange(n, dtype=np.float64) / sampling_rate
    duration = max(seconds, 1.0 / sampling_rate)
    f0, f1 = 200.0, 2000.0
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * duration))
    envelope = np.minimum(1.0, np.minimum(t, duration - t) * 20 + 0.05)
    rng = np.random.default_rng(seed)
    wave = 0.5 * envelope * np.sin(phase) + rng.normal(0, 0.01, size=n)
    return np.clip(wave, -1.0, 1.0).astype(np.float32)
