"""Fit relevance mode's exclusion threshold on the training collections' exclusion-query sets,
then measure it on the held-out collections' sets.

    python benchmarks/tune_exclusion.py --apply --out reports/bench/exclusion

Sets come from ``benchmarks/build_constraint_set.py`` (the rule is in ``verirank.eval.constraint_set``).
The threshold is picked on npl / cacm / lisa (their corpora fed verifier training, their queries
and judgements did not) to maximise the worst nDCG@10 change over them; cranfield / cisi / med only measure it. Per collection: ``off`` (stage 1 on the query
as written), ``full`` with exclusions unchecked, and ``full`` with them checked, each with a
paired randomisation test against ``off``.

A set's violating documents are those whose text names the excluded term (its rule 2,
``verirank.mentions``), and the check rejects every candidate whose text names it too, whatever
the threshold below 1.01: on these sets that part finds its targets by construction, so the
figures measure the pipeline (parse the clause, search the core, check whole documents, demote),
not a learned skill. The learned token evidence adds rejections of texts that do not name the term,
which these sets never count as violating: it helps here only by dropping non-relevant documents.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import verirank
from verirank.datasets import load_beir
from verirank.eval.metrics import paired_randomization_test, per_query_scores

# a text that names the excluded thing has evidence 1.0, so 1.0 rejects on the text match alone;
# 1.01: the core query only, nothing rejected
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.01)


def constraint_set(name: str, root: Path) -> Path:
    path = root / name
    if not (path / "manifest.json").exists():
        raise SystemExit(f"{path} is missing; build it first: python benchmarks/build_constraint_set.py "
                         f"--collections {name} --out {root} --no-stage1")
    return path


def ndcg_per_query(pipe: verirank.Pipeline, queries: dict[str, str], qrels: dict, level: str,
                   candidates: int) -> dict[str, float]:
    run = {}
    for qid, text in queries.items():
        hits = pipe.search(text, k=candidates, level=level, candidates=candidates)
        run[qid] = {h.id: h.score for h in hits}
    return per_query_scores(run, qrels, ["ndcg@10"])["ndcg@10"]


def measure(name: str, root: Path, seed: int, thresholds: list[float | None], candidates: int) -> dict:
    data = load_beir(constraint_set(name, root))
    pipe = verirank.Pipeline.default()
    pipe.add(data.corpus)
    queries = data.judged_queries
    off = ndcg_per_query(pipe, queries, data.qrels, "off", candidates)
    rows = []
    for threshold in thresholds:
        pipe.exclusion_threshold = threshold
        full = ndcg_per_query(pipe, queries, data.qrels, "full", candidates)
        test = paired_randomization_test(off, full, metric="ndcg@10", seed=seed)
        rows.append({"threshold": threshold, "ndcg@10": test.mean_b, "delta": test.difference.value,
                     "ci": [test.difference.low, test.difference.high], "p": test.p_value})
        print(name, json.dumps(rows[-1]), flush=True)
    return {"queries": len(queries), "off": sum(off.values()) / len(off), "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", nargs="+", default=["npl", "cacm", "lisa"])
    ap.add_argument("--heldout", nargs="+", default=["cranfield", "cisi", "med"])
    ap.add_argument("--sets", default="data/constraint_sets")
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="reports/bench/exclusion")
    ap.add_argument("--apply", action="store_true", help="write the fitted threshold into the shipped checkpoint")
    args = ap.parse_args()
    root = Path(args.sets)
    grid = [None, *THRESHOLDS]
    tuned = {name: measure(name, root, args.seed, grid, args.candidates) for name in args.train}
    worst = {t: min(tuned[n]["rows"][i]["delta"] for n in args.train) for i, t in enumerate(grid)}
    best = max(THRESHOLDS, key=lambda t: (worst[t], -t))  # ties: the lower threshold rejects more
    print("chosen threshold", best, "worst delta on training sets", worst[best], flush=True)
    heldout = {name: measure(name, root, args.seed, [None, best], args.candidates) for name in args.heldout}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"chosen": best, "worst_delta_by_threshold": {str(t): d for t, d in worst.items()},
              "train": tuned, "heldout": heldout, "candidates": args.candidates, "seed": args.seed}
    (out / "exclusion.json").write_text(json.dumps(result, indent=2))
    (out / "exclusion.md").write_text(render(result))
    if args.apply:
        apply(best)


def render(result: dict) -> str:
    lines = [f"# Exclusion queries: nDCG@10, `off` vs `full` ({result['candidates']} candidates, seed {result['seed']})",
             "", f"Threshold {result['chosen']} fitted on the training sets (worst-case nDCG@10 change).", "",
             "| set | queries | off | full, exclusions unchecked | full, exclusions checked |", "|---|---|---|---|---|"]
    for part in ("train", "heldout"):
        for name, res in result[part].items():
            unchecked = res["rows"][0]
            checked = next(r for r in res["rows"] if r["threshold"] == result["chosen"])
            cell = lambda r: (f"{r['ndcg@10']:.3f} ({100 * r['delta']:+.1f} pt, CI [{100 * r['ci'][0]:+.1f}, "  # noqa: E731
                              f"{100 * r['ci'][1]:+.1f}], p={r['p']:.3f})")
            lines.append(f"| {name} ({part}) | {res['queries']} | {res['off']:.3f} | {cell(unchecked)} | {cell(checked)} |")
    return "\n".join(lines) + "\n"


def apply(threshold: float) -> None:
    from verirank.verifier import checkpoint

    directory = checkpoint.shipped_path()
    meta = checkpoint.read_meta(directory)
    meta["exclusion_threshold"] = threshold
    meta.setdefault("metrics", {})["exclusion_tuning"] = {
        "threshold": threshold, "command": "python benchmarks/tune_exclusion.py --apply"}
    checkpoint.write_meta(directory, meta)


if __name__ == "__main__":
    main()
