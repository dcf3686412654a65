"""Handwritten digits (8x8 grey images, 10 classes) from scikit-learn's own package data.

``sklearn.datasets.load_digits`` reads ``sklearn/datasets/data/digits.csv.gz`` from the installed
scikit-learn (a dependency of hfbench), so nothing is downloaded. An item keeps the 64 pixel
values (0-16); the image task scales them to 0-255 and enlarges the image.
"""

from __future__ import annotations

from hfbench.bench.quality.datasets import SourceData, register_eval_set
from hfbench.bench.quality.items import EvalItem

LABELS = tuple(str(d) for d in range(10))


@register_eval_set("sklearn-digits", capability="image-classification", metric="accuracy")
def sklearn_digits() -> SourceData:
    """UCI handwritten digits as shipped in scikit-learn (1,797 images, 8x8, labels 0-9)."""
    import sklearn
    from sklearn.datasets import load_digits

    digits = load_digits()
    items = [
        EvalItem(f"digits-{i}", {"pixels": [int(v) for v in row]}, str(int(target)))
        for i, (row, target) in enumerate(zip(digits.data, digits.target, strict=True))
    ]
    return SourceData(
        items=items,
        package="scikit-learn",
        version=sklearn.__version__,
        registry="pypi",
        files=("sklearn/datasets/data/digits.csv.gz",),
        licence="BSD-3-Clause (scikit-learn); data: UCI Optical Recognition of Handwritten Digits, CC BY 4.0",
        source="UCI Optical Recognition of Handwritten Digits test part (Alpaydin & Kaynak, 1998)",
        labels=LABELS,
    )
