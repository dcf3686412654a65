"""Tokenizers for the tiny-model zoo, trained offline in milliseconds on a small built-in corpus.

Each ``train_*`` function returns a ``transformers`` tokenizer of the class the real model family
uses (``LlamaTokenizer``, ``GPT2Tokenizer``, ``BertTokenizer``, ...), so saving and reloading it
with ``AutoTokenizer`` rebuilds exactly the same pipeline.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

CORPUS = """\
The quick brown fox jumps over the lazy dog. A small model can still tell a story, even if the \
story makes no sense at all! Every benchmark starts with a question: which model should I run for \
this job, on this machine, and how good and how fast will it be?

Large language models read text as tokens. A tokenizer splits a sentence into pieces, turns each \
piece into a number, and the model predicts the next number. Latency is the time to the first \
token; throughput is the number of tokens per second. Memory grows with the batch size, the \
sequence length and the precision of the weights: float32, float16, bfloat16 or int8.

Yesterday the weather in Paris was sunny and warm, with a light wind from the west. Tomorrow it \
will rain in London, Berlin and Madrid, but the mountains near Zurich should stay dry. Temperatures \
between 12 and 25 degrees are expected for most of Europe this week.

Doctors, teachers and engineers answered the survey. Most of them said that they use a computer \
every day, that they read the news on their phone, and that they would like more time for sport, \
music, cooking and their families. Only 7 percent said that they never travel.

"Can you help me?" she asked. "Of course," he replied, "what do you need?" They walked to the \
station together, bought two tickets, and waited for the train. It arrived at 9:45, three minutes \
late, and the journey to the coast took one hour and twenty minutes.

Images are grids of pixels with red, green and blue channels. A vision transformer cuts an image \
into patches, embeds every patch, and classifies the picture as an airplane, automobile, bird, \
cat, deer, dog, frog, horse, ship or truck. A caption describes what the picture shows: a cat \
sleeping on a sofa, two people riding bicycles, or a red boat on a calm lake.

Speech is a wave of air pressure sampled sixteen thousand times per second. A speech model turns \
the audio into a spectrogram, listens to it, and writes down what was said. Good transcription \
needs clean audio, a quiet room and a clear voice; noise, music and accents make it harder.

Summaries should be short, correct and complete. Translations should keep the meaning of the \
original sentence. Questions are answered from a context paragraph: where is the station, when \
does the train leave, who wrote the letter, why was the meeting cancelled, and how much does it \
cost? The answer is often a short span of the context, such as a name, a date, a place or a price.

I love this film, it is wonderful and the music is great. I hate waiting, the service was slow \
and the food was terrible. The product works well, but the battery could last longer. This is \
the best day of my life. That was the worst meal I have ever eaten. The hotel was clean, quiet, \
cheap and close to the beach.
"""


def corpus_lines() -> list[str]:
    """The built-in training corpus, one non-empty paragraph per item."""
    return [p.replace("\n", " ").strip() for p in CORPUS.split("\n\n") if p.strip()]


def _texts() -> list[str]:
    """The corpus as training texts: every paragraph as written, lower-cased and upper-cased."""
    lines = corpus_lines()
    return lines + [line.lower() for line in lines] + [line.upper() for line in lines]


def _symbols(normalizer: Any, pre_tokenizer: Any) -> list[str]:
    """Every character the trainer will see after ``normalizer`` and ``pre_tokenizer``, sorted."""
    chars: set[str] = set()
    for text in _texts():
        if normalizer is not None:
            text = normalizer.normalize_str(text)
        for word, _ in pre_tokenizer.pre_tokenize_str(text):
            chars.update(word)
    return sorted(chars)


def _train(
    model: Any, trainer_cls: Any, *, normalizer: Any = None, pre_tokenizer: Any, **trainer_kwargs: Any
) -> dict[str, Any]:
    """Train a raw ``tokenizers`` model on the corpus and return its JSON ``model`` section.

    The ``tokenizers`` trainers break ties by token id; ids they create while reading words
    (``##x`` pieces, ``x</w>`` pieces) follow hash-map order, which varies between processes. So
    every such symbol is seeded up front in sorted order, which makes training deterministic.
    """
    from tokenizers import Tokenizer

    tok = Tokenizer(model)
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    trainer = trainer_cls(show_progress=False, **trainer_kwargs)
    tok.train_from_iterator(_texts(), trainer=trainer)
    section: dict[str, Any] = json.loads(tok.to_str())["model"]
    return section


def _merges(section: dict[str, Any]) -> list[tuple[str, str]]:
    """The merges of a BPE model section as pairs."""
    pairs = [m.split(" ") if isinstance(m, str) else m for m in section["merges"]]
    return [(a, b) for a, b in pairs]


def _train_bpe(
    pre_tokenizer: Any,
    vocab_size: int,
    *,
    normalizer: Any = None,
    byte_level: bool = False,
    specials: tuple[str, ...] = (),
    suffix: str = "",
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a BPE model on the corpus (deterministically); return its vocab and merges.

    ``specials`` come first in the vocab, then every base symbol (and its ``suffix`` form).
    """
    from tokenizers import models, pre_tokenizers, trainers

    alphabet = sorted(
        set(_symbols(normalizer, pre_tokenizer))
        | (set(pre_tokenizers.ByteLevel.alphabet()) if byte_level else set())
    )
    seeds = [*specials, *alphabet, *([a + suffix for a in alphabet] if suffix else [])]
    suffix_kwargs = {"end_of_word_suffix": suffix} if suffix else {}
    section = _train(
        models.BPE(**suffix_kwargs),
        trainers.BpeTrainer,
        normalizer=normalizer,
        pre_tokenizer=pre_tokenizer,
        vocab_size=vocab_size,
        special_tokens=seeds,
        **suffix_kwargs,
    )
    return dict(section["vocab"]), _merges(section)


CHAT_START = "<|im_start|>"
CHAT_END = "<|im_end|>"
IMAGE_TOKEN = "<image>"


def chat_template(*, with_images: bool = False) -> str:
    """A ChatML-like Jinja chat template (string or list-of-parts message content)."""
    image_branch = (
        "{% if part['type'] == 'image' %}" + IMAGE_TOKEN + "{% elif part['type'] == 'text' %}"
        "{{ part['text'] }}{% endif %}"
        if with_images
        else "{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    )
    return (
        "{{ bos_token }}{% for message in messages %}" + CHAT_START + "{{ message['role'] }}\n"
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for part in message['content'] %}"
        + image_branch
        + "{% endfor %}{% endif %}"
        + CHAT_END
        + "\n{% endfor %}{% if add_generation_prompt %}"
        + CHAT_START
        + "assistant\n{% endif %}"
    )


def train_llama_tokenizer(
    *, vocab_size: int = 800, image_token: bool = False, model_max_length: int = 512
) -> Any:
    """A ``LlamaTokenizer`` (Metaspace BPE with byte fallback), pad token and ChatML chat template.

    Ids: ``<unk>``=0, ``<s>``=1, ``</s>``=2, ``<pad>``=3, ``<|im_start|>``, ``<|im_end|>``
    (and ``<image>`` when asked), then the 256 ``<0xNN>`` byte tokens, then the learned pieces.
    """
    from tokenizers import pre_tokenizers
    from transformers import LlamaTokenizer

    specials = ["<unk>", "<s>", "</s>", "<pad>", CHAT_START, CHAT_END]
    if image_token:
        specials.append(IMAGE_TOKEN)
    byte_tokens = [f"<0x{i:02X}>" for i in range(256)]
    learned_size = max(vocab_size - len(specials) - len(byte_tokens), 64)
    pre = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    learned, merges = _train_bpe(pre, learned_size)
    vocab: dict[str, int] = {tok: i for i, tok in enumerate(specials + byte_tokens)}
    for tok, _ in sorted(learned.items(), key=lambda kv: kv[1]):
        vocab.setdefault(tok, len(vocab))
    extra = [CHAT_START, CHAT_END] + ([IMAGE_TOKEN] if image_token else [])
    tokenizer = LlamaTokenizer(
        vocab=vocab,
        merges=merges,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        add_bos_token=True,
        add_eos_token=False,
        extra_special_tokens=extra,
        model_max_length=model_max_length,
    )
    tokenizer.chat_template = chat_template(with_images=image_token)
    return tokenizer


def _retrain(tokenizer_class: Any, vocab_size: int) -> Any:
    """Train a fresh ``tokenizer_class()`` on the corpus with its own pipeline and special tokens.

    Only for plain (byte-level) BPE classes, whose training is deterministic.
    """
    return tokenizer_class().train_new_from_iterator([_texts()], vocab_size=vocab_size, show_progress=False)


def _set_max_length(tokenizer: Any, model_max_length: int) -> Any:
    """Record the model's context length on the tokenizer (saved in ``tokenizer_config.json``)."""
    tokenizer.model_max_length = model_max_length
    tokenizer.init_kwargs["model_max_length"] = model_max_length
    return tokenizer


def train_gpt2_tokenizer(*, vocab_size: int = 800, model_max_length: int = 512) -> Any:
    """A byte-level BPE ``GPT2Tokenizer`` (``<|endoftext|>`` is bos, eos and unk; no pad, no template)."""
    from transformers import GPT2Tokenizer

    return _set_max_length(_retrain(GPT2Tokenizer, vocab_size), model_max_length)


def train_bart_tokenizer(*, vocab_size: int = 800, model_max_length: int = 512) -> Any:
    """A byte-level BPE ``BartTokenizer`` with ``<s> <pad> </s> <unk> <mask>``."""
    from transformers import BartTokenizer

    return _set_max_length(_retrain(BartTokenizer, vocab_size), model_max_length)


def train_bert_tokenizer(*, vocab_size: int = 800, model_max_length: int = 512) -> Any:
    """An uncased WordPiece ``BertTokenizer``: ``[PAD]``=0, ``[UNK]``, ``[CLS]``, ``[SEP]``, ``[MASK]``."""
    from tokenizers import models, trainers
    from transformers import BertTokenizer

    backend = BertTokenizer().backend_tokenizer
    specials = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
    alphabet = _symbols(backend.normalizer, backend.pre_tokenizer)
    section = _train(
        models.WordPiece(unk_token="[UNK]"),
        trainers.WordPieceTrainer,
        normalizer=backend.normalizer,
        pre_tokenizer=backend.pre_tokenizer,
        vocab_size=vocab_size,
        special_tokens=[*specials, *alphabet, *["##" + a for a in alphabet]],
    )
    return BertTokenizer(vocab=dict(section["vocab"]), model_max_length=model_max_length)


def train_t5_tokenizer(*, vocab_size: int = 800, model_max_length: int = 512) -> Any:
    """A Unigram (SentencePiece-style) ``T5Tokenizer``: ``<pad>``=0, ``</s>``=1, ``<unk>``=2, the
    pieces, then 100 sentinels with ``<extra_id_0>`` last, like ``t5-small``.

    The pieces come from a (deterministic) BPE run; each piece's score is its log frequency when
    the corpus is encoded with that BPE (the Unigram trainer itself is not reproducible).
    """
    import math

    from tokenizers import Tokenizer, models
    from transformers import T5Tokenizer

    backend = T5Tokenizer().backend_tokenizer
    specials = ("<pad>", "</s>", "<unk>")
    extra_ids = 100
    vocab, merges = _train_bpe(
        backend.pre_tokenizer, vocab_size - len(specials) - extra_ids, specials=specials
    )
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    bpe.pre_tokenizer = backend.pre_tokenizer
    counts = Counter(tok for enc in bpe.encode_batch(_texts()) for tok in enc.tokens)
    total = sum(counts.values())
    floor = math.log(0.5 / total)
    pieces = [tok for tok, _ in sorted(vocab.items(), key=lambda kv: kv[1]) if tok not in specials]
    scored = [(tok, math.log(counts[tok] / total) if counts[tok] else floor) for tok in pieces]
    sentinels = [(f"<extra_id_{i}>", 0.0) for i in range(extra_ids - 1, -1, -1)]
    full = [(tok, 0.0) for tok in specials] + scored + sentinels
    return T5Tokenizer(vocab=full, extra_ids=extra_ids, model_max_length=model_max_length)


def train_clip_tokenizer(*, vocab_size: int = 1000) -> Any:
    """A lower-casing ``CLIPTokenizer`` (byte-level BPE with ``</w>``, all 256 byte symbols in
    both forms), ``<|startoftext|>``=0, ``<|endoftext|>``=1, at most 77 tokens."""
    from transformers import CLIPTokenizer

    backend = CLIPTokenizer().backend_tokenizer
    vocab, merges = _train_bpe(
        backend.pre_tokenizer,
        vocab_size,
        normalizer=backend.normalizer,
        byte_level=True,
        specials=("<|startoftext|>", "<|endoftext|>"),
        suffix="</w>",
    )
    merge_pairs: Any = merges  # CLIPTokenizer's hint says list[str]; the BPE backend takes pairs
    return CLIPTokenizer(vocab=vocab, merges=merge_pairs, model_max_length=77)


WHISPER_TASK_TOKENS = ("<|translate|>", "<|transcribe|>")
WHISPER_TAIL_TOKENS = ("<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>")


def whisper_language_tokens() -> list[str]:
    """Whisper's language tokens (``<|en|>``, ``<|zh|>``, ...) in transformers' ``LANGUAGES`` order."""
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    return [f"<|{code}|>" for code in LANGUAGES]


def whisper_special_tokens() -> list[str]:
    """Whisper's special tokens after ``<|endoftext|>``, in the order (and id layout) of large-v3."""
    return [
        "<|startoftranscript|>",
        *whisper_language_tokens(),
        *WHISPER_TASK_TOKENS,
        *WHISPER_TAIL_TOKENS,
    ]


def train_whisper_tokenizer(*, text_vocab_size: int = 600, model_max_length: int = 448) -> Any:
    """A multilingual ``WhisperTokenizer``: byte-level BPE, then Whisper's special tokens, then
    the 1501 timestamp tokens ``<|0.00|>`` ... ``<|30.00|>``, laid out like the real one."""
    from tokenizers import AddedToken, pre_tokenizers
    from transformers import WhisperTokenizer

    pre = pre_tokenizers.ByteLevel(add_prefix_space=False)
    vocab, merges = _train_bpe(pre, text_vocab_size, byte_level=True)
    vocab["<|endoftext|>"] = len(vocab)
    tokenizer = WhisperTokenizer(
        vocab=vocab,
        merges=merges,
        model_max_length=model_max_length,
        pad_token="<|endoftext|>",
        extra_special_tokens=whisper_special_tokens(),
    )
    timestamps = [
        AddedToken(f"<|{i * 0.02:.2f}|>", lstrip=False, rstrip=False, normalized=False, special=False)
        for i in range(1501)
    ]
    tokenizer.add_tokens(timestamps)
    tokenizer.set_prefix_tokens()
    return tokenizer


def write_ctc_vocab(folder: Path) -> Path:
    """Write a character-level CTC ``vocab.json`` (``<pad>``=0, ``<s>``, ``</s>``, ``<unk>``, ``|``,
    then the corpus's upper-case letters and apostrophe, most frequent first)."""
    counts = Counter(ch for ch in CORPUS.upper() if (ch.isalpha() and ch.isascii()) or ch == "'")
    letters = [ch for ch, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    tokens = ["<pad>", "<s>", "</s>", "<unk>", "|", *letters]
    path = folder / "vocab.json"
    path.write_text(json.dumps({tok: i for i, tok in enumerate(tokens)}, indent=2) + "\n", "utf-8")
    return path


def make_ctc_tokenizer(folder: Path) -> Any:
    """A ``Wav2Vec2CTCTokenizer`` over ``write_ctc_vocab(folder)`` (``|`` separates words)."""
    from transformers import Wav2Vec2CTCTokenizer

    return Wav2Vec2CTCTokenizer(str(write_ctc_vocab(folder)), word_delimiter_token="|")
