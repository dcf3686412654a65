"""Lee et al. (2005) document similarity, from the ``gensim`` 4.4.0 wheel's test data.

``lee.cor`` holds 50 short ABC news documents (one per line, Latin-1); ``similarities0-1.txt``
the 50x50 matrix of mean human similarity judgements in [0, 1] (upper triangle filled). Each of
the 1,225 document pairs ``i < j`` is an item ``lee-<i>-<j>`` (0-based line numbers) whose
reference is the human score; a model is scored by the Spearman correlation between its
cosine similarities and those scores.
"""

from __future__ import annotations

from hfbench.bench.quality.datasets import SourceData, register_eval_set
from hfbench.bench.quality.fetch import PackageSpec, fetch_package, read_member
from hfbench.bench.quality.items import EvalItem

#: One fixed wheel (the data files are the same in every wheel), whatever this machine is.
GENSIM = PackageSpec(
    "pypi",
    "gensim",
    "4.4.0",
    client_args=(
        "--only-binary",
        ":all:",
        "--platform",
        "manylinux_2_28_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
    ),
)
DOCUMENTS = "gensim/test/test_data/lee.cor"
SIMILARITIES = "gensim/test/test_data/similarities0-1.txt"


@register_eval_set("lee-similarity", capability="embeddings", metric="spearman")
def lee_similarity() -> SourceData:
    """Pairs of news documents with human similarity scores (Lee et al., 2005), 1,225 pairs."""
    archive = fetch_package(GENSIM)
    documents = read_member(archive, DOCUMENTS).decode("latin-1").splitlines()
    rows = [
        [float(x) for x in line.split()]
        for line in read_member(archive, SIMILARITIES).decode("ascii").splitlines()
        if line.strip()
    ]
    items = [
        EvalItem(f"lee-{i}-{j}", {"text_a": documents[i].strip(), "text_b": documents[j].strip()}, rows[i][j])
        for i in range(len(documents))
        for j in range(i + 1, len(documents))
    ]
    return SourceData(
        items=items,
        package=GENSIM.name,
        version=str(GENSIM.version),
        registry=GENSIM.registry,
        archive=archive.name,
        files=(DOCUMENTS, SIMILARITIES),
        licence="gensim package LGPL-2.1; documents ABC news, judgements Lee, Pincombe & Welsh (2005)",
        source="Lee, Pincombe & Welsh (2005): 50 documents, 1,225 pairs, mean of ~10 human ratings each",
    )
