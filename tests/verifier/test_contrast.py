"""Evidence between candidates (``verirank.verifier.contrast``), as ``Pipeline.search`` and
``rerank`` apply it: a candidate stage 1 reads as an accepted one, which the verifier scores clearly
lower, is rejected; so is one both scorers put far below an accepted one."""

from __future__ import annotations

import numpy as np
import pytest

import verirank
from verirank.types import Category, Decision, Mode, Reason, Verdict
from verirank.verifier.contrast import contrast_rejection, contrasted, far_below, fits_one_window, unrelated_rejection

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
    # a candidate longer than one scorer window is not paired, as the twin nor as the accepted partner
    assert contrasted(verdicts, vectors, 0.8, 0.2, whole=[True, False, True, True, True, True]) == {}
    assert contrasted(verdicts, vectors, 0.8, 0.2, whole=[False, True, True, True, True, True]) == {}
    assert set(contrasted(verdicts, vectors, 0.8, 0.2, whole=[True] * 6)) == {1}


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
    assert pipe.check_contrast(Mode.RELEVANCE, vectors, twins, whole=[True, True])[1] == {1}
    assert pipe.check_contrast(Mode.RELEVANCE, vectors, twins, whole=[True, False])[1] == set()
    monkeypatch.setattr(pipe, "contrast_cosine", None)  # without the check the twin abstains and stays
    assert [h.id for h in pipe.search(PAN, k=3)][:2] == ["large", "small"]


def test_fits_one_window_needs_the_stored_states_to_cover_the_text():
    states, spans = np.zeros((3, 4)), np.array([[0, 3], [4, 7], [8, 12]])
    assert fits_one_window("the dog ran.", states, spans, window=3)
    assert not fits_one_window("the dog ran.", states, spans, window=2)  # more states than one window
    assert not fits_one_window("the dog ran far away.", states, spans, window=3)  # the index cut the rest
    assert fits_one_window("the dog ran.  ", states, None, window=3)


def test_search_and_rerank_tell_the_contrast_which_candidates_fit_one_window(torch_encoder, shipped_verifier,
                                                                             monkeypatch):
    """The contrast pairs only candidates within one scorer window (two long documents stage 1 reads
    as near-identical are mostly two documents on one subject, each scored as one of its windows)."""
    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)
    long_text = "The kitchen notes below were written for the new cooks of the harbour restaurant. " * 6 + SMALL
    pipe.add([LARGE, long_text], ids=["short", "long"])
    seen = []
    check = pipe.check_contrast
    monkeypatch.setattr(pipe, "check_contrast", lambda *a, **k: seen.append(a[4]) or check(*a, **k))
    hits = pipe.search(PAN, k=2, keep_rejected=True)
    assert seen[-1] == [h.id == "short" for h in sorted(hits, key=lambda h: -h.stage1_score)]
    stored = {d.id: len(d.token_states) for d in pipe.index.get(["short", "long"], with_states=True)}
    assert stored["short"] <= pipe.verifier.cfg.max_doc_tokens < stored["long"]
    pipe.rerank(PAN, [LARGE, long_text])
    assert seen[-1] == [True, False]
