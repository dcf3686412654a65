"""The built-in eval sets; importing this package registers them (one module per data source)."""

from hfbench.bench.quality.builders import (
    asterisk,
    bigbench,
    brown,
    chat,
    digits,
    lee,
    sentiment,
    udhr,
)

__all__ = ["asterisk", "bigbench", "brown", "chat", "digits", "lee", "sentiment", "udhr"]
