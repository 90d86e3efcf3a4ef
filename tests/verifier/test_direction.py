"""Direction evidence: the query's reversed reading (a rule) and the verifier's preference between
the two readings (learned), as ``Pipeline.search`` applies it."""

from __future__ import annotations

import pytest

pytest.importorskip("spacy")

import verirank  # noqa: E402
from verirank.types import Category, Constraint, ConstraintKind, Decision, Verdict  # noqa: E402
from verirank.verifier.direction import ReversedFit, reversal, reversed_query  # noqa: E402

VIENNA = "How long does the night train to Vienna take?"


def test_reversed_query_flips_a_lone_end_or_swaps_both_and_declines_otherwise():
    assert reversed_query(VIENNA) == "How long does the night train from Vienna take?"
    assert reversed_query("morning flights from Boston to Denver") == "morning flights from Denver to Boston"
    assert reversed_query("Is breakfast included in the room price?") is None
    assert reversed_query("how to bake bread") is None  # an infinitive, not a trip


def test_reversal_rejects_only_past_the_margin_and_names_the_direction():
    route = Constraint(kind=ConstraintKind.DIRECTION, text="to Vienna", start=31, end=40)
    verdict = Verdict(candidate="x", p_match=0.59, decision="abstain", reasons=[], mode="relevance")
    assert reversal(verdict, ReversedFit(0.60, 0.0), 0.02, 10.0, route) == verdict  # gap 0.01: no evidence
    rejected = reversal(verdict, ReversedFit(0.71, 0.0), 0.02, 10.0, route)
    assert rejected.decision is Decision.REJECT and rejected.p_match == 0.59
    reason = rejected.reasons[0]
    assert reason.category is Category.ROLE_REVERSAL and reason.query_span.text == "to Vienna"
    assert "0.71 vs 0.59" in reason.note


def test_reversal_counts_the_stage1_cosine_gap_at_its_weight():
    route = Constraint(kind=ConstraintKind.DIRECTION, text="from Boston to Denver", start=16, end=37)
    verdict = Verdict(candidate="x", p_match=0.77, decision="accept", reasons=[], mode="relevance")
    fit = ReversedFit(0.77, 0.0025)  # the verifier cannot tell; stage 1 leans to the reversed reading
    assert fit.gap(0.77, 10.0) == pytest.approx(0.025)
    assert reversal(verdict, fit, 0.02, 0.0, route) == verdict  # the verifier alone sees no gap
    rejected = reversal(verdict, fit, 0.02, 10.0, route)
    assert rejected.decision is Decision.REJECT and "cosine +0.003" in rejected.reasons[0].note
    assert reversal(verdict, ReversedFit(0.77, -0.0025), 0.02, 10.0, route) == verdict


def test_search_rejects_the_reversed_trip_with_the_fitted_margin(torch_encoder, shipped_verifier, monkeypatch):
    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)
    assert pipe.direction_margin is not None  # fitted into the shipped checkpoint
    pipe.add(["The night train to Vienna takes eleven hours.", "The night train from Vienna takes eleven hours.",
              "Museums in Vienna are closed on Mondays."], ids=["to", "from", "museum"])
    hits = {h.id: h for h in pipe.search(VIENNA, k=3, level="full", keep_rejected=True)}
    assert hits["from"].decision is Decision.REJECT and hits["to"].decision is not Decision.REJECT
    assert hits["from"].reasons[0].category is Category.ROLE_REVERSAL
    assert [h.id for h in pipe.search(VIENNA, k=3)][0] == "to" and "from" not in [h.id for h in pipe.search(VIENNA, k=3)]
    reranked = pipe.rerank(VIENNA, ["The night train from Vienna takes eleven hours.",
                                    "The night train to Vienna takes eleven hours."])  # no index: same check
    assert [h.id for h in reranked] == ["1", "0"] and reranked[1].decision is Decision.REJECT
    fits = pipe.reversed_fits(VIENNA, pipe._pair_states(VIENNA, ["The night train from Vienna takes eleven hours.",
                                                                 "The night train to Vienna takes eleven hours."])[1])
    assert fits[0].cosine_gap > 0 > fits[1].cosine_gap  # stage 1 leans the same way as the verifier
    monkeypatch.setattr(pipe, "direction_margin", None)  # without the check, its twin "to" still gives it away
    contrasted = {h.id: h for h in pipe.search(VIENNA, k=3, level="full", keep_rejected=True)}
    assert contrasted["from"].decision is Decision.REJECT and "stage 1 reads it" in contrasted["from"].reasons[0].note
    monkeypatch.setattr(pipe, "contrast_cosine", None)  # without either check the verifier alone lets it through
    unchecked = {h.id: h for h in pipe.search(VIENNA, k=3, level="full", keep_rejected=True)}
    assert unchecked["from"].decision is not Decision.REJECT
