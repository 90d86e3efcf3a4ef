"""Evidence between candidates (``verirank.verifier.contrast``), as ``Pipeline.search`` and
``rerank`` apply it: a candidate stage 1 reads as an accepted one, which the verifier scores clearly
lower, is rejected; so is one both scorers put far below an accepted one."""

from __future__ import annotations

import numpy as np
import pytest

import verirank
from verirank.types import Category, Decision, Mode, Reason, Verdict
from verirank.verifier.contrast import contrast_rejection, contrasted, far_below, unrelated_rejection

BREAKFAST = "Is breakfast included in the room price?"
INCLUDED = "The hotel breakfast is included in the room price."
LUNCH = "The hotel lunch is included in the room price."


def verdict(text: str, p: float, decision: str) -> Verdict:
    reasons = [] if decision == "accept" else [Reason(category=Category.BINDING, confidence=0.5, note="x")]
    return Verdict(candidate=text, p_match=p, decision=decision, reasons=reasons, mode="relevance")


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_contrast_rejects_only_a_near_twin_of_an_accepted_candidate_scored_clearly_lower():
    verdicts = [verdict(INCLUDED, 0.73, "accept"), verdict(LUNCH, 0.49, "abstain"),
                verdict("Dogs need daily walks.", 0.05, "abstain"), verdict(LUNCH, 0.65, "abstain"),
                verdict(LUNCH, 0.30, "reject"), verdict(LUNCH, 0.30, "abstain")]
    twin, far = unit(1, 0.3), unit(0.2, 1)
    vectors = [unit(1, 0.25), twin, far, twin, twin, None]
    found = contrasted(verdicts, vectors, min_cosine=0.8, margin=0.2)
    # 1: twin, 0.24 lower; 2: far in stage 1; 3: only 0.08 lower; 4: already rejected; 5: no vector
    assert set(found) == {1} and found[1][0] == 0 and found[1][1] > 0.99
    assert contrasted(verdicts, vectors, min_cosine=0.8, margin=0.3) == {}
    assert contrasted([v.model_copy(update={"decision": Decision.ABSTAIN}) for v in verdicts], vectors, 0.8, 0.2) == {}


def test_contrast_rejection_names_where_the_candidate_differs_from_the_accepted_one():
    rejected = contrast_rejection(verdict(LUNCH, 0.49, "abstain"), verdict(INCLUDED, 0.73, "accept"), 0.93)
    assert rejected.decision is Decision.REJECT and rejected.p_match == 0.49
    reason = rejected.reasons[0]
    assert reason.category is Category.BINDING and reason.candidate_span.text == "lunch"
    assert "cosine 0.93" in reason.note and "0.73 vs 0.49" in reason.note


def test_far_below_rejects_only_what_both_scorers_put_under_an_accepted_candidate():
    verdicts = [verdict(INCLUDED, 0.73, "accept"), verdict("Dogs need daily walks.", 0.05, "abstain"),
                verdict("Breakfast is served at seven.", 0.05, "abstain"), verdict("Dogs bark.", 0.3, "abstain"),
                verdict("Dogs bark.", 0.02, "reject"), verdict("Dogs bark.", 0.02, "abstain"),
                verdict(INCLUDED, 0.70, "accept")]
    stage1 = [0.85, 0.30, 0.70, 0.30, 0.30, None, 0.60]
    found = far_below(verdicts, stage1, gap=0.3, below=0.1)
    # 1: both low; 2: stage 1 only 0.15 under; 3: verifier not low; 4: already rejected; 5: no score
    assert set(found) == {1} and found[1][0] == 0 and found[1][1] == pytest.approx(0.55)
    assert far_below(verdicts, stage1, gap=0.6, below=0.1) == {}
    assert set(far_below(verdicts, stage1, gap=0.1, below=0.1)) == {1, 2}
    assert far_below(verdicts[1:6], stage1[1:6], gap=0.1, below=0.1) == {}  # nothing accepted: no evidence
    rejected = unrelated_rejection(verdicts[1], verdicts[0], 0.55)
    assert rejected.decision is Decision.REJECT and rejected.p_match == 0.05
    assert "0.55 below an accepted candidate" in rejected.reasons[0].note


PAN = "Use the large pan for the sauce."
LARGE = "Use the large pan for the sauce and the small pan for the rice."
SMALL = "Use the small pan for the sauce and the large pan for the rice."


def test_search_and_rerank_reject_the_twin_even_on_a_query_without_a_constraint(torch_encoder, shipped_verifier,
                                                                                 monkeypatch):
    pytest.importorskip("spacy")
    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)
    assert pipe.contrast_cosine is not None and pipe.contrast_margin is not None  # fitted into the checkpoint
    assert not pipe._constraints(PAN).constraints  # so the query's other verdicts do not act
    pipe.add([LARGE, SMALL, "Add the salt before the water boils."], ids=["large", "small", "salt"])
    hits = {h.id: h for h in pipe.search(PAN, k=3, keep_rejected=True)}
    assert hits["large"].decision is Decision.ACCEPT and hits["small"].decision is Decision.REJECT
    assert hits["small"].reasons[0].candidate_span.text.startswith("small pan")
    assert pipe.unrelated_gap is not None  # fitted into the checkpoint
    salt = hits["salt"]  # not a twin, but both scorers put it far below the accepted candidate
    assert salt.decision is Decision.REJECT and "unrelated" in salt.reasons[0].note
    assert hits["large"].stage1_score - salt.stage1_score >= pipe.unrelated_gap
    assert [h.id for h in pipe.search(PAN, k=3)] == ["large"]
    monkeypatch.setattr(pipe, "unrelated_gap", None)
    assert {h.id: h.decision for h in pipe.search(PAN, k=3, keep_rejected=True)}["salt"] is Decision.ABSTAIN
    assert [h.id for h in pipe.search(PAN, k=3)] == ["large", "salt"]  # its verdict holds: stage-1 order
    reranked = pipe.rerank(PAN, [SMALL, LARGE])  # no index: the same check
    assert [h.id for h in reranked] == ["1", "0"] and reranked[1].decision is Decision.REJECT
    assert [h.id for h in pipe.rerank(PAN, [SMALL, LARGE], keep_rejected=False)] == ["1"]
    twins = [verdict(INCLUDED, 0.73, "accept"), verdict(LUNCH, 0.2, "abstain")]
    vectors = [unit(1, 0), unit(1, 0)]
    assert pipe.check_contrast(Mode.RELEVANCE, vectors, twins)[1] == {1}
    assert pipe.check_contrast(Mode.IDENTITY, vectors, twins) == (twins, set())  # identity decides on p_match
    monkeypatch.setattr(pipe, "contrast_cosine", None)  # without the check the twin abstains and stays
    assert [h.id for h in pipe.search(PAN, k=3)][:2] == ["large", "small"]
