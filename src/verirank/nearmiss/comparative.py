"""Comparative flips: reverse the comparison word, or swap the two compared arguments.

"Rome is closer than Paris" -> "Paris is closer than Rome"; "higher temperatures" -> "lower
temperatures"; "the most important" -> "the least important"; "X increased" -> "X decreased".
Flips are taken only where the word is a real comparison (a comparative before "than", a
comparative or superlative adjective on a noun, "more"/"most" on an adjective) and not part of a
fixed phrase ("no longer", "at least", "more or less"); verb flips (increase, rise) are skipped
when numbers or other direction words in the sentence would contradict the new direction.
"""

from __future__ import annotations

import random
import re
from typing import Any

from verirank.nearmiss.base import (
    Perturbation, default_rng, has_quote, is_title, np_text_at, replace_spans, replace_word, simple_np, span_chars,
    whole_word,
)
from verirank.types import Category

PAIRS = {
    "higher": "lower", "larger": "smaller", "bigger": "smaller", "greater": "smaller", "faster": "slower",
    "longer": "shorter", "older": "younger", "heavier": "lighter", "better": "worse", "warmer": "cooler",
    "stronger": "weaker", "wider": "narrower", "thicker": "thinner", "deeper": "shallower",
    "richer": "poorer", "easier": "harder", "safer": "riskier", "louder": "quieter", "taller": "shorter",
    "highest": "lowest", "largest": "smallest", "biggest": "smallest", "fastest": "slowest",
    "longest": "shortest", "oldest": "youngest", "heaviest": "lightest", "best": "worst", "strongest": "weakest",
    "widest": "narrowest", "thickest": "thinnest", "deepest": "shallowest",
    "richest": "poorest", "easiest": "hardest", "safest": "riskiest", "tallest": "shortest",
    "more": "less", "most": "least", "fewer": "more",
    "increase": "decrease", "increases": "decreases", "increased": "decreased", "increasing": "decreasing",
    "rise": "fall", "rises": "falls", "rose": "fell", "rising": "falling", "risen": "fallen",
}
# Not flipped: maximum/minimum, maximal/minimal, maximize/minimize (valid in 47 of 78 audited rows:
# they name technical quantities, limits and optima), and "greatest" (often "best", not "largest").
FLIPS = {**PAIRS, **{v: k for k, v in PAIRS.items()}}
FLIPS.update({"smaller": "larger", "smallest": "largest", "shorter": "longer", "shortest": "longest",
              "more": "less", "less": "more", "lighter": "heavier", "lightest": "heaviest", "harder": "easier",
              "hardest": "easiest", "lower": "higher", "lowest": "highest", "fell": "rose", "falls": "rises",
              "fall": "rise", "falling": "rising", "fallen": "risen"})
for _word in ("least", "narrower", "narrowest", "easier", "easiest", "harder", "hardest"):
    FLIPS.pop(_word, None)  # "least" has too many fixed uses ("at least"); "narrower terms" of a thesaurus;
    # easy/hard judge a task, and the judgement is argued by the rest ("the easiest decision: all dishes are great")
FLIPS.pop("fewer", None)
FLIPS.pop("poorer", None)  # "poor" is also "bad": "the poorest access to toilets" -> "the best", not "the richest"
FLIPS.pop("poorest", None)
FLIPS.pop("less", None)  # "less" -> "more" only before "than" (handled there); "less" is also "without"

VERBISH = {"increase", "increases", "increased", "increasing", "decrease", "decreases", "decreased",
           "decreasing", "rise", "rises", "rose", "rising", "risen", "fall", "falls", "fell", "falling", "fallen"}
DIRECTION_WORDS = {"high", "higher", "highest", "low", "lower", "lowest", "up", "down", "gain", "gained", "gains",
                   "lose", "lost", "loss", "losses", "drop", "dropped", "drops", "rally", "rallied", "record", "peak",
                   "climb", "climbed", "jump", "jumped", "slid", "slip", "slipped", "plunge", "plunged", "surge",
                   "surged", "soar", "soared", "tumble", "tumbled", "increase", "increased", "increases", "decrease",
                   "decreased", "decreases", "rise", "rose", "risen", "fall", "fell", "fallen", "more", "less",
                   "above", "below", "over", "under", "grow", "grew", "growth", "decline", "declined", "reduce",
                   "reduced", "reduction", "boost", "boosted", "cut", "than", "doubled", "tripled", "halved",
                   "maximum", "minimum", "top", "bottom", "recovery", "recovered", "improve", "improved",
                   "worse", "better", "weak", "weaker", "strong", "stronger", "rising", "falling", "increasing",
                   "decreasing", "offset", "despite", "but", "although", "however", "while", "increasingly",
                   "decreasingly", "becoming", "growing"}
FIXED_TERMS = {("lower", "court"), ("higher", "court"), ("higher", "education"), ("high", "school"),
               ("lower", "house"), ("upper", "house"), ("greater", "part"), ("best", "practice"),
               ("higher", "order"), ("lower", "case"), ("better", "half"), ("most", "part"), ("greater", "detail"),
               ("lower", "atmosphere"), ("upper", "atmosphere"), ("larger", "community"), ("smallest", "detail"),
               ("lower", "reach"), ("higher", "technical"), ("lower", "side"), ("upper", "side"),
               ("minimum", "area"), ("maximal", "element"), ("minimal", "element"), ("greatest", "common"),
               ("maximum", "likelihood"), ("lower", "bound"), ("upper", "bound"), ("least", "square"),
               ("lower", "half"), ("higher", "half"), ("smaller", "arm"), ("lower", "body"), ("longest", "common")}
ANIMATE = {"patient", "child", "people", "person", "man", "woman", "adult", "subject", "student", "girl", "boy",
           "individual", "animal", "rat", "mouse", "sibling", "son", "daughter", "brother", "sister", "member",
           "player", "resident", "worker", "employee", "voter", "woman", "men", "women", "children", "infant"}
# words after rise/fall that make an idiom ("falls short", "fell ill")
AFTER_RISE_FALL = {"short", "behind", "apart", "asleep", "ill", "silent", "victim", "prey", "into", "under", "within",
                   "through", "back", "out", "off", "on", "upon", "in", "love", "flat", "foul", "due", "to"}
EXTREMES = {"high", "highs", "low", "lows", "record", "peak", "bottom"}
DIVIDED = re.compile(r"\b(divid|subdivid|partition|split|segment|broken into|break into|construct|decompos|compos)",
                     re.IGNORECASE)
PARTS = {"part", "portion", "half", "end", "limb", "jaw", "lip", "deck", "floor", "layer", "stabilizer", "garment",
         "body", "leg", "arm", "back", "abdomen", "bound", "reach", "stage", "level", "class", "rank", "tier"}
# amounts whose change or comparison reverses cleanly; SCALARS are "high"/"low", not "large"/"small"
SCALARS = {"pressure", "temperature", "speed", "velocity", "rate", "frequency", "concentration", "resolution", "level",
           "price", "cost", "density", "energy", "voltage", "dose", "altitude", "tax", "wage", "salary", "fee",
           "yield", "score", "income", "mortality", "incidence", "risk", "intensity", "viscosity", "humidity"}
QUANTITIES = SCALARS | {"number", "amount", "value", "percentage", "proportion", "share", "revenue", "sale", "profit",
                        "weight", "size", "volume", "count", "resistance", "drag", "lift", "load", "thickness",
                        "length", "height", "depth", "width", "distance", "time", "duration", "output",
                        "production", "demand", "supply", "consumption", "flow", "power", "current", "budget",
                        "debt", "growth", "loss", "uptake", "excretion", "activity", "capacity", "ratio",
                        "efficiency", "accuracy", "range", "spending", "investment", "unemployment", "inflation",
                        "earnings", "stock", "share", "index", "turnover", "attendance", "enrollment", "dosage"}
SURVIVING = re.compile(r"surviv|continu|extant|existing|still")
# a superlative measured against all history, or a threshold: "the largest mass migration in human
# history", "the smallest sale to date", "the smallest height of roughness capable of affecting transition"
RECORD_OR_THRESHOLD = re.compile(r"\b(history|to date|of all time|on record|ever|capable of|able to|enough to|"
                                 r"sufficient to|needed to|required to|necessary (to|for))\b", re.IGNORECASE)
PROMOTED = re.compile(r"\b(named after|advertised as|billed as|touted as|hailed as|known as)\b", re.IGNORECASE)
RECORDS = {"streak", "skid", "run", "reign", "tenure", "career", "winning", "losing", "drought"}
SMALL_COUNTS = {"one", "1", "once", "two", "2", "twice"}
EXAMPLES = {"such", "e.g.", "including", "like", "namely"}
GOAL_VERBS = {"call", "aim", "seek", "want", "need", "require", "demand", "combat", "fight", "prevent", "avoid",
              "achieve", "accommodate", "target", "strive", "attempt", "try", "intend", "plan", "hope", "propose"}
FIXED_BEFORE = {"no", "any", "at", "much", "far", "even", "still", "all"}
FIXED_AFTER = {"or", "and", "of", "recently", "likely", "notably", "importantly", "often", "than"}


def perturb(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """Swap the compared arguments or flip one comparison word (seeded choice)."""
    rng = default_rng(rng)
    if has_quote(doc) or doc[-1].text == "?":
        return None
    swapped = _swap_arguments(doc)
    spots = [t for t in doc if (t.lower_ in FLIPS or t.lower_ == "less") and _allowed(t)]
    if swapped is not None and (not spots or rng.random() < 0.5):
        return swapped
    if not spots:
        return None
    t = rng.choice(spots)
    new = "more" if t.lower_ == "less" else FLIPS[t.lower_]
    if new in ("younger", "youngest") and t.head.lemma_.lower() not in ANIMATE:
        new = "newer" if new == "younger" else "newest"  # "the oldest hotel" -> "the newest hotel"
    nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
    if new == "less" and (_counted(t) or nxt is not None and nxt.tag_ == "NNS"):
        new = "fewer"  # "more than 100 officers" -> "fewer than 100 officers", "won more games than"
    if t.lower_ == "greater" and t.head.tag_ == "NN" and t.dep_ == "amod" and doc[t.i - 1].lower_ not in ("a", "an"):
        new = "less"  # "greater visual preference than" -> "less visual preference than"; "a smaller impact"
    elif new in ("smaller", "larger") and _measured(t) in SCALARS:
        new = "lower" if new == "smaller" else "higher"  # "at pressures greater than" -> "lower than"
    return replace_word(doc, t, new, Category.COMPARATIVE)


def _than_follows(t: Any) -> bool:
    """ "higher than", "more expensive than", "more people than"."""
    doc = t.doc
    for w in doc[t.i + 1 : t.i + 5]:
        if w.lower_ == "than":
            nxt = doc[w.i + 1] if w.i + 1 < len(doc) else None
            return (nxt is not None and nxt.pos_ not in ("VERB", "AUX") and nxt.lower_ not in ("ever", "usual", "expected", "before")
                    and not any(x.ent_type_ == "ORDINAL" for x in doc[w.i + 1 : w.i + 3]))  # "modes lower than the first"
        if w.pos_ in ("PUNCT", "VERB", "AUX", "CCONJ", "SCONJ"):
            return False
    return False


def _allowed(t: Any) -> bool:
    word = t.lower_
    doc = t.doc
    prev = doc[t.i - 1] if t.i > 0 else None
    nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
    if t.ent_type_ not in ("", "CARDINAL", "QUANTITY", "PERCENT", "MONEY") or t.pos_ == "PROPN":
        return False  # "Greater Manchester", "Best Foreign Language Film"
    if any(w.lower_ == FLIPS.get(word) for w in doc):
        return False  # "minimum and maximum angle" would become "minimum and minimum"
    if nxt is not None and ((word, nxt.lemma_.lower()) in FIXED_TERMS or nxt.lower_ == "ebb"):
        return False  # "a lower court", "higher education", "at her lowest ebb"
    if "(" in doc.text:
        return False  # "(1) near the nozzle (distances less than 4 diameters)": the bracket restates the claim
    if (t.text[:1].isupper() and t.i > 0) or not whole_word(t) or (nxt is not None and nxt.text == "-"):
        return False
    if (prev is not None and prev.lower_ in FIXED_BEFORE) or (nxt is not None and nxt.lower_ in FIXED_AFTER - {"than"}):
        return False  # "no longer", "at most", "more or less", "most of", "most recently"
    if word.startswith(("old", "young")) and any(w.like_num or SURVIVING.match(w.lower_) for w in doc):
        return False  # "at age 17, he became the youngest columnist"; "the oldest surviving building"
    if word.startswith(("light", "heav")) and any(w.lemma_.lower() in ("dark", "colour", "color", "pale") for w in doc):
        return False  # "lighter" of colour, not weight
    if word.startswith(("high", "low")) and any(w.lower_ in EXTREMES and w.i != t.i for w in doc):
        return False  # "at their lowest levels since hitting multiyear lows"
    if word in ("better", "worse") and _than_follows(t) and _than_number(t):
        return False  # "better than 50%" means "more than", "worse than 50%" means nothing
    if (t.tag_ == "JJS" or word == "most") and doc[max(t.i - 3, 0) : t.i].text.lower().startswith("one of"):
        return False  # "one of my favourite directors, and one of the least talented"
    if word == "greater" and t.head.tag_ == "NN" and not _than_follows(t):
        return False  # "greater objectivity": neither "smaller" nor "a less incidence" reads right
    if word in ("larger", "smaller", "bigger") and (DIVIDED.search(doc.text) or "part of a" in doc.text.lower()):
        return False  # "partitioned into smaller parts", "part of a larger series"
    if word.startswith(("high", "low")) and _measured(t) not in QUANTITIES:
        return False  # "the lower surface", "lower versions", "higher latitudes": a place or rank, not an amount
    if word == "most" and (t.head.lower_ == "recent" or t.head.head.tag_ == "NNS"):
        return False  # "the least recent edition" is not said; "the most aesthetic procedures" counts them
    if word in ("longest", "shortest") and t.head.lemma_.lower() in RECORDS:
        return False  # "their longest skid of the season": a record, not a length
    if (t.tag_ == "JJS" or word == "most") and (RECORD_OR_THRESHOLD.search(doc[t.i :].text)
                                                or PROMOTED.search(doc[max(t.i - 6, 0) : t.i].text)):
        return False  # "so named after its largest city", "advertised as the smallest": the claim is the point
    graded = t.head if word == "most" else t
    if any(w.lemma_.lower() == graded.lemma_.lower() and w.i != graded.i for w in doc):
        return False  # "a fairly common bird, among the most common": "the least common" contradicts it
    if _in_purpose(t) or any(w.lower_ in EXAMPLES for w in doc):
        return False  # "built to accommodate the increasing population"; "larger fish such as marlin"
    if word in ("more", "less"):
        if not _than_follows(t) or (prev is not None and (prev.like_num or prev.lower_ in ("one", "a", "the"))):
            return False  # "two more bodies"; only "more/less ... than"
        if nxt is not None and nxt.lower_ == "than" and doc[t.i + 2 : t.i + 3].text.lower() in SMALL_COUNTS:
            return False  # "more than one find" -> "less than one find" means none
        if any(w.lower_ in ("never", "not", "n't", "no") for w in doc) or sum(w.like_num for w in doc) > 1:
            return False  # "I have never had more than 2 bars"; "more than 90% ... the remaining 10%"
        return nxt is not None and nxt.lower_ != "than" or _than_number(t)
    if word in ("most",):
        return (t.dep_ == "advmod" and t.head.pos_ == "ADJ" and t.head.i == t.i + 1 and prev is not None
                and prev.lower_ == "the")
    if word in VERBISH:
        if t.tag_ not in ("VBN", "VBD", "NN") or any(c.dep_ in ("xcomp", "advcl") and _has_to(c) for c in t.children):
            return False  # "mutations accumulate and increase variation", "the increasing population", "increased
            # to keep step with inflation": a claim of cause, trend or purpose that the rest of the text backs
        if any(w.like_num or w.lower_ in DIRECTION_WORDS and w.i != t.i for w in doc):
            return False  # "rose ... to its lowest", "increased from 5 to 10"
        if word.startswith(("rise", "rose", "ris", "fall", "fell")):
            if nxt is not None and (nxt.lower_ in AFTER_RISE_FALL or "short" in doc[t.i + 1 : t.i + 5].text.lower()):
                return False  # "falls far short", "fallen a bit short", "fell ill"
            if is_title(doc):
                return False  # a title: "... of february smith rose" names the author Smith-Rose
            return t.pos_ == "VERB" and not any(c.dep_ in ("prt", "dobj") for c in t.children)
        return t.dep_ != "compound" and _measured(t) in QUANTITIES  # "prices increased", not "increased
        # understanding" or "the increase in complexity": only the change of an amount reverses cleanly
    if t.tag_ in ("JJR", "RBR"):
        if _than_follows(t):
            return t.tag_ == "JJR" and sum(w.like_num for w in doc) < 2  # "rose 0.3%, higher than a forecast
            # 0.5%": two numbers decide the comparison; "kept him longer than anyone" has no "shorter"
        if word in ("later", "earlier", "longer", "better", "worse", "further", "harder", "older", "younger"):
            return False  # "later that day", "no longer", "better known", "older versions"
        return t.pos_ == "ADJ" and t.dep_ == "amod" and t.head.pos_ == "NOUN" and not any(
            w.lower_ in DIRECTION_WORDS and w.i != t.i for w in doc)
    if t.tag_ == "JJS":
        return (t.dep_ == "amod" and t.head.pos_ == "NOUN" and prev is not None
                and (prev.lower_ == "the" or prev.tag_ == "PRP$" or prev.dep_ == "poss") and word not in ("best", "worst"))
    return False


def _in_purpose(t: Any) -> bool:
    """``t`` inside a purpose or goal: the object of an infinitive ("to achieve the highest quality"),
    of a gerund after a preposition ("for taking on the largest"), of a goal verb ("calls for") or of
    "for" ("for the most useful results")."""
    for anc in t.ancestors:
        if anc.pos_ in ("VERB", "AUX") and (anc.lemma_.lower() in GOAL_VERBS or anc.dep_ == "pcomp"
                                            or _has_to(anc)):
            return True
        if anc.dep_ == "prep" and anc.lower_ == "for":
            return True
    return False


def _measured(t: Any) -> str:
    """The lemma of the noun whose amount ``t`` compares or changes: "higher [prices]", "[prices]
    increased", "an increase in [price]", "[pressures] greater than"; "" when there is none."""
    if t.dep_ in ("amod", "advmod") and t.head.pos_ == "NOUN":
        return t.head.lemma_.lower()
    if t.pos_ == "NOUN":
        prep = next((c for c in t.children if c.dep_ == "prep" and c.lower_ in ("in", "of")), None)
        pobj = next((c for c in prep.children if c.dep_ == "pobj"), None) if prep is not None else None
        return pobj.lemma_.lower() if pobj is not None else ""
    verb = t.head if t.dep_ in ("acomp", "attr") else t
    subj = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    return subj.lemma_.lower() if subj is not None else ""


def _has_to(verb: Any) -> bool:
    return any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children)


def _counted(t: Any) -> bool:
    """ "more than 2,000 insurgents": a number followed by a plural count noun (not "percent")."""
    doc = t.doc
    num = doc[t.i + 2] if t.i + 2 < len(doc) else None
    noun = next((w for w in doc[t.i + 3 : t.i + 6] if w.pos_ == "NOUN"), None)
    return (num is not None and num.like_num and noun is not None and noun.tag_ == "NNS"
            and noun.lower_ not in ("percent", "acres", "miles", "feet", "pounds", "dollars", "hours", "minutes",
                                    "years", "months", "days", "weeks", "kilometres", "kilometers", "metres",
                                    "meters", "tons", "tonnes", "degrees", "seconds"))


def _than_number(t: Any) -> bool:
    """ "more than 50 people" -> "less than 50 people" is fine; "more than doubled" is not."""
    doc = t.doc
    nxt2 = doc[t.i + 2] if t.i + 2 < len(doc) else None
    return nxt2 is not None and nxt2.like_num


def _swap_arguments(doc: Any) -> Perturbation | None:
    """"A is closer than B" -> "B is closer than A" (both short noun phrases of the same kind and number)."""
    for than in doc:
        if than.lower_ != "than":
            continue
        pobj = next((c for c in than.children if c.dep_ == "pobj"), None)
        comp = than.head
        if comp.tag_ not in ("JJR", "RBR"):
            continue
        verb = comp.head if comp.dep_ in ("acomp", "advmod", "amod", "dobj", "attr") else comp
        subj = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        if pobj is None or subj is None or verb.lemma_ != "be":
            continue
        a, b = simple_np(subj), simple_np(pobj)
        if a is None or b is None or a[1] > b[0] or b[1] != than.i + 1 + (b[1] - b[0]) or than.i + 1 != b[0]:
            continue
        if (subj.tag_ in ("NNS", "NNPS")) != (pobj.tag_ in ("NNS", "NNPS")):
            continue
        same_kind = (subj.ent_type_ and subj.ent_type_ == pobj.ent_type_) or subj.lemma_.lower() == pobj.lemma_.lower()
        if not same_kind or doc[a[0] : a[1]].text.lower() == doc[b[0] : b[1]].text.lower():
            continue
        return replace_spans(doc.text, [(*span_chars(doc, *a), np_text_at(doc, b, sentence_start=a[0] == 0)),
                                        (*span_chars(doc, *b), np_text_at(doc, a, sentence_start=False))],
                             Category.COMPARATIVE)
    return None
