"""Numeric changes: numbers, years, percentages and number words (seeded)."""

from __future__ import annotations

import random
import re
from typing import Any

from verirank.nearmiss.base import Perturbation, match_case, replace_spans
from verirank.types import Category

WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty"]
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
NUMBER = re.compile(r"^\d{1,3}(,\d{3})*(\.\d+)?$|^\d+(\.\d+)?$")


def _new_number(value: str, rng: random.Random) -> str | None:
    plain = value.replace(",", "")
    if "." in plain:
        x = float(plain)
        decimals = len(plain.split(".")[1])
        for _ in range(5):
            y = round(x * rng.choice([0.5, 2, 3, 10, 0.1]), decimals)
            if y != x and y > 0:
                return f"{y:.{decimals}f}"
        return None
    n = int(plain)
    if 1800 <= n <= 2100 and len(plain) == 4:  # a year
        return str(n + rng.choice([-5, -3, -2, -1, 1, 2, 3, 5]))
    options = [n * 10, n * 2, n + rng.randint(1, 9), max(0, n - rng.randint(1, max(1, n // 2)))]
    options = [o for o in options if o != n and (n > 1 or o > 1)]  # keep singular/plural agreement plausible
    if not options:
        return None
    new = rng.choice(options)
    return f"{new:,}" if "," in value else str(new)


def _changeable(doc: Any, t: Any) -> bool:
    """Skip labels and ids (list markers, model numbers), days of a month and bracketed conversions."""
    prev = doc[t.i - 1] if t.i > 0 else None
    nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
    if prev is not None and (prev.text in ("#", "No.", "no.", "Fig.", "fig.", "(", "-") or prev.pos_ == "PROPN"):
        return False
    if nxt is not None and (nxt.text in (")", ".", "-") and t.i == 0 or nxt.text == ")"):
        return False
    if any(w.lower_ in MONTHS for w in (prev, nxt) if w is not None):
        return False  # "14 March" -> "36 March" risks impossible dates
    if t.i == 0 or "(" in doc.text:
        return False  # a leading number is often a list marker; brackets often hold conversions
    if nxt is not None and nxt.text in ("%", "percent") and t.text.replace(",", "").isdigit():
        return int(t.text.replace(",", "")) < 50  # keep percentages below 100 after the change
    return True


def perturb(doc: Any, rng: random.Random) -> Perturbation | None:
    spots = [t for t in doc if t.like_num and (NUMBER.match(t.text) or t.lower_ in WORDS)]
    spots = [t for t in spots if _changeable(doc, t)]
    if not spots:
        return None
    t = rng.choice(spots)
    if t.lower_ in WORDS:
        new = rng.choice([w for w in WORDS if w != t.lower_])
        return replace_spans(doc.text, [(t.idx, t.idx + len(t.text), match_case(new, t.text))], Category.NUMERIC)
    new = _new_number(t.text, rng)
    if new is None:
        return None
    return replace_spans(doc.text, [(t.idx, t.idx + len(t.text), new)], Category.NUMERIC)
