"""Verify latency: the verifier on 100 stored candidates vs a MiniLM-L6 cross-encoder, same run.

A MiniLM-L6 sequence-classification model has a cross-encoder's cost whatever its weights, so
the cross-encoder is built from the packaged MiniLM config (no hub). Both see the same
(query, passage) pairs from a held-out corpus. Reports medians and their ratio.

    python benchmarks/verify_latency.py --seed 0 --out reports/bench/verify_latency.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from verirank.encoders import load_encoder
from verirank.encoders.minilm import model_dir
from verirank.verifier.runtime import Candidate, NearMissVerifier, QueryStates
from verirank.types import Mode

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - t))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--out", default="reports/bench/verify_latency.json")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    with gzip.open(DATA / "cranfield" / "corpus.jsonl.gz", "rt") as f:
        docs = [json.loads(line)["text"] for line in f]
    passages = rng.sample(docs, args.candidates)
    query = "what similarity laws must be obeyed when constructing aeroelastic models of heated high speed aircraft"

    encoder = load_encoder("torch")
    verifier = NearMissVerifier.load(args.checkpoint)
    enc = encoder.encode(passages, state_layer=verifier.state_layer)
    stored = verifier.project(enc.token_states)  # done once at index time
    q_enc = encoder.encode([query], state_layer=verifier.state_layer)  # the stage-1 query pass (shared with recall)
    cosines = enc.pooled @ q_enc.pooled[0]  # stage-1 scores, as recall returns them
    cands = [Candidate(p, s, o[: len(s)], float(c)) for p, s, o, c in zip(passages, stored, enc.offsets, cosines)]
    q = QueryStates(query, verifier.project_query(q_enc.token_states[0]), q_enc.offsets[0])

    verifier_ms = timed(lambda: verifier.verify(q, cands, Mode.RELEVANCE, "full"), args.repeats)
    tokens_doc = [len(s) for s in stored]

    import transformers
    from tokenizers import Tokenizer

    config = transformers.BertConfig.from_json_file(str(model_dir() / "config.json"))
    config.num_labels = 1
    cross = transformers.BertForSequenceClassification(config).eval()
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.enable_truncation(max_length=256)
    tok.enable_padding()

    def run_cross() -> None:
        batch = tok.encode_batch([(query, p) for p in passages])
        ids = torch.tensor([e.ids for e in batch])
        with torch.inference_mode():
            for lo in range(0, len(batch), 32):
                cross(input_ids=ids[lo : lo + 32],
                      attention_mask=torch.tensor([e.attention_mask for e in batch[lo : lo + 32]]),
                      token_type_ids=torch.tensor([e.type_ids for e in batch[lo : lo + 32]]))

    cross_ms = timed(run_cross, args.repeats)
    query_pass_ms = timed(lambda: encoder.encode([query]), args.repeats)
    result = {
        "seed": args.seed, "candidates": args.candidates, "repeats": args.repeats,
        "threads": torch.get_num_threads(),
        "stored_tokens_per_candidate_mean": float(np.mean(tokens_doc)),
        "verifier_ms": {"median": statistics.median(verifier_ms), "min": min(verifier_ms), "max": max(verifier_ms)},
        "cross_encoder_ms": {"median": statistics.median(cross_ms), "min": min(cross_ms), "max": max(cross_ms)},
        "stage1_query_pass_ms": {"median": statistics.median(query_pass_ms)},
        "cross_over_verifier": statistics.median(cross_ms) / statistics.median(verifier_ms),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
