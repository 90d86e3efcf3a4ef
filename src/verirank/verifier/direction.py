"""Direction evidence: does a candidate fit the query better with its direction reversed?

A rule writes the query's reversed reading ("night train to Vienna" -> "night train from Vienna",
"from Boston to Denver" -> "from Denver to Boston"; ``swaps.direction_swap``, the rule that makes
the training groups). The verifier scores each candidate against both readings; a candidate whose
p_match under the reversed reading exceeds its p_match under the query by more than the
checkpoint's ``direction_margin`` (fitted on dev splits by ``benchmarks/tune_direction.py``)
violates the query's direction. The rule only writes the reading; the learned scores decide.
"""

from __future__ import annotations

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


def reversal(verdict: Verdict, p_reversed: float, margin: float, constraint: Constraint) -> Verdict:
    """``verdict`` rejected when the reversed reading fits the candidate better by more than
    ``margin``; else unchanged."""
    gap = p_reversed - verdict.p_match
    if gap <= margin:
        return verdict
    reason = Reason(category=Category.ROLE_REVERSAL, confidence=min(1.0, max(0.0, gap)),
                    query_span=Span(start=constraint.start, end=constraint.end, text=constraint.text),
                    note=f"fits the query with its direction reversed better (p_match {p_reversed:.2f} vs "
                         f"{verdict.p_match:.2f})")
    return verdict.rejected_for(reason)
