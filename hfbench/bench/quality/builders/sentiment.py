"""UCI Sentiment Labelled Sentences (Kotzias et al., 2015) from the npm package ``sentiment`` 5.0.2.

The package tests itself on three files of 1,000 sentences each (500 positive, 500 negative):
IMDB, Yelp and Amazon reviews, as ``[{"text", "class": 0 | 1}]`` with one empty trailing entry,
which is dropped.
"""

from __future__ import annotations

import json

from hfbench.bench.quality.datasets import SourceData, register_eval_set
from hfbench.bench.quality.fetch import PackageSpec, fetch_package, read_member
from hfbench.bench.quality.items import EvalItem

SENTIMENT = PackageSpec("npm", "sentiment", "5.0.2")
#: The three review sources, in the order their items are listed.
SITES = ("imdb", "yelp", "amazon")
#: ``class`` value -> label.
LABELS = {0: "negative", 1: "positive"}


@register_eval_set("uci-sentiment", capability="text-classification", metric="accuracy")
def uci_sentiment() -> SourceData:
    """Review sentences labelled positive or negative (IMDB, Yelp, Amazon; 3,000 in all)."""
    archive = fetch_package(SENTIMENT)
    items = []
    files = []
    for site in SITES:
        member = f"package/test/fixtures/{site}.json"
        files.append(member)
        for index, row in enumerate(json.loads(read_member(archive, member))):
            text = (row.get("text") or "").strip()
            if text and row.get("class") in LABELS:
                items.append(EvalItem(f"{site}-{index}", {"text": text, "site": site}, LABELS[row["class"]]))
    return SourceData(
        items=items,
        package=SENTIMENT.name,
        version=str(SENTIMENT.version),
        registry=SENTIMENT.registry,
        archive=archive.name,
        files=tuple(files),
        licence="CC BY 4.0 (UCI Sentiment Labelled Sentences); package MIT",
        source="UCI Sentiment Labelled Sentences (Kotzias et al., 2015), 1,000 per site, balanced",
        labels=("negative", "positive"),
    )
