"""Exclusion evidence: does a candidate mention what the query excludes?

The query's exclusion spans come from ``verirank.constraints`` (rules find the words). A candidate
mentions one when its text names it anywhere (``verirank.mentions``: the words, any noun form of
the last; evidence 1) or, failing that, as far as the verifier's token states tell (learned: for
each query token inside the span, its best cosine against the candidate's stored tokens, averaged
over the span). A candidate whose evidence reaches the checkpoint's ``exclusion_threshold``
(fitted on training collections by ``benchmarks/tune_exclusion.py``) violates the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from verirank.mentions import mention_span
from verirank.types import Constraint, Span

# words an exclusion span may open with that are not what is excluded ("those with a pool")
_FILLER = frozenset("a an the any those ones one anything something things with that which have has having "
                    "contain contains containing mention mentions mentioning about of".split())


@dataclass(frozen=True)
class Mention:
    """How strongly a candidate mentions one excluded span, and where."""

    constraint: Constraint
    evidence: float  # 1 when the text names it, else mean over the span's tokens of their best cosine
    candidate_span: Span | None  # where the text names it, else the candidate's best-matching token


def excluded_terms(constraint: Constraint) -> list[str]:
    """The words an exclusion span names, lower-cased, without the filler it may open with; one
    term per noun lemma of the last word ("pools" -> "pool")."""
    return list(_terms(constraint.text))


@lru_cache(maxsize=1024)
def _terms(span_text: str) -> tuple[str, ...]:
    """``excluded_terms`` of a span's text, worked out once per span rather than once per candidate."""
    from verirank.nearmiss._nlp import noun_lemmas

    words = [w.strip(".,;:!?\"'“”‘’()") for w in span_text.lower().split()]
    words = [w for w in words if w]
    while len(words) > 1 and words[0] in _FILLER:
        words = words[1:]
    if not words:
        return ()
    *head, last = words
    return tuple(" ".join([*head, lemma]) for lemma in sorted({last} | noun_lemmas(last)))


def named_in(constraint: Constraint, text: str) -> Span | None:
    """Where ``text`` names what ``constraint`` excludes, or None."""
    for term in excluded_terms(constraint):
        found = mention_span(term, text)
        if found is not None:
            return Span(start=found[0], end=found[1], text=text[found[0] : found[1]])
    return None


def span_tokens(offsets: np.ndarray, start: int, end: int) -> np.ndarray:
    """Indices of the query tokens whose characters overlap ``[start, end)`` (special tokens have
    empty offsets and never overlap)."""
    lo, hi = offsets[:, 0], offsets[:, 1]
    return np.flatnonzero((hi > lo) & (lo < end) & (hi > start))


def mentions(query_states: np.ndarray, query_offsets: np.ndarray, exclusions: list[Constraint],
             cand_states: np.ndarray, cand_spans: np.ndarray | None, cand_text: str) -> list[Mention]:
    """Evidence for each exclusion against one candidate.

    query_states: (Lq, t) unit vectors from the verifier's head; query_offsets: (Lq, 2);
    cand_states: (Ld, t) stored token states; cand_spans: (Ld, 2) character offsets or None.
    """
    out = []
    n = min(len(query_states), len(query_offsets))
    for c in exclusions:
        named = named_in(c, cand_text)
        if named is not None:
            out.append(Mention(c, 1.0, named))
            continue
        idx = span_tokens(query_offsets[:n], c.start, c.end)
        if not len(idx) or not len(cand_states):
            out.append(Mention(c, 0.0, None))
            continue
        sim = query_states[idx] @ cand_states.T  # (span tokens, Ld)
        best = sim.argmax(axis=1)
        evidence = float(sim.max(axis=1).mean())
        where = None
        if cand_spans is not None:
            j = int(best[int(sim.max(axis=1).argmax())])
            a, b = (int(x) for x in cand_spans[j])
            if b > a:
                where = Span(start=a, end=b, text=cand_text[a:b])
        out.append(Mention(c, evidence, where))
    return out
