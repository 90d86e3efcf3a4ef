"""Training inputs for B, A' and the cross-encoder, from splits the data README lets train.

* relevance pairs (B and A'): label-1 pairs of the ``train`` splits of MRPC (paraphrases), SNLI
  (entailment), PAWS (paraphrases) and counterfactual SNLI (entailment). No (query, passage) set
  exists offline, and training on a collection's corpus would take it out of the relevance
  evaluation, so no collection text is used.
* identity triplets (B only): (anchor, anchor, near-miss) for structural near-misses (category
  other than ``match``, at most ``triplets_per_source`` per source) of the verifier's identity training sources (``train`` splits of PAWS,
  SNLI, counterfactual SNLI, Breaking NLI, VSR, HANS, CANNOT).
* cross-encoder pairs: every (anchor, text, label) pair of those identity training sources.

Any pair whose text occurs in a held-out split or the hand-written triples is dropped.
"""

from __future__ import annotations

import functools
import random
from typing import NamedTuple

from verirank.datasets import load_pairs
from verirank.datasets._root import data_root
from verirank.datasets.human import HUMAN_SETS
from verirank.types import Category
from verirank.verifier.trainset import PAIR_SOURCES, heldout_texts, load_source

RELEVANCE_SOURCES = ("mrpc", "snli", "paws", "cad_nli")
IDENTITY_SOURCES = (*HUMAN_SETS, *PAIR_SOURCES)


class TrainingData(NamedTuple):
    relevance: list[tuple[str, str]]
    triplets: list[tuple[str, str, str]]
    cross: list[tuple[str, str, int]]
    counts: dict[str, int]


@functools.cache  # the cross and finetune steps share it within one process
def training_data(seed: int, triplets_per_source: int = 3000) -> TrainingData:
    root = str(data_root(None))
    held = heldout_texts(IDENTITY_SOURCES, root)
    counts: dict[str, int] = {}
    relevance: list[tuple[str, str]] = []
    for name in RELEVANCE_SOURCES:
        pairs = load_pairs(name, "train") if name == "mrpc" else load_source(name, "train", root)
        kept = [(p.anchor, p.text) for p in pairs if p.label == 1 and p.anchor not in held and p.text not in held
                and p.anchor != p.text]
        counts[f"relevance/{name}"] = len(kept)
        relevance += kept
    triplets: list[tuple[str, str, str]] = []
    cross: list[tuple[str, str, int]] = []
    for name in IDENTITY_SOURCES:
        pairs = [p for p in load_source(name, "train", root) if p.anchor not in held and p.text not in held]
        trips = [(p.anchor, p.anchor, p.text) for p in pairs if p.label == 0 and p.category is not Category.MATCH]
        random.Random(seed).shuffle(trips)
        trips = trips[:triplets_per_source]  # CANNOT alone would be over half of them
        counts[f"triplets/{name}"] = len(trips)
        counts[f"cross/{name}"] = len(pairs)
        triplets += trips
        cross += [(p.anchor, p.text, p.label) for p in pairs]
    rng = random.Random(seed)
    for items in (relevance, triplets, cross):
        rng.shuffle(items)
    return TrainingData(relevance, triplets, cross, counts)
