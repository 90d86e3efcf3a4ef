"""Inclusion / exclusion flips: with<->without, including<->excluding, include<->exclude."""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._swaps import flip_one, symmetric
from verirank.nearmiss.base import Perturbation
from verirank.types import Category

FLIPS = symmetric({
    "with": "without", "including": "excluding", "include": "exclude", "includes": "excludes",
    "included": "excluded", "inclusive": "exclusive", "inclusion": "exclusion", "containing": "lacking",
    "allowed": "forbidden", "permitted": "prohibited", "accepts": "rejects", "accepted": "rejected",
})
FIXED_WITH = {"deal", "dealt", "deals", "dealing", "comply", "complies", "cope", "associated", "compared",
              "compare", "combined", "filled", "faced", "provided", "equipped", "concerned", "familiar", "along",
              "together", "consistent", "agree", "agreed", "identical", "interfere", "interact", "correlated",
              "coupled", "begin", "begins", "began", "start", "starts", "started", "end", "ends", "ended"}


def _allowed(t: Any) -> bool:
    if t.lower_ in ("with", "without") and not any(c.dep_ == "pobj" for c in t.children):
        return False
    if t.lower_ in ("included", "excluded", "accepted", "rejected", "allowed", "forbidden", "permitted", "prohibited"):
        nxt = t.doc[t.i + 1] if t.i + 1 < len(t.doc) else None
        if nxt is not None and nxt.lower_ in ("from", "to", "in", "on", "by"):
            return False  # "excluded from" has no "included from"
    if t.lower_ in ("with", "without"):
        pobj = next(c for c in t.children if c.dep_ == "pobj")
        if any(w.lower_ in ("no", "any", "none", "nothing") for w in pobj.subtree):
            return False  # "without no problem"
        if t.head.pos_ not in ("NOUN", "PROPN"):
            return False  # after verbs/adjectives "with" is usually an argument: "pleaded with", "vary with"
    if t.lower_ == "with":
        if t.dep_ != "prep" or t.head.lower_ in FIXED_WITH or t.i == 0:
            return False
        nxt = t.doc[t.i + 1] if t.i + 1 < len(t.doc) else None
        return nxt is not None and nxt.lower_ not in ("respect", "regard", "reference", "which", "whom", "the", "this", "it", "its", "their")
    if t.lower_ == "without":
        return t.dep_ == "prep"
    if t.lower_ in ("including", "excluding"):
        return t.pos_ in ("VERB", "ADP")
    return t.pos_ in ("VERB", "ADJ", "NOUN")


def perturb(doc: Any, rng: random.Random) -> Perturbation | None:
    return flip_one(doc, rng, FLIPS, Category.EXCLUSION, _allowed)
