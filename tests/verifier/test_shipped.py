"""The checkpoint shipped in the package: trained, calibrated, wired into search."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

import verirank  # noqa: E402
from verirank.errors import ConfigError, EncoderMismatch  # noqa: E402
from verirank.verifier import checkpoint  # noqa: E402
from verirank.verifier.runtime import NearMissVerifier  # noqa: E402


@pytest.fixture(scope="module")
def shipped():
    return NearMissVerifier.load()


@pytest.fixture(scope="module")
def pipe(torch_encoder, shipped):
    return verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped)


def test_shipped_checkpoint_is_trained_and_documented(shipped):
    meta = checkpoint.read_meta(checkpoint.shipped_path())
    assert meta["training"]["history"], "no training history: the shipped checkpoint is untrained"
    assert (checkpoint.shipped_path() / "README.md").read_text().count("held_out") >= 1
    assert shipped.head_id.startswith("head-") and shipped.dim == shipped.cfg.token_dim


def test_does_not_accept_role_reversal_and_accepts_a_restatement(pipe):
    reversal, same = pipe.verify("the dog bit the man", ["the man bit the dog", "the dog bit the man"],
                                 mode="identity", level="full")
    assert reversal.decision.value != "accept" and reversal.p_match < 0.5 and reversal.reasons
    assert same.decision.value == "accept" and same.p_match > reversal.p_match + 0.3


def test_rejects_spatial_flip_and_accepts_a_paraphrase(pipe):
    flip, paraphrase = pipe.verify("The museum is north of the river.",
                                   ["The museum is south of the river.", "The museum lies north of the river."],
                                   mode="identity", level="full")
    assert flip.decision.value == "reject" and flip.reasons[0].category.value != "match"
    assert paraphrase.decision.value == "accept" and paraphrase.p_match > flip.p_match + 0.3


def test_rejects_negation_and_reports_a_reason_with_spans(pipe):
    (verdict,) = pipe.verify("Aspirin should not be taken with ibuprofen.",
                             ["Aspirin should be taken with ibuprofen."], mode="identity")
    assert verdict.decision.value == "reject"
    reason = verdict.reasons[0]
    assert reason.category.value != "match"
    assert reason.candidate_span is None or reason.candidate_span.text in verdict.candidate


CORPUS = [
    "the dog bit the man in the park",
    "the man bit the dog in the park",
    "a dog was walking in the park with its owner",
    "stock prices fell sharply on tuesday",
    "the museum is north of the river",
    "the museum is south of the river",
]


@pytest.fixture(scope="module")
def filled(torch_encoder, shipped):
    p = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped)
    p.add(CORPUS)
    return p


def test_level_off_is_exactly_stage_one(filled):
    plain = filled.search("the dog bit the man in the park", k=4, level="off")
    ids = [h.id for h in filled.index.search(filled.encoder.encode(["the dog bit the man in the park"]).pooled, 4)[0]]
    assert [h.id for h in plain] == ids and not any(h.verified for h in plain)


def test_full_verifies_and_drops_or_demotes_rejects(filled):
    query = "the dog bit the man in the park"
    full = filled.search(query, k=6, level="full", mode="identity", candidates=6)
    assert all(h.verified for h in full)
    assert all(h.decision.value != "reject" for h in full)
    kept = filled.search(query, k=6, level="full", mode="identity", candidates=6, keep_rejected=True)
    assert len(kept) == 6
    rejected = [h for h in kept if h.decision.value == "reject"]
    accepted = [h for h in kept if h.decision.value == "accept"]
    assert rejected and {"3"} <= {h.id for h in rejected}  # an unrelated passage is rejected
    assert next(h for h in kept if h.id == "1").decision.value != "accept"  # the role reversal is not accepted
    if rejected and accepted:
        assert max(h.rank for h in accepted) < min(h.rank for h in rejected)


def test_light_verifies_only_the_top_few_and_budget_zero_verifies_none(filled):
    light = filled.search("a museum by the river", k=6, level="light", candidates=6, keep_rejected=True)
    assert sum(h.verified for h in light) <= 5
    none = filled.search("a museum by the river", k=3, level="full", budget_ms=0.0)
    assert len(none) == 3 and not any(h.verified for h in none)


def test_strict_returns_no_abstain(filled):
    hits = filled.search("the museum is north of the river", k=6, level="strict", mode="identity", candidates=6)
    assert all(h.decision.value == "accept" for h in hits)


def test_long_passages_are_stored_in_windows_past_the_encoder_window(tmp_path, torch_encoder, shipped):
    p = verirank.Pipeline.default(tmp_path / "ix", encoder=torch_encoder, verifier=shipped)
    long_text = "the valve opens at high pressure. " * 60  # ~420 tokens
    p.add([long_text], ids=["long"])
    stored = p.index.get(["long"], with_states=True)[0]
    assert stored.token_states.shape == (shipped.max_tokens, shipped.dim)
    assert shipped.max_tokens == shipped.doc_windows * shipped.cfg.max_doc_tokens
    starts = stored.token_spans[:, 0]
    assert starts[0] == 0 and (np.diff(starts) > 0).all()  # one pass after another, in text order
    one_pass = torch_encoder.encode([long_text]).offsets[0]
    assert stored.token_spans[-1][1] > one_pass[-1][1]  # beyond what the encoder window saw
    assert stored.truncated  # the pooled vector still reads the first window only: recorded


def test_a_match_in_a_later_window_counts(torch_encoder, shipped):
    filler = "The annual report covers staffing, budgets and the schedule of routine maintenance. " * 8
    late = filler + "The dog bit the man in the park."
    p = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped)
    p.add([late, filler], ids=["late", "filler"])
    hits = {h.id: h for h in p.search("the dog bit the man", k=2, level="full", mode="relevance", keep_rejected=True)}
    # the first windows of the two are the same words: only the late window can tell them apart
    assert hits["late"].p_match > 2 * hits["filler"].p_match


def test_pairs_scored_in_batches_by_window_length_score_as_each_alone(torch_encoder, shipped, monkeypatch):
    from verirank.verifier import runtime

    filler = "The annual report covers staffing, budgets and the schedule of routine maintenance. "
    texts = [filler * n + "The dog bit the man in the park." for n in (0, 9, 1, 4, 0, 12, 2)]
    p = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped)
    p.add(texts)
    q, cands = p._pair_states("the dog bit the man", texts)
    alone = [shipped.logits(q, [c], "relevance") for c in cands]  # one candidate per call
    monkeypatch.setattr(runtime, "PAIR_BATCH", 2)  # windows of unlike lengths in several passes
    logits, cats, maps = shipped.logits(q, cands, "relevance")
    np.testing.assert_allclose(logits, [a[0][0] for a in alone], atol=1e-5)
    np.testing.assert_allclose(cats, [a[1][0] for a in alone], atol=1e-5)
    assert all(np.allclose(m, a[2][0], atol=1e-5) for m, a in zip(maps, alone))
    assert len(set(np.round(logits, 4))) > 3  # the pairs differ, so a mixed-up order would show


def test_the_scorer_reads_the_window_maxsim_picks(torch_encoder, shipped, monkeypatch):
    from dataclasses import replace

    from verirank.verifier.runtime import windows

    late = "The annual report covers staffing, budgets and the schedule of routine maintenance. " * 8 + \
        "The dog bit the man in the park."
    p = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped)
    p.add([late])
    q, (cand,) = p._pair_states("the dog bit the man", [late])
    spans = windows(len(cand.states), shipped.cfg.max_doc_tokens, full_last=True)
    assert len(spans) > 1 and shipped.scored_windows == 1
    assert shipped._scored_windows(q, cand) == [spans[-1]]  # the window holding the sentence
    each = [shipped.logits(q, [replace(cand, states=cand.states[lo:hi], spans=cand.spans[lo:hi])], "relevance")[0][0]
            for lo, hi in spans]
    np.testing.assert_allclose(shipped.logits(q, [cand], "relevance")[0][0], each[-1], atol=1e-5)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="scored_windows"):
            shipped.scored_windows = bad
    assert shipped.scored_windows == 1  # a refused value leaves the setting as it was
    monkeypatch.setattr(shipped, "scored_windows", None)  # every window: the best of them
    assert shipped._scored_windows(q, cand) == spans
    np.testing.assert_allclose(shipped.logits(q, [cand], "relevance")[0][0], max(each), atol=1e-5)


def test_index_built_without_the_head_is_refused(tmp_path, torch_encoder, shipped):
    verirank.Pipeline.default(tmp_path / "ix", encoder=torch_encoder, verifier=None).add(["x y z"])
    with pytest.raises(EncoderMismatch, match="re-index"):
        verirank.Pipeline.open(tmp_path / "ix", encoder=torch_encoder, verifier=shipped)


def test_exclusion_check_rejects_above_the_threshold_and_names_both_spans(torch_encoder, shipped):
    p = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped)
    assert p.exclusion_threshold is not None, "the shipped checkpoint has no fitted exclusion threshold"
    p.add(["Our Lisbon hotel has a rooftop pool and a small gym.",
           "Our Lisbon hotel has a quiet garden and a small library."])
    query = "a hotel in Lisbon without a pool"
    p.exclusion_threshold = -1.0  # every candidate "mentions" the pool: all rejected, each with its reason
    hits = p.search(query, k=2, level="full", keep_rejected=True)
    assert all(h.decision.value == "reject" and h.reasons[0].category.value == "exclusion" for h in hits)
    assert all(h.reasons[0].query_span.text == "pool" and h.reasons[0].candidate_span is not None for h in hits)
    assert all([c.text for c in h.constraints if c.kind.value == "exclusion"] == ["pool"] for h in hits)
    p.exclusion_threshold = 2.0  # nothing reaches it: no exclusion reason anywhere
    hits = p.search(query, k=2, level="full", keep_rejected=True)
    assert not any(r.category.value == "exclusion" for h in hits for r in h.reasons)
    assert not any(h.constraints for h in p.search(query, k=2, level="off"))


def test_an_excluded_thing_mentioned_in_a_later_window_is_found(torch_encoder, shipped):
    from verirank.constraints import parse_constraints
    from verirank.verifier.exclusion import mentions

    filler = "The annual report covers staffing, budgets and the schedule of routine maintenance. " * 8
    p = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped)
    p.add([filler + "Guests also enjoy the rooftop swimming pool.", filler], ids=["late", "filler"])
    query = "the annual maintenance report without the swimming pool"
    exclusions = [c for c in parse_constraints(query).constraints if c.kind.value == "exclusion"]
    q = torch_encoder.encode([query], state_layer=shipped.state_layer)
    q_states = shipped.project_query(q.token_states[0])
    evidence = {}
    for doc in p.index.get(["late", "filler"], with_states=True):
        (found,) = mentions(q_states, q.offsets[0], exclusions, doc.token_states, doc.token_spans, doc.text)
        evidence[doc.id] = found
    assert evidence["late"].evidence > evidence["filler"].evidence + 0.2
    assert evidence["late"].candidate_span.start >= len(filler)  # in the appended sentence, past the first window


def test_verification_in_batches_matches_one_batch(filled, monkeypatch):
    """Pipeline verifies in batches of VERIFY_BATCH (bounded memory): same verdicts as one batch."""
    import numpy as np

    import verirank.pipeline as pipeline_module

    query = "the dog bit the man in the park"
    whole = filled.search(query, k=6, level="full", mode="identity", candidates=6, keep_rejected=True)
    monkeypatch.setattr(pipeline_module, "VERIFY_BATCH", 2)
    batched = filled.search(query, k=6, level="full", mode="identity", candidates=6, keep_rejected=True)
    assert [h.id for h in batched] == [h.id for h in whole]
    np.testing.assert_allclose([h.p_match for h in batched], [h.p_match for h in whole], atol=1e-5)
