"""Comparative flips: reverse the comparison word, or swap the two compared arguments."""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._swaps import flip_one, symmetric
from verirank.nearmiss.base import Perturbation, lower_first, replace_spans, simple_np, span_text
from verirank.types import Category

FLIPS = symmetric({
    "more": "less", "higher": "lower", "larger": "smaller", "bigger": "smaller", "greater": "smaller",
    "faster": "slower", "longer": "shorter", "older": "younger", "heavier": "lighter", "better": "worse",
    "earlier": "later", "warmer": "colder", "stronger": "weaker", "cheaper": "costlier", "wider": "narrower",
    "thicker": "thinner", "deeper": "shallower", "most": "least", "highest": "lowest", "largest": "smallest",
    "maximum": "minimum", "increase": "decrease", "increases": "decreases", "increased": "decreased",
    "increasing": "decreasing", "above": "below", "exceeds": "trails", "richer": "poorer", "easier": "harder",
    "safer": "riskier", "fewer": "more", "best": "worst", "rise": "fall", "rises": "falls", "rose": "fell",
})
FLIPS["smaller"] = "larger"
FLIPS["less"] = "more"
FLIPS["more"] = "less"


def _allowed(t: Any) -> bool:
    if t.pos_ == "PROPN" or t.head.pos_ == "PROPN" or t.text[:1].isupper() and t.i > 0:
        return False  # "Greater Manchester", "Best Foreign Language Film"
    if t.lower_ in ("more", "less", "most", "least", "fewer"):
        # only as a degree modifier of an adjective/adverb ("more effective"), not a quantity ("two more bodies")
        return t.dep_ == "advmod" and t.head.pos_ in ("ADJ", "ADV")
    if t.lower_ in ("least", "most", "highest", "lowest") and any(w.lower_ == "of" for w in t.doc[t.i + 1 : t.i + 3]):
        return False
    if t.lower_ in ("above", "below"):
        return False  # spatial category owns it
    if t.lower_ in ("rise", "fall", "increase", "decrease"):
        return t.pos_ in ("VERB", "NOUN")
    if t.lower_ == "later":
        return t.tag_ in ("RBR", "JJR")
    return True


def perturb(doc: Any, rng: random.Random) -> Perturbation | None:
    swapped = _swap_arguments(doc)
    if swapped is not None and rng.random() < 0.5:
        return swapped
    return flip_one(doc, rng, FLIPS, Category.COMPARATIVE, _allowed) or swapped


def _swap_arguments(doc: Any) -> Perturbation | None:
    """"A is closer than B" -> "B is closer than A" (both short noun phrases, same number)."""
    for than in doc:
        if than.lower_ != "than":
            continue
        pobj = next((c for c in than.children if c.dep_ == "pobj"), None)
        comp = than.head
        verb = comp.head if comp.dep_ in ("acomp", "advmod", "dobj", "attr") else comp
        subj = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        if pobj is None or subj is None:
            continue
        a, b = simple_np(subj), simple_np(pobj)
        if a is None or b is None or a[1] > b[0]:
            continue
        if ("Plur" in subj.morph.get("Number")) != ("Plur" in pobj.morph.get("Number")):
            continue
        a_words, b_words = doc[a[0]:a[1]].text, doc[b[0]:b[1]].text
        if a_words.lower() == b_words.lower():
            continue
        if a[0] == 0:
            b_words = b_words[:1].upper() + b_words[1:]
            a_words = lower_first(doc[a[0]:a[1]])
        return replace_spans(doc.text, [(*span_text(doc, *a), b_words), (*span_text(doc, *b), a_words)],
                             Category.COMPARATIVE)
    return None


