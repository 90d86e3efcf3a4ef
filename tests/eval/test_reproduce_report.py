"""The reproduction report from a fake run folder (every step's cached output written by hand): the map
CNN's rows and the B vs A' test reach the markdown; and the paradox step's B vs A' numbers are
``compare_runs`` on the two dense runs."""

from __future__ import annotations

import numpy as np
import pytest

from verirank.eval.metrics import compare_runs
from verirank.eval.reproduce import render
from verirank.eval.reproduce.cache import read_json, write_json
from verirank.eval.reproduce.config import load_config
from verirank.eval.reproduce.data import Collection
from verirank.eval.reproduce.paradox import dense_run, relevance_of_models
from verirank.eval.reproduce.report_text import render_markdown
from verirank.eval.reproduce.stage2 import SYSTEMS

COLLECTIONS = ("c1", "c2")
QUERIES = [f"q{i}" for i in range(10)]


def _ci(value: float, width: float = 0.02) -> dict:
    return {"value": value, "low": value - width, "high": value + width, "n": len(QUERIES)}


def _diff(value: float, p: float, width: float = 0.03) -> dict:
    return {"difference": _ci(value, width), "p_value": p}


def _evaluated(ndcg: float) -> dict:
    per_query = {"ndcg@10": {q: ndcg for q in QUERIES}, "recall@100": {q: 1.0 for q in QUERIES}}
    return {"metrics": {"ndcg@10": _ci(ndcg), "recall@100": _ci(1.0, 0.0)}, "per_query": per_query}


def _pair_rows(prefix: str) -> list[dict]:
    rows = []
    for i in range(6):
        anchor = f"{prefix} anchor {i}"
        rows.append({"anchor": anchor, "text": f"{anchor} reworded", "label": 1, "category": "negation", "source": "fake"})
        rows.append({"anchor": anchor, "text": f"{anchor} negated", "label": 0, "category": "negation", "source": "fake"})
    return rows


def _write_run(folder, *, with_cnn: bool, b_vs_a_prime: bool, c1_p: float = 0.004) -> None:
    systems = [s for s in SYSTEMS if with_cnn or s != "simmap_cnn"]
    ndcg = {s: 0.5 + 0.01 * k for k, s in enumerate(systems)}
    for c in COLLECTIONS:
        entries = {s: {**_evaluated(ndcg[s]), "seconds": 1.0} for s in systems}
        for s in systems[1:]:
            entries[s]["vs_stage1"] = _diff(ndcg[s] - ndcg["stage1"], 0.5)
        write_json(folder / "stage2" / f"{c}.json", {"collection": c, "n_docs": 30, "n_docs_full": 30,
                                                     "n_queries": len(QUERIES), "systems": entries})
        b_minus_a_prime = -0.05 if c == "c1" else 0.01
        models = {"A": {**_evaluated(0.6), "vs_A": {}},
                  "A_prime": {**_evaluated(0.6), "vs_A": {"ndcg@10": _diff(0.0, 0.9), "recall@100": _diff(0.0, 1.0)}},
                  "B": {**_evaluated(0.6 + b_minus_a_prime),
                        "vs_A": {"ndcg@10": _diff(b_minus_a_prime, 0.3), "recall@100": _diff(0.0, 1.0)}}}
        if b_vs_a_prime:
            models["B"]["vs_A_prime"] = {"ndcg@10": _diff(b_minus_a_prime, c1_p if c == "c1" else 0.4),
                                         "recall@100": _diff(0.0, 1.0)}
        write_json(folder / "paradox" / f"relevance_{c}.json", {"collection": c, "n_docs": 30, "n_docs_full": 30,
                                                                "n_queries": len(QUERIES), "models": models})
    sets = {"paws_test": _pair_rows("test"), "dev": _pair_rows("dev")}
    write_json(folder / "nearmiss_sets.json", sets)
    rng = np.random.default_rng(0)
    for s in [*systems, "paradox_B", "paradox_A_prime"]:
        write_json(folder / "scores" / f"{s}.json",
                   {name: [float(r["label"] + rng.normal(0, 0.6)) for r in rows] for name, rows in sets.items()})
    write_json(folder / "latency.json", {"collection": "c1", "queries": 1, "repeats": 1, "threads": 1, "candidates": 100,
                                         "ms_per_query": {s: 10.0 * (k + 1) for k, s in enumerate(systems)},
                                         "sweep_ms": {"maxsim_F1": {"10": 5.0, "100": 20.0}}, "note": "fake"})
    if with_cnn:
        write_json(folder / "models" / "cnn" / "train.json",
                   {"steps": 3, "batch": 4, "lr": 1e-3, "loss_first": 0.7, "loss_last": 0.6, "seconds": 6.0,
                    "parameters": 16_000, "pairs": 100,
                    "config": {"query_tokens": 32, "doc_tokens": 96, "channels": [16, 32, 32], "hidden": 32}})


@pytest.fixture
def report(tmp_path, monkeypatch):
    def make(with_cnn: bool = True, b_vs_a_prime: bool = True, c1_p: float = 0.004) -> str:
        monkeypatch.setattr(render, "_verifier_decisions", lambda: lambda s: (s >= 0.5, s < 0.5))
        folder = tmp_path / f"run_{with_cnn}_{b_vs_a_prime}_{c1_p}"
        _write_run(folder, with_cnn=with_cnn, b_vs_a_prime=b_vs_a_prime, c1_p=c1_p)
        cfg = load_config("smoke", collections=COLLECTIONS, bootstrap=50)
        return render_markdown(render.Results(cfg, folder), {})
    return make


def _row(text: str, first_cell: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {first_cell} |"))


def test_the_map_cnn_appears_wherever_the_other_systems_do(report) -> None:
    text = report()
    assert "Not run: the small CNN" not in text
    assert "- Map CNN" in text and "32 x 96 query x candidate token cosine map" in text and "16,000 parameters" in text
    assert _row(text, render.LABELS["simmap_cnn"]).count("|") == 10  # headline: every column filled
    lines = text.splitlines()
    assert sum(line.startswith("| map CNN |") for line in lines) == 2  # rows: per collection, cost
    assert sum(line.startswith("| category |") and "| map CNN |" in line for line in lines) == 2  # columns
    assert "| map CNN |" in _row(text, "set | pairs")  # per-set column
    assert _row(text, "cnn").startswith("| cnn | 3 | 4 | 0.700 → 0.600 |")  # what was trained here
    assert ("The small CNN trained here on the maps F0/F1 read (on the cross-encoder's pairs) moves nDCG@10 by "
            "+4.0 pt (MaxSim: +2.0 pt) at 5.0x stage 1") in text
    assert "on the human near-misses; its CI overlaps mean-sim F0's (0.833)" in text


def test_a_run_without_the_cnn_says_so_and_still_renders(report) -> None:
    text = report(with_cnn=False)
    assert "Not run: the small CNN over the similarity map" in text
    assert "| map CNN |" not in text and "The small CNN" not in text
    assert "**Stage 2 on the same top-100.**" in text


def test_b_against_a_prime_in_the_paradox_table_and_discussion(report) -> None:
    text = report()
    header = _row(text, "collection")
    assert header.count("Δ B − A'") == 2
    cells = [x.strip() for x in _row(text, "c1").split("|")[1:-1]]
    assert cells[6] == "-0.050 [-0.080, -0.020]*" and cells[10] == "+0.000 [-0.030, +0.030]"
    assert [x.strip() for x in _row(text, "c2").split("|")[1:-1]][6] == "+0.010 [-0.020, +0.040]"  # p = 0.4: no star
    assert ("Tested per collection against A' (paired randomisation, p < 0.05), B's nDCG@10 is significantly "
            "lower on c1, and its Recall@100 differs significantly on no collection: 1 of 4 tests pass, no more "
            "than chance alone gives (P(≥ 1 of 4 at p < 0.05 by chance) = 0.19") in text


def test_no_significant_b_against_a_prime_is_said_so(report) -> None:
    text = report(c1_p=0.3)
    assert "-0.050 [-0.080, -0.020] |" in _row(text, "c1")  # no star
    assert ("B differs significantly (p < 0.05) in neither nDCG@10 nor Recall@100 on any of the 2 collections."
            in text)


def test_a_paradox_cache_without_the_test_renders_dashes(report) -> None:
    text = report(b_vs_a_prime=False)
    cells = [x.strip() for x in _row(text, "c1").split("|")[1:-1]]
    assert cells[6] == "–" and cells[10] == "–"
    assert "Tested per collection against A'" not in text


def test_relevance_of_models_compares_b_with_a_prime(tmp_path) -> None:
    rng = np.random.default_rng(0)
    n = 8
    docs = rng.normal(size=(2 * n, 16)).astype(np.float32)
    coll = Collection("toy", [f"d{j}" for j in range(2 * n)], [f"doc {j}" for j in range(2 * n)],
                      {f"q{i}": f"query {i}" for i in range(n)}, [f"q{i}" for i in range(n)],
                      {f"q{i}": {f"d{i}": 1} for i in range(n)}, 2 * n)
    queries = {"A": docs[:n] + 0.3 * docs[n:], "A_prime": docs[:n].copy(), "B": docs[n:] + 0.4 * docs[:n]}
    for model, q in queries.items():
        folder = tmp_path / "vectors" / model / "toy"
        folder.mkdir(parents=True)
        np.save(folder / "docs.npy", docs)
        np.save(folder / "queries.npy", q)
    cfg = load_config("smoke", bootstrap=50)
    never = {m: (lambda: None) for m in queries}  # the cached vectors are read, no encoder runs
    out = relevance_of_models(cfg, tmp_path, coll, never)
    expected = compare_runs(dense_run(coll, docs, queries["A_prime"], 100), dense_run(coll, docs, queries["B"], 100),
                            coll.qrels, "ndcg@10", n_resamples=1000, seed=cfg.seed)
    test = out["models"]["B"]["vs_A_prime"]["ndcg@10"]
    assert test["difference"] == expected.difference.model_dump() and test["p_value"] == expected.p_value
    assert test["difference"]["value"] < 0 and test["p_value"] < 0.05
    assert set(out["models"]["B"]["vs_A_prime"]) == {"ndcg@10", "recall@100"}
    assert "vs_A_prime" not in out["models"]["A_prime"]
    path = tmp_path / "paradox" / "relevance_toy.json"
    stale = read_json(path)
    del stale["models"]["B"]["vs_A_prime"]
    write_json(path, stale)
    assert relevance_of_models(cfg, tmp_path, coll, never)["models"]["B"]["vs_A_prime"] == out["models"]["B"]["vs_A_prime"]
