"""The hand-written near-miss set shipped inside the package (``verirank/data``): 70 triples,
10 per category, each an anchor with a reworded paraphrase (label 1) and a minimal near-miss
(label 0).  Written without the generator, so it checks what generated sets cannot.  Never train
on it."""

from __future__ import annotations

import json
from importlib.resources import files

from verirank.types import Category, NearMissPair

FILE = "handwritten_nearmiss.jsonl"


def load_handwritten() -> list[NearMissPair]:
    """Both pairs of every triple: (anchor, positive, label 1) and (anchor, negative, label 0)."""
    pairs = []
    for line in (files("verirank") / "data" / FILE).read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        category = Category(row["category"])
        for text, label in ((row["positive"], 1), (row["negative"], 0)):
            pairs.append(NearMissPair(anchor=row["anchor"], text=text, label=label, category=category,
                                      source="handwritten"))
    return pairs
