"""Pipeline.rerank / explain and the verifier's multi-query batch (what the service runs)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

import verirank  # noqa: E402
from verirank.errors import ConfigError, InputError  # noqa: E402
from verirank.verifier.runtime import VerifyJob  # noqa: E402


@pytest.fixture(scope="module")
def pipe(torch_encoder, shipped_verifier):
    return verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)


def test_verify_many_matches_verify_one_query_at_a_time(pipe):
    jobs = [("the dog bit the man", ["the man bit the dog", "a dog bit a man"], "identity", "full"),
            ("where is the museum", ["the museum is north of the river"], "relevance", "strict"),
            ("the cat is on the mat", ["the cat is under the mat", "the cat sits on the mat", "x"], "identity", "light")]
    batched = []
    for query, cands, mode, level in jobs:
        q, c = pipe._pair_states(query, cands)
        batched.append(VerifyJob(q, c, verirank.Mode(mode), verirank.Level(level)))
    together = pipe.verifier.verify_many(batched)
    for (query, cands, mode, level), verdicts in zip(jobs, together):
        alone = pipe.verify(query, cands, mode=mode, level=level)
        assert [v.decision for v in verdicts] == [v.decision for v in alone]
        assert [v.p_match for v in verdicts] == pytest.approx([v.p_match for v in alone], abs=1e-5)
        for a, b in zip(verdicts, alone):
            assert [(r.category, r.query_span, r.candidate_span) for r in a.reasons] == \
                [(r.category, r.query_span, r.candidate_span) for r in b.reasons]


def test_rerank_orders_like_search_and_marks_rejects(pipe):
    texts = ["stocks fell on monday", "the man bit the dog", "the dog bit the man"]
    hits = pipe.rerank("the dog bit the man", texts, mode="identity")
    assert [h.id for h in hits][0] == "2" and hits[0].decision is verirank.Decision.ACCEPT
    assert [h.rank for h in hits] == [0, 1, 2] and all(h.verified for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    swapped = next(h for h in hits if h.id == "1")
    assert swapped.decision is verirank.Decision.REJECT and swapped.score < swapped.stage1_score - 0.5
    kept = pipe.rerank("the dog bit the man", texts, 1, mode="identity", keep_rejected=False)
    assert [h.id for h in kept] == ["2"]
    with pytest.raises(ConfigError, match="level"):
        pipe.rerank("q", ["x"], level="off")
    with pytest.raises(InputError, match="top_n"):
        pipe.rerank("q", ["x"], 0)


def test_explain_map_is_the_projected_token_cosine(pipe):
    a = pipe.explain("the dog bit the man", "the man bit the dog", mode="identity")
    assert isinstance(a, verirank.TokenAlignment)
    assert [t.text for t in a.query_tokens] == ["the", "dog", "bit", "the", "man"]
    assert len(a.similarity) == 5 and all(len(row) == len(a.candidate_tokens) for row in a.similarity)
    # slow reference: the cosine of the projected states, token by token
    q, (c,) = pipe._pair_states(a.query, [a.candidate])
    for i in range(len(q.states)):
        for j in range(len(c.states)):
            ref = float(q.states[i] @ c.states[j]) / float((q.states[i] ** 2).sum() ** 0.5 * (c.states[j] ** 2).sum() ** 0.5)
            assert a.similarity[i][j] == pytest.approx(ref, abs=2e-3)
    assert a.verdict == pipe.verify(a.query, [a.candidate], mode="identity")[0]
    assert a.verdict.reasons[0].candidate_span.text == "man bit the dog"


def _verdict(p, decision, mode="relevance"):
    reasons = [] if decision == "accept" else [verirank.Reason(category="binding", confidence=0.5, note="least-aligned")]
    return verirank.Verdict(candidate="x", p_match=p, decision=decision, reasons=reasons, mode=mode)


def test_settle_rejects_low_abstentions_only_beside_an_accepted_candidate(pipe, monkeypatch):
    monkeypatch.setattr(pipe.verifier, "reject_beside_accept", 0.3)
    answered = [_verdict(0.8, "accept"), _verdict(0.2, "abstain"), _verdict(0.4, "abstain"), _verdict(0.1, "reject")]
    settled = pipe.verifier.settle(answered)
    assert [v.decision.value for v in settled] == ["accept", "reject", "abstain", "reject"]
    assert "another candidate addresses the query" in settled[1].reasons[0].note
    unanswered = [_verdict(0.6, "abstain"), _verdict(0.2, "abstain")]  # no evidence: stage-1 order stands
    assert pipe.verifier.settle(unanswered) == unanswered
    identity = [_verdict(0.8, "accept", "identity"), _verdict(0.2, "abstain", "identity")]
    assert pipe.verifier.settle(identity) == identity
    monkeypatch.setattr(pipe.verifier, "reject_beside_accept", None)
    assert pipe.verifier.settle(answered) == answered


def test_verdicts_act_only_on_a_relevance_query_with_a_constraint():
    from verirank.pipeline import HOLD_NOTE, hold, verdicts_act
    from verirank.types import Constraint, ConstraintKind, Level, Mode, QueryConstraints

    bare = QueryConstraints(query="is breakfast included", core="is breakfast included", constraints=[])
    route = QueryConstraints(query="flights to Denver", core="flights to Denver", constraints=[
        Constraint(kind=ConstraintKind.DIRECTION, start=8, end=17, text="to Denver", detail={"to": "Denver"})])
    assert not verdicts_act(Mode.RELEVANCE, Level.FULL, bare)
    assert not verdicts_act(Mode.RELEVANCE, Level.LIGHT, None)  # no parser: nothing to check
    assert verdicts_act(Mode.RELEVANCE, Level.FULL, route)
    assert verdicts_act(Mode.RELEVANCE, Level.STRICT, bare) and verdicts_act(Mode.IDENTITY, Level.FULL, None)
    held = hold(_verdict(0.1, "reject"))
    assert held.decision is verirank.Decision.ABSTAIN and held.reasons[0].note.endswith(HOLD_NOTE)
    assert hold(_verdict(0.9, "accept")) == _verdict(0.9, "accept")


BREAKFAST = ["The hotel breakfast is included in the room price.", "The hotel breakfast is excluded from the room price.",
             "The blood pressure pill is taken before breakfast.", "The hotel lunch is included in the room price."]


def test_a_query_without_constraints_keeps_stage1_order(torch_encoder, shipped_verifier, pipe, monkeypatch):
    query = "Is breakfast included in the room price?"
    assert any(v.decision is verirank.Decision.REJECT for v in pipe.verify(query, BREAKFAST))  # verify settles
    monkeypatch.setattr(pipe, "unrelated_gap", None)  # the one check that acts here, below
    reranked = pipe.rerank(query, BREAKFAST)
    assert [h.stage1_score for h in reranked] == sorted((h.stage1_score for h in reranked), reverse=True)
    assert [h.score for h in reranked] == [h.stage1_score for h in reranked]
    assert all(h.decision is not verirank.Decision.REJECT for h in reranked) and len(reranked) == len(BREAKFAST)
    indexed = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)
    indexed.add(BREAKFAST)
    monkeypatch.setattr(indexed, "unrelated_gap", None)
    full = indexed.search(query, k=4, level="full")
    assert [h.id for h in full] == [h.id for h in indexed.search(query, k=4, level="off")]
    assert all(h.verified and h.constraints == [] for h in full)
    assert indexed.search(query, k=4) == full  # with a verifier the default level is full


def test_both_scorers_far_below_an_accepted_candidate_reject_even_without_a_constraint(pipe):
    query = "Is breakfast included in the room price?"
    assert pipe.unrelated_gap is not None  # fitted into the checkpoint
    reranked = pipe.rerank(query, BREAKFAST)
    rejected = [h for h in reranked if h.decision is verirank.Decision.REJECT]
    assert [h.text for h in rejected] == [BREAKFAST[2]]  # the pill: p_match and stage 1 both far below
    assert "unrelated" in rejected[0].reasons[0].note and reranked[-1] == rejected[0]
    kept = reranked[:-1]  # the rest keep stage-1 order and score
    assert [h.score for h in kept] == [h.stage1_score for h in kept]
    assert [h.stage1_score for h in kept] == sorted((h.stage1_score for h in kept), reverse=True)


def test_a_query_with_a_constraint_lets_decided_verdicts_act(pipe):
    texts = ["Flights from Boston to Denver leave every morning.", "The blood pressure pill is taken before breakfast.",
             "Paris is warmer than Lisbon in January."]
    hits = pipe.rerank("morning flights from Boston to Denver", texts)
    moved = [h for h in hits if h.decision is not verirank.Decision.ABSTAIN]
    assert moved and all(h.score != h.stage1_score for h in moved)
    assert all(h.score == h.stage1_score for h in hits if h.decision is verirank.Decision.ABSTAIN)


def test_rerank_checks_exclusions_like_search(pipe):
    texts = ["Our Lisbon hotel has a rooftop pool and a small gym.",
             "Our Lisbon hotel has a quiet garden and a small library."]
    hits = pipe.rerank("a hotel in Lisbon without a pool", texts)
    assert [h.id for h in hits] == ["1", "0"] and hits[1].decision is verirank.Decision.REJECT
    reason = hits[1].reasons[0]
    assert reason.category is verirank.Category.EXCLUSION and reason.candidate_span.text == "pool"
    assert reason.query_span.text == "pool"


def test_a_yes_no_question_is_answered_either_way(pipe):
    question = "Is breakfast included in the room price?"
    says_no = "The hotel breakfast is not included in the room price."
    texts = ["The hotel breakfast is included in the room price.", says_no, "The museum is north of the river."]
    both = pipe.verify(question, texts)
    pipe.opposite_questions = False
    try:
        one = pipe.verify(question, texts)
    finally:
        pipe.opposite_questions = True
    # read one way, the passage that says no is not accepted; read both ways it is, saying why
    assert one[1].decision is not verirank.Decision.ACCEPT
    assert both[1].decision is verirank.Decision.ACCEPT
    assert "asked the other way: 'Is breakfast not included in the room price?'" in both[1].reasons[0].note
    # the other reading only ever adds an acceptance
    assert both[0].decision is one[0].decision is verirank.Decision.ACCEPT
    assert both[0].p_match == pytest.approx(one[0].p_match, abs=1e-5)  # batched beside the other reading
    assert both[2].decision is not verirank.Decision.ACCEPT
    hits = pipe.rerank(question, texts)
    assert {h.id for h in hits if h.decision is verirank.Decision.ACCEPT} == {"0", "1"}
    assert pipe.explain(question, says_no).verdict.decision is verirank.Decision.ACCEPT  # explain decides as verify


def test_identity_mode_reads_the_question_one_way(pipe):
    question = "Is breakfast included in the room price?"
    q, cands = pipe._pair_states(question, ["Is breakfast not included in the room price?"])
    opposite = pipe.opposite_reading(pipe._constraints(question))
    assert VerifyJob(q, cands, verirank.Mode.IDENTITY, opposite=opposite).queries() == [q]
    assert len(VerifyJob(q, cands, verirank.Mode.RELEVANCE, opposite=opposite).queries()) == 2
    assert pipe.verify(question, ["Is breakfast not included in the room price?"], mode="identity")[0].decision \
        is not verirank.Decision.ACCEPT
