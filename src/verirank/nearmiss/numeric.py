"""Numeric changes: counts, amounts, measures, percentages and years (seeded).

"50 mg" -> "100 mg", "in 2019" -> "in 2021", "three patients" -> "five patients", "12%" -> "24%".
Only a quantity is changed: not a label or identifier (list markers, "Table 3", "Boeing 747",
citations in brackets, days of a month, times of day, parts of hyphenated words), and only in a
sentence with no other quantity that it could be summed with or compared to.  New values stay
plausible (percentages below 100, round numbers stay round, years stay in the past).
"""

from __future__ import annotations

import random
import re
from typing import Any

from verirank.nearmiss.base import Perturbation, default_rng, match_case, replace_spans, token_edit, whole_word
from verirank.types import Category

WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
         "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
         "seventy": 70, "eighty": 80, "ninety": 90}
WORD_OF = {v: k for k, v in WORDS.items()}
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
LABEL_WORDS = {"no", "no.", "number", "#", "version", "model", "flight", "route", "room", "grade", "level", "type",
               "phase", "class", "step", "stage", "case", "cases", "figure", "fig", "fig.", "table", "section",
               "chapter", "vol", "vol.", "volume", "page", "pages", "p.", "pp.", "ref", "ref.", "article", "rule",
               "line", "item", "code", "series", "part", "appendix", "eq", "eq.", "equation", "law", "act", "bill",
               "channel", "highway", "interstate", "street", "avenue", "apollo", "world", "war", "category",
               "grade", "group", "patient", "subject", "experiment", "test", "method", "region", "zone", "area",
               "unit", "station", "runway", "platform", "gate", "exit", "district", "ward", "precinct", "floor",
               "suite", "box", "lot", "issue", "edition", "reference", "formula", "rev", "ver", "mark", "mk",
               "windows", "office", "tier", "paragraph", "clause", "schedule", "form", "exhibit", "docket",
               "division", "league", "round", "game", "week", "day", "year", "day", "session", "term", "seed",
               "time", "wave", "visit", "point", "trial", "sample"}  # "at time 2"
FIXED_AFTER = {"dimensional", "thumbs", "summer", "winter", "olympics", "olympic", "index", "selectric", "sweptback",
               "swept", "sweep"}
SPECIAL_NUMBERS = {"911", "999", "112", "411", "101"}  # phone numbers and "Room 101"-like names
SCALES = {"hundred", "thousand", "million", "billion", "trillion", "dozen"}
ENT_OK = {"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", ""}
NUMBER = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$|^\d+\.\d+$")
YEAR_LIKE = re.compile(r"1[89]\d\d|20[0-2]\d")
NAMED_AFTER = {"act", "law", "convention", "treaty", "games", "conference", "olympics", "census", "constitution"}
PAST_YEAR = 2024


def perturb(doc: Any, rng: random.Random | None = None) -> Perturbation | None:
    """Change one quantity in ``doc`` (seeded choice of quantity and new value); None when none is safe."""
    rng = default_rng(rng)
    numbers = [t for t in doc if (t.like_num or t.lower_ in WORDS or any(ch.isdigit() for ch in t.text))
               and not (t.lower_ in SCALES and t.i > 0 and doc[t.i - 1].like_num)]
    quantities = [t for t in numbers if not _is_year(t)]
    if len(quantities) > 1 or len(numbers) > 2 or ":" in doc.text or "(" in doc.text or "[" in doc.text:
        return None  # several numbers may be summed, ranged or compared; brackets hold citations/conversions
    spots = [t for t in numbers if _changeable(t)]
    if not spots:
        return None
    t = rng.choice(spots)
    new = _new_value(t, rng)
    if new is None or new == t.text:
        return None
    return replace_spans(doc.text, [token_edit(t, new)], Category.NUMERIC)


def _is_year(t: Any) -> bool:
    return bool(re.fullmatch(r"1[89]\d\d|20[0-2]\d", t.text)) and t.ent_type_ in ("DATE", "")


def _changeable(t: Any) -> bool:
    doc = t.doc
    prev = doc[t.i - 1] if t.i > 0 else None
    nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
    if not (NUMBER.match(t.text) or t.lower_ in WORDS) or not whole_word(t) or t.ent_type_ not in ENT_OK:
        return False
    if YEAR_LIKE.fullmatch(t.text) and not _is_year(t):
        return False  # "a 2011 study" parsed as a count: doubling it gives "a 4022 study"
    if _is_year(t) and prev is not None and prev.lower_ == "of" and t.i > 1 and doc[t.i - 2].text[:1].isupper():
        return False  # "the Compensation Act of 1991", "the Class of 1990": part of a name
    if prev is not None and prev.text in (";", ".") and not _is_year(t):
        return False  # "; 2." a list marker
    if prev is not None and prev.lower_ == "the" and (nxt is None or nxt.is_punct):
        return False  # "works fine with the 680.": a model
    if prev is not None and prev.text in ("'", "’"):
        return False  # "ONLINE '79"
    if _is_year(t) and (any(YEAR_LIKE.search(w.text) for w in doc if w.i != t.i)
                        or any(w.lower_ in NAMED_AFTER for w in doc[t.i + 1 : t.i + 5])):
        return False  # "In 2006 ... the pre-2004 restrictions"; "the 1956 UK Copyright Act"
    if t.text in SPECIAL_NUMBERS or (prev is not None and prev.text.isupper() and len(prev.text) > 1 and not _is_year(t)):
        return False  # "911 calls", "AACR 2"
    if prev is not None and prev.lower_ in ("in", "see") and (nxt is None or nxt.is_punct) and not _is_year(t):
        return False  # "the figures given in 4.": a reference to a section
    if nxt is not None and nxt.text[:1].isupper() and not _is_year(t) and (
            nxt.pos_ == "PROPN" or nxt.i + 1 < len(doc) and doc[nxt.i + 1].text[:1].isupper()):
        return False  # "the 1100 Operating System": a model name; "The 500 Most Influential Muslims": a title
    if t.ent_type_ == "DATE" and not _is_year(t):
        return False  # "14 March", "the 1990s"
    if prev is not None and (prev.lower_ in LABEL_WORDS or prev.pos_ == "PROPN" or prev.text in ("$",) and t.text.startswith("0")):
        return False  # "Table 3", "Boeing 747", "Public Law 94"
    if any(w is not None and (w.lower_ in MONTHS or w.text in ("-", "–", "/", "x", "×", "th")) for w in (prev, nxt)):
        return False
    if nxt is not None and nxt.lower_ in FIXED_AFTER:
        return False  # "two dimensional wings", "two thumbs down", "the 2000 Summer Olympics"
    if nxt is not None and (nxt.lower_ in ("a.m.", "p.m.", "am", "pm", "o'clock", "'s", "s", "th", "st", "nd", "rd")
                            or nxt.text in (".",) and t.i == 0):
        return False
    if any(w is not None and w.lower_ in ("to", "or", "and", "by", "of", "per", "between", "from")
           for w in (prev, nxt)) and not _is_year(t):
        return False  # "two or three", "5 to 10", "one of", "7 of 10"
    if t.i == 0 and not t.lower_ in WORDS:
        return False  # a leading digit is often a list marker
    if _is_year(t) and _in_range(t):
        return False  # "between 1984 and 1986", "from 2000 to 2003": a new year could reverse the range
    if prev is not None and prev.lower_ in ("all", "both", "the") and nxt is not None and nxt.tag_ == "NN" and not _is_year(t):
        return False  # "in all three instances" -> "all two"; "the 8051 microcontroller" is a model number
    if prev is not None and prev.lower_ in ("all", "both"):
        return False
    if t.text == "100" and nxt is not None and nxt.lower_ in ("percent", "%", "per"):
        return False  # "I stand 100 percent by it": "fully", not an amount
    if t.lower_ in WORDS or (t.text.isdigit() and int(t.text) <= 12 and not _is_year(t)):
        if prev is not None and prev.lower_ in ("at", "until", "till", "since", "past"):
            return False  # "opens at nine": a time of day
        if nxt is not None and nxt.tag_ == "NN":
            return False  # "a four terminal network": a term, not four networks
        return not _counts_a_list(t)
    return True


def _in_range(t: Any) -> bool:
    doc = t.doc
    near = doc[max(0, t.i - 3) : t.i + 4]
    return sum(_is_year(w) for w in near) > 1 or any(w.lower_ in ("between", "from", "through") for w in doc[max(0, t.i - 2) : t.i])


def _counts_a_list(t: Any) -> bool:
    """ "two companies -- Delta and Home Depot", "London, Brussels and Frankfurt, the four top routes":
    a count whose items may be listed in the sentence."""
    after = t.doc[t.i + 1 :]
    if any(w.text in ("--", "—", "–", ":", "-") for w in after):
        return True
    return any(w.lower_ in ("and", "or") for w in t.doc)  # "two techniques ... are X and Y", "choke or
    # capacitor input ... the two systems", "London, Brussels and Frankfurt, the three routes"


def _new_value(t: Any, rng: random.Random) -> str | None:
    if t.lower_ in WORDS:
        n = WORDS[t.lower_]
        options = [w for w, v in WORDS.items() if v != n and (v <= 12) == (n <= 12)]
        return match_case(rng.choice(options), t.text)
    plain = t.text.replace(",", "")
    nxt = t.doc[t.i + 1] if t.i + 1 < len(t.doc) else None
    percent = nxt is not None and nxt.lower_ in ("%", "percent", "per", "pct")
    if "." in plain:
        x = float(plain)
        decimals = len(plain.split(".")[1])
        candidates = [x * 2, x / 2, x * 3] if not (percent and x * 2 >= 100) else [x / 2, x / 3]
        if x < 1 and not percent:
            candidates = [x / 2, (x + 1) / 2] if x > 0 else []
        for y in rng.sample(candidates, len(candidates)):
            text = f"{y:.{decimals}f}"
            if float(text) != x and float(text) > 0:
                return text
        return None
    n = int(plain)
    if _is_year(t):
        shift = rng.choice([-5, -4, -3, -2, 2, 3, 4, 5])
        return str(n + shift if n + shift <= PAST_YEAR else n - abs(shift))
    if n <= 1:
        return None  # "1 patient" -> "3 patient"
    if n <= 12:
        new = rng.choice([v for v in range(2, 13) if v != n])
    elif percent:
        options = [v for v in (n * 2, n // 2, n + 10, n - 10) if 0 < v < 100 and v != n]
        if not options:
            return None
        new = rng.choice(options)
    else:
        options = [n * 2, n * 3] + ([n // 2] if n % 2 == 0 else [])
        new = rng.choice(options)
    return f"{new:,}" if "," in t.text else str(new)
