"""The speech runners' inputs: a seeded random subset of read English speech with transcripts.

The clips are the harness's speech-recognition eval set ``asterisk-en`` (Asterisk's English voice
prompts, Debian ``asterisk-core-sounds-en-wav``: one professional speaker, 8 kHz, with the
package's transcripts), drawn with a seed — the same draw the quality runs make — and resampled
once to Whisper's 16 kHz, so every runner gets the very same samples. The sample says which
items it holds and where they came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: The eval set the clips are drawn from.
CLIP_SOURCE = "asterisk-en"
#: The rate every runner gets the audio at.
SAMPLING_RATE_HZ = 16_000


@dataclass(frozen=True)
class ClipSample:
    """Audio for one comparison, with transcripts and where they came from.

    Attributes:
        audio: float32 mono arrays at ``SAMPLING_RATE_HZ``, in order.
        references: each clip's transcript.
        ids: each clip's eval-set item id.
        seed: the draw's seed.
        provenance: the eval set's provenance (package, version, licence …).
    """

    audio: list[Any]
    references: list[str]
    ids: list[str]
    seed: int
    provenance: dict[str, Any]

    @property
    def seconds(self) -> float:
        """Total audio, in seconds."""
        return sum(len(a) for a in self.audio) / SAMPLING_RATE_HZ

    def describe(self) -> dict[str, Any]:
        """For the comparison's settings: source, count, seconds, seed and package (not the audio)."""
        return {
            "source": CLIP_SOURCE,
            "count": len(self.audio),
            "seconds": round(self.seconds, 1),
            "seed": self.seed,
            "package": self.provenance.get("package"),
            "version": self.provenance.get("version"),
        }


def sample_clips(n: int, seed: int = 0) -> ClipSample:
    """``n`` seeded clips of ``asterisk-en`` at 16 kHz, with their transcripts.

    Raises:
        ConfigError: ``n`` is larger than the eval set.
        BenchmarkError: the recordings could not be fetched or read (the message says what to run).
    """
    import soundfile

    from hfbench.bench.quality import build_eval_set
    from hfbench.bench.quality.fetch import evaldata_dir
    from hfbench.core.errors import BenchmarkError
    from hfbench.pipelines.media import resample

    eval_set = build_eval_set(CLIP_SOURCE, n, seed)
    audio = []
    for item in eval_set.items:
        path = evaldata_dir() / str(item.inputs["audio_file"])
        try:
            samples, rate = soundfile.read(path, dtype="float32", always_2d=False)
        except (OSError, RuntimeError) as exc:
            raise BenchmarkError(
                f"Cannot read clip {item.id} ({path}): {exc}; rebuild the eval set: "
                f"build_eval_set({CLIP_SOURCE!r}, {n}, {seed}, rebuild=True)."
            ) from exc
        mono = samples.mean(axis=1) if samples.ndim == 2 else samples
        audio.append(resample(mono.astype("float32"), int(rate), SAMPLING_RATE_HZ))
    return ClipSample(
        audio=audio,
        references=[str(item.reference) for item in eval_set.items],
        ids=eval_set.ids,
        seed=seed,
        provenance=asdict(eval_set.provenance),
    )
