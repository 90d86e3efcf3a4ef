"""The sections of ``bench.py``: each takes a :class:`Context` and returns a JSON-able dict."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from harness import interleaved_ms, summary

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUERY = "what similarity laws must be obeyed when constructing aeroelastic models of heated high speed aircraft"
# a yes/no question's second reading (Pipeline.opposite_questions) costs its own encoder pass: one of this length
OPPOSITE = "must similarity laws not be obeyed when constructing aeroelastic models of heated high speed aircraft?"
logging.getLogger("verirank.encoders.minilm").setLevel(logging.ERROR)  # truncation notes, per batch


def read_texts(collection: str, limit: int | None = None) -> list[str]:
    with gzip.open(DATA / collection / "corpus.jsonl.gz", "rt") as f:
        texts = [json.loads(line)["text"] for line in f]
    return [t for t in texts if t.strip()][:limit]


def remove_tree(path: str | Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def set_threads(threads: int) -> None:
    """Intra-op threads for torch (here) and ONNX Runtime (``Context``); 0 leaves the defaults."""
    if threads:
        import torch

        torch.set_num_threads(threads)


@dataclass
class Context:
    """Models loaded once and shared by the sections."""

    seed: int
    sizes: dict[str, Any]
    threads: int = 1
    notes: list[str] = field(default_factory=list)

    @cached_property
    def torch_encoder(self) -> Any:
        from verirank.encoders import load_encoder

        return load_encoder("torch")

    @cached_property
    def onnx_encoder(self) -> Any:
        from verirank.encoders.minilm import OnnxMiniLM

        return OnnxMiniLM(threads=self.threads or None)

    @cached_property
    def verifier(self) -> Any:
        from verirank.verifier.runtime import NearMissVerifier

        return NearMissVerifier.load()

    @cached_property
    def onnx_verifiers(self) -> dict[str, Any]:
        """The shipped verifier with its model on ONNX Runtime: fp32 and dynamic int8."""
        from verirank.verifier.onnx_scorer import load_onnx_verifier

        threads = self.threads or None
        return {"onnx-fp32": load_onnx_verifier(threads=threads),
                "onnx-int8": load_onnx_verifier(quantize=True, threads=threads)}

    @cached_property
    def passages(self) -> list[str]:
        """Real candidate texts (cranfield abstracts), seeded order."""
        texts = read_texts("cranfield")
        order = np.random.default_rng(self.seed).permutation(len(texts))
        return [texts[i] for i in order[:400]]


# ---- encoder ---------------------------------------------------------------------------------
def encoder(ctx: Context) -> dict[str, Any]:
    """Docs/s of each runtime at batch 1/16/64 on npl abstracts, and single-query latency."""
    texts = read_texts("npl", ctx.sizes["encoder_docs"])
    runtimes = {"torch-fp32": ctx.torch_encoder, "onnx-int8": ctx.onnx_encoder}
    out: dict[str, Any] = {"corpus": "npl", "docs": len(texts), "throughput": {}, "method":
                           "encode(texts, batch_size) of pooled vectors + last-layer token states; repeats interleaved"}
    for batch in (1, 16, 64):
        part = texts[: ctx.sizes["encoder_docs_batch1"]] if batch == 1 else texts
        ms = interleaved_ms({name: (lambda e=e, p=part, b=batch: e.encode(p, batch_size=b))
                             for name, e in runtimes.items()}, ctx.sizes["encoder_repeats"], warmup=0)
        out["throughput"][str(batch)] = {
            name: {"docs": len(part), "docs_per_s": len(part) / (t["median"] / 1000),
                   "docs_per_s_best": len(part) / (t["min"] / 1000)} for name, t in ms.items()}
        out["throughput"][str(batch)]["onnx_over_torch"] = ms["torch-fp32"]["median"] / ms["onnx-int8"]["median"]
    q_ms = interleaved_ms({name: (lambda e=e: e.encode([QUERY])) for name, e in runtimes.items()},
                          ctx.sizes["query_repeats"])
    out["query_encode_ms"] = q_ms
    out["query_encode_onnx_over_torch"] = q_ms["torch-fp32"]["median"] / q_ms["onnx-int8"]["median"]
    sample = texts[:8]
    a, b = ctx.torch_encoder.encode(sample).pooled, ctx.onnx_encoder.encode(sample).pooled
    out["pooled_cosine_torch_vs_onnx_min"] = float((a * b).sum(axis=1).min())
    try:  # the shipped verifier reads layer-4 states; the int8 ONNX graph outputs only the last layer
        ctx.onnx_encoder.encode(sample[:1], state_layer=ctx.verifier.state_layer)
        out["onnx_serves_shipped_verifier"] = True
    except Exception as exc:  # noqa: BLE001 - the message is the finding
        out["onnx_serves_shipped_verifier"] = False
        out["onnx_shipped_verifier_error"] = str(exc)
    return out


# ---- ANN -------------------------------------------------------------------------------------
def synthetic_vectors(n: int, dim: int, seed: int, topics: int = 1000) -> np.ndarray:
    """Unit vectors around ``topics`` random centres (neighbourhoods, like real embeddings)."""
    rng = np.random.default_rng([seed, n])
    centres = rng.normal(size=(topics, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), np.float32)
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        block = centres[rng.integers(0, topics, hi - lo)] + rng.normal(scale=0.6 / np.sqrt(dim), size=(hi - lo, dim))
        out[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def ann(ctx: Context) -> dict[str, Any]:
    from verirank.index import EmbeddedIndex, IndexSpec
    from verirank.types import Document

    dim, k = 384, 10
    out: dict[str, Any] = {"dim": dim, "k": k, "queries": ctx.sizes["ann_queries"], "runs": {}, "method":
                           "in-memory EmbeddedIndex (vectors only), one query per search() call after warm-up; "
                           "HNSW = usearch f16, M=16, ef_add=ef_search=128; recall@10 against exact search"}
    for n in ctx.sizes["ann_sizes"]:
        vectors = synthetic_vectors(n, dim, ctx.seed)
        rng = np.random.default_rng([ctx.seed, 7])
        picked = vectors[rng.choice(n, ctx.sizes["ann_queries"], replace=False)]
        queries = picked + rng.normal(scale=0.5 / np.sqrt(dim), size=picked.shape).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        spec = IndexSpec("synthetic", "bench", dim)
        run: dict[str, Any] = {}
        results: dict[str, list[set[str]]] = {}
        for mode in ("exact", "hnsw"):
            index = EmbeddedIndex(spec, ann=mode, autocommit=False)
            docs = [Document.model_construct(id=str(i), text="x", metadata={}) for i in range(n)]
            started = time.perf_counter()
            index.add(docs, vectors)
            del docs
            index.search(queries[:1], k)  # builds the HNSW graph (hnsw) / joins the matrix (exact)
            build_s = time.perf_counter() - started
            lat, found = [], []
            for q in queries[:5]:
                index.search(q, k)
            for q in queries:
                t = time.perf_counter()
                hits = index.search(q, k)[0]
                lat.append(1000 * (time.perf_counter() - t))
                found.append({h.id for h in hits})
            results[mode] = found
            run[mode] = {"build_s": build_s, "search_ms": summary(lat)}
            del index
        run["hnsw"]["recall_at_10"] = float(np.mean([len(a & b) / k for a, b in zip(results["hnsw"], results["exact"])]))
        run["exact_over_hnsw"] = run["exact"]["search_ms"]["median"] / run["hnsw"]["search_ms"]["median"]
        out["runs"][str(n)] = run
        print(f"[bench] ann {n}: {json.dumps(run)}", flush=True)
    return out


# ---- stage-2 verification --------------------------------------------------------------------
def _candidates(ctx: Context, n: int, doc_tokens: int | None = None) -> tuple[Any, list[Any]]:
    """The fixed query and ``n`` real candidates with stored (projected) states, as recall returns them.

    ``doc_tokens``: each candidate's stored states cut or tiled (repeating the text's own states)
    to exactly this many tokens."""
    from verirank.verifier.runtime import Candidate, QueryStates

    v = ctx.verifier
    cache = ctx.__dict__.setdefault("_stored", {})
    if "docs" not in cache:
        passages = ctx.passages[:200]
        enc = ctx.torch_encoder.encode(passages, state_layer=v.state_layer)
        q_enc = ctx.torch_encoder.encode([QUERY], state_layer=v.state_layer)
        cache["docs"] = (passages, v.project(enc.token_states), enc.offsets, enc.pooled @ q_enc.pooled[0])
        cache["query"] = (q_enc.token_states[0], q_enc.offsets[0])
    passages, stored, offsets, cosines = cache["docs"]
    q_states, q_offsets = cache["query"]
    query = QueryStates(QUERY, v.project_query(q_states), q_offsets[: v.cfg.max_query_tokens])
    cands = []
    for i in range(n):
        j = i % len(passages)
        s, o = stored[j], offsets[j][: len(stored[j])]
        if doc_tokens is not None:
            reps = int(np.ceil(doc_tokens / len(s)))
            s, o = np.tile(s, (reps, 1))[:doc_tokens], np.tile(o, (reps, 1))[:doc_tokens]
        cands.append(Candidate(passages[j], s, o, float(cosines[j])))
    return query, cands


def _verify_fn(verifier: Any, q: Any, cands: list[Any], level: str) -> Any:
    """What Pipeline.search does per query at ``level``: light verifies the top 5 candidates only."""
    from verirank.pipeline import LIGHT_TOP

    part = cands[:LIGHT_TOP] if level == "light" else cands
    return lambda: verifier.verify(q, part, "relevance", level)


def _mha_attention(block: Any, h: Any, pad: Any) -> Any:
    """The attention Block used before the SDPA change (MultiheadAttention's masked fast path)."""
    return block.attn(h, h, h, key_padding_mask=pad, need_weights=False)[0]


def verify(ctx: Context) -> dict[str, Any]:
    from verirank.verifier.model import Block

    v = ctx.verifier
    runtimes = {"torch": v, **ctx.onnx_verifiers}
    repeats = ctx.sizes["verify_repeats"]
    out: dict[str, Any] = {"runtimes": list(runtimes), "max_doc_tokens_read": v.max_tokens, "scored_windows": v.scored_windows, "by_candidates": {},
                           "by_doc_tokens": {}, "method": "NearMissVerifier.verify on stored states of real cranfield "
                           "abstracts (mean tokens in record), relevance mode; light = the top 5 only (as "
                           "Pipeline.search); ms per query, repeats interleaved over runtimes"}
    q, cands = _candidates(ctx, max(ctx.sizes["verify_candidates"]))
    out["stored_tokens_mean"] = float(np.mean([len(c.states) for c in cands]))
    for n in ctx.sizes["verify_candidates"]:
        for level in ("light", "full"):
            fns = {name: _verify_fn(r, q, cands[:n], level) for name, r in runtimes.items()}
            out["by_candidates"][f"{n}/{level}"] = interleaved_ms(fns, repeats)
    for tokens in ctx.sizes["verify_doc_tokens"]:
        q, cands = _candidates(ctx, ctx.sizes["verify_doc_candidates"], tokens)
        fns = {name: _verify_fn(r, q, cands, "full") for name, r in runtimes.items()}
        out["by_doc_tokens"][str(tokens)] = {"candidates": len(cands), **interleaved_ms(fns, repeats)}
    # the attention change, measured: Block.attend vs the MultiheadAttention fast path it replaced
    q, cands = _candidates(ctx, ctx.sizes["verify_doc_candidates"])
    new_attend = Block.attend

    def old() -> None:
        Block.attend = _mha_attention  # type: ignore[method-assign]
        try:
            v.verify(q, cands, "relevance", "full")
        finally:
            Block.attend = new_attend  # type: ignore[method-assign]

    ab = interleaved_ms({"sdpa": _verify_fn(v, q, cands, "full"), "multihead_fast_path": old}, repeats)
    out["attention_change"] = {"candidates": len(cands), **ab,
                               "speedup": ab["multihead_fast_path"]["median"] / ab["sdpa"]["median"]}
    full = out["by_candidates"]
    biggest = f"{max(ctx.sizes['verify_candidates'])}/full"
    out["onnx_speed_vs_torch"] = {name: full[biggest]["torch"]["median"] / full[biggest][name]["median"]
                                  for name in ctx.onnx_verifiers}
    return out


# ---- cross-encoder and re-encoding -------------------------------------------------------------
def cross(ctx: Context) -> dict[str, Any]:
    import torch
    import transformers
    from tokenizers import Tokenizer

    from verirank.encoders.minilm import model_dir

    n = ctx.sizes["cross_candidates"]
    v = ctx.verifier
    q, cands = _candidates(ctx, n)
    passages = [c.text for c in cands]
    q_states = ctx.__dict__["_stored"]["query"][0]
    config = transformers.BertConfig.from_json_file(str(model_dir() / "config.json"))
    config.num_labels = 1
    torch.manual_seed(ctx.seed)
    cross_model = transformers.BertForSequenceClassification(config).eval()  # a cross-encoder's cost, any weights
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.enable_truncation(max_length=256)
    tok.enable_padding()

    def run_cross() -> None:
        pairs = sorted(((QUERY, p) for p in passages), key=lambda pair: len(pair[1]))  # length-bucketed batches
        with torch.inference_mode():
            for lo in range(0, len(pairs), 32):
                batch = tok.encode_batch(pairs[lo : lo + 32])
                cross_model(input_ids=torch.tensor([e.ids for e in batch]),
                            attention_mask=torch.tensor([e.attention_mask for e in batch]),
                            token_type_ids=torch.tensor([e.type_ids for e in batch]))

    def verifier_with_query_head(r: Any) -> Any:
        return lambda: r.verify(type(q)(QUERY, r.project_query(q_states), q.spans), cands, "relevance", "full")

    def every_window(r: Any) -> Any:
        """The same call with the scorer reading every window of a long candidate, as before
        ``runtime.SCORED_WINDOWS``."""
        def run() -> Any:
            kept, r.scored_windows = r.scored_windows, None
            try:
                return verifier_with_query_head(r)()
            finally:
                r.scored_windows = kept
        return run

    def both_ways(r: Any) -> Any:
        """A yes/no question read both ways (``Pipeline.opposite_questions``): the opposite question's
        encoder and token-head passes, then one verify() over both readings."""
        def run() -> Any:
            enc = ctx.torch_encoder.encode([OPPOSITE], state_layer=r.state_layer)
            opposite = type(q)(OPPOSITE, r.project_query(enc.token_states[0]), enc.offsets[0][: r.cfg.max_query_tokens])
            return r.verify(type(q)(QUERY, r.project_query(q_states), q.spans), cands, "relevance", "full",
                            opposite=opposite)
        return run

    fns = {"verifier-torch": verifier_with_query_head(v), "verifier-torch-every-window": every_window(v),
           "verifier-torch-yes-no-question": both_ways(v),
           **{f"verifier-{k}": verifier_with_query_head(r) for k, r in ctx.onnx_verifiers.items()},
           "reencode-stage1-torch": lambda: ctx.torch_encoder.encode(passages, batch_size=32),
           "cross-encoder-minilm-l6": run_cross}
    ms = interleaved_ms(fns, ctx.sizes["cross_repeats"])
    out: dict[str, Any] = {"candidates": n, "ms": ms, "method":
                           "same query and candidates; verifier = query token-head pass + verify() on stored states "
                           "(stage-1 query pass excluded: recall already ran it); cross-encoder = "
                           "BertForSequenceClassification from the packaged MiniLM-L6 config, (query, passage) pairs "
                           "truncated at 256 tokens, batches of 32 sorted by length; re-encode = the stage-1 encoder "
                           "over the candidates (the floor under any cross-encoder)"}
    for name in ("verifier-torch", "verifier-torch-every-window", "verifier-torch-yes-no-question",
                 *[f"verifier-{k}" for k in ctx.onnx_verifiers]):
        out[f"cross_over_{name}"] = ms["cross-encoder-minilm-l6"]["median"] / ms[name]["median"]
        out[f"reencode_over_{name}"] = ms["reencode-stage1-torch"]["median"] / ms[name]["median"]
    return out
