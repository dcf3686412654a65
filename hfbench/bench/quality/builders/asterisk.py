"""English voice prompts with transcripts: Asterisk's core sounds (Debian packages) for speech recognition.

``asterisk-core-sounds-en-wav`` holds the recordings (one speaker, Allison Smith; 8 kHz 16-bit
mono WAV under ``usr/share/asterisk/sounds/en_US_f_Allison/``); ``asterisk-core-sounds-en``
the transcripts, ``name: text`` per line in ``core-sounds-en.txt.gz``. The recordings are
extracted once into the raw cache (no dpkg needed); an item keeps the file's path relative to
``<hfbench cache>/evaldata`` as ``audio_file`` (the pipeline resamples to the model's rate).
Left out: entries that are only an annotation — tones ``[...]`` and silences ``(...)`` — and a
transcript with no recording; inline annotations (``at [@]``, ``(simple tone sound plays)``)
are removed from the reference. An item's id is the prompt's name (``vm-intro``, ``digits/7``).
"""

from __future__ import annotations

import gzip
import re

from hfbench.bench.quality.datasets import SourceData, register_eval_set
from hfbench.bench.quality.fetch import (
    PackageSpec,
    deb_root,
    evaldata_dir,
    fetch_package,
    package_version,
    read_member,
)
from hfbench.bench.quality.items import EvalItem

RECORDINGS = PackageSpec("debian", "asterisk-core-sounds-en-wav")
TRANSCRIPTS = PackageSpec("debian", "asterisk-core-sounds-en")
SOUNDS = "usr/share/asterisk/sounds/en_US_f_Allison"
TRANSCRIPT_FILE = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
#: An annotation: ``[...]`` or ``(...)``.
_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)")


def transcripts() -> dict[str, str]:
    """Prompt name -> transcript with annotations removed (empty when it was only an annotation)."""
    text = gzip.decompress(read_member(fetch_package(TRANSCRIPTS), TRANSCRIPT_FILE)).decode("utf-8")
    found = {}
    for line in text.splitlines():
        name, sep, spoken = line.partition(":")
        if sep and not line.startswith(";"):
            found[name.strip()] = re.sub(r"\s+", " ", _ANNOTATION.sub(" ", spoken)).strip()
    return found


@register_eval_set("asterisk-en", capability="speech-recognition", metric="wer")
def asterisk_en() -> SourceData:
    """Asterisk's English voice prompts (one professional speaker, 8 kHz) with their transcripts."""
    root = deb_root(RECORDINGS) / SOUNDS
    base = evaldata_dir()
    items = []
    for name, spoken in sorted(transcripts().items()):
        wav = root / f"{name}.wav"
        if spoken and wav.is_file():
            items.append(EvalItem(name, {"audio_file": str(wav.relative_to(base))}, spoken))
    return SourceData(
        items=items,
        package=f"{RECORDINGS.name} + {TRANSCRIPTS.name}",
        version=package_version(RECORDINGS),
        registry=RECORDINGS.registry,
        archive=f"{fetch_package(RECORDINGS).name} + {fetch_package(TRANSCRIPTS).name}",
        files=(SOUNDS + "/**.wav", TRANSCRIPT_FILE),
        licence="CC-BY-SA-3.0 (Allison Smith, Digium)",
        source="Asterisk core sound prompts, English, female voice (Allison Smith)",
    )
