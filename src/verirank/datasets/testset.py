"""A near-miss test set from any corpus: split passages into sentences, sample, run the generator."""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from verirank._version import __version__
from verirank.errors import ConfigError, InputError
from verirank.types import Category, NearMissPair

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
MIN_WORDS = 5
MAX_WORDS = 40


class TestsetManifest(BaseModel):
    """How a generated near-miss test set was made: enough to rebuild it."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(frozen=True, extra="forbid")

    generator: str = "verirank.nearmiss.generate"
    verirank_version: str = __version__
    seed: int
    n_requested: int
    n_sentences_available: int
    n_anchors: int
    categories: list[Category]
    per_category: int
    anchors_sha256: str
    pair_counts: dict[str, dict[str, int]]  # category -> {"near_miss": n, "positive": n}
    max_words: int | None = None  # sentence-length limit passed to generate (None: per-category defaults)


class NearMissTestset(NamedTuple):
    """Generated pairs plus the manifest describing them."""

    pairs: list[NearMissPair]
    manifest: TestsetManifest


def split_sentences(text: str, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> list[str]:
    """Simple sentence split on ``. ! ?`` + whitespace; keeps sentences of ``min_words..max_words``."""
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    out = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        n_words = len(sentence.split())
        if min_words <= n_words <= max_words and sum(c.isalpha() for c in sentence) >= len(sentence) // 2:
            out.append(sentence)
    return out


def corpus_sentences(texts: Iterable[str]) -> list[str]:
    """Unique sentences of a corpus, in first-seen order."""
    seen: dict[str, None] = {}
    for text in texts:
        for sentence in split_sentences(text):
            seen.setdefault(sentence, None)
    return list(seen)


def nearmiss_testset(
    corpus_texts: Iterable[str],
    seed: int = 0,
    n: int = 300,
    categories: Sequence[Category | str] | None = None,
    *,
    per_category: int = 1,
    max_words: int | None = None,
) -> NearMissTestset:
    """Sample ``n`` anchor sentences from a corpus (seeded) and generate near-misses + positives.

    ``n`` counts anchor sentences; each yields up to ``per_category`` near-misses per category
    (the generator skips categories a sentence does not support) plus paraphrase positives.
    ``max_words`` is the generator's sentence-length limit (see ``generate``; 0 lifts it: more
    pairs, fewer of them valid).  Needs the ``nearmiss`` extra (spaCy), imported here, not at load.
    """
    if n <= 0:
        raise ConfigError(f"n={n}; give a positive number of anchor sentences")
    if max_words is not None and max_words < 0:
        raise ConfigError(f"max_words={max_words}; give 0 (no limit), a positive word count, or leave it unset")
    try:
        cats = None if categories is None else [Category(c) for c in categories]
    except ValueError as exc:
        raise ConfigError(f"{exc}; choose categories from {[c.value for c in Category.near_misses()]}") from None
    sentences = corpus_sentences(corpus_texts)
    if not sentences:
        raise InputError(f"the corpus has no sentence of {MIN_WORDS}-{MAX_WORDS} words to build near-misses from")
    rng = random.Random(seed)
    anchors = rng.sample(sentences, min(n, len(sentences)))
    from verirank.nearmiss.generate import generate

    pairs = list(generate(anchors, cats, seed=seed, positives=True, per_category=per_category, max_words=max_words))
    counts: dict[str, Counter[str]] = {}
    for pair in pairs:
        counts.setdefault(pair.category.value, Counter())["positive" if pair.label == 1 else "near_miss"] += 1
    manifest = TestsetManifest(
        seed=seed,
        n_requested=n,
        n_sentences_available=len(sentences),
        n_anchors=len(anchors),
        categories=cats if cats is not None else Category.near_misses(),
        per_category=per_category,
        max_words=max_words,
        anchors_sha256=hashlib.sha256("\n".join(anchors).encode("utf-8")).hexdigest(),
        pair_counts={c: {"near_miss": v["near_miss"], "positive": v["positive"]} for c, v in sorted(counts.items())},
    )
    return NearMissTestset(pairs, manifest)
