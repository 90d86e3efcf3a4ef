"""Stage-2 systems over model A's stage 1, on one collection: every system reorders the same top-100.

Rerankers (MaxSim, mean-sim, the CNN over the similarity map, the cross-encoder, the verifier's
p_match, verirank light/full) reorder the top ``rerank_depth`` stage-1 hits and keep the stage-1
tail below them, as ``benchmarks/eval_verifier.py`` does; verirank runs through ``Pipeline.search`` itself
(``keep_rejected=True``: a reject moves to the end instead of vanishing, so Recall@100 stays
comparable). The BM25 hybrid fuses stage 1's top-100 with BM25's top-100 over the same corpus
(reciprocal rank fusion, k=60).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verirank.eval.metrics import compare_runs, evaluate_run
from verirank.eval.reproduce.config import ReproConfig
from verirank.eval.reproduce.data import Collection

log = logging.getLogger(__name__)
RRF_K = 60
METRICS = ("ndcg@10", "recall@100")
SYSTEMS = ("stage1", "bm25_hybrid", "maxsim_F1", "meansim_F0", "simmap_cnn", "cross_encoder", "verifier_pmatch",
           "verirank_light", "verirank_full")


def _unit(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)


def cosine_map(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The token cosine map of query states (Lq, D) and document states (Ld, D): (Lq, Ld)."""
    return _unit(q) @ _unit(d).T


def maxsim(q: np.ndarray, d: np.ndarray) -> float:
    """F1: each query token's best cosine over the document's tokens, averaged: (Lq, D), (Ld, D)."""
    return float(cosine_map(q, d).max(axis=1).mean())


def meansim(q: np.ndarray, d: np.ndarray) -> float:
    """F0: the mean of the token cosine map."""
    return float(cosine_map(q, d).mean())


def token_states(encoder: Any, texts: Sequence[str], keep: bool = True) -> list[np.ndarray]:
    """The encoder's last-layer token states of ``texts`` (what F0, F1 and the map CNN read), encoding
    those not yet in ``encoder.last_states``; ``keep=False`` drops the newly encoded ones afterwards."""
    missing = [t for t in dict.fromkeys(texts) if t not in encoder.last_states]
    for lo in range(0, len(missing), 256):
        encoder.encode(missing[lo : lo + 256])
    out = [encoder.last_states[t] for t in texts]
    if not keep:
        for t in missing:
            encoder.last_states.pop(t, None)
            encoder.pooled_of.pop(t, None)
    return out


def rrf(rankings: Sequence[Sequence[str]], k: int = RRF_K, top: int = 100) -> dict[str, float]:
    """Reciprocal rank fusion: sum over rankings of 1 / (k + rank), rank from 1."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank)
    return dict(sorted(fused.items(), key=lambda item: -item[1])[:top])


def rerank_head(stage1: list[tuple[str, float]], scores: Sequence[float], depth: int) -> dict[str, float]:
    """The top ``depth`` hits reordered by ``scores`` (one per head hit), then the stage-1 tail."""
    head = sorted(zip(stage1[:depth], scores), key=lambda item: -item[1])
    out = {doc: 1000.0 - r for r, ((doc, _), _) in enumerate(head)}
    out.update({doc: s for doc, s in stage1[depth:]})  # stage-1 cosines are < 1000 - depth
    return out


@dataclass
class Stage2Context:
    """Everything one collection's systems share: the pipeline (index with verifier states), the
    encoder's last-layer states, BM25, the cross-encoder, the CNN over the similarity map."""

    pipe: Any
    encoder: Any
    cross: Any
    cnn: Any
    bm25: Any
    tokenize: Callable[[list[str]], Any]
    doc_ids: list[str]

    def stage1(self, query: str, k: int) -> list[tuple[str, float]]:
        return [(h.id, h.score) for h in self.pipe.search(query, k=k, level="off")]

    def texts(self, ids: Sequence[str]) -> list[str]:
        return [d.text for d in self.pipe.index.get(list(ids))]

    def query_last_states(self, query: str) -> np.ndarray:
        if query not in self.encoder.last_states:
            self.encoder.encode([query])
        return self.encoder.last_states[query]

    def bm25_top(self, query: str, k: int) -> list[str]:
        docs, _ = self.bm25.retrieve(self.tokenize([query]), k=min(k, len(self.doc_ids)), show_progress=False)
        return [self.doc_ids[int(i)] for i in docs[0]]

    def verifier_pmatch(self, query: str, hits: Sequence[tuple[str, float]]) -> np.ndarray:
        from verirank.types import Mode
        from verirank.verifier.runtime import Candidate, QueryStates

        verifier = self.pipe.verifier
        enc = self.encoder.encode([query], state_layer=verifier.state_layer)
        q = QueryStates(query, verifier.project_query(enc.token_states[0]),
                        enc.offsets[0][: verifier.cfg.max_query_tokens])
        stored = {d.id: d for d in self.pipe.index.get([h for h, _ in hits], with_states=True)}
        cands = [Candidate(stored[h].text, stored[h].token_states, stored[h].token_spans, s) for h, s in hits]
        p, _, _ = verifier.score(q, cands, Mode.RELEVANCE)
        return p

    def system_run(self, system: str, query: str, stage1: list[tuple[str, float]], depth: int) -> dict[str, float]:
        head = stage1[:depth]
        if system == "stage1":
            return dict(stage1)
        if system == "bm25_hybrid":
            return rrf([[d for d, _ in stage1], self.bm25_top(query, len(stage1))], top=len(stage1))
        if system in ("maxsim_F1", "meansim_F0"):
            fn = maxsim if system == "maxsim_F1" else meansim
            q = self.query_last_states(query)
            return rerank_head(stage1, [fn(q, self.encoder.last_states[t]) for t in self.texts([d for d, _ in head])], depth)
        if system == "simmap_cnn":
            docs = [self.encoder.last_states[t] for t in self.texts([d for d, _ in head])]
            return rerank_head(stage1, list(self.cnn.score_states(self.query_last_states(query), docs)), depth)
        if system == "cross_encoder":
            return rerank_head(stage1, list(self.cross.score([query] * len(head), self.texts([d for d, _ in head]))), depth)
        if system == "verifier_pmatch":
            return rerank_head(stage1, list(self.verifier_pmatch(query, head)), depth)
        if system in ("verirank_light", "verirank_full"):
            level = system.split("_")[1]
            hits = self.pipe.search(query, k=depth, level=level, candidates=depth, keep_rejected=True)
            out = {h.id: 1000.0 - r for r, h in enumerate(hits)}
            out.update({doc: s for doc, s in stage1 if doc not in out})
            return out
        raise ValueError(f"unknown system {system!r}")


def build_context(coll: Collection, encoder: Any, verifier: Any, cross: Any, cnn: Any) -> Stage2Context:
    import bm25s

    import verirank

    pipe = verirank.Pipeline.default(encoder=encoder, verifier=verifier)
    encoder.last_states.clear()
    encoder.pooled_of.clear()
    pipe.add(coll.doc_texts, ids=coll.doc_ids)

    def tokenize(texts: list[str]) -> Any:
        return bm25s.tokenize(texts, stopwords="en", show_progress=False)

    bm25 = bm25s.BM25()
    bm25.index(tokenize(coll.doc_texts), show_progress=False)
    return Stage2Context(pipe, encoder, cross, cnn, bm25, tokenize, coll.doc_ids)


def pooled_docs(ctx: Stage2Context) -> np.ndarray:
    """Model A's doc vectors as the index stores them (for the paradox's A, no second encoding)."""
    texts = ctx.texts(ctx.doc_ids)
    return np.stack([ctx.encoder.pooled_of[t] for t in texts])


def evaluate_collection(cfg: ReproConfig, coll: Collection, ctx: Stage2Context) -> dict[str, Any]:
    """Every system on the collection's stage-2 queries: per-query metrics, means with CIs, the
    paired nDCG@10 difference to stage 1, and seconds spent."""
    runs: dict[str, dict[str, dict[str, float]]] = {s: {} for s in SYSTEMS}
    seconds = dict.fromkeys(SYSTEMS, 0.0)
    for qid in coll.stage2_queries:
        query = coll.queries[qid]
        stage1 = ctx.stage1(query, cfg.stage1_k)
        for system in SYSTEMS:
            started = time.perf_counter()
            runs[system][qid] = ctx.system_run(system, query, stage1, cfg.rerank_depth)
            seconds[system] += time.perf_counter() - started
    qrels = {q: coll.qrels[q] for q in coll.stage2_queries}
    out: dict[str, Any] = {"collection": coll.name, "n_docs": len(coll.doc_ids), "n_docs_full": coll.n_docs_full,
                           "n_queries": len(coll.stage2_queries), "systems": {}}
    for system, run in runs.items():
        ev = evaluate_run(run, qrels, METRICS, n_resamples=cfg.bootstrap, seed=cfg.seed)
        entry: dict[str, Any] = {"metrics": {m: v.model_dump() for m, v in ev.metrics.items()},
                                 "per_query": ev.per_query, "seconds": seconds[system]}
        if system != "stage1":
            diff = compare_runs(runs["stage1"], run, qrels, "ndcg@10", n_resamples=max(cfg.bootstrap, 1000), seed=cfg.seed)
            entry["vs_stage1"] = {"difference": diff.difference.model_dump(), "p_value": diff.p_value}
        out["systems"][system] = entry
        log.info("%s %-16s nDCG@10 %.3f R@100 %.3f", coll.name, system, ev.metrics["ndcg@10"].value,
                 ev.metrics["recall@100"].value)
    return out
