"""Spatial / directional / temporal-order flips: left<->right, above<->below, before<->after..."""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._swaps import flip_one, symmetric
from verirank.nearmiss.base import Perturbation
from verirank.types import Category

FLIPS = symmetric({
    "left": "right", "above": "below", "before": "after", "north": "south", "east": "west",
    "northern": "southern", "eastern": "western", "northward": "southward", "eastward": "westward",
    "inside": "outside", "upstream": "downstream", "top": "bottom", "upper": "lower", "inner": "outer",
    "interior": "exterior", "upward": "downward", "upwards": "downwards", "ascending": "descending",
    "uphill": "downhill", "internal": "external", "inbound": "outbound", "leftward": "rightward",
    "beneath": "atop", "front": "back", "forward": "backward", "entering": "leaving",
})
# words that also have non-spatial senses: flip them only in their spatial use
PREPOSITIONS_ONLY = {"before", "after", "above", "below", "inside", "outside", "into", "beneath", "atop"}
NOUN_OR_ADJ_ONLY = {"left", "right", "top", "bottom", "front", "back"}


NON_SPATIAL_CONTEXT = {"risk", "limit", "bound", "class", "case", "house", "chamber", "income", "body", "hand"}


def _allowed(t: Any) -> bool:
    word = t.lower_
    if t.pos_ == "PROPN" or t.head.pos_ == "PROPN" or (t.i > 0 and t.doc[t.i - 1].pos_ == "PROPN"):
        return False  # "Judge East", "East Bank", "South San Francisco"
    if "-" in t.doc.text[max(0, t.idx - 1) : t.idx + len(t.text) + 1]:
        return False  # "east-southwest", "Middle-Western"
    if word in ("upper", "lower", "inner", "outer", "internal", "external", "left", "right") and (
        t.head.lower_ in NON_SPATIAL_CONTEXT or t.dep_ not in ("amod", "pobj", "compound")
    ):
        return False
    if word in ("before", "after") and any(w.lower_ in ("before", "after") and w.i != t.i for w in t.doc):
        return False  # "before, during and after": flipping one contradicts the sentence
    if word in PREPOSITIONS_ONLY:
        return t.pos_ in ("ADP", "SCONJ") or (t.pos_ == "ADV" and word in ("inside", "outside"))
    if word in NOUN_OR_ADJ_ONLY:
        if word in ("right", "back", "front", "left") and t.pos_ not in ("ADJ", "NOUN"):
            return False
        if word == "right" and any(c.lower_ in ("the", "your", "his", "her", "their", "my") for c in t.children) is False and t.dep_ == "amod":
            return t.head.lemma_ in ("side", "hand", "wing", "eye", "arm", "leg", "lane", "bank", "turn", "ventricle", "atrium", "lung", "kidney", "lobe")
        return True
    if word in ("forward", "back", "backward"):
        return t.pos_ in ("ADV", "ADJ")
    return True


def perturb(doc: Any, rng: random.Random) -> Perturbation | None:
    return flip_one(doc, rng, FLIPS, Category.SPATIAL, _allowed)
