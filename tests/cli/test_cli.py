from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from verirank.cli.app import app

runner = CliRunner()

DOCS = [
    {"_id": "a", "title": "Dogs", "text": "the dog bit the man"},
    {"_id": "b", "title": "", "text": "interest rates rose sharply in march"},
    {"_id": "c", "title": "", "text": "the museum is north of the river", "metadata": {"city": "x"}},
]


def write_jsonl(path, rows, gz=False):
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("name", ["corpus.jsonl", "corpus.jsonl.gz"])
def test_index_search_info(tmp_path, name):
    corpus = write_jsonl(tmp_path / name, DOCS, gz=name.endswith(".gz"))
    ix = tmp_path / "ix"
    res = runner.invoke(app, ["index", str(corpus), "--index", str(ix)])
    assert res.exit_code == 0, res.output
    assert "indexed 3 documents" in res.output
    res = runner.invoke(app, ["search", "where is the museum", "--index", str(ix), "--json", "-k", "2"])
    assert res.exit_code == 0, res.output
    hits = [json.loads(line) for line in res.stdout.splitlines()]
    assert hits[0]["id"] == "c" and hits[0]["metadata"] == {"city": "x"} and len(hits) == 2
    assert all(hit["verified"] for hit in hits)  # default level: full (the index has the verifier's states)
    res = runner.invoke(app, ["info", "--index", str(ix)])
    assert res.exit_code == 0 and '"count": 3' in res.stdout


def test_txt_corpus_and_upsert(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("first line about cats\n\nsecond line about stocks\n")
    ix = tmp_path / "ix"
    assert runner.invoke(app, ["index", str(txt), "--index", str(ix)]).exit_code == 0
    res = runner.invoke(app, ["index", str(txt), "--index", str(ix)])
    assert res.exit_code == 2 and "upsert" in res.output
    res = runner.invoke(app, ["index", str(txt), "--index", str(ix), "--upsert"])
    assert res.exit_code == 0 and "holds 2" in res.output


def test_non_utf8_file_is_refused_clearly(tmp_path):
    bad = tmp_path / "latin.txt"
    bad.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    res = runner.invoke(app, ["index", str(bad), "--index", str(tmp_path / "ix")])
    assert res.exit_code == 2 and "UTF-8" in res.output


def test_bad_json_and_missing_text(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"_id": "1", "text": "fine"}\nnot json\n')
    res = runner.invoke(app, ["index", str(bad), "--index", str(tmp_path / "ix")])
    assert res.exit_code == 2 and "bad.jsonl:2" in res.output
    empty = write_jsonl(tmp_path / "empty.jsonl", [{"_id": "1", "text": "  "}])
    res = runner.invoke(app, ["index", str(empty), "--index", str(tmp_path / "ix2")])
    assert res.exit_code == 2 and "empty text" in res.output


def test_missing_index_and_file(tmp_path):
    res = runner.invoke(app, ["search", "x", "--index", str(tmp_path / "none")])
    assert res.exit_code == 2 and "verirank index" in res.output
    res = runner.invoke(app, ["index", str(tmp_path / "nope.jsonl"), "--index", str(tmp_path / "ix")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_compact_merges_segments(tmp_path):
    import numpy as np

    from verirank.index import EmbeddedIndex, IndexSpec
    from verirank.types import Document

    spec = IndexSpec(encoder_id="e", space="s", dim=4)
    index = EmbeddedIndex.create(spec, tmp_path / "ix")
    for i in range(3):
        index.add([Document(id=f"d{i}", text="t")], np.eye(4, dtype=np.float32)[i : i + 1])
    index.delete(["d1"])
    res = runner.invoke(app, ["compact", "--index", str(tmp_path / "ix")])
    assert res.exit_code == 0, res.output
    assert "compacted 4 segment(s) into 1" in res.output and "2 documents" in res.output
    assert EmbeddedIndex.open(tmp_path / "ix").ids() == ["d0", "d2"]
    res = runner.invoke(app, ["compact", "--index", str(tmp_path / "none")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_serve_refuses_a_missing_index(tmp_path):
    pytest.importorskip("uvicorn")
    res = runner.invoke(app, ["serve", "--index", str(tmp_path / "none")])
    assert res.exit_code == 2 and "verirank index" in res.output


def test_search_options_and_verify(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [*DOCS, {"_id": "d", "text": "the man bit the dog",
                                                        "metadata": {"city": "x"}}])
    ix = tmp_path / "ix"
    assert runner.invoke(app, ["index", str(corpus), "--index", str(ix)]).exit_code == 0
    args = ["search", "the dog bit the man", "--index", str(ix), "--json", "-k", "3", "--level", "full",
            "--mode", "identity", "--candidates", "4", "--budget-ms", "10000", "--keep-rejected"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    hits = {h["id"]: h for h in map(json.loads, res.stdout.splitlines())}
    assert hits["a"]["decision"] == "accept" and hits["d"]["decision"] == "reject" and hits["d"]["reasons"]
    res = runner.invoke(app, [*args, "--where", '{"city": "x"}'])
    assert res.exit_code == 0 and {json.loads(line)["id"] for line in res.stdout.splitlines()} == {"c", "d"}
    res = runner.invoke(app, [*args[:-1], "--where", '{"city": "x"}'])  # rejects dropped
    assert res.exit_code == 0 and res.stdout.strip() == ""
    res = runner.invoke(app, ["search", "x", "--index", str(ix), "--where", "{city"])
    assert res.exit_code == 2 and "--where is not JSON" in res.output
    res = runner.invoke(app, ["search", "x", "--index", str(ix), "--level", "full", "--mode", "vibes"])
    assert res.exit_code == 2 and "mode='vibes'" in res.output

    res = runner.invoke(app, ["verify", "the dog bit the man", "the man bit the dog", "the dog bit the man",
                              "--mode", "identity", "--json"])
    assert res.exit_code == 0, res.output
    verdicts = [json.loads(line) for line in res.stdout.splitlines()]
    assert [v["decision"] for v in verdicts] == ["reject", "accept"]
    assert verdicts[0]["reasons"][0]["category"] == "role_reversal"
    res = runner.invoke(app, ["verify", "the dog bit the man", "the man bit the dog", "--mode", "identity"])
    assert res.exit_code == 0 and "reject" in res.stdout and "role_reversal" in res.stdout
