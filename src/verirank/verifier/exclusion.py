"""Exclusion evidence: does a candidate mention what the query excludes?

The query's exclusion spans come from ``verirank.constraints`` (rules find the words); whether a
candidate mentions them is read from the verifier's token states (learned): for each query token
inside the span, its best cosine against the candidate's stored tokens, averaged over the span.
A candidate whose evidence reaches the checkpoint's ``exclusion_threshold`` (fitted on training
collections by ``benchmarks/tune_exclusion.py``) violates the query.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verirank.types import Constraint, Span


@dataclass(frozen=True)
class Mention:
    """How strongly a candidate mentions one excluded span, and where."""

    constraint: Constraint
    evidence: float  # mean over the span's tokens of their best cosine in the candidate
    candidate_span: Span | None  # the candidate's best-matching token


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
