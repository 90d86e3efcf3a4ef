"""Held-out evaluation of a verifier checkpoint against stage-1 cosine and the F0/F1 baselines.

Everything here is data the checkpoint never trained on: the hand-written near-miss set, HANS,
MRPC, and near-misses generated from the held-out corpora (cranfield, cisi, med), whose
queries also give nDCG@10 with verification vs stage 1.

    python benchmarks/eval_verifier.py --seed 0 --out reports/verifier_eval
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from verirank.datasets import load_beir, load_handwritten, load_pairs
from verirank.datasets.pairs import sample_pairs
from verirank.datasets.testset import nearmiss_testset, split_sentences
from verirank.encoders import load_encoder
from verirank.eval.metrics import compare_runs, evaluate_pairs, evaluate_run
from verirank.eval.scoring import CosineScorer
from verirank.nearmiss.generate import generate
from verirank.types import Category, NearMissPair
from verirank.verifier.baselines import BASELINES
from verirank.verifier.runtime import NearMissVerifier
from verirank.verifier.scorer import TokenBaselineScorer, VerifierScorer
from verirank.verifier.train import expected_calibration_error

HELDOUT_CORPORA = ("cranfield", "cisi", "med")


def relevance_nearmiss_pairs(seed: int, n_docs: int) -> list[NearMissPair]:
    """Query = a sentence of a held-out passage; positive = the passage; negative = the passage
    with that sentence turned into a near-miss (relevance mode)."""
    rng = random.Random(seed)
    chosen: list[tuple[str, str]] = []
    for name in HELDOUT_CORPORA:
        docs = [d.text for d in load_beir(name).corpus]
        rng.shuffle(docs)
        for text in docs[:n_docs]:
            sentences = split_sentences(text)
            if len(sentences) >= 2:
                chosen.append((rng.choice(sentences), text))
    by_sentence = {s: t for s, t in chosen}
    pairs = []
    for nm in generate(list(by_sentence), seed=seed, positives=False):
        passage = by_sentence[nm.anchor]
        broken = passage.replace(nm.anchor, nm.text, 1)
        if broken == passage:
            continue
        pairs.append(NearMissPair(anchor=nm.anchor, text=passage, label=1, category=nm.category, source="rel"))
        pairs.append(NearMissPair(anchor=nm.anchor, text=broken, label=0, category=nm.category, source="rel"))
    return pairs


def table_rows(name: str, scorer_name: str, result: Any) -> list[dict[str, Any]]:
    rows = []
    for cat in [result.overall, *result.categories]:
        rows.append({
            "set": name, "scorer": scorer_name, "category": cat.category, "n_near_miss": cat.n_near_miss,
            "pairwise_accuracy": cat.pairwise_accuracy.model_dump() if cat.pairwise_accuracy else None,
            "auroc": cat.auroc.model_dump() if cat.auroc else None,
            "far_at_tar95": cat.far_at_tar.model_dump() if cat.far_at_tar else None,
        })
    return rows


def fmt(ci: dict | None) -> str:
    return "–" if ci is None else f"{ci['value']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]"


def ndcg_with_verification(pipe: Any, name: str, candidates: int, seed: int) -> dict[str, Any]:
    data = load_beir(name)
    pipe.add(data.corpus)
    queries = data.judged_queries
    run_off: dict[str, dict[str, float]] = {}
    run_full: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for qid, text in queries.items():
        base = pipe.search(text, k=100, level="off")
        run_off[qid] = {h.id: h.score for h in base}
        verified = pipe.search(text, k=candidates, level="full", mode="relevance", candidates=candidates)
        top = {h.id: 10.0 + h.score for h in verified}  # verified head, then the stage-1 tail
        tail = {h.id: h.score for h in base if h.id not in top and h.rank >= candidates}
        run_full[qid] = {**top, **tail}
    off = evaluate_run(run_off, data.qrels, seed=seed)
    full = evaluate_run(run_full, data.qrels, seed=seed)
    diff = compare_runs(run_off, run_full, data.qrels, "ndcg@10", seed=seed)
    return {
        "collection": name, "queries": len(queries), "candidates_verified": candidates,
        "stage1": {m: v.model_dump() for m, v in off.metrics.items()},
        "verified": {m: v.model_dump() for m, v in full.metrics.items()},
        "ndcg10_difference": diff.difference.model_dump(), "p_value": diff.p_value,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hans", type=int, default=2000)
    ap.add_argument("--mrpc", type=int, default=1000)
    ap.add_argument("--generated-anchors", type=int, default=5000)  # rarer categories fit 1-5% of sentences
    ap.add_argument("--relevance-docs", type=int, default=200)
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--skip-ndcg", action="store_true")
    ap.add_argument("--out", default="reports/verifier_eval")
    ap.add_argument("--update-card", action="store_true",
                    help="write the held-out summary into the checkpoint's verifier.json and README card")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    encoder = load_encoder("torch")
    verifier = NearMissVerifier.load(args.checkpoint)
    gen_texts = [d.text for name in HELDOUT_CORPORA for d in load_beir(name).corpus]
    sets = {
        "handwritten": load_handwritten(),
        "generated_heldout": nearmiss_testset(gen_texts, seed=args.seed, n=args.generated_anchors).pairs,
        "hans": sample_pairs(load_pairs("hans"), args.hans, seed=args.seed),
        "mrpc_test": sample_pairs(load_pairs("mrpc", "test"), args.mrpc, seed=args.seed),
    }
    identity_scorers = {
        "stage1_cosine": CosineScorer(encoder),
        **{k: TokenBaselineScorer(encoder, k, fn) for k, fn in BASELINES.items()},
        "verifier_identity": VerifierScorer(verifier, encoder, "identity"),
    }
    rows: list[dict[str, Any]] = []
    calibration: dict[str, Any] = {}
    reasons: dict[str, Any] = {}
    for set_name, pairs in sets.items():
        anchors, texts = [p.anchor for p in pairs], [p.text for p in pairs]
        labels = np.array([p.label for p in pairs])
        for scorer_name, scorer in identity_scorers.items():
            t0 = time.perf_counter()
            if isinstance(scorer, VerifierScorer):
                details = scorer.score_details(anchors, texts)
                scores = details.p_match
                calibration[set_name] = {"ece": expected_calibration_error(scores, labels), "n": len(pairs)}
                nm = [i for i, p in enumerate(pairs) if p.label == 0 and p.category is not Category.MATCH]
                if nm and set_name in ("generated_heldout", "handwritten"):
                    order = [c for c in Category if c is not Category.MATCH]
                    pred = [order[int(np.argmax(details.category_probs[i, 1:]))] for i in nm]
                    hits = [pred[j] is pairs[i].category for j, i in enumerate(nm)]
                    reasons[set_name] = {"category_accuracy": float(np.mean(hits)), "n": len(nm)}
            else:
                scores = scorer.score(anchors, texts)
            result = evaluate_pairs(pairs, scores, seed=args.seed)
            rows += table_rows(set_name, scorer_name, result)
            print(f"{set_name:18s} {scorer_name:18s} all: acc {fmt(rows[-len(result.categories) - 1]['pairwise_accuracy'])} "
                  f"far95 {fmt(rows[-len(result.categories) - 1]['far_at_tar95'])} ({time.perf_counter() - t0:.0f}s)",
                  flush=True)

    rel_pairs = relevance_nearmiss_pairs(args.seed, args.relevance_docs)
    rel_labels = np.array([p.label for p in rel_pairs])
    for scorer_name, scorer in {"stage1_cosine": CosineScorer(encoder),
                                "verifier_relevance": VerifierScorer(verifier, encoder, "relevance")}.items():
        scores = scorer.score([p.anchor for p in rel_pairs], [p.text for p in rel_pairs])
        rows += table_rows("relevance_nearmiss_heldout", scorer_name, evaluate_pairs(rel_pairs, scores, seed=args.seed))
        if scorer_name.startswith("verifier"):
            calibration["relevance_nearmiss_heldout"] = {"ece": expected_calibration_error(scores, rel_labels),
                                                         "n": len(rel_pairs)}

    ndcg = []
    if not args.skip_ndcg:
        import verirank

        for name in HELDOUT_CORPORA:
            pipe = verirank.Pipeline.default(encoder=encoder, verifier=verifier)
            ndcg.append(ndcg_with_verification(pipe, name, args.candidates, args.seed))
            print(json.dumps({k: ndcg[-1][k] for k in ("collection", "ndcg10_difference", "p_value")}), flush=True)

    report = {"seed": args.seed, "checkpoint": str(verifier.path), "token_head_id": verifier.head_id,
              "pairs": rows, "calibration_ece": calibration, "reason_category": reasons, "ndcg": ndcg}
    (out / "eval.json").write_text(json.dumps(report, indent=2))
    (out / "eval.md").write_text(render_markdown(report))
    print((out / "eval.md").read_text())
    if args.update_card:
        update_card(verifier.path, report)


def update_card(directory: Path, report: dict[str, Any]) -> None:
    """Held-out headline numbers into the checkpoint metadata (weights and calibration untouched)."""
    from verirank.verifier import checkpoint

    meta = checkpoint.read_meta(directory)
    headline = {
        f"{r['set']}/{r['category']}": {"pairwise_accuracy": (r["pairwise_accuracy"] or {}).get("value"),
                                        "far_at_tar95": (r["far_at_tar95"] or {}).get("value")}
        for r in report["pairs"] if r["scorer"].startswith("verifier")
    }
    meta["metrics"] = {**meta.get("metrics", {}), "held_out": headline, "ece": report["calibration_ece"], "reason_category": report["reason_category"],
                       "ndcg10": {r["collection"]: {"stage1": r["stage1"]["ndcg@10"]["value"],
                                                    "verified": r["verified"]["ndcg@10"]["value"]} for r in report["ndcg"]},
                       "command": f"python benchmarks/eval_verifier.py --seed {report['seed']} --update-card"}
    (directory / checkpoint.META).write_text(json.dumps(meta, indent=2, sort_keys=True), "utf-8")
    (directory / "README.md").write_text(checkpoint.render_card(meta), "utf-8")


def render_markdown(report: dict[str, Any]) -> str:
    lines = [f"# Verifier held-out evaluation (seed {report['seed']}, head {report['token_head_id']})", "",
             "Pairwise accuracy = P(score(anchor, paraphrase) > score(anchor, near-miss)); FAR@TAR95 = share of "
             "near-misses accepted at the threshold that accepts 95% of true matches. 95% bootstrap CIs over anchors.",
             ""]
    sets = list(dict.fromkeys(r["set"] for r in report["pairs"]))
    for set_name in sets:
        rows = [r for r in report["pairs"] if r["set"] == set_name]
        lines += [f"## {set_name}", "", "| category | scorer | n near-miss | pairwise acc | FAR@TAR95 | AUROC |",
                  "|---|---|---|---|---|---|"]
        for r in sorted(rows, key=lambda r: (r["category"] != "all", r["category"], r["scorer"])):
            lines.append(f"| {r['category']} | {r['scorer']} | {r['n_near_miss']} | {fmt(r['pairwise_accuracy'])} | "
                         f"{fmt(r['far_at_tar95'])} | {fmt(r['auroc'])} |")
        lines.append("")
    if report["ndcg"]:
        lines += ["## nDCG@10 on held-out collections: stage 1 vs verified (level=full, relevance mode)", "",
                  "| collection | queries | stage 1 | verified | difference [95% CI] | p |", "|---|---|---|---|---|---|"]
        for r in report["ndcg"]:
            lines.append(f"| {r['collection']} | {r['queries']} | {fmt(r['stage1']['ndcg@10'])} | "
                         f"{fmt(r['verified']['ndcg@10'])} | {fmt(r['ndcg10_difference'])} | {r['p_value']:.3f} |")
        lines.append("")
    lines += ["## Calibration (ECE of p_match, held-out)", "", "```json", json.dumps(report["calibration_ece"], indent=2),
              "```", "", "## Reason category accuracy (near-misses)", "", "```json",
              json.dumps(report["reason_category"], indent=2), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
