"""The paradox: A (as shipped) vs B (MNRL on relevance pairs + identity triplets) vs A' (relevance
pairs only, same steps): relevance on every collection (B and A' each against A, and B against
A'), cosine near-miss separation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from verirank.eval.metrics import compare_runs, evaluate_run
from verirank.eval.reproduce.cache import cached_array, cached_json, cached_model, read_json
from verirank.eval.reproduce.config import ReproConfig
from verirank.eval.reproduce.data import Collection

log = logging.getLogger(__name__)
METRICS = ("ndcg@10", "recall@100")


def train_cross(cfg: ReproConfig, run: Path) -> dict[str, Any]:
    """The MiniLM-L6 cross-encoder on the verifier's identity training pairs (cached by its weights)."""
    from verirank.eval.reproduce.models import train_cross_encoder
    from verirank.eval.reproduce.training import training_data

    def train() -> dict[str, Any]:
        data = training_data(cfg.seed)
        return {**train_cross_encoder(data.cross, run / "models" / "cross", steps=cfg.cross_steps,
                                      batch=cfg.cross_batch, max_len=cfg.cross_max_len, lr=cfg.cross_lr,
                                      seed=cfg.seed), "pairs": len(data.cross)}
    return cached_model(run / "models" / "cross", train)


def finetune_models(cfg: ReproConfig, run: Path, names: tuple[str, ...] = ("B", "A_prime")) -> dict[str, Any]:
    """B and A' (or those of ``names``), each trained once (cached by its weights file)."""
    from verirank.eval.reproduce.models import finetune_biencoder
    from verirank.eval.reproduce.training import training_data

    data = None
    meta: dict[str, Any] = {}
    common = dict(steps=cfg.finetune_steps, batch=cfg.finetune_batch, max_len=cfg.finetune_max_len,
                  lr=cfg.finetune_lr, scale=cfg.mnrl_scale, seed=cfg.seed)
    for name, with_triplets in (("B", True), ("A_prime", False)):
        if name not in names:
            continue

        def train(name: str = name, with_triplets: bool = with_triplets) -> dict[str, Any]:
            nonlocal data
            data = data or training_data(cfg.seed)
            return {**finetune_biencoder(data.relevance, data.triplets if with_triplets else [], run / "models" / name,
                                         **common), "data_counts": data.counts}
        meta[name] = cached_model(run / "models" / name, train)
    return meta


def dense_vectors(encoder: Any, coll: Collection, run: Path, model: str) -> tuple[np.ndarray, np.ndarray]:
    """Pooled doc and judged-query vectors of ``model`` (cached .npy; query order = sorted ids)."""
    folder = run / "vectors" / model / coll.name
    docs = cached_array(folder / "docs.npy", lambda: encoder.encode(coll.doc_texts).pooled)
    qids = sorted(coll.queries)
    queries = cached_array(folder / "queries.npy", lambda: encoder.encode([coll.queries[q] for q in qids]).pooled)
    return docs, queries


def dense_run(coll: Collection, docs: np.ndarray, queries: np.ndarray, k: int) -> dict[str, dict[str, float]]:
    scores = queries @ docs.T  # (Q, N)
    run = {}
    for row, qid in enumerate(sorted(coll.queries)):
        top = np.argsort(-scores[row], kind="stable")[:k]
        run[qid] = {coll.doc_ids[j]: float(scores[row, j]) for j in top}
    return run


def relevance_of_models(cfg: ReproConfig, run: Path, coll: Collection, encoders: dict[str, Any]) -> dict[str, Any]:
    """Per model: per-query nDCG@10 / Recall@100 over every judged query, means with CIs, the paired
    difference to A and, for B, to its control A' (bootstrap CI, randomisation p)."""
    def compute() -> dict[str, Any]:
        runs = {}
        for model, encoder in encoders.items():
            docs, queries = dense_vectors(encoder(), coll, run, model)
            runs[model] = dense_run(coll, docs, queries, cfg.stage1_k)
        out: dict[str, Any] = {"collection": coll.name, "n_docs": len(coll.doc_ids), "n_docs_full": coll.n_docs_full,
                               "n_queries": len(coll.queries), "models": {}}
        for model, r in runs.items():
            ev = evaluate_run(r, coll.qrels, METRICS, n_resamples=cfg.bootstrap, seed=cfg.seed)
            entry: dict[str, Any] = {"metrics": {m: v.model_dump() for m, v in ev.metrics.items()},
                                     "per_query": ev.per_query, "vs_A": {}}
            if model != "A":
                entry["vs_A"] = _paired(cfg, coll, runs["A"], r)
            if model == "B" and "A_prime" in runs:
                entry["vs_A_prime"] = _paired(cfg, coll, runs["A_prime"], r)
            out["models"][model] = entry
        return out

    path = run / "paradox" / f"relevance_{coll.name}.json"
    if path.exists() and "B" in encoders and "A_prime" in encoders \
            and "vs_A_prime" not in read_json(path)["models"].get("B", {}):
        log.info("%s predates the B vs A' test; recomputing it from the cached vectors", path)
        path.unlink()
    return cached_json(path, compute)


def _paired(cfg: ReproConfig, coll: Collection, base: dict[str, dict[str, float]],
            other: dict[str, dict[str, float]]) -> dict[str, Any]:
    """``other`` minus ``base`` per metric: mean difference with its bootstrap CI and randomisation p."""
    out = {}
    for m in METRICS:
        diff = compare_runs(base, other, coll.qrels, m, n_resamples=max(cfg.bootstrap, 1000), seed=cfg.seed)
        out[m] = {"difference": diff.difference.model_dump(), "p_value": diff.p_value}
    return out
