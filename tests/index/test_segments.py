"""Embedded index segments: incremental commits, tombstones, compaction, GC, crashes, format 1."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from index_testdata import make_batch, unit_vectors

from verirank.errors import ConfigError, IndexError_
from verirank.index import EmbeddedIndex, IndexSpec
from verirank.index import ondisk
from verirank.types import Document

DIM, TOK = 16, 8
SPEC = IndexSpec(encoder_id="test@fp32", space="test", dim=DIM, token_head_id="h1", token_dim=TOK)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "index_v1"


def add(index: EmbeddedIndex, rng: np.random.Generator, start: int, n: int, **kw):
    batch = make_batch(rng, start, n, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans, **kw)
    return batch


def manifest(path: Path) -> dict:
    return json.loads((path / ondisk.MANIFEST).read_text())


def segment_dirs(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_dir())


def digest_tree(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): ondisk.file_digest(p) for p in sorted(path.rglob("*")) if p.is_file()}


def brute_force(index: EmbeddedIndex, query: np.ndarray, k: int) -> list[str]:
    ids = index.ids()
    docs = np.stack([index._row[i][0].vectors[index._row[i][1]] for i in ids])
    return [ids[j] for j in np.argsort(-(docs @ query), kind="stable")[:k]]


def same_hits(a, b, atol: float) -> None:
    assert [[h.id for h in hits] for hits in a] == [[h.id for h in hits] for hits in b]
    np.testing.assert_allclose([h.score for hits in a for h in hits], [h.score for hits in b for h in hits], atol=atol)


def test_commit_writes_only_the_new_segment(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact")
    add(index, rng, 0, 2000)
    first = manifest(path)["segments"]
    before = digest_tree(path / first[0]["name"])
    add(index, rng, 2000, 1)
    after = manifest(path)
    assert [s["name"] for s in after["segments"][:1]] == [first[0]["name"]] and len(after["segments"]) == 2
    assert digest_tree(path / first[0]["name"]) == before  # the old segment is not rewritten
    new = after["segments"][1]
    assert new["rows"] == 1 and sum(f["bytes"] for f in new["files"].values()) < 2_000
    assert after["format_version"] == 2 and after["count"] == 2001


def test_add_after_open(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact")
    first = add(index, rng, 0, 50)
    again = EmbeddedIndex.open(path)
    second = add(again, rng, 50, 20)
    third = EmbeddedIndex.open(path)
    assert third.ids() == first.ids + second.ids and third.segment_count() == 2
    for batch in (first, second):
        assert third.search(batch.vectors[3], 1)[0][0].id == batch.ids[3]
    got = third.get(["d60"], with_states=True)[0]
    np.testing.assert_allclose(got.token_states, second.states[10], atol=np.abs(second.states[10]).max() / 100)


def test_delete_then_readd_same_id(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact")
    batch = add(index, rng, 0, 30)
    index.delete(["d3"])
    assert "d3" not in EmbeddedIndex.open(path)
    new_vec = unit_vectors(rng, 1, DIM)
    index.add([Document(id="d3", text="back again")], new_vec, [np.ones((2, TOK), np.float32)])
    reopened = EmbeddedIndex.open(path)
    assert reopened.ids().count("d3") == 1 and reopened.ids()[-1] == "d3" and len(reopened) == 30
    assert reopened.get(["d3"])[0].text == "back again"
    assert reopened.search(new_vec, 1)[0][0].id == "d3"
    old_row = next(h for h in reopened.search(batch.vectors[3], 30)[0] if h.id == "d3")
    assert old_row.score == pytest.approx(float(new_vec[0] @ batch.vectors[3]), abs=1e-5)  # only the new row


def test_overwrite_hides_the_old_row_everywhere(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact")
    batch = add(index, rng, 0, 40)
    replacement = unit_vectors(rng, 1, DIM)
    index.add([Document(id="d5", text="v2")], replacement, [np.ones((3, TOK), np.float32)], overwrite=True)
    for ix in (index, EmbeddedIndex.open(path)):
        assert len(ix) == 40 and ix.ids()[-1] == "d5" and ix.get(["d5"])[0].text == "v2"
        hits = ix.search(batch.vectors[5], 40)[0]
        assert [h.id for h in hits].count("d5") == 1
        assert next(h for h in hits if h.id == "d5").score == pytest.approx(float(replacement[0] @ batch.vectors[5]), abs=1e-5)
    assert manifest(path)["segments"][-1]["deletes"] == 1


@pytest.mark.parametrize("ann", ["exact", "hnsw"])
def test_compaction_keeps_search_results(tmp_path, ann):
    if ann == "hnsw":
        pytest.importorskip("usearch")
    rng = np.random.default_rng(4)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann=ann, hnsw_min_rows=200)
    for start in range(0, 1500, 300):
        add(index, rng, start, 300)
    index.delete([f"d{i}" for i in range(0, 1500, 7)])
    add(index, rng, 10, 5, overwrite=True)
    add(index, rng, 5000, 50)  # a small segment: scanned exactly even with HNSW on
    queries = unit_vectors(rng, 20, DIM)
    before = index.search(queries, 10)
    filtered = index.search(queries, 5, where={"bucket": 3})
    ids = index.ids()
    assert index.segment_count() > 5
    index.compact()
    assert manifest(path)["segments"][0]["rows"] == len(index) == len(ids)
    for ix in (index, EmbeddedIndex.open(path)):
        assert ix.segment_count() == 1 and ix.ids() == ids
        after = ix.search(queries, 10)
        if ann == "exact":
            same_hits(after, before, atol=1e-6)  # BLAS may round the last bit differently per matrix shape
        else:  # approximate both times: compare each with the exact answer
            for q, a, b in zip(queries, before, after):
                truth = set(brute_force(ix, q, 10))
                assert len(truth & {h.id for h in a}) >= 9 and len(truth & {h.id for h in b}) >= 9
        if ann == "exact":
            same_hits(ix.search(queries, 5, where={"bucket": 3}), filtered, atol=1e-6)
        else:
            for a, b in zip(ix.search(queries, 5, where={"bucket": 3}), filtered):
                assert len({h.id for h in a} & {h.id for h in b}) >= 4
                assert all(ix.get([h.id])[0].metadata["bucket"] == 3 for h in a)
    assert segment_dirs(path) == [manifest(path)["segments"][0]["name"]]  # merged inputs collected
    assert not list(path.glob("*/deletes.npy"))  # tombstones dropped with their rows


def test_hnsw_graphs_live_per_segment(tmp_path):
    pytest.importorskip("usearch")
    rng = np.random.default_rng(5)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="auto", exact_max_docs=500, hnsw_min_rows=200)
    add(index, rng, 0, 400)
    assert "hnsw.usearch" not in manifest(path)["segments"][0]["files"]  # still exact
    add(index, rng, 400, 300)  # crosses exact_max_docs: both segments get a graph, the first as a sidecar
    segs = manifest(path)["segments"]
    assert all("hnsw.usearch" in s["files"] for s in segs)
    add(index, rng, 700, 50)  # too small for a graph
    assert "hnsw.usearch" not in manifest(path)["segments"][-1]["files"]
    index.delete([f"d{i}" for i in range(0, 700, 3)])
    reopened = EmbeddedIndex.open(path, exact_max_docs=500, hnsw_min_rows=200)
    assert reopened.info().ann == "hnsw"
    queries = unit_vectors(rng, 30, DIM)
    found = 0
    for q, hits in zip(queries, reopened.search(queries, 10)):
        ids = [h.id for h in hits]
        assert len(ids) == 10 and not any(int(i[1:]) % 3 == 0 and int(i[1:]) < 700 for i in ids)
        found += len(set(ids) & set(brute_force(reopened, q, 10)))
    assert found / 300 >= 0.95


def test_automatic_merging_keeps_tombstones(tmp_path):
    rng = np.random.default_rng(6)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact", max_segments=3)
    add(index, rng, 0, 500)  # the big first segment
    for start in range(500, 560, 10):
        add(index, rng, start, 10)
        index.delete([f"d{start - 500}"])  # a tombstone for a row of the first segment
        assert index.segment_count() <= 3
    assert manifest(path)["segments"][0]["rows"] == 500  # never rewritten by the small merges
    reopened = EmbeddedIndex.open(path)
    assert len(reopened) == 560 - 6 and all(f"d{i}" not in reopened for i in range(0, 60, 10))
    assert reopened.ids() == index.ids()
    with pytest.raises(ConfigError, match="max_segments"):
        EmbeddedIndex(SPEC, max_segments=1)


def test_crash_mid_commit_leaves_previous_state(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact")
    first = add(index, rng, 0, 40)
    index.autocommit = False
    add(index, rng, 40, 10)
    index.delete(["d1"])

    def crash(*args, **kwargs):
        raise OSError("simulated power cut")

    monkeypatch.setattr(os, "replace", crash)  # the manifest swap fails after the segment is written
    with pytest.raises(OSError, match="power cut"):
        index.commit()
    monkeypatch.undo()
    prior = EmbeddedIndex.open(path)
    assert prior.ids() == first.ids and prior.search(first.vectors[1], 1)[0][0].id == "d1"
    index.commit()  # the same writer retries over its own debris
    assert EmbeddedIndex.open(path).ids() == [i for i in first.ids if i != "d1"] + [f"d{i}" for i in range(40, 50)]
    assert not [p for p in path.rglob(".tmp-*")]


def test_crash_mid_compaction_leaves_previous_state(tmp_path, monkeypatch):
    rng = np.random.default_rng(8)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact")
    for start in range(0, 60, 20):
        add(index, rng, start, 20)
    index.delete(["d0", "d25"])
    names = [s["name"] for s in manifest(path)["segments"]]
    real_rename = os.rename

    def crash_on_merge(src, dst, *a, **kw):
        if "-01" in str(dst):  # the merged segment's folder
            raise OSError("simulated crash while renaming the merged segment")
        return real_rename(src, dst, *a, **kw)

    monkeypatch.setattr(os, "rename", crash_on_merge)
    with pytest.raises(OSError, match="simulated"):
        index.compact()
    monkeypatch.undo()
    prior = EmbeddedIndex.open(path)
    assert [s["name"] for s in manifest(path)["segments"]] == names and len(prior) == 58
    index.compact()
    assert EmbeddedIndex.open(path).ids() == prior.ids() and EmbeddedIndex.open(path).segment_count() == 1


def test_garbage_waits_for_opening_readers(tmp_path):
    rng = np.random.default_rng(9)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact")
    a = add(index, rng, 0, 30)
    add(index, rng, 30, 30)
    reader = EmbeddedIndex.open(path)  # fully open: its files are mapped or in memory
    old = set(segment_dirs(path))
    with (path / ondisk.READER_LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # another reader is half-way through opening
        index.compact()
        assert old <= set(segment_dirs(path))  # nothing collected under its feet
        fcntl.flock(lock, fcntl.LOCK_UN)
    add(index, rng, 60, 1)  # the next commit collects
    assert not old & set(segment_dirs(path))
    assert reader.search(a.vectors[4], 1)[0][0].id == "d4"  # the early reader still reads its (unlinked) files
    assert reader.get(["d40"], with_states=True)[0].token_states is not None


def test_corrupt_segment_is_refused(tmp_path):
    rng = np.random.default_rng(10)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact")
    add(index, rng, 0, 5)
    index.delete(["d2"])
    seg = manifest(path)["segments"][-1]["name"]
    (path / seg / "deletes.npy").write_bytes(b"garbage")
    with pytest.raises(IndexError_, match="deletes.npy has 7 bytes"):
        EmbeddedIndex.open(path)
    shutil.rmtree(path / seg)
    with pytest.raises(IndexError_, match="missing"):
        EmbeddedIndex.open(path)


def assert_same_hits(found, expected):
    """Same ids in the same order; scores equal up to float32 rounding (BLAS kernels differ by machine)."""
    assert [[h.id for h in hits] for hits in found] == [[i for i, _ in hits] for hits in expected]
    assert [[h.score for h in hits] for hits in found] == \
        [[pytest.approx(score, abs=1e-6) for _, score in hits] for hits in expected]


def test_format_1_index_reads_and_upgrades_without_rewrite(tmp_path):
    path = tmp_path / "tokens"
    shutil.copytree(FIXTURES / "tokens", path)
    expected = json.loads((FIXTURES / "tokens_expected.json").read_text())
    queries = np.load(FIXTURES / "tokens_queries.npy")
    gen = json.loads((path / ondisk.MANIFEST).read_text())
    assert gen["format_version"] == 1
    old_files = digest_tree(path / f"gen-{gen['generation']:06d}")
    index = EmbeddedIndex.open(path)
    assert index.ids() == expected["ids"] and len(index) == 28
    assert_same_hits(index.search(queries, 5), expected["search"])
    assert_same_hits(index.search(queries, 3, where={"parity": 1}), expected["search_odd"])
    assert index.get(["d4"])[0].truncated and index.get(["d5"])[0].text == "replaced 5"
    assert index.get(["d9"], with_states=True)[0].token_states.shape[1] == TOK
    index.delete(["d9"])  # the first write upgrades the manifest, not the data
    now = manifest(path)
    assert now["format_version"] == 2 and now["segments"][0]["name"] == f"gen-{gen['generation']:06d}"
    assert digest_tree(path / now["segments"][0]["name"]) == old_files
    again = EmbeddedIndex.open(path)
    assert again.ids() == [i for i in expected["ids"] if i != "d9"]
    again.compact()
    assert EmbeddedIndex.open(path).ids() == again.ids() and not list(path.glob("gen-*"))


def test_format_1_hnsw_index_reads(tmp_path):
    pytest.importorskip("usearch")
    path = tmp_path / "hnsw"
    shutil.copytree(FIXTURES / "hnsw", path)
    vectors = np.load(FIXTURES / "hnsw_vectors.npy")
    index = EmbeddedIndex.open(path)
    assert index.info().ann == "hnsw" and len(index) == 299 and "17" not in index
    assert index.search(vectors[42], 1)[0][0].id == "42"
    assert index.search(vectors[17], 1)[0][0].id != "17"
    index.add([Document(id="new", text="y")], vectors[17:18])
    reopened = EmbeddedIndex.open(path)
    assert reopened.search(vectors[17], 1)[0][0].id == "new" and reopened.search(vectors[99], 1)[0][0].id == "99"


def test_newer_manifest_is_refused_with_upgrade_hint(tmp_path):
    path = tmp_path / "ix"
    EmbeddedIndex.create(SPEC, path)
    data = manifest(path)
    (path / ondisk.MANIFEST).write_text(json.dumps({**data, "format_version": 3}))
    with pytest.raises(IndexError_, match="format 3, newer than this verirank reads \\(2\\); upgrade verirank"):
        EmbeddedIndex.open(path)


def test_in_memory_index_compacts(tmp_path):
    rng = np.random.default_rng(11)
    index = EmbeddedIndex.create(SPEC, None, ann="exact")
    batch = add(index, rng, 0, 20)
    index.delete(["d2", "d3"])
    query = unit_vectors(rng, 1, DIM)
    before = index.search(query, 5)
    index.compact()
    assert index.search(query, 5) == before and index.ids() == [i for i in batch.ids if i not in ("d2", "d3")]


def test_commit_without_changes_writes_nothing(tmp_path):
    rng = np.random.default_rng(12)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact", autocommit=False)
    add(index, rng, 0, 10)
    index.commit()
    before = (manifest(path)["generation"], digest_tree(path))
    index.commit()
    index.close()
    assert (manifest(path)["generation"], digest_tree(path)) == before


def test_rows_deleted_before_their_commit_stay_deleted_through_a_merge(tmp_path):
    rng = np.random.default_rng(13)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact", max_segments=2)
    add(index, rng, 0, 3)
    add(index, rng, 3, 3)
    index.autocommit = False
    add(index, rng, 100, 50)
    index.delete(["d120"])  # never reaches the disk: dropped from the pending rows
    index.commit()  # three segments: the two small ones merge, the new one stays as written
    assert index.segment_count() == 2 and "d120" not in index and len(index) == 55
    assert "d120" not in index.ids() and all(h.id != "d120" for h in index.search(np.ones(DIM, np.float32), 55)[0])
    assert EmbeddedIndex.open(path).ids() == index.ids()


@pytest.mark.parametrize("seed", range(4))
def test_random_operations_match_a_dict_model(tmp_path, seed):
    """Adds, overwrites, deletes, commits, merges, compactions and reopens against a plain dict."""
    rng = np.random.default_rng(100 + seed)
    path = tmp_path / "ix"
    index = EmbeddedIndex.create(SPEC, path, ann="exact", autocommit=False, max_segments=3)
    model: dict[str, tuple[np.ndarray, str]] = {}
    order: list[str] = []
    for step in range(60):
        op = rng.choice(["add", "overwrite", "delete", "commit", "compact", "reopen"], p=[.35, .15, .2, .2, .03, .07])
        if op == "add":
            ids = [f"n{step}_{i}" for i in range(int(rng.integers(1, 6)))]
            vecs = unit_vectors(rng, len(ids), DIM)
            index.add([Document(id=i, text=f"t{step}") for i in ids], vecs, [np.ones((2, TOK), np.float32)] * len(ids))
            model.update({i: (v, f"t{step}") for i, v in zip(ids, vecs)})
            order += ids
        elif op == "overwrite" and model:
            doc_id = str(rng.choice(sorted(model)))
            vec = unit_vectors(rng, 1, DIM)
            index.add([Document(id=doc_id, text=f"o{step}")], vec, [np.ones((1, TOK), np.float32)], overwrite=True)
            model[doc_id] = (vec[0], f"o{step}")
            order = [i for i in order if i != doc_id] + [doc_id]
        elif op == "delete" and model:
            gone = [str(i) for i in rng.choice(sorted(model), size=min(len(model), int(rng.integers(1, 4))), replace=False)]
            index.delete(gone)
            for doc_id in gone:
                del model[doc_id]
            order = [i for i in order if i not in gone]
        elif op == "commit":
            index.commit()
        elif op == "compact":
            index.compact()
        elif op == "reopen":
            index.commit()
            index = EmbeddedIndex.open(path, autocommit=False, max_segments=3)
        assert index.ids() == order and len(index) == len(model)
    index.commit()
    for ix in (index, EmbeddedIndex.open(path)):
        assert ix.ids() == order
        assert {d.id: d.text for d in ix.get(order)} == {i: model[i][1] for i in order}
        if order:
            query = unit_vectors(rng, 1, DIM)[0]
            expected = sorted(order, key=lambda i: -float(model[i][0] @ query))[:5]
            assert [h.id for h in ix.search(query, 5)[0]] == expected
    assert ix.segment_count() <= 3
