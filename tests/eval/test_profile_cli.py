from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from verirank.cli.app import app
from verirank.eval.profile import ProfileConfig, run_profile
from verirank.errors import CheckpointError, ConfigError
from verirank.eval.scoring import CosineScorer, PairScorer, make_scorer

runner = CliRunner()


def _tiny(root):
    tiny = root / "tiny"
    return tiny / "corpus.jsonl", tiny / "queries.jsonl", tiny / "qrels" / "test.tsv"


@pytest.mark.usefixtures("fake_generator")
def test_profile_with_qrels_writes_three_reports(mini_data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("VERIRANK_DATA", str(mini_data_root))
    corpus, queries, qrels = _tiny(mini_data_root)
    qrels.write_text(qrels.read_text() + "q1\td03\t1\n")  # three relevant documents: q1 gets an exclusion variant
    out = tmp_path / "report"
    res = runner.invoke(app, ["profile", "--corpus", str(corpus), "--queries", str(queries), "--qrels", str(qrels),
                              "--out", str(out), "--generated-anchors", "20", "--n-resamples", "100",
                              "--shipped-split", "all"])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {"report.md", "report.html", "report.json", "figures"}

    report = json.loads((out / "report.json").read_text())
    assert {"verirank_version", "config", "encoder_id", "scorer", "level", "relevance", "nearmiss", "skipped",
            "timings_s"} <= set(report)
    metrics = report["relevance"]["evaluation"]["metrics"]
    assert set(metrics) == {"ndcg@10", "recall@100", "mrr@10"} and report["relevance"]["n_queries"] == 4
    assert metrics["recall@100"]["value"] == pytest.approx(1.0)  # 30 docs, top 100: everything is retrieved
    assert 0.0 < metrics["ndcg@10"]["value"] <= 1.0 and metrics["ndcg@10"]["low"] <= metrics["ndcg@10"]["high"]
    exclusion = report["relevance"]["exclusion"]  # only q1 has the three relevant documents the rule needs
    assert exclusion["n_queries"] == 1 and 0.0 <= exclusion["violating_in_top10"] <= 1.0
    assert set(exclusion["evaluation"]["metrics"]) == {"ndcg@10", "recall@100", "mrr@10"}
    sets = {s["name"]: s for s in report["nearmiss"]}
    assert list(sets) == ["generated", "handwritten", "cannot", "hans", "mrpc"]
    handwritten = {c["category"]: c for c in sets["handwritten"]["scores"]["categories"]}
    assert set(handwritten) == {"negation", "role_reversal", "spatial", "binding", "comparative", "numeric",
                                "exclusion"}
    assert all(c["n_anchors"] == 10 and c["pairwise_accuracy"]["n"] == 10 for c in handwritten.values())
    generated = sets["generated"]
    cats = {c["category"]: c for c in generated["scores"]["categories"]}
    assert set(cats) == {"negation", "role_reversal"}
    assert cats["negation"]["n_anchors"] == generated["manifest"]["n_anchors"] == 20
    assert {"value", "low", "high", "n"} == set(cats["negation"]["pairwise_accuracy"])
    assert generated["worst"] and {"anchor", "text", "category", "score"} <= set(generated["worst"][0])
    assert sets["cannot"]["scores"]["categories"][0]["n_anchors"] == 2  # both fixture premises with both labels

    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and not re.search(r"""src=["']https?:""", html)
    md = (out / "report.md").read_text()
    assert "## Relevance (stage 1)" in md and "## Near-misses: generated" in md and "pairwise acc" in md
    assert "## Relevance: exclusion queries" in md
    assert "ndcg@10" in res.stdout


@pytest.mark.usefixtures("fake_generator")
def test_profile_with_corpus_only(mini_data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("VERIRANK_DATA", str(tmp_path / "no-data-here"))
    corpus, _, _ = _tiny(mini_data_root)
    out = tmp_path / "r"
    res = runner.invoke(app, ["profile", "--corpus", str(corpus), "--out", str(out), "--generated-anchors", "10",
                              "--n-resamples", "50"])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["relevance"] is None and "relevance" in report["skipped"] and "cannot" in report["skipped"]
    assert [s["name"] for s in report["nearmiss"]] == ["generated", "handwritten"]  # shipped in the package
    assert (out / "report.html").read_text().count("data:image/png;base64,") == 2  # no relevance figure


def test_verifier_level_without_a_checkpoint_is_a_config_error(torch_encoder, monkeypatch):
    from verirank.verifier.runtime import NearMissVerifier

    def missing(cls, path=None):
        raise CheckpointError("no verifier checkpoint at /nowhere")

    monkeypatch.setattr(NearMissVerifier, "load", classmethod(missing))
    with pytest.raises(ConfigError, match=r"level='full' needs a verifier .*--level off"):
        make_scorer("full", torch_encoder)
    with pytest.raises(ConfigError, match="choose one of"):
        make_scorer("bogus", torch_encoder)
    assert isinstance(make_scorer("off", torch_encoder), CosineScorer)


def test_profile_refuses_bad_options(mini_data_root, tmp_path):
    corpus, queries, _ = _tiny(mini_data_root)
    res = runner.invoke(app, ["profile", "--corpus", str(corpus), "--out", str(tmp_path / "r"), "--level", "bogus"])
    assert res.exit_code == 2 and "level='bogus'" in res.output
    res = runner.invoke(app, ["profile", "--corpus", str(corpus), "--queries", str(queries), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--qrels" in res.output
    res = runner.invoke(app, ["profile", "--corpus", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "missing.jsonl" in res.output
    res = runner.invoke(app, ["profile", "--corpus", str(corpus), "--out", str(tmp_path), "--max-words", "-3"])
    assert res.exit_code == 2 and "max_words=-3" in res.output


def test_cosine_scorer_is_a_pair_scorer_and_matches_pipeline_similarity(torch_encoder):
    from verirank.pipeline import Pipeline

    scorer = CosineScorer(torch_encoder)
    assert isinstance(scorer, PairScorer)
    texts = ["the dog bit the man", "the man bit the dog", "interest rates rose"]
    got = scorer.score([texts[0]] * 3, texts)
    want = Pipeline.default(encoder=torch_encoder, verifier=None).similarity(texts[0], texts)
    assert got == pytest.approx(want, abs=1e-5) and got[0] == pytest.approx(1.0, abs=1e-5)


def test_run_profile_accepts_an_injected_scorer(mini_data_root, tmp_path):
    class LengthScorer:
        name = "length"

        def score(self, anchors, texts):
            import numpy as np

            return -np.abs(np.array([len(t) - len(a) for a, t in zip(anchors, texts)], dtype=float))

    corpus, _, _ = _tiny(mini_data_root)
    report = run_profile(ProfileConfig(corpus=str(corpus), generated_anchors=0, handwritten=False,
                                       data_root=str(mini_data_root), shipped_sets=("cannot",), shipped_split="all",
                                       n_resamples=20), scorer=LengthScorer())
    assert report.scorer == "length" and [s.name for s in report.nearmiss] == ["cannot"]


def test_report_files_get_the_usual_mode(mini_data_root, tmp_path):
    import os

    from verirank.eval.report import write_report

    corpus, _, _ = _tiny(mini_data_root)
    report = run_profile(ProfileConfig(corpus=str(corpus), generated_anchors=0, handwritten=False,
                                       data_root=str(mini_data_root), shipped_sets=("cannot",), shipped_split="all",
                                       n_resamples=20))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("kept")
    files = write_report(report, tmp_path / "out")
    umask = os.umask(0)
    os.umask(umask)
    assert (files.json_path.stat().st_mode & 0o777) == 0o666 & ~umask
    assert (tmp_path / "out" / "notes.txt").read_text() == "kept"  # other files left alone
