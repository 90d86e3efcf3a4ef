"""Training examples for the verifier, built from text (no labelled (query, passage) set exists).

Two modes, one example shape: a query and a small group of candidates with labels
(1 = match) and near-miss categories (index into ``model.CATEGORIES``; -1 = unknown).

- identity: built from labelled pair sets in ``verifier.trainset``.
- relevance: inverse-cloze pairs from a corpus: a title or one sentence as the query, its
  passage as the positive (the sentence kept half of the time), the passage with that
  sentence turned into a near-miss as a hard negative, stage-1 neighbours as negatives,
  and near-miss versions of the query against the original passage.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from verirank.verifier.model import CATEGORIES, MODES

log = logging.getLogger(__name__)

CATEGORY_INDEX = {name: i for i, name in enumerate(CATEGORIES)}
MODE_INDEX = {name: i for i, name in enumerate(MODES)}
UNKNOWN = -1
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Za-z0-9\"'(])")


@dataclass
class Example:
    mode: int
    query: str
    candidates: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    source: str = ""

    def add(self, text: str, label: int, category: int) -> None:
        if text and (label == 1 or text != self.query):  # a negative equal to the query is noise
            self.candidates.append(text)
            self.labels.append(label)
            self.categories.append(category)


def read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def split_sentences(text: str) -> list[str]:
    """Light sentence split (enough for ICT queries; the generator re-parses with spaCy)."""
    parts = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if len(parts) <= 1 and " . " in text:  # lower-cased collections use " . "
        parts = [s.strip() + " ." for s in text.split(" . ") if s.strip()]
    return parts


def split_dev(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list, list]:
    """Split by query text so no query appears on both sides."""
    rng = random.Random(seed + 1)
    queries = sorted({ex.query for ex in examples})
    dev_queries = set(rng.sample(queries, int(len(queries) * fraction)))
    train = [ex for ex in examples if ex.query not in dev_queries]
    dev = [ex for ex in examples if ex.query in dev_queries]
    return train, dev


# ---- relevance ---------------------------------------------------------------------------------
@dataclass
class IctQuery:
    query: str
    passage: str  # positive (sentence removed or kept)
    kept_passage: str  # passage with the query sentence kept
    sentence: str  # the sentence used as query ("" for a title query)
    doc_index: int


def ict_queries(docs: Sequence[dict], rng: random.Random, per_doc: int = 1) -> list[IctQuery]:
    """Title-as-query when a document has a distinct title, else a random sentence (ICT)."""
    out = []
    for i, doc in enumerate(docs):
        title, text = (doc.get("title") or "").strip(), (doc.get("text") or "").strip()
        if title and text and len(title.split()) >= 3:
            body = text[len(title):].lstrip(" .") if text.lower().startswith(title.lower()) else text
            if len(body.split()) >= 8:
                out.append(IctQuery(title, body if rng.random() < 0.5 else text, text, "", i))
                continue
        sentences = split_sentences(text)
        if len(sentences) < 2:
            words = text.split()
            if len(words) < 16:
                continue
            width = rng.randint(6, 12)  # unpunctuated text (npl): a word window is the "sentence"
            start = rng.randrange(len(words) - width)
            sentences = [" ".join(words[:start]), " ".join(words[start : start + width]),
                         " ".join(words[start + width :])]
            sentences = [x for x in sentences if x]
        for _ in range(per_doc):
            j = rng.randrange(len(sentences))
            sentence = sentences[j]
            if not 5 <= len(sentence.split()) <= 40:
                continue
            rest = " ".join(sentences[:j] + sentences[j + 1 :])
            passage = text if rng.random() < 0.5 else rest
            out.append(IctQuery(sentence, passage, text, sentence, i))
    return out


def relevance_examples(
    queries: Sequence[IctQuery],
    docs: Sequence[dict],
    neighbours: np.ndarray,
    perturb: Callable[[Sequence[str]], dict[str, tuple[str, str]]],
    rng: random.Random,
    source: str,
    hard_negatives: int = 2,
) -> list[Example]:
    """Assemble relevance groups. ``neighbours[i]``: stage-1 doc indices for query i (best first);
    ``perturb(sentences) -> {sentence: (near_miss, category)}`` from the near-miss generator."""
    mode = MODE_INDEX["relevance"]
    sentence_nm = perturb([q.sentence for q in queries if q.sentence])
    out = []
    for i, q in enumerate(queries):
        ex = Example(mode, q.query, source=source)
        ex.add(q.passage, 1, CATEGORY_INDEX["match"])
        near = sentence_nm.get(q.sentence) if q.sentence else None
        if near is not None:
            near_miss, category = near
            ex.add(q.kept_passage.replace(q.sentence, near_miss, 1), 0, CATEGORY_INDEX[category])
        pool = [int(j) for j in neighbours[i][2:20] if int(j) != q.doc_index]
        for j in rng.sample(pool, min(hard_negatives, len(pool))):
            ex.add(doc_text(docs[j]), 0, UNKNOWN)
        out.append(ex)
        if near is not None:  # the near-miss query against the passage that states the original
            flipped = Example(mode, near[0], source=source + ":nm-query")
            flipped.add(q.kept_passage, 0, CATEGORY_INDEX[near[1]])
            flipped.add(q.kept_passage.replace(q.sentence, near[0], 1), 1, CATEGORY_INDEX["match"])
            out.append(flipped)
    return out


def doc_text(doc: dict) -> str:
    title, text = (doc.get("title") or "").strip(), (doc.get("text") or "").strip()
    return f"{title}. {text}" if title and not text.lower().startswith(title.lower()) else (text or title)


def doc_texts(docs: Sequence[dict]) -> list[str]:
    return [doc_text(d) for d in docs]


def generator_perturb(seed: int) -> Callable[[Sequence[str]], dict[str, tuple[str, str]]]:
    """Wrap the near-miss generator as ``sentences -> {sentence: (near_miss, category)}``."""
    from verirank.nearmiss.generate import generate

    def perturb(sentences: Sequence[str]) -> dict[str, tuple[str, str]]:
        unique = list(dict.fromkeys(s for s in sentences if s))
        by_anchor: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for pair in generate(unique, seed=seed, positives=False):
            if pair.label == 0:
                by_anchor[pair.anchor].append((pair.text, pair.category.value))
        rng = random.Random(seed)
        return {a: rng.choice(options) for a, options in by_anchor.items()}

    return perturb
