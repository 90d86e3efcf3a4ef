from __future__ import annotations

import numpy as np
import pytest

import verirank
from verirank.errors import ConfigError, EncoderMismatch, InputError
from verirank.index import EmbeddedIndex, IndexSpec
from verirank.types import Document

TEXTS = [
    "the dog bit the man",
    "a cat sat on the warm mat",
    "interest rates rose sharply in March",
    "the museum is north of the river",
]


@pytest.fixture()
def pipe(torch_encoder):
    p = verirank.Pipeline.default(encoder=torch_encoder, verifier=None)
    p.add(TEXTS, metadata=[{"n": i} for i in range(len(TEXTS))])
    return p


def test_search_returns_typed_stage1_hits(pipe):
    hits = pipe.search("where is the museum?", k=2)
    assert [type(h) for h in hits] == [verirank.SearchHit] * 2
    assert hits[0].id == "3" and hits[0].metadata == {"n": 3}
    assert hits[0].score == hits[0].stage1_score and not hits[0].verified  # no verifier: default level off
    assert pipe.default_level.value == "off"
    assert hits[0].score >= hits[1].score and [h.rank for h in hits] == [0, 1]


def test_similarity_is_stage1_cosine(pipe, torch_encoder):
    sims = pipe.similarity("the dog bit the man", ["the man bit the dog", "stock markets fell"])
    assert sims[0] > 0.9 > 0.3 > sims[1]
    ref = torch_encoder.encode(["the dog bit the man", "the man bit the dog"]).pooled
    assert sims[0] == pytest.approx(float(ref[0] @ ref[1]), abs=1e-6)


def test_persisted_pipeline_reopens(tmp_path, torch_encoder):
    p = verirank.Pipeline.default(tmp_path / "ix", encoder=torch_encoder, verifier=None)
    ids = p.add(TEXTS[:2], ids=["a", "b"])
    assert ids == ["a", "b"]
    again = verirank.Pipeline.open(tmp_path / "ix", encoder=torch_encoder)
    assert again.search("a cat on a mat", k=1)[0].id == "b"
    again.upsert(["a kitten slept on a rug"], ids=["b"])
    assert verirank.Pipeline.open(tmp_path / "ix", encoder=torch_encoder).index.get(["b"])[0].text.startswith("a kitten")


def test_token_states_are_stored_with_spans(tmp_path, torch_encoder):
    p = verirank.Pipeline.default(tmp_path / "ix", encoder=torch_encoder, verifier=None)
    p.add(["the dog bit the man"], ids=["x"])
    stored = p.index.get(["x"], with_states=True)[0]
    assert stored.token_states.shape == (5, 384)
    assert [stored.text[a:b] for a, b in stored.token_spans] == ["the", "dog", "bit", "the", "man"]
    direct = torch_encoder.encode(["the dog bit the man"]).token_states[0]
    cos = (stored.token_states * direct).sum(1) / np.linalg.norm(stored.token_states, axis=1) / np.linalg.norm(direct, axis=1)
    assert cos.min() > 0.999  # int8 with per-token scale


@pytest.mark.parametrize(
    ("texts", "kwargs", "message"),
    [
        (["ok", "  "], {}, "empty"),
        (["a", "b"], {"ids": ["x", "x"]}, "duplicate id"),
        (["a", "b"], {"ids": ["x"]}, "one id per text"),
        ("just a string", {}, "list"),
    ],
)
def test_bad_add_input_is_refused_and_nothing_stored(pipe, texts, kwargs, message):
    before = len(pipe.index)
    with pytest.raises(InputError, match=message):
        pipe.add(texts, **kwargs)
    assert len(pipe.index) == before


def test_existing_id_needs_upsert(pipe):
    with pytest.raises(InputError, match="upsert"):
        pipe.add(["again"], ids=["0"])
    assert pipe.index.get(["0"])[0].text == TEXTS[0]


def test_bad_queries(pipe):
    for query in ["", "   "]:
        with pytest.raises(InputError, match="empty"):
            pipe.search(query)
    with pytest.raises(InputError, match="characters"):
        pipe.search("x" * 20_000)
    with pytest.raises(ConfigError, match="level"):
        pipe.search("dog", level="paranoid")
    with pytest.raises(InputError, match="k must"):
        pipe.search("dog", k=0)


def test_index_from_another_encoder_is_refused(tmp_path, torch_encoder):
    spec = IndexSpec(encoder_id="other@x", space="other-model", dim=384, token_head_id="identity", token_dim=384)
    EmbeddedIndex.create(spec, tmp_path / "ix")
    with pytest.raises(EncoderMismatch, match="re-index"):
        verirank.Pipeline.open(tmp_path / "ix", encoder=torch_encoder)


def test_documents_with_metadata_round_trip(torch_encoder):
    p = verirank.Pipeline.default(encoder=torch_encoder, verifier=None)
    p.add([Document(id="z", text="zebras graze", metadata={"src": "wiki"})])
    assert p.search("zebra", k=1)[0].metadata == {"src": "wiki"}


def _verdict(decision: str, p: float) -> verirank.Verdict:
    from verirank.types import Category, Reason

    reasons = [Reason(category=Category.MATCH if decision == "accept" else Category.NEGATION, confidence=0.9)]
    return verirank.Verdict(candidate="x", p_match=p, decision=decision, reasons=reasons, mode="relevance")


def test_final_score_moves_verified_hits_by_p_match_and_drops_rejects():
    from verirank.pipeline import REJECT_PENALTY, final_score
    from verirank.types import Level

    assert final_score(0.6, None, 0.1, Level.FULL) == 0.6  # unverified: stage 1 unchanged
    assert final_score(0.6, _verdict("accept", 0.9), 0.1, Level.FULL) == pytest.approx(0.64)
    assert final_score(0.6, _verdict("reject", 0.1), 0.1, Level.FULL) is None
    assert final_score(0.6, _verdict("reject", 0.1), 0.1, Level.FULL, keep_rejected=True) == pytest.approx(
        0.56 - REJECT_PENALTY)
    abstain = _verdict("abstain", 0.2)
    assert final_score(0.6, abstain, 0.1, Level.FULL) == pytest.approx(0.57)
    assert final_score(0.6, abstain, 0.1, Level.FULL, move_abstained=False) == 0.6  # no evidence: stage-1 order
    assert final_score(0.6, abstain, 0.1, Level.STRICT) is None
