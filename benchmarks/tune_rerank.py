"""Pick the relevance-mode rerank weight and reject threshold on npl (its corpus fed training
inputs, its queries and judgements did not), never on the held-out collections.

    python benchmarks/tune_rerank.py --out reports/bench/tune_rerank.json
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import verirank
from verirank.datasets import load_beir
from verirank.eval.metrics import evaluate_run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--collection", default="npl")
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--out", default="reports/bench/tune_rerank.json")
    ap.add_argument("--apply", action="store_true", help="write the best setting into the shipped checkpoint")
    args = ap.parse_args()
    data = load_beir(args.collection)
    pipe = verirank.Pipeline.default()
    pipe.add(data.corpus)
    queries = data.judged_queries
    cal = pipe.verifier.calibration.relevance
    base_reject = cal.reject
    rows = []
    stage1 = {q: pipe.search(t, k=100) for q, t in queries.items()}
    run_off = {q: {h.id: h.score for h in hits} for q, hits in stage1.items()}
    rows.append({"setting": "stage1", "ndcg@10": evaluate_run(run_off, data.qrels).metrics["ndcg@10"].value})
    for weight, reject in itertools.product([0.0, 0.02, 0.05, 0.1], [0.0, base_reject / 2, base_reject]):
        pipe.rerank_weight, cal.reject = weight, reject
        run = {}
        for q, t in queries.items():
            top = {h.id: 10 + h.score for h in pipe.search(t, k=args.candidates, level="full", candidates=args.candidates)}
            # as in eval_verifier.py: verified head, then the stage-1 tail beyond the candidates
            run[q] = {**top, **{h.id: h.score for h in stage1[q] if h.rank >= args.candidates}}
        ndcg = evaluate_run(run, data.qrels).metrics["ndcg@10"].value
        rows.append({"rerank_weight": weight, "reject": reject, "ndcg@10": ndcg})
        print(json.dumps(rows[-1]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tuned = [r for r in rows if "rerank_weight" in r]
    top = max(r["ndcg@10"] for r in tuned)
    # within 0.1 pt of the best, prefer the setting that still rejects the most
    best = max((r for r in tuned if r["ndcg@10"] >= top - 0.001), key=lambda r: (r["reject"], r["ndcg@10"]))
    Path(args.out).write_text(json.dumps({"collection": args.collection, "rows": rows, "chosen": best}, indent=2))
    print("chosen", json.dumps(best))
    if args.apply:
        apply(best)


def apply(best: dict) -> None:
    from verirank.verifier import checkpoint

    directory = checkpoint.shipped_path()
    meta = checkpoint.read_meta(directory)
    meta["calibration"]["relevance"]["reject"] = best["reject"]
    meta["rerank_weight"] = best["rerank_weight"]
    meta.setdefault("metrics", {})["rerank_tuning"] = {**best, "command": "python benchmarks/tune_rerank.py --apply"}
    (directory / checkpoint.META).write_text(json.dumps(meta, indent=2, sort_keys=True), "utf-8")
    (directory / "README.md").write_text(checkpoint.render_card(meta), "utf-8")


if __name__ == "__main__":
    main()
