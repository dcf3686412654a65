"""Whisper's English text normaliser, for word error rates that compare like with like.

``transformers`` ships the normaliser's code (``EnglishTextNormalizer``: case, punctuation,
numbers written as digits, "mister" for "Mr") but not its British-to-American spelling map,
``english.json``, which comes from the ``openai-whisper`` source distribution on PyPI (MIT): it
is fetched once into the raw cache and read from there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

from hfbench.bench.quality.fetch import PackageSpec, package_member

WHISPER = PackageSpec("pypi", "openai-whisper", "20250625", client_args=("--no-binary", ":all:"))
SPELLING_MAP = "openai_whisper-20250625/whisper/normalizers/english.json"


def spelling_map() -> dict[str, str]:
    """Whisper's British -> American spelling map (1,700-odd entries).

    Raises:
        BenchmarkError: the ``openai-whisper`` sdist could not be downloaded.
    """
    data: dict[str, str] = json.loads(package_member(WHISPER, SPELLING_MAP).read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def english_normalizer() -> Callable[[str], str]:
    """Whisper's ``EnglishTextNormalizer`` with its spelling map: text -> normalised text.

    Example:
        >>> english_normalizer()("Mr. Smith likes the colour grey. Press two!")
        'mister smith likes the color gray press 2'
    """
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    normalizer: Callable[[str], str] = EnglishTextNormalizer(spelling_map())
    return normalizer
