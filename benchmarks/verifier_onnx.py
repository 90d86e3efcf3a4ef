"""The verifier on ONNX Runtime (fp32 and dynamic int8) against torch on a held-out human set, one run.

    nice -n 10 python benchmarks/verifier_onnx.py --set paws --max-pairs 1000 --seed 0 \
        --out reports/bench/verifier_onnx.json

Every pair is encoded once (stage-1 torch encoder); each runtime then scores the same projected
states (identity mode, as the held-out card). Reports pairwise accuracy, |p_match| differences,
decision agreement at level full, and the scoring time of each runtime (repeats interleaved,
so the ratios share the machine's load).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness import machine_info, summary
from verirank.datasets.human import load_human_pairs
from verirank.datasets.pairs import sample_pairs
from verirank.encoders import load_encoder
from verirank.eval.metrics import pairwise_accuracy
from verirank.types import Level, Mode
from verirank.verifier.onnx_scorer import OnnxVerifierModel
from verirank.verifier.runtime import Candidate, NearMissVerifier, QueryStates, decide


def score_all(verifier: NearMissVerifier, groups: list[tuple[QueryStates, list[Candidate], list[int]]],
              n: int) -> np.ndarray:
    logits = np.zeros(n)
    for q, cands, rows in groups:
        logits[rows] = verifier.logits(q, cands, Mode.IDENTITY)[0]
    return verifier.calibrated(logits, Mode.IDENTITY)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="paws")
    ap.add_argument("--split", default="test")
    ap.add_argument("--max-pairs", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads of torch and ONNX Runtime alike")
    ap.add_argument("--out", default="reports/bench/verifier_onnx.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pairs = sample_pairs(load_human_pairs(args.set, args.split), args.max_pairs, seed=args.seed)
    encoder = load_encoder("torch")
    torch_verifier = NearMissVerifier.load()
    runtimes: dict[str, NearMissVerifier] = {"torch": torch_verifier}
    for name, quantize in (("onnx-fp32", False), ("onnx-int8", True)):
        other = NearMissVerifier.load()
        other.model = OnnxVerifierModel.from_model(other.model, quantize=quantize, threads=args.threads)
        runtimes[name] = other

    texts = list(dict.fromkeys([p.anchor for p in pairs] + [p.text for p in pairs]))
    enc = encoder.encode(texts, batch_size=64, state_layer=torch_verifier.state_layer)
    row = {t: i for i, t in enumerate(texts)}
    doc_states = dict(zip(texts, torch_verifier.project(enc.token_states)))  # stored states: torch head
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(p.anchor, []).append(i)
    built = []
    for anchor, rows in groups.items():
        a = row[anchor]
        q = QueryStates(anchor, torch_verifier.project_query(enc.token_states[a]), enc.offsets[a])
        cands = [Candidate(pairs[i].text, doc_states[pairs[i].text], enc.offsets[row[pairs[i].text]],
                           float(enc.pooled[row[pairs[i].text]] @ enc.pooled[a])) for i in rows]
        built.append((q, cands, rows))

    labels = [p.label for p in pairs]
    p_match: dict[str, np.ndarray] = {}
    seconds: dict[str, list[float]] = {name: [] for name in runtimes}
    for _ in range(args.repeats):
        for name, verifier in runtimes.items():
            started = time.perf_counter()
            p_match[name] = score_all(verifier, built, len(pairs))
            seconds[name].append(time.perf_counter() - started)
    cal = torch_verifier.calibration.for_mode("identity")
    decisions = {name: [decide(float(x), cal, Level.FULL) for x in p] for name, p in p_match.items()}
    head_diff = {}
    sample = [enc.token_states[i] for i in range(min(64, len(texts)))]
    reference = torch_verifier.project(sample)
    for name in ("onnx-fp32", "onnx-int8"):
        projected = runtimes[name].project(sample)
        head_diff[name] = float(max(np.abs(a - b).max() for a, b in zip(reference, projected)))
    result: dict[str, Any] = {
        "set": f"{args.set}_{args.split}", "pairs": len(pairs), "anchors": len(built), "seed": args.seed, "threads": args.threads,
        "machine": machine_info(), "mode": "identity",
        "runtimes": {
            name: {
                "pairwise_accuracy": pairwise_accuracy(pairs, p, None),
                "p_match_abs_diff_vs_torch": {"mean": float(np.abs(p - p_match["torch"]).mean()),
                                              "max": float(np.abs(p - p_match["torch"]).max())},
                "decision_agreement_vs_torch": float(np.mean([a == b for a, b in zip(decisions[name], decisions["torch"])])),
                "token_head_max_abs_diff_vs_torch": head_diff.get(name, 0.0),
                "score_s": summary(seconds[name]),
                "speed_vs_torch": float(np.median(seconds["torch"]) / np.median(seconds[name])),
            }
            for name, p in p_match.items()
        },
        "label_balance": float(np.mean(labels)),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result["runtimes"], indent=2))


if __name__ == "__main__":
    main()
