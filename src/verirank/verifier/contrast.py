"""Evidence between candidates: what one query's accepted candidate says about the others.

Contrast: a candidate stage 1 cannot tell from an accepted one, scored clearly lower.

Stage 1 reads two candidates as near-identical (the cosine of their recall vectors is at least
``contrast_cosine``); the verifier accepts one and scores the other at least ``contrast_margin``
lower. What sets the two apart is then something the query asks about ("Use the large pan for the
sauce.": "Use the small pan for the sauce and the large pan for the rice." beside an accepted "Use
the large pan for the sauce and the small pan for the rice."), so the lower one is rejected, naming
the words in which it differs from the accepted one. The two learned scores decide; the rule only
pairs the candidates, and only candidates that fit one scorer window: a longer one scores as one
of its windows, and two long documents near-identical to stage 1 are mostly two documents on one
subject (cranfield's part I and part II of a report), whose windows' gap says nothing the query
asks. Cosine and margin are fitted per checkpoint by ``benchmarks/tune_contrast.py`` (dev question
groups, the training collections' nDCG@10 lowered by at most 0.1 pt, a cosine floor of 0.9).

Far below: a candidate the verifier scores under ``reject_beside_accept`` and stage 1 ranks at
least ``unrelated_gap`` (cosine to the query) under an accepted one. Both scorers say it does not
address the query while another candidate does, so it is rejected as unrelated. The gap is fitted
per checkpoint by ``benchmarks/tune_unrelated.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from verirank.types import Category, Decision, Reason, Verdict


def fits_one_window(text: str, states: np.ndarray, spans: np.ndarray | None, window: int) -> bool:
    """Whether a candidate's p_match is a score of all of it: its stored token states are one scorer
    window and reach the end of its text (an index that stores fewer windows than the text needs
    cuts the rest)."""
    if len(states) > window:
        return False
    return spans is None or len(spans) == 0 or int(spans[-1][1]) >= len(text.rstrip())


def contrasted(verdicts: Sequence[Verdict], vectors: Sequence[np.ndarray | None], min_cosine: float,
               margin: float, whole: Sequence[bool] | None = None) -> dict[int, tuple[int, float]]:
    """Which verdicts the contrast rejects: index -> (index of the accepted partner, their stage-1
    cosine). A candidate already rejected, without a recall vector, or (``whole``) whose p_match is
    not a score of all of it, is left alone; the partner is the accepted candidate with the highest
    p_match among those that qualify."""
    paired = [vectors[i] is not None and (whole is None or whole[i]) for i in range(len(verdicts))]
    accepted = [i for i, v in enumerate(verdicts) if v.decision is Decision.ACCEPT and paired[i]]
    out: dict[int, tuple[int, float]] = {}
    if not accepted:
        return out
    for j, verdict in enumerate(verdicts):
        if verdict.decision is not Decision.ABSTAIN or not paired[j]:
            continue
        partners = [(verdicts[i].p_match, i, float(np.dot(vectors[i], vectors[j]))) for i in accepted]
        partners = [(p, i, c) for p, i, c in partners if c >= min_cosine and p - verdict.p_match >= margin]
        if partners:
            _, i, cosine = max(partners)
            out[j] = (i, cosine)
    return out


def contrast_rejection(verdict: Verdict, partner: Verdict, cosine: float) -> Verdict:
    """``verdict`` rejected beside its accepted ``partner``: the verifier's own likeliest near-miss
    category, and the words where the candidate differs from the partner."""
    from verirank.verifier.runtime import differing_words

    own = next((r for r in verdict.reasons if r.category is not Category.MATCH), None)
    spans = differing_words(partner.candidate, verdict.candidate)
    reason = Reason(category=own.category if own else Category.BINDING,
                    confidence=min(1.0, max(0.0, partner.p_match - verdict.p_match)),
                    query_span=own.query_span if own else None,
                    candidate_span=spans[1] if spans else (own.candidate_span if own else None),
                    note=f"stage 1 reads it as an accepted candidate (cosine {cosine:.2f}) that the verifier "
                         f"scores higher (p_match {partner.p_match:.2f} vs {verdict.p_match:.2f})")
    return verdict.rejected_for(reason)


def far_below(verdicts: Sequence[Verdict], stage1: Sequence[float | None], gap: float,
              below: float) -> dict[int, tuple[int, float]]:
    """Which abstentions are rejected as unrelated: index -> (index of the accepted candidate with
    the highest stage-1 cosine, the stage-1 gap to it). A candidate with p_match under ``below``
    whose stage-1 cosine is at least ``gap`` under that accepted candidate's."""
    accepted = [i for i, v in enumerate(verdicts) if v.decision is Decision.ACCEPT and stage1[i] is not None]
    if not accepted:
        return {}
    top = max(accepted, key=lambda i: float(stage1[i]))  # type: ignore[arg-type]
    out: dict[int, tuple[int, float]] = {}
    for j, verdict in enumerate(verdicts):
        if verdict.decision is not Decision.ABSTAIN or stage1[j] is None or verdict.p_match >= below:
            continue
        drop = float(stage1[top]) - float(stage1[j])  # type: ignore[arg-type]
        if drop >= gap:
            out[j] = (top, drop)
    return out


def unrelated_rejection(verdict: Verdict, partner: Verdict, drop: float) -> Verdict:
    """``verdict`` rejected as unrelated beside its accepted ``partner``: its own reasons, with why."""
    note = (f"unrelated: p_match {verdict.p_match:.2f}, and stage 1 ranks it {drop:.2f} below an accepted "
            f"candidate (p_match {partner.p_match:.2f})")
    return verdict.decided(Decision.REJECT, note)
