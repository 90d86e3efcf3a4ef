from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter

import pytest

from verirank.datasets import (
    HANS_HEURISTIC_CATEGORY,
    data_root,
    load_beir,
    load_corpus,
    load_pairs,
    load_qrels,
    sample_pairs,
    split_sentences,
)
from verirank.errors import ConfigError, InputError
from verirank.types import Category, NearMissPair


def test_load_beir_folder(mini_data_root):
    rs = load_beir(mini_data_root / "tiny")
    assert rs.name == "tiny" and len(rs.corpus) == 30
    assert rs.corpus[0].id == "d01" and rs.corpus[0].text.startswith("Wing design. The swept wing")
    assert rs.queries["q2"] == "did the central bank change interest rates"
    assert rs.qrels["q1"] == {"d01": 2, "d02": 1} and rs.qrels["q4"] == {"d09": 1, "d10": 0}
    assert "q5" not in rs.judged_queries and set(rs.judged_queries) == {"q1", "q2", "q3", "q4"}


def test_load_beir_by_name_uses_root_then_env(mini_data_root, monkeypatch):
    assert len(load_beir("tiny", root=mini_data_root).corpus) == 30
    monkeypatch.setenv("VERIRANK_DATA", str(mini_data_root))
    assert len(load_beir("tiny").corpus) == 30
    assert data_root() == mini_data_root


def test_missing_data_root_and_files_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIRANK_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="VERIRANK_DATA"):
        load_pairs("cannot")
    with pytest.raises(InputError, match=r"cannot pair file: .*cannot_pairs.jsonl.gz does not exist"):
        load_pairs("cannot", root=tmp_path)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "corpus.jsonl").write_text('{"_id": "1", "text": "x y"}\n')
    with pytest.raises(InputError, match="queries file"):
        load_beir(tmp_path / "half")


def test_empty_corpus_records_are_skipped_not_fatal(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"_id": "1", "title": "", "text": "kept"}\n{"_id": "2", "title": "", "text": ""}\n')
    docs, skipped = load_corpus(path)
    assert [d.id for d in docs] == ["1"] and skipped == ["2"]


def test_qrels_formats(tmp_path):
    (tmp_path / "a.tsv").write_text("q1\td1\t1\nq1\td2\t0\n")  # no header
    (tmp_path / "b.txt").write_text("q1 0 d1 3\n")  # TREC
    assert load_qrels(tmp_path / "a.tsv") == {"q1": {"d1": 1, "d2": 0}}
    assert load_qrels(tmp_path / "b.txt") == {"q1": {"d1": 3}}
    (tmp_path / "c.tsv").write_text("q1\td1\n")
    with pytest.raises(InputError, match="3 tab-separated"):
        load_qrels(tmp_path / "c.tsv")


def test_cannot_label_is_inverted_to_ours(mini_data_root):
    pairs = load_pairs("cannot", root=mini_data_root)
    assert all(isinstance(p, NearMissPair) and p.category is Category.NEGATION for p in pairs)
    by_text = {p.text: p for p in pairs}
    assert by_text["That's correct."].label == 0  # cannot 1 = negates -> near-miss
    assert by_text["That's incorrect."].label == 1  # cannot 0 = same meaning -> positive
    assert by_text["That's incorrect."].source == "cannot:antonym-substitution"


def test_hans_mapping(mini_data_root):
    pairs = load_pairs("hans", root=mini_data_root)
    got = {p.source: (p.label, p.category) for p in pairs}
    assert got == {
        "hans:ln_subject/object_swap": (0, Category.ROLE_REVERSAL),
        "hans:ln_passive": (0, Category.ROLE_REVERSAL),
        "hans:le_passive": (1, Category.ROLE_REVERSAL),
        "hans:sn_PP_on_subject": (0, Category.BINDING),
        "hans:se_adjective": (1, Category.BINDING),
    }  # constituent (cn_adverb) skipped: no verirank category
    assert HANS_HEURISTIC_CATEGORY["constituent"] is None
    assert pairs[0].anchor == "The tourists recommended the judges."


def test_mrpc_mapping_and_split(mini_data_root):
    pairs = load_pairs("mrpc", root=mini_data_root)
    assert [(p.label, p.category, p.source) for p in pairs] == [
        (1, Category.MATCH, "mrpc:train"), (0, Category.MATCH, "mrpc:train"), (1, Category.MATCH, "mrpc:test")]
    assert len(load_pairs("mrpc", "test", root=mini_data_root)) == 1
    with pytest.raises(ConfigError, match="split"):
        load_pairs("mrpc", "dev", root=mini_data_root)
    with pytest.raises(ConfigError, match="unknown pair set"):
        load_pairs("snli", root=mini_data_root)


def test_hash_splits_partition_by_anchor(mini_data_root):
    whole = load_pairs("cannot", root=mini_data_root)
    parts = {s: load_pairs("cannot", s, root=mini_data_root) for s in ("train", "dev", "test")}
    assert sum(len(p) for p in parts.values()) == len(whole)
    anchors = [{p.anchor for p in part} for part in parts.values()]
    assert not (anchors[0] & anchors[1]) and not (anchors[0] & anchors[2]) and not (anchors[1] & anchors[2])


def test_corrupt_pair_file(tmp_path):
    (tmp_path / "mrpc").mkdir()
    (tmp_path / "mrpc" / "mrpc_pairs.jsonl.gz").write_bytes(gzip.compress(b'{"sentence1": "a"}\n'))
    with pytest.raises(InputError, match="no 'sentence2' field"):
        load_pairs("mrpc", root=tmp_path)


def _pair(anchor: str, label: int) -> NearMissPair:
    return NearMissPair(anchor=anchor, text=f"{anchor}-{label}", label=label, category=Category.NEGATION)


def test_sample_pairs_keeps_whole_anchors_and_is_seeded():
    pairs = [_pair(f"a{i}", lab) for i in range(50) for lab in ((0, 1) if i % 5 == 0 else (0,))]
    pairs += [_pair(f"p{i}", 1) for i in range(20)]
    sample = sample_pairs(pairs, 20, seed=3)
    assert sample == sample_pairs(pairs, 20, seed=3) and sample != sample_pairs(pairs, 20, seed=4)
    labels = Counter(p.label for p in sample)
    assert labels[0] >= 10 and labels[1] >= 10
    chosen = {p.anchor for p in sample}
    assert all(p in sample for p in pairs if p.anchor in chosen)


def test_split_sentences():
    text = "the wing was tested in a  tunnel . results agree with theory . Is it stable at mach two? yes 1 2 3 4 5"
    # 4-word and mostly-digit sentences are dropped; " ." is rejoined
    assert split_sentences(text) == ["the wing was tested in a tunnel.", "Is it stable at mach two?"]


def test_import_reads_nothing():
    code = "import verirank.datasets, verirank.eval, sys, json; print(json.dumps([m for m in ('ranx', 'matplotlib', 'torch', 'spacy') if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []



def test_handwritten_set_ships_in_the_package():
    from verirank.datasets import load_handwritten

    pairs = load_handwritten()
    assert len(pairs) == 140 and {p.label for p in pairs} == {0, 1}
    by_category = Counter(p.category.value for p in pairs if p.label == 0)
    assert by_category == {c: 10 for c in ("negation", "role_reversal", "spatial", "binding", "comparative",
                                           "numeric", "exclusion")}
    assert all(p.anchor != p.text for p in pairs)


def test_public_api_is_pinned():
    import verirank.datasets as datasets

    assert sorted(datasets.__all__) == [
        "CorpusFile", "ENV_VAR", "HANS_HEURISTIC_CATEGORY", "HUMAN_SETS", "NearMissTestset", "PAIR_SETS", "RELEVANCE_SETS",
        "RetrievalSet", "TestsetManifest", "corpus_sentences", "data_root", "has_data_root", "load_beir",
        "load_corpus", "load_handwritten", "load_human_pairs", "load_pairs", "load_qrels", "load_queries", "nearmiss_testset", "sample_pairs",
        "split_sentences"]
    assert all(getattr(datasets, name) is not None for name in datasets.__all__)


def _fake_generate(texts, categories=None, *, seed=0, positives=True, per_category=1, max_words=None):
    out = []
    for text in texts:
        out.append(NearMissPair(anchor=text, text="not " + text, label=0, category=Category.NEGATION, seed=seed))
        if positives:
            out.append(NearMissPair(anchor=text, text="so " + text, label=1, category=Category.NEGATION, seed=seed))
    return out


def test_nearmiss_testset_samples_sentences_with_the_seed(monkeypatch):
    import types

    from verirank.datasets import nearmiss_testset

    fake = types.ModuleType("verirank.nearmiss.generate")
    fake.generate = _fake_generate
    monkeypatch.setitem(sys.modules, "verirank.nearmiss.generate", fake)
    corpus = [f"Passage {i} has one sentence with words. It has a second sentence number {i} too." for i in range(20)]
    pairs, manifest = nearmiss_testset(corpus, seed=1, n=5)
    again = nearmiss_testset(corpus, seed=1, n=5)
    assert again.pairs == pairs and nearmiss_testset(corpus, seed=2, n=5).pairs != pairs
    assert len({p.anchor for p in pairs}) == 5 == manifest.n_anchors
    assert manifest.n_sentences_available == 40 and manifest.seed == 1
    assert manifest.pair_counts == {"negation": {"near_miss": 5, "positive": 5}}
    assert manifest.anchors_sha256 == again.manifest.anchors_sha256
    with pytest.raises(InputError, match="no sentence"):
        nearmiss_testset(["too short."], n=3)
    with pytest.raises(ConfigError):
        nearmiss_testset(corpus, n=3, categories=["sarcasm"])
    with pytest.raises(ConfigError, match="max_words=-1"):
        nearmiss_testset(corpus, n=3, max_words=-1)


def test_nearmiss_testset_with_the_real_generator():
    pytest.importorskip("spacy")
    pytest.importorskip("verirank.nearmiss.generate")
    from pathlib import Path

    from verirank.datasets import nearmiss_testset

    corpus = load_corpus(Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny" / "corpus.jsonl").documents
    pairs, manifest = nearmiss_testset([d.text for d in corpus], seed=0, n=12)
    assert pairs and {p.label for p in pairs} <= {0, 1} and any(p.label == 0 for p in pairs)
    anchors = {p.anchor for p in pairs}
    assert len(anchors) <= manifest.n_anchors == 12
    assert sum(c["near_miss"] + c["positive"] for c in manifest.pair_counts.values()) == len(pairs)
    assert manifest.max_words is None
    lifted = nearmiss_testset([d.text for d in corpus], seed=0, n=12, max_words=0)
    assert lifted.manifest.max_words == 0 and len(lifted.pairs) >= len(pairs)
