"""Attribute binding: swap modifiers between two noun phrases ("a red car and a blue house")."""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss.base import Perturbation, replace_spans, whole_word
from verirank.types import Category

# modifiers that do not bind a property to a noun, or whose swap reads as nonsense
SKIP = {"other", "such", "same", "many", "few", "several", "more", "most", "much", "own", "certain", "various",
        "first", "last", "next", "previous", "following", "new", "main", "major", "particular", "general"}


def _modifiers(doc: Any) -> list[Any]:
    return [t for t in doc if t.dep_ == "amod" and t.pos_ == "ADJ" and t.lower_ not in SKIP
            and t.head.pos_ in ("NOUN", "PROPN") and t.i < t.head.i and t.tag_ == "JJ" and whole_word(t)]


def _separate(a: Any, b: Any) -> bool:
    """Two modifiers of two different noun phrases (not one chain like "free molecule flow")."""
    return (a.head.i != b.head.i and a.lower_ != b.lower_ and a.head.lower_ != b.head.lower_
            and a.head.i != b.i and b.head.i != a.i and abs(a.head.i - b.head.i) > 1)


def perturb(doc: Any, rng: random.Random) -> Perturbation | None:
    mods = _modifiers(doc)
    pairs = [(a, b) for i, a in enumerate(mods) for b in mods[i + 1 :] if _separate(a, b)]
    if not pairs:
        return _swap_compounds(doc, rng)
    a, b = rng.choice(pairs)
    edits = [(a.idx, a.idx + len(a.text), _case(b.text, a.text)), (b.idx, b.idx + len(b.text), _case(a.text, b.text))]
    for mod, new in ((a, b.text), (b, a.text)):
        art = mod.doc[mod.i - 1] if mod.i > 0 else None
        if art is not None and art.lower_ in ("a", "an"):
            want = "an" if new[:1].lower() in "aeiou" else "a"
            if want != art.lower_:
                edits.append((art.idx, art.idx + len(art.text), _case(want, art.text)))
    return replace_spans(doc.text, edits, Category.BINDING)


def _swap_compounds(doc: Any, rng: random.Random) -> Perturbation | None:
    comps = [t for t in doc if t.dep_ == "compound" and t.pos_ == "NOUN" and t.head.pos_ == "NOUN"
             and t.i + 1 == t.head.i and whole_word(t) and whole_word(t.head)
             and not any(c.dep_ == "compound" and c.i != t.i for c in t.head.children)]
    pairs = [(a, b) for i, a in enumerate(comps) for b in comps[i + 1 :] if _separate(a, b)]
    if not pairs:
        return None
    a, b = rng.choice(pairs)
    return replace_spans(doc.text, [(a.idx, a.idx + len(a.text), _case(b.text, a.text)),
                                    (b.idx, b.idx + len(b.text), _case(a.text, b.text))], Category.BINDING)


def _case(word: str, like: str) -> str:
    if like[:1].isupper() and word[:1].islower():
        return word[:1].upper() + word[1:]
    if like[:1].islower() and word[:1].isupper() and not word.isupper():
        return word[:1].lower() + word[1:]
    return word
