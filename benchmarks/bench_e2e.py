"""The end-to-end section of ``bench.py``: a 100k-document index built from real documents,
queried in a fresh process (latency, RSS), plus build throughput and storage."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench_sections import DATA, Context, read_texts
from harness import current_rss_mb, peak_rss_mb, summary


def _file_kind(name: str) -> str:
    for prefix, kind in (("vectors", "vectors"), ("tokens", "token states"), ("docs", "text + metadata"),
                         ("hnsw", "HNSW graph"), ("keys", "keys"), ("tomb", "tombstones")):
        if name.startswith(prefix):
            return kind
    return "other"


def storage_breakdown(index_dir: Path, docs: int) -> dict[str, float]:
    """Bytes per document of each kind of file in the index directory (layout-agnostic)."""
    out: dict[str, float] = {}
    for path in index_dir.rglob("*"):
        if path.is_file():
            kind = _file_kind(path.name)
            out[kind] = out.get(kind, 0.0) + path.stat().st_size / docs
    out["total"] = sum(out.values())
    return out


def e2e_build(ctx: Context) -> dict[str, Any]:
    """Index real npl abstracts end to end (throughput), then grow the index to ``e2e_docs`` with
    perturbed copies of their vectors and token states through the index API."""
    import verirank
    from verirank.types import Document

    tmp_root = Path(tempfile.mkdtemp(prefix="verirank-bench-"))
    real = read_texts("npl", ctx.sizes["e2e_real_docs"])
    v = ctx.verifier
    out: dict[str, Any] = {"tmp_root": str(tmp_root), "real_docs": len(real)}

    # build throughput: Pipeline.add (encode + token head + index add) + commit, on disk
    started = time.perf_counter()
    pipe = verirank.Pipeline.default(tmp_root / "real", encoder=ctx.torch_encoder, verifier=v, autocommit=False)
    for lo in range(0, len(real), 256):
        pipe.add(real[lo : lo + 256], batch_size=64)
    pipe.index.commit()
    elapsed = time.perf_counter() - started
    out["build"] = {"docs": len(real), "seconds": elapsed, "docs_per_s": len(real) / elapsed, "runtime": "torch-fp32",
                    "bytes_per_document": storage_breakdown(tmp_root / "real", len(real))}
    pipe.close()

    # the large index: the real documents' vectors and stored states, perturbed copies
    enc = ctx.torch_encoder.encode(real, batch_size=64, state_layer=v.state_layer)
    states = v.project(enc.token_states)
    spans = [o[: len(s)] for o, s in zip(enc.offsets, states)]
    rng = np.random.default_rng(ctx.seed)
    n = ctx.sizes["e2e_docs"]
    big = verirank.Pipeline.default(tmp_root / "big", encoder=ctx.torch_encoder, verifier=v, autocommit=False)
    started = time.perf_counter()
    for lo in range(0, n, 5000):
        rows = np.arange(lo, min(n, lo + 5000)) % len(real)
        noise = rng.normal(scale=0.3 / np.sqrt(enc.pooled.shape[1]), size=(len(rows), enc.pooled.shape[1]))
        vectors = (enc.pooled[rows] + noise).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        docs = [Document(id=f"d{lo + j}", text=real[r]) for j, r in enumerate(rows)]
        doc_states = [states[r] + rng.normal(scale=0.02, size=states[r].shape).astype(np.float32) for r in rows]
        big.index.add(docs, vectors, doc_states, [spans[r] for r in rows])
    big.index.commit()
    out["large_index"] = {"docs": n, "seconds": time.perf_counter() - started, "ann": big.info().ann,
                          "bytes_per_document": storage_breakdown(tmp_root / "big", n),
                          "method": f"{len(real)} npl abstracts encoded once (torch), then {n:,} entries = those "
                                    "vectors + Gaussian noise (sigma 0.3/sqrt(384), renormalised) and their stored "
                                    "token states + noise (sigma 0.02), added through index.add in batches of 5,000 "
                                    "and committed (HNSW built at commit above 50k documents)"}
    big.close()
    out["index_dir"] = str(tmp_root / "big")
    return out


def e2e_queries(job: dict[str, Any], ctx: Context | None = None) -> dict[str, Any]:
    """Open the index, run npl queries at level=full (k=100), measure latency and RSS.

    ``ctx``: reuse its loaded models (``--quick``, in process) instead of loading them again."""
    import verirank

    logging.getLogger("verirank.encoders.minilm").setLevel(logging.ERROR)
    rss_start = current_rss_mb()
    started = time.perf_counter()
    pipe = verirank.Pipeline.open(job["index_dir"], **({"encoder": ctx.torch_encoder, "verifier": ctx.verifier}
                                                        if ctx is not None else {}))
    open_s = time.perf_counter() - started
    with open(DATA / "npl" / "queries.jsonl") as f:
        queries = [json.loads(line)["text"] for line in f][: job["queries"]]
    rss_steps = {"models and index open": (current_rss_mb(), peak_rss_mb())}
    pipe.search(queries[0], k=100, level="full")  # warm-up (lazy imports, first HNSW touch)
    rss_steps["after a warm-up query"] = (current_rss_mb(), peak_rss_mb())
    variants = {"off (stage 1 only)": dict(level="off"),
                "full, 100 candidates": dict(level="full", candidates=100),
                "full, default candidates (2k = 200)": dict(level="full")}
    latency: dict[str, list[float]] = {name: [] for name in variants}
    for name, options in variants.items():  # interleaved by query; RSS after each variant's first query
        t = time.perf_counter()
        pipe.search(queries[0], k=100, **options)
        latency[name].append(1000 * (time.perf_counter() - t))
        rss_steps[f"after first query, {name}"] = (current_rss_mb(), peak_rss_mb())
    for query in queries[1:]:
        for name, options in variants.items():
            t = time.perf_counter()
            pipe.search(query, k=100, **options)
            latency[name].append(1000 * (time.perf_counter() - t))
    out: dict[str, Any] = {"docs": len(pipe.index), "queries": len(queries), "open_s": open_s, "k": 100,
                           "latency_ms": {}, "rss_mb_start": rss_start,
                           "peak_rss_mb": peak_rss_mb(), "rss_mb_after_queries": current_rss_mb(),
                           "rss_mb_steps": {k: {"current": c, "peak": p} for k, (c, p) in rss_steps.items()}}
    for name, values in latency.items():
        out["latency_ms"][name] = {**summary(values), "p50": float(np.percentile(values, 50)),
                                   "p95": float(np.percentile(values, 95))}
    # the same queries with the verifier on ONNX Runtime (loaded after the RSS reading above)
    from verirank.verifier.onnx_scorer import load_onnx_verifier

    onnx_verifier = (ctx.onnx_verifiers["onnx-fp32"] if ctx is not None
                     else load_onnx_verifier(threads=job.get("threads") or None))
    onnx_pipe = verirank.Pipeline(pipe.encoder, pipe.index, onnx_verifier)
    onnx_ms = []
    onnx_pipe.search(queries[0], k=100, level="full", candidates=100)
    for query in queries:
        t = time.perf_counter()
        onnx_pipe.search(query, k=100, level="full", candidates=100)
        onnx_ms.append(1000 * (time.perf_counter() - t))
    out["latency_ms"]["full, 100 candidates, ONNX verifier"] = {
        **summary(onnx_ms), "p50": float(np.percentile(onnx_ms, 50)), "p95": float(np.percentile(onnx_ms, 95))}
    pipe.close()
    return out
