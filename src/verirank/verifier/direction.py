"""Direction evidence: does a candidate fit the query better with its direction reversed?

A rule writes the query's reversed reading ("night train to Vienna" -> "night train from Vienna",
"from Boston to Denver" -> "from Denver to Boston"; ``swaps.direction_swap``, the rule that makes
the training groups). Two learned scores compare the candidate with both readings: the verifier's
p_match, and stage 1's cosine (the embedder reads word order a little: a swap of both ends moves
the cosine by a few thousandths, which the verifier alone barely sees). A candidate whose gap,
p_match(reversed) - p_match(query) + ``direction_cosine_weight`` x (cosine(reversed) - cosine(query)),
exceeds the checkpoint's ``direction_margin`` violates the query's direction. Weight and margin are
fitted on dev splits by ``benchmarks/tune_direction.py``. The rule only writes the reading; the
learned scores decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from verirank.types import Category, Constraint, ConstraintKind, QueryConstraints, Reason, Span, Verdict


@lru_cache(maxsize=256)
def reversed_query(query: str) -> str | None:
    """``query`` with its direction reversed, or None when the rule finds no route to reverse."""
    from verirank.nearmiss._nlp import nlp
    from verirank.verifier.swaps import direction_swap

    return direction_swap(nlp()(query))  # type: ignore[no-any-return]


def direction_of(checked: QueryConstraints) -> Constraint | None:
    """The query's first direction constraint, or None."""
    return next((c for c in checked.constraints if c.kind is ConstraintKind.DIRECTION), None)


@dataclass(frozen=True)
class ReversedFit:
    """How a candidate fits the query's reversed reading."""

    p_match: float  # relevance p_match under the reversed reading, given the query's stage-1 cosine
    cosine_gap: float  # stage-1 cosine with the reversed reading minus with the query (0: vector unknown)

    def gap(self, p_match: float, cosine_weight: float) -> float:
        """How much better the candidate fits the reversed reading than the query (``p_match``)."""
        return self.p_match - p_match + cosine_weight * self.cosine_gap


def reversal(verdict: Verdict, fit: ReversedFit, margin: float, cosine_weight: float,
             constraint: Constraint) -> Verdict:
    """``verdict`` rejected when the reversed reading fits the candidate better by more than
    ``margin``; else unchanged."""
    gap = fit.gap(verdict.p_match, cosine_weight)
    if gap <= margin:
        return verdict
    reason = Reason(category=Category.ROLE_REVERSAL, confidence=min(1.0, max(0.0, gap)),
                    query_span=Span(start=constraint.start, end=constraint.end, text=constraint.text),
                    note=f"fits the query with its direction reversed better (p_match {fit.p_match:.2f} vs "
                         f"{verdict.p_match:.2f}, stage-1 cosine {fit.cosine_gap:+.3f})")
    return verdict.rejected_for(reason)
