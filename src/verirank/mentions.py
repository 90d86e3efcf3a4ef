"""Does a text mention a term? The term's words in order, joined by spaces or hyphens, its last
word in any of its noun forms ("pool" finds "pools", "boundary layer" finds "boundary-layer").

One definition for the exclusion sets' construction rule (``verirank.eval.constraint_set``) and for
relevance mode's check of what a query excludes (``verirank.verifier.exclusion``).
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=65536)
def noun_forms(lemma: str) -> frozenset[str]:
    """``lemma`` and its plural forms: the lemminflect lexicon's, plus the regular -s/-es/-ies."""
    from verirank.nearmiss._nlp import _lemminflect

    forms = {lemma}
    for values in _lemminflect().getAllInflections(lemma, upos="NOUN").values():
        forms.update(v.lower() for v in values)
    if lemma.endswith("y") and len(lemma) > 1 and lemma[-2] not in "aeiou":
        forms.add(lemma[:-1] + "ies")
    elif lemma.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(lemma + "es")
    else:
        forms.add(lemma + "s")
    return frozenset(forms)


def term_forms(term: str) -> set[str]:
    """Every spelling of ``term`` that counts as a mention, words joined by one space (last word inflected)."""
    *head, last = term.split()
    return {" ".join([*head, form]) for form in noun_forms(last)}


@lru_cache(maxsize=4096)
def _pattern(term: str) -> re.Pattern[str]:
    alternatives = "|".join(r"[\s-]+".join(map(re.escape, f.split())) for f in sorted(term_forms(term), key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")


def mention_span(term: str, text: str) -> tuple[int, int] | None:
    """Character span of the first mention of ``term`` (a lower-case lemma phrase) in ``text``, or None."""
    found = _pattern(term).search(text.lower())
    return found.span() if found else None


def mentions(term: str, text: str) -> bool:
    return mention_span(term, text) is not None
