"""Embedded-index specifics: on-disk format, crash safety, corruption, ANN vs exact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from verirank.errors import DimensionMismatch, EncoderMismatch, IndexError_, InputError
from verirank.index import EmbeddedIndex, IndexSpec
from verirank.types import Document

DIM, TOK = 16, 8
SPEC = IndexSpec(encoder_id="test@fp32", space="test", dim=DIM, token_head_id="h1", token_dim=TOK)


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def batch(rng: np.random.Generator, start: int, n: int):
    docs = [Document(id=f"d{i}", text=f"text {i}", metadata={"parity": i % 2}) for i in range(start, start + n)]
    states = [rng.normal(size=(int(rng.integers(1, 12)), TOK)).astype(np.float32) for _ in docs]
    spans = [np.stack([np.arange(len(s)), np.arange(len(s)) + 1], axis=1) for s in states]
    return docs, unit(rng, n), states, spans


def test_persistence_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    index = EmbeddedIndex.create(SPEC, tmp_path / "ix")
    docs, vecs, states, spans = batch(rng, 0, 50)
    index.add(docs, vecs, states, spans, truncated=[i == 3 for i in range(50)])
    again = EmbeddedIndex.open(tmp_path / "ix")
    assert len(again) == 50 and again.spec == SPEC
    got = again.get(["d7"], with_states=True)[0]
    assert got.text == "text 7" and got.metadata == {"parity": 1}
    np.testing.assert_allclose(got.token_states, states[7], atol=np.abs(states[7]).max() / 100)
    np.testing.assert_array_equal(got.token_spans, spans[7])
    assert again.get(["d3"])[0].truncated
    q = vecs[11]
    assert again.search(q, 1)[0][0].id == "d11"
    info = again.info()
    assert info.count == 50 and info.bytes_on_disk and info.truncated_documents == 1


def test_upsert_delete_and_reopen(tmp_path):
    rng = np.random.default_rng(1)
    index = EmbeddedIndex.create(SPEC, tmp_path / "ix")
    docs, vecs, states, spans = batch(rng, 0, 10)
    index.add(docs, vecs, states, spans)
    with pytest.raises(InputError, match="already indexed"):
        index.add(docs[:1], vecs[:1], states[:1])
    new = Document(id="d0", text="replaced", metadata={})
    index.add([new], vecs[5:6], states[:1], overwrite=True)
    assert index.delete(["d1", "d2"]) == 2
    with pytest.raises(InputError, match="unknown"):
        index.delete(["nope"])
    reopened = EmbeddedIndex.open(tmp_path / "ix")
    assert sorted(reopened.ids()) == sorted(["d0"] + [f"d{i}" for i in range(3, 10)])
    assert reopened.get(["d0"])[0].text == "replaced"


def test_bad_batches_are_refused_and_store_nothing(tmp_path):
    rng = np.random.default_rng(2)
    index = EmbeddedIndex.create(SPEC, tmp_path / "ix")
    docs, vecs, states, spans = batch(rng, 0, 4)
    index.add(docs, vecs, states, spans)
    docs2, vecs2, states2, _ = batch(rng, 10, 3)
    with pytest.raises(DimensionMismatch, match=f"\\(n, {DIM}\\)"):
        index.add(docs2, vecs2[:, :5], states2)
    bad = vecs2.copy()
    bad[1, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        index.add(docs2, bad, states2)
    with pytest.raises(InputError, match="duplicate id"):
        index.add([docs2[0], docs2[0]], vecs2[:2], states2[:2])
    with pytest.raises(DimensionMismatch, match="token states"):
        index.add(docs2, vecs2, [s[:, :3] for s in states2])
    assert len(EmbeddedIndex.open(tmp_path / "ix")) == 4 == len(index)


def test_search_with_filter_and_dims(tmp_path):
    rng = np.random.default_rng(3)
    index = EmbeddedIndex.create(SPEC, None)
    docs, vecs, states, spans = batch(rng, 0, 40)
    index.add(docs, vecs, states, spans)
    hits = index.search(vecs[4], 10, where={"parity": 1})[0]
    assert hits and all(int(h.id[1:]) % 2 == 1 for h in hits)
    with pytest.raises(DimensionMismatch):
        index.search(np.ones(DIM + 1, dtype=np.float32), 3)
    with pytest.raises(InputError, match="k must"):
        index.search(vecs[0], 0)


def test_missing_and_corrupt_directories(tmp_path):
    with pytest.raises(IndexError_, match="does not exist"):
        EmbeddedIndex.open(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexError_, match="not a verirank index"):
        EmbeddedIndex.open(tmp_path / "empty")
    rng = np.random.default_rng(4)
    index = EmbeddedIndex.create(SPEC, tmp_path / "ix")
    docs, vecs, states, spans = batch(rng, 0, 5)
    index.add(docs, vecs, states, spans)
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    vec_file = tmp_path / "ix" / manifest["segments"][-1]["name"] / "vectors.npy"
    data = bytearray(vec_file.read_bytes())
    data[-3] ^= 0xFF
    vec_file.write_bytes(bytes(data))
    with pytest.raises(IndexError_, match="sha256"):
        EmbeddedIndex.open(tmp_path / "ix")
    (tmp_path / "ix" / "manifest.json").write_text("{not json")
    with pytest.raises(IndexError_, match="corrupt"):
        EmbeddedIndex.open(tmp_path / "ix")


def test_newer_format_and_foreign_spec_are_refused(tmp_path):
    index = EmbeddedIndex.create(SPEC, tmp_path / "ix")
    path = tmp_path / "ix" / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexError_, match="upgrade verirank"):
        EmbeddedIndex.open(tmp_path / "ix")
    other = IndexSpec(encoder_id="x", space="other", dim=DIM, token_head_id="h1", token_dim=TOK)
    with pytest.raises(EncoderMismatch, match="re-index"):
        index.spec.check_compatible(other)
    with pytest.raises(EncoderMismatch, match="token head"):
        index.spec.check_compatible(IndexSpec(**{**SPEC.to_json(), "token_head_id": "h2"}))


def test_stale_writer_is_refused(tmp_path):
    rng = np.random.default_rng(5)
    EmbeddedIndex.create(SPEC, tmp_path / "ix")
    a, b = EmbeddedIndex.open(tmp_path / "ix"), EmbeddedIndex.open(tmp_path / "ix")
    a.add(*batch(rng, 0, 2))
    with pytest.raises(IndexError_, match="another writer"):
        b.add(*batch(rng, 10, 2))
    assert sorted(EmbeddedIndex.open(tmp_path / "ix").ids()) == ["d0", "d1"]


WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    sys.path.insert(0, {tests!r})
    from index.test_embedded import SPEC, batch
    from verirank.index import EmbeddedIndex
    rng = np.random.default_rng(0)
    index = EmbeddedIndex.create(SPEC, {path!r})
    start = 0
    while True:
        index.add(*batch(rng, start, 3000))
        start += 3000
        print(start, flush=True)
    """
)


@pytest.mark.parametrize("delay_s", [0.05, 0.13, 0.29])
def test_killed_writer_leaves_previous_state_readable(tmp_path, delay_s):
    path = tmp_path / "ix"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER.format(tests=str(Path(__file__).parents[1]), path=str(path))],
        stdout=subprocess.PIPE, text=True,
    )
    committed = [int(proc.stdout.readline())]  # at least one commit done
    time.sleep(delay_s)  # now somewhere inside a later write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    index = EmbeddedIndex.open(path)
    assert len(index) % 3000 == 0 and len(index) >= committed[0]
    ids = index.ids()
    assert ids == [f"d{i}" for i in range(len(index))]
    assert len(index.search(np.ones(DIM, np.float32), 3)[0]) == 3
    docs, vecs, states, spans = batch(np.random.default_rng(9), 10**6, 5)
    index.add(docs, vecs, states, spans)  # a new writer commits over the debris
    assert len(EmbeddedIndex.open(path)) == len(ids) + 5
    assert not [p for p in path.iterdir() if p.name.startswith(".tmp-")]


def test_hnsw_matches_exact_search():
    pytest.importorskip("usearch")
    rng = np.random.default_rng(6)
    n, dim = 3000, 64
    spec = IndexSpec(encoder_id="t", space="t", dim=dim)
    docs = [Document(id=str(i), text="x") for i in range(n)]
    vecs = unit(rng, n, dim)
    exact = EmbeddedIndex.create(spec, None, ann="exact")
    hnsw = EmbeddedIndex.create(spec, None, ann="hnsw", ann_dtype="f32")
    exact.add(docs, vecs)
    hnsw.add(docs, vecs)
    queries = unit(rng, 50, dim)
    recall = np.mean([
        len({h.id for h in a} & {h.id for h in b}) / 10
        for a, b in zip(exact.search(queries, 10), hnsw.search(queries, 10))
    ])
    assert recall >= 0.98
    assert hnsw.info().ann == "hnsw"


def test_hnsw_persists_and_updates(tmp_path):
    pytest.importorskip("usearch")
    rng = np.random.default_rng(7)
    spec = IndexSpec(encoder_id="t", space="t", dim=DIM)
    index = EmbeddedIndex.create(spec, tmp_path / "ix", ann="hnsw")
    docs = [Document(id=str(i), text="x") for i in range(200)]
    vecs = unit(rng, 200)
    index.add(docs, vecs)
    reopened = EmbeddedIndex.open(tmp_path / "ix")
    assert reopened.search(vecs[17], 1)[0][0].id == "17"
    reopened.delete(["17"])
    reopened.add([Document(id="new", text="y")], vecs[17:18])
    assert EmbeddedIndex.open(tmp_path / "ix").search(vecs[17], 1)[0][0].id == "new"
