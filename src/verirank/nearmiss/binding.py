"""Attribute binding: swap two modifiers of one kind between two noun phrases.

"a red car and a blue house" -> "a blue car and a red house"; "a subsonic jet in a supersonic
stream" -> "a supersonic jet in a subsonic stream"; "a steel door in a wooden frame" -> "a wooden
door in a steel frame" (compound or adjective materials).  Only modifiers of the same kind (two colours,
subsonic/supersonic, maternal/paternal ...) are swapped, each on a different plain noun, so
both results read naturally; two predicative adjectives of one kind ("X is hot and Y is cold") are
swapped the same way.  "a"/"an" is redone.
"""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss.base import Perturbation, article_fix, default_rng, match_case, replace_spans, token_edit, whole_word
from verirank.types import Category

# Only descriptive kinds whose every value reads naturally on the same noun: in the round-3 audit,
# evaluative antonyms (high/low, large/small, public/private, normal/abnormal, finite/infinite ...)
# were valid in 0-75% of swaps because the rest of the text assumes which noun is the good/big one.
KINDS: list[set[str]] = [
    {"red", "blue", "green", "yellow", "black", "white", "brown", "grey", "gray", "orange", "purple", "pink"},
    {"male", "female"}, {"subsonic", "supersonic"}, {"steady", "unsteady"}, {"linear", "nonlinear"},
    {"early", "late"}, {"horizontal", "vertical"}, {"northern", "southern", "eastern", "western"},
    {"elastic", "plastic"}, {"compressible", "incompressible"}, {"primary", "secondary"},
    {"static", "dynamic"}, {"longitudinal", "lateral"}, {"left", "right"}, {"maternal", "paternal"},
    {"ancient", "modern"}, {"formal", "informal"}, {"manual", "automatic"}, {"oral", "intravenous"},
    {"cylindrical", "spherical", "conical"}, {"positive", "negative"}, {"hot", "cold"}, {"wet", "dry"},
    {"rural", "urban"}, {"systolic", "diastolic"}, {"adult", "juvenile"}, {"front", "rear"},
    {"steel", "wooden", "copper", "aluminum", "aluminium", "iron", "brick", "stone", "gold", "silver"},
]
KIND_OF = {}
for _i, _kind in enumerate(KINDS):
    for _word in _kind:
        KIND_OF.setdefault(_word, _i)
MATERIAL = len(KINDS) - 1
FIXED_TERMS = {("cold", "war"), ("white", "house"), ("black", "hole"), ("red", "tape"), ("black", "market"),
               ("green", "light"), ("white", "paper"), ("early", "stage"), ("late", "stage"), ("dry", "run"),
               ("cold", "storage"), ("hot", "spot")}


def perturb(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """Swap two same-kind modifiers of two different nouns (seeded choice); None when none fit."""
    rng = default_rng(rng)
    mods = [t for t in doc if _attributive(t)]
    pairs = [(a, b) for i, a in enumerate(mods) for b in mods[i + 1 :] if _swappable(a, b)]
    preds = [t for t in doc if _predicative(t)]
    pairs += [(a, b) for i, a in enumerate(preds) for b in preds[i + 1 :]
              if KIND_OF[a.lower_] == KIND_OF[b.lower_] and a.lower_ != b.lower_ and a.head.i != b.head.i]
    words = [t.lower_ for t in doc]
    pairs = [(a, b) for a, b in pairs if words.count(a.lower_) == 1 and words.count(b.lower_) == 1]
    if not pairs:
        return None  # a third "upstream" elsewhere would keep its old binding and contradict the swap
    a, b = rng.choice(pairs)
    edits = [token_edit(a, match_case(b.lower_, a.text)), token_edit(b, match_case(a.lower_, b.text))]
    for mod, new in ((a, b.lower_), (b, a.lower_)):
        fix = article_fix(doc, mod.i, new)
        if fix is not None:
            edits.append(fix)
    return replace_spans(doc.text, edits, Category.BINDING)


def _attributive(t: Any) -> bool:
    kind = KIND_OF.get(t.lower_)
    if kind is None or t.ent_type_ or not whole_word(t) or (t.text[:1].isupper() and t.i > 0):
        return False
    head = t.head
    if head.pos_ != "NOUN" or head.i <= t.i or head.i - t.i > 2 or head.ent_type_ or not whole_word(head):
        return False
    if (t.lower_, head.lemma_.lower()) in FIXED_TERMS or head.dep_ == "compound":
        return False
    if kind == MATERIAL:
        return t.dep_ in ("amod", "compound") and t.i + 1 == head.i
    if t.dep_ != "amod" or t.pos_ != "ADJ" or t.tag_ not in ("JJ", "VBN", "VBG"):
        return False
    # nothing but another modifier between the adjective and its noun, and no "high and low pressure"
    between = t.doc[t.i + 1 : head.i]
    if any(w.dep_ not in ("amod", "compound") for w in between):
        return False
    return not any(c.dep_ == "conj" for c in t.children) and t.dep_ != "conj"


def _swappable(a: Any, b: Any) -> bool:
    if "edge" in (a.head.lemma_.lower(), b.head.lemma_.lower()) and "sonic" in a.lower_:
        return False  # "subsonic leading edges in a supersonic airstream": an edge's regime is set by the stream
    return (KIND_OF[a.lower_] == KIND_OF[b.lower_] and a.lower_ != b.lower_ and a.head.i != b.head.i
            and a.head.lemma_.lower() != b.head.lemma_.lower() and a.head.i != b.i and b.head.i != a.i
            and abs(a.head.i - b.head.i) > 1)


def _predicative(t: Any) -> bool:
    """ "the inlet is hot" -- an adjective complement of "be" whose subject is a plain noun."""
    if t.lower_ not in KIND_OF or KIND_OF[t.lower_] == MATERIAL or t.dep_ != "acomp" or t.head.lemma_ != "be":
        return False
    subj = next((c for c in t.head.children if c.dep_ == "nsubj"), None)
    return subj is not None and subj.pos_ == "NOUN" and whole_word(t) and not any(c.dep_ in ("prep", "xcomp") for c in t.children)
