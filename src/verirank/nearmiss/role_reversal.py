"""Role reversal: swap subject and object of a transitive verb (or the two sides of a passive)."""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._nlp import inflect
from verirank.nearmiss.base import Perturbation, is_plural, lower_first, replace_spans, simple_np, span_text
from verirank.types import Category

LIGHT_VERBS = {"have", "take", "make", "give", "reach", "win", "get", "do", "know", "rival", "resemble", "meet",
               "marry", "equal", "face", "play", "join", "hold", "reverse", "prevail", "cost", "place"}
BE_FORMS = {("VBZ", False): "is", ("VBZ", True): "are", ("VBP", False): "is", ("VBP", True): "are",
            ("VBD", False): "was", ("VBD", True): "were"}


def perturb(doc: Any, rng: random.Random) -> Perturbation | None:
    for verb in doc:
        if verb.pos_ != "VERB" or verb.tag_ not in ("VBD", "VBZ", "VBP", "VBN", "VB") or verb.lemma_ in LIGHT_VERBS:
            continue
        subj = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is None:
            continue
        if subj.dep_ == "nsubj":
            obj = next((c for c in verb.children if c.dep_ == "dobj"), None)
        else:
            agent = next((c for c in verb.children if c.dep_ == "agent"), None)
            obj = next((c for c in agent.children if c.dep_ == "pobj"), None) if agent is not None else None
        if obj is None:
            continue
        a, b = simple_np(subj), simple_np(obj)
        if a is None or b is None or a[1] > b[0]:
            continue
        if doc[a[0]:a[1]].text.lower() == doc[b[0]:b[1]].text.lower():
            continue
        if any(t.like_num or t.lower_ in ("percent", "%") for t in (*doc[a[0]:a[1]], *doc[b[0]:b[1]])):
            continue  # "43 percent prevailed the president"
        if not (_agentive(subj) and _agentive(obj)):
            continue
        return _swap(doc, verb, subj, obj, a, b)
    return None


def _agentive(head: Any) -> bool:
    """Both sides must be able to act: names, or people/organisation-like common nouns."""
    if head.pos_ == "PROPN":
        return True
    return head.lemma_.lower() in AGENT_NOUNS


AGENT_NOUNS = {
    "dog", "cat", "man", "woman", "boy", "girl", "child", "teacher", "student", "doctor", "patient", "nurse",
    "police", "officer", "judge", "lawyer", "jury", "company", "firm", "bank", "government", "court", "team",
    "player", "coach", "army", "soldier", "enemy", "customer", "client", "server", "user", "parent", "driver",
    "worker", "union", "manager", "employee", "employer", "committee", "board", "senator", "president", "minister",
    "voter", "buyer", "seller", "landlord", "tenant", "author", "editor", "reader", "critic", "fan", "mother",
    "father", "brother", "sister", "friend", "neighbour", "neighbor", "king", "queen", "prince", "cell", "virus",
    "bacterium", "antibody", "predator", "prey", "wolf", "lion", "bird", "fish", "agency", "group", "country",
    "city", "state", "rival", "partner", "investor", "bidder", "attacker", "defender", "victim", "suspect",
    "witness", "prosecutor", "researcher", "scientist", "engineer", "pilot", "passenger", "crowd", "leader",
    "startup", "competitor", "hospital", "school", "university", "club", "airline", "retailer", "supplier",
}


def _np_text(doc: Any, rng: tuple[int, int], sentence_start: bool) -> str:
    words = doc[rng[0]:rng[1]].text
    if sentence_start:
        return words[:1].upper() + words[1:]
    return lower_first(doc[rng[0]:rng[1]]) if rng[0] == 0 else words


def _swap(doc: Any, verb: Any, subj: Any, obj: Any, a: tuple[int, int], b: tuple[int, int]) -> Perturbation | None:
    a_chars, b_chars = span_text(doc, *a), span_text(doc, *b)
    edits = [(*a_chars, _np_text(doc, b, sentence_start=a[0] == 0)), (*b_chars, _np_text(doc, a, sentence_start=False))]
    new_plural, old_plural = is_plural(obj), is_plural(subj)
    if new_plural != old_plural:  # agreement with the new subject
        agree = [t for t in (*[c for c in verb.children if c.dep_ in ("aux", "auxpass")], verb)
                 if t.tag_ in ("VBZ", "VBP") or (t.lemma_ == "be" and t.tag_ == "VBD")]
        if not agree:
            pass
        else:
            t = agree[0]
            if subj.tag_ == "PRP" or obj.tag_ == "PRP":
                return None
            if t.lemma_ == "be":
                form = BE_FORMS.get((t.tag_, new_plural))
            elif t.lemma_ == "have":
                form = "have" if new_plural else "has"
            elif t.lemma_ == "do":
                form = "do" if new_plural else "does"
            else:
                form = inflect(t.lemma_, "VBP" if new_plural else "VBZ")
            if form is None:
                return None
            edits.append((t.idx, t.idx + len(t.text), form))
    return replace_spans(doc.text, edits, Category.ROLE_REVERSAL)
