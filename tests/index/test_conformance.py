"""One behaviour suite for every index backend (embedded and PostgreSQL), on synthetic vectors.

Exact search is checked against brute-force numpy cosine; HNSW against the same reference
by recall. Error types and messages match the embedded reference backend.
"""

from __future__ import annotations

import numpy as np
import pytest
from index_testdata import make_batch, unit_vectors

from verirank.errors import DimensionMismatch, EncoderMismatch, IndexError_, InputError
from verirank.index.base import IndexSpec, StoredDocument, search_stored
from verirank.types import Document

DIM, TOK = 32, 8
SPEC = IndexSpec(encoder_id="test@fp32", space="test", dim=DIM, token_head_id="h1", token_dim=TOK)


def brute_force(vectors: np.ndarray, ids: list[str], query: np.ndarray, k: int) -> list[tuple[str, float]]:
    scores = vectors @ query
    top = np.argsort(-scores, kind="stable")[:k]
    return [(ids[i], float(scores[i])) for i in top]


def test_add_get_round_trip(index_factory):
    index = index_factory.create(SPEC)
    batch = make_batch(np.random.default_rng(0), 0, 40, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans, truncated=[i == 5 for i in range(40)])
    assert len(index) == 40 and "d7" in index and "nope" not in index
    assert index.ids() == batch.ids
    got = index.get(["d7", "d5", "d7"])
    assert [d.id for d in got] == ["d7", "d5", "d7"]
    assert got[0] == StoredDocument("d7", "text 7", {"parity": 1, "bucket": 0})
    assert got[1].truncated and not got[0].truncated
    info = index.info()
    assert (info.backend, info.count, info.dim, info.token_dim, info.truncated_documents) == (
        index_factory.backend, 40, DIM, TOK, 1)


def test_exact_search_matches_brute_force(index_factory):
    rng = np.random.default_rng(1)
    index = index_factory.create(SPEC, ann="exact")
    batch = make_batch(rng, 0, 300, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    queries = unit_vectors(rng, 5, DIM)
    results = index.search(queries, 10)
    assert len(results) == 5
    for query, hits in zip(queries, results):
        expected = brute_force(batch.vectors, batch.ids, query, 10)
        assert [h.id for h in hits] == [e[0] for e in expected]
        np.testing.assert_allclose([h.score for h in hits], [e[1] for e in expected], atol=1e-5)
    assert index.search(batch.vectors[3], 1)[0][0].id == "d3"  # a 1-D query works too
    assert len(index.search(queries[0], 1000)[0]) == 300  # k larger than the index


def test_hnsw_recall_against_brute_force(index_factory):
    rng = np.random.default_rng(2)
    index = index_factory.create(SPEC, ann="hnsw")
    batch = make_batch(rng, 0, 2000, DIM, TOK, max_tokens=2)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    queries = unit_vectors(rng, 20, DIM)
    found = sum(len({h.id for h in hits} & {e[0] for e in brute_force(batch.vectors, batch.ids, q, 10)})
                for q, hits in zip(queries, index.search(queries, 10)))
    assert found / 200 >= 0.95
    assert index.info().ann == "hnsw"


def test_upsert_replaces_documents(index_factory):
    rng = np.random.default_rng(3)
    index = index_factory.create(SPEC, ann="exact")
    batch = make_batch(rng, 0, 20, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    new_vector = unit_vectors(rng, 1, DIM)
    new_states = [rng.normal(size=(3, TOK)).astype(np.float32)]
    index.add([Document(id="d4", text="new text", metadata={"v": 2})], new_vector, new_states, overwrite=True)
    assert len(index) == 20
    got = index.get(["d4"], with_states=True)[0]
    assert (got.text, got.metadata, got.token_states.shape) == ("new text", {"v": 2}, (3, TOK))
    hit = index.search(new_vector, 1)[0][0]
    assert hit.id == "d4" and hit.score == pytest.approx(1.0, abs=1e-5)
    assert index.ids()[-1] == "d4"  # an overwritten document counts as newest


def test_duplicate_ids_are_refused_and_store_nothing(index_factory):
    rng = np.random.default_rng(4)
    index = index_factory.create(SPEC)
    batch = make_batch(rng, 0, 10, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    mixed = make_batch(rng, 8, 4, DIM, TOK)  # d8, d9 exist; d10, d11 are new
    with pytest.raises(InputError, match=r"2 id\(s\) already indexed \(first: 'd8'\)"):
        mixed_add = (mixed.documents, mixed.vectors, mixed.states, mixed.spans)
        index.add(*mixed_add)
    assert len(index) == 10 and "d10" not in index
    twice = make_batch(rng, 50, 2, DIM, TOK)
    twice.documents[1] = twice.documents[0]
    with pytest.raises(InputError, match="duplicate id 'd50' within one batch"):
        index.add(twice.documents, twice.vectors, twice.states, twice.spans)
    assert len(index) == 10


def test_delete_and_unknown_ids(index_factory):
    rng = np.random.default_rng(5)
    index = index_factory.create(SPEC, ann="exact")
    batch = make_batch(rng, 0, 10, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    with pytest.raises(InputError, match=r"unknown id\(s\): \['nope'\]; nothing was deleted"):
        index.delete(["d1", "nope"])
    assert len(index) == 10 and "d1" in index
    assert index.delete(["d1", "d2", "d1"]) == 2
    assert len(index) == 8 and "d1" not in index
    assert all(h.id not in ("d1", "d2") for h in index.search(batch.vectors[1], 10)[0])
    with pytest.raises(InputError, match=r"unknown id\(s\): \['d1'\]"):
        index.get(["d3", "d1"])
    assert index.get([]) == [] and index.delete([]) == 0


def test_wrong_dimensions_are_refused(index_factory):
    rng = np.random.default_rng(6)
    index = index_factory.create(SPEC)
    batch = make_batch(rng, 0, 3, DIM, TOK)
    with pytest.raises(DimensionMismatch, match=rf"index expects \(n, {DIM}\)"):
        index.add(batch.documents, unit_vectors(rng, 3, DIM + 1), batch.states, batch.spans)
    bad_states = [np.zeros((2, TOK + 1), np.float32)] * 3
    with pytest.raises(DimensionMismatch, match=rf"index expects \(L, {TOK}\)"):
        index.add(batch.documents, batch.vectors, bad_states, batch.spans)
    with pytest.raises(InputError, match="pass one .L, token_dim. array per document"):
        index.add(batch.documents, batch.vectors)
    with pytest.raises(DimensionMismatch, match=rf"query vector dim {DIM - 1} != index dim {DIM}"):
        index.search(unit_vectors(rng, 1, DIM - 1), 3)
    assert len(index) == 0


def test_nan_and_bad_k_are_refused(index_factory):
    rng = np.random.default_rng(7)
    index = index_factory.create(SPEC)
    batch = make_batch(rng, 0, 3, DIM, TOK)
    vectors = batch.vectors.copy()
    vectors[1, 0] = np.nan
    with pytest.raises(InputError, match="'d1' contains NaN or inf; nothing was stored"):
        index.add(batch.documents, vectors, batch.states, batch.spans)
    states = [s.copy() for s in batch.states]
    states[2][0, 0] = np.inf
    with pytest.raises(InputError, match="token states of 'd2' contain NaN or inf"):
        index.add(batch.documents, batch.vectors, states, batch.spans)
    assert len(index) == 0
    assert index.search(batch.vectors[0], 3) == [[]]  # an empty index answers with no hits
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    query = batch.vectors[0].copy()
    query[0] = np.nan
    with pytest.raises(InputError, match="query vector contains NaN or inf"):
        index.search(query, 3)
    for k in (0, -1, 2.5, True):
        with pytest.raises(InputError, match="k must be a positive integer"):
            index.search(batch.vectors[0], k)


@pytest.mark.parametrize("ann", ["exact", "hnsw"])
def test_metadata_filters_match_brute_force(index_factory, ann):
    rng = np.random.default_rng(8)
    index = index_factory.create(SPEC, ann=ann)
    batch = make_batch(rng, 0, 700, DIM, TOK, max_tokens=2)
    batch.documents[3] = Document(id="d3", text="t", metadata={"parity": 1, "bucket": 3, "tags": ["a", "b"]})
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    meta = [d.metadata for d in batch.documents]
    query = unit_vectors(rng, 1, DIM)[0]
    for where, k in (({"parity": 0}, 5), ({"parity": 1, "bucket": 3}, 200), ({"bucket": 6}, 10)):
        rows = [i for i, m in enumerate(meta) if all(m.get(f) == v for f, v in where.items())]
        expected = brute_force(batch.vectors[rows], [batch.ids[i] for i in rows], query, k)
        hits = index.search(query, k, where=where)[0]
        assert [h.id for h in hits] == [e[0] for e in expected], where
    assert index.search(query, 5, where={"parity": 2})[0] == []
    assert [h.id for h in index.search(query, 5, where={"tags": ["a", "b"]})[0]] == ["d3"]
    assert index.search(query, 5, where={"tags": ["a"]})[0] == []  # equality, not containment
    assert len(index.search(query, 5, where={"missing": None})[0]) == 5  # like dict.get(f) == None


@pytest.mark.parametrize("dtype, rel_error", [("int8", 1 / 127), ("float16", 1e-3)])
def test_token_states_round_trip(index_factory, dtype, rel_error):
    rng = np.random.default_rng(9)
    spec = IndexSpec(encoder_id="e", space="s", dim=DIM, token_head_id="h", token_dim=TOK, token_dtype=dtype,
                     max_stored_tokens=6)
    index = index_factory.create(spec)
    batch = make_batch(rng, 0, 30, DIM, TOK, max_tokens=10)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    for stored, states, spans, vector in zip(index.get(batch.ids, with_states=True), batch.states, batch.spans,
                                             batch.vectors):
        np.testing.assert_allclose(stored.vector, vector, rtol=1e-6)  # the recall vector rides with the states
        keep = min(len(states), 6)  # max_stored_tokens
        assert stored.token_states.dtype == np.float32 and stored.token_states.shape == (keep, TOK)
        scale = np.abs(states[:keep]).max(axis=1, keepdims=True)
        assert (np.abs(stored.token_states - states[:keep]) <= scale * rel_error + 1e-7).all()
        np.testing.assert_array_equal(stored.token_spans, spans[:keep])
    assert index.get(["d0"])[0].token_states is None  # only with_states=True decodes states
    assert index.get(["d0"])[0].vector is None


def test_index_without_token_states(index_factory):
    spec = IndexSpec(encoder_id="e", space="s", dim=DIM)
    index = index_factory.create(spec)
    batch = make_batch(np.random.default_rng(10), 0, 5, DIM)
    index.add(batch.documents, batch.vectors)
    got = index.get(["d1"], with_states=True)[0]
    assert got.token_states is None and got.token_spans is None
    np.testing.assert_allclose(got.vector, batch.vectors[1], rtol=1e-6)


def test_search_stored_equals_search_then_get(index_factory):
    rng = np.random.default_rng(11)
    index = index_factory.create(SPEC, ann="exact")
    batch = make_batch(rng, 0, 50, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    queries = unit_vectors(rng, 2, DIM)
    combined = search_stored(index, queries, 5, where={"parity": 1}, with_states=True)
    for hits, raw in zip(combined, index.search(queries, 5, where={"parity": 1})):
        assert [(h.id, round(h.score, 5)) for h in hits] == [(r.id, round(r.score, 5)) for r in raw]
        for hit, doc in zip(hits, index.get([r.id for r in raw], with_states=True)):
            assert (hit.document.text, hit.document.metadata) == (doc.text, doc.metadata)
            np.testing.assert_array_equal(hit.document.token_states, doc.token_states)
            np.testing.assert_array_equal(hit.document.vector, doc.vector)


def test_reopen_keeps_everything(index_factory):
    rng = np.random.default_rng(12)
    index = index_factory.create(SPEC, ann="exact")
    batch = make_batch(rng, 0, 60, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans, truncated=[i == 2 for i in range(60)])
    index.delete(["d10"])
    index.commit()
    query = unit_vectors(rng, 1, DIM)
    before = index.search(query, 8)
    index.close()
    again = index_factory.reopen(ann="exact")
    assert again.spec == SPEC and len(again) == 59 and "d10" not in again
    assert again.search(query, 8) == before
    got = again.get(["d2"], with_states=True)[0]
    assert got.truncated and got.text == "text 2"
    np.testing.assert_allclose(got.token_states, batch.states[2], atol=np.abs(batch.states[2]).max() / 100)


def test_existing_index_and_foreign_spec_are_refused(index_factory):
    index = index_factory.create(SPEC)
    index.close()
    with pytest.raises(IndexError_, match="already holds"):
        index_factory.create(SPEC)
    reopened = index_factory.reopen()
    with pytest.raises(EncoderMismatch, match="re-index"):
        reopened.spec.check_compatible(IndexSpec(encoder_id="other", space="other", dim=DIM * 2,
                                                 token_head_id="h1", token_dim=TOK))
    with pytest.raises(EncoderMismatch, match="token head"):
        reopened.spec.check_compatible(IndexSpec(encoder_id="test@fp32", space="test", dim=DIM,
                                                 token_head_id="h2", token_dim=TOK))
