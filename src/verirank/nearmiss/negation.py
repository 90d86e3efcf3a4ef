"""Negation: add or remove "not" on the main verb (with do-support), or flip always/never."""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._nlp import inflect
from verirank.nearmiss.base import Perturbation, replace_spans
from verirank.types import Category

ADVERB_FLIPS = {"always": "never", "never": "always"}
NEGATIVE_POLARITY = {"no", "never", "none", "nothing", "nobody", "any", "anything", "anyone", "either", "neither",
                     "nor", "only", "yet", "ever"}
SPEECH_VERBS = {"say", "tell", "add", "state", "note", "write", "report", "explain", "announce", "claim"}
NEGATORS = {"not", "n't"}
DO_TENSE = {"does": "VBZ", "did": "VBD", "do": "VBP"}


def perturb(doc: Any, rng: random.Random) -> Perturbation | None:
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ not in ("VERB", "AUX") or root.tag_ == "VBN" and not any(
        c.dep_ in ("aux", "auxpass") for c in root.children
    ):
        return None  # no finite main verb (a participle or a mis-parsed noun)
    text = doc.text
    negs = [c for c in root.children if c.dep_ == "neg" and c.lower_ in NEGATORS]
    if negs:
        return _remove(doc, root, negs[0])
    flips = [c for c in root.children if c.lower_ in ADVERB_FLIPS and c.dep_ == "advmod"]
    if flips:
        t = flips[0]
        new = ADVERB_FLIPS[t.lower_]
        return replace_spans(text, [(t.idx, t.idx + len(t.text), new.capitalize() if t.text[0].isupper() else new)],
                             Category.NEGATION)
    if any(c.dep_ == "neg" or c.lower_ in NEGATIVE_POLARITY for c in doc):
        return None  # negative or polarity words elsewhere: adding "not" risks nonsense ("not ... any more")
    if any(ch in doc.text for ch in "\"“”") and root.lemma_ in SPEECH_VERBS:
        return None  # 'X," he said' -> negating the speech tag, not the claim
    auxes = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i]
    if auxes:
        a = auxes[0]
        if a.lower_ in ("to",) or a.tag_ == "TO":
            return None
        return replace_spans(text, [(a.idx + len(a.text), a.idx + len(a.text), " not")], Category.NEGATION)
    if root.lemma_ == "be":
        return replace_spans(text, [(root.idx + len(root.text), root.idx + len(root.text), " not")], Category.NEGATION)
    do = {"VBZ": "does", "VBD": "did", "VBP": "do"}.get(root.tag_)
    if do is None or root.i == 0:
        return None
    if root.lemma_ in ("do", "have"):
        return None  # "does not do" / "did not have" read oddly often enough to skip
    return replace_spans(text, [(root.idx, root.idx + len(root.text), f"{do} not {root.lemma_}")], Category.NEGATION)


def _remove(doc: Any, root: Any, neg: Any) -> Perturbation | None:
    text = doc.text
    if neg.lower_ == "n't":
        aux = doc[neg.i - 1]
        whole = aux.text + neg.text
        fixes = {"can't": "can", "won't": "will", "don't": "do", "doesn't": "does", "didn't": "did", "isn't": "is",
                 "aren't": "are", "wasn't": "was", "weren't": "were", "shouldn't": "should", "couldn't": "could",
                 "wouldn't": "would", "hasn't": "has", "haven't": "have", "hadn't": "had", "mustn't": "must"}
        base = fixes.get(whole.lower())
        if base is None:
            return None
        start, end = aux.idx, neg.idx + len(neg.text)
        if base in DO_TENSE and root.tag_ == "VB":  # "didn't go" -> "went"
            form = inflect(root.lemma_, DO_TENSE[base])
            if form is None:
                return None
            return replace_spans(text, [(start, root.idx + len(root.text), form)], Category.NEGATION)
        return replace_spans(text, [(start, end, base if whole[0].islower() else base.capitalize())], Category.NEGATION)
    prev = doc[neg.i - 1] if neg.i else None
    if prev is not None and prev.lower_ in DO_TENSE and root.tag_ == "VB" and root.i == neg.i + 1:
        form = inflect(root.lemma_, DO_TENSE[prev.lower_])
        if form is None:
            return None
        return replace_spans(text, [(prev.idx, root.idx + len(root.text), form)], Category.NEGATION)
    if prev is None:
        return None
    return replace_spans(text, [(prev.idx + len(prev.text), neg.idx + len(neg.text), "")], Category.NEGATION)
