"""Meaning-preserving rewrites (positives): active->passive voice, fronted-phrase reordering,
and a small hand-checked synonym table (no offline WordNet is available here)."""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._nlp import inflect
from verirank.nearmiss.base import Perturbation, is_plural, lower_first, match_case, replace_spans, simple_np, span_text
from verirank.types import Category

# (word, POS) -> synonym; only senses that hold in nearly every context
SYNONYMS = {
    ("big", "ADJ"): "large", ("large", "ADJ"): "big", ("begin", "VERB"): "start", ("start", "VERB"): "begin",
    ("buy", "VERB"): "purchase", ("purchase", "VERB"): "buy", ("quick", "ADJ"): "fast", ("rapid", "ADJ"): "fast",
    ("help", "VERB"): "assist", ("assist", "VERB"): "help", ("use", "VERB"): "employ", ("employ", "VERB"): "use",
    ("show", "VERB"): "demonstrate", ("demonstrate", "VERB"): "show", ("obtain", "VERB"): "get",
    ("method", "NOUN"): "technique", ("technique", "NOUN"): "method", ("examine", "VERB"): "study",
    ("study", "VERB"): "examine", ("important", "ADJ"): "significant", ("significant", "ADJ"): "important",
    ("large", "ADJ"): "big", ("small", "ADJ"): "little", ("little", "ADJ"): "small", ("often", "ADV"): "frequently",
    ("frequently", "ADV"): "often", ("also", "ADV"): "additionally", ("however", "ADV"): "nevertheless",
    ("movie", "NOUN"): "film", ("film", "NOUN"): "movie", ("car", "NOUN"): "automobile", ("automobile", "NOUN"): "car",
    ("aid", "VERB"): "help", ("attempt", "VERB"): "try", ("try", "VERB"): "attempt", ("require", "VERB"): "need",
    ("need", "VERB"): "require", ("describe", "VERB"): "present", ("choose", "VERB"): "select",
    ("select", "VERB"): "choose", ("answer", "NOUN"): "reply", ("problem", "NOUN"): "issue",
    ("approximately", "ADV"): "roughly", ("roughly", "ADV"): "approximately", ("entire", "ADJ"): "whole",
    ("whole", "ADJ"): "entire", ("sufficient", "ADJ"): "adequate", ("adequate", "ADJ"): "sufficient",
    ("reveal", "VERB"): "show", ("investigate", "VERB"): "examine", ("finish", "VERB"): "complete",
    ("complete", "VERB"): "finish", ("purpose", "NOUN"): "aim", ("aim", "NOUN"): "purpose",
}
BE = {("VBD", False): "was", ("VBD", True): "were", ("VBZ", False): "is", ("VBZ", True): "are",
      ("VBP", False): "is", ("VBP", True): "are"}


def perturb(doc: Any, rng: random.Random) -> Perturbation | None:
    rules = [to_passive, front_reorder, synonym]
    rng.shuffle(rules)
    for rule in rules:
        out = rule(doc, rng)
        if out is not None:
            return out
    return None


def to_passive(doc: Any, rng: random.Random) -> Perturbation | None:
    """"The dog bit the man." -> "The man was bitten by the dog.\""""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ != "VERB" or root.tag_ not in ("VBD", "VBZ", "VBP"):
        return None
    if any(c.dep_ in ("aux", "auxpass", "neg", "prt", "dative", "ccomp", "xcomp") for c in root.children):
        return None
    subj = next((c for c in root.children if c.dep_ == "nsubj"), None)
    obj = next((c for c in root.children if c.dep_ == "dobj"), None)
    if subj is None or obj is None:
        return None
    a, b = simple_np(subj), simple_np(obj)
    if a is None or b is None or not (a[1] <= root.i < b[0]) or b[0] != root.i + 1:
        return None
    participle = inflect(root.lemma_, "VBN")
    if participle is None:
        return None
    be = BE[(root.tag_, is_plural(obj))] if root.tag_ == "VBD" else BE[("VBZ", is_plural(obj))]
    new_subj = doc[b[0]:b[1]].text
    new_agent = doc[a[0]:a[1]].text
    if a[0] == 0:
        new_subj = new_subj[:1].upper() + new_subj[1:]
        new_agent = lower_first(doc[a[0]:a[1]])
    start, _ = span_text(doc, *a)
    _, end = span_text(doc, *b)
    return replace_spans(doc.text, [(start, end, f"{new_subj} {be} {participle} by {new_agent}")], Category.MATCH)


def front_reorder(doc: Any, rng: random.Random) -> Perturbation | None:
    """"In 2019, the company grew." -> "The company grew in 2019.\""""
    if len(doc) < 6 or doc[0].pos_ not in ("ADP", "SCONJ", "ADV"):
        return None
    comma = next((t for t in doc[:12] if t.text == ","), None)
    last = doc[-1]
    if comma is None or comma.i < 2 or last.text not in (".", "!") or comma.i + 1 >= last.i:
        return None
    fronted = doc[: comma.i].text
    rest = doc[comma.i + 1 : last.i].text
    if "," in rest or doc[comma.i + 1].pos_ in ("CCONJ", "PUNCT"):
        return None
    first = doc[0].text if doc[0].pos_ == "PROPN" or doc[0].text.isupper() else doc[0].text.lower()
    fronted = first + fronted[len(doc[0].text):]
    rest_first = doc[comma.i + 1]
    rest = rest[:1].upper() + rest[1:]
    del rest_first
    new = f"{rest} {fronted}{last.text}"
    return replace_spans(doc.text, [(0, len(doc.text), new)], Category.MATCH)


def synonym(doc: Any, rng: random.Random) -> Perturbation | None:
    spots = [t for t in doc if (t.lemma_.lower(), t.pos_) in SYNONYMS and t.tag_ not in ("JJR", "JJS", "RBR", "RBS")]
    if not spots:
        return None
    t = rng.choice(spots)
    lemma = SYNONYMS[(t.lemma_.lower(), t.pos_)]
    word = lemma
    if t.pos_ == "VERB" and t.tag_ != "VB":
        word = inflect(lemma, t.tag_) or ""
    elif t.pos_ == "NOUN" and t.tag_ == "NNS":
        word = inflect(lemma, "NNS") or ""
    if not word:
        return None
    return replace_spans(doc.text, [(t.idx, t.idx + len(t.text), match_case(word, t.text))], Category.MATCH)
