"""Build exclusion-query ("constraint") sets from judged BEIR collections, and measure stage 1 on them.

    nice -n 19 python benchmarks/build_constraint_set.py --collections cranfield cisi med --seed 0 \\
        --out data/constraint_sets --report reports/bench/constraint_sets.json

Writes one folder per collection (BEIR layout + constraints.jsonl + manifest.json, corpus copied
in; see ``verirank.eval.constraint_set`` for the rule) and prints its counts. Unless
``--no-stage1``, it then indexes the corpus with the shipped encoder (``Pipeline.default()``),
retrieves the top 100 for every exclusion query and for its original query, and reports, on the
same queries:

* nDCG@10 of the exclusion queries on the exclusion judgements, and of the original queries on the
  original judgements (the usual benchmark, restricted to the kept queries);
* nDCG@10 of the original queries on the exclusion judgements (what ignoring the cue scores);
* nDCG@10 of the exclusion run with the violating documents removed (an oracle verifier that
  demotes exactly them: the room verification has);
* the share of violating documents that stage 1 puts in its top 10, for both query texts.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path

from verirank.datasets import data_root, load_beir
from verirank.eval.constraint_set import ConstraintSet, build_exclusion_queries, write_constraint_set
from verirank.eval.metrics import evaluate_run

log = logging.getLogger("build_constraint_set")
TOP_K = 100
CUTOFF = 10


def _violating_in_top(run: dict[str, dict[str, float]], cs: ConstraintSet, cutoff: int) -> tuple[int, int]:
    """(violating documents in the top ``cutoff`` of their query, all violating documents)."""
    found = total = 0
    for qid, docs in cs.violating.items():
        top = sorted(run.get(qid, {}).items(), key=lambda item: -item[1])[:cutoff]
        found += len({d for d, _ in top} & set(docs))
        total += len(docs)
    return found, total


def _ndcg(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]], seed: int) -> dict[str, float]:
    ci = evaluate_run(run, qrels, ["ndcg@10"], seed=seed).metrics["ndcg@10"]
    return {"value": ci.value, "low": ci.low, "high": ci.high, "n": ci.n}


def stage1(name: str, cs: ConstraintSet, seed: int, batch_size: int) -> dict[str, object]:
    import verirank

    rs = load_beir(name)
    started = time.perf_counter()
    pipe = verirank.Pipeline.default()
    for lo in range(0, len(rs.corpus), 512):
        pipe.add(rs.corpus[lo : lo + 512], batch_size=batch_size)
        log.info("%s: indexed %d / %d", name, min(lo + 512, len(rs.corpus)), len(rs.corpus))
    index_s = time.perf_counter() - started
    run_x: dict[str, dict[str, float]] = {}
    run_o: dict[str, dict[str, float]] = {}
    for qid in cs.queries:
        run_x[qid] = {h.id: h.score for h in pipe.search(cs.queries[qid], k=TOP_K)}
        run_o[qid] = {h.id: h.score for h in pipe.search(cs.original_queries[qid], k=TOP_K)}
    oracle = {q: {d: s for d, s in docs.items() if d not in set(cs.violating[q])} for q, docs in run_x.items()}
    original_qrels = {q: rs.qrels[q] for q in cs.queries}
    found_x, total = _violating_in_top(run_x, cs, CUTOFF)
    found_o, _ = _violating_in_top(run_o, cs, CUTOFF)
    return {
        "documents": len(rs.corpus), "index_seconds": round(index_s, 1),
        "ndcg10_exclusion_queries": _ndcg(run_x, cs.qrels, seed),
        "ndcg10_original_queries_original_qrels": _ndcg(run_o, original_qrels, seed),
        "ndcg10_original_queries_exclusion_qrels": _ndcg(run_o, cs.qrels, seed),
        "ndcg10_exclusion_queries_oracle_demotion": _ndcg(oracle, cs.qrels, seed),
        "violating_total": total,
        "violating_in_top10_exclusion_queries": found_x,
        "violating_in_top10_original_queries": found_o,
        "violating_share_in_top10_exclusion_queries": found_x / total if total else 0.0,
        "violating_share_in_top10_original_queries": found_o / total if total else 0.0,
        "violating_per_query_in_top10_exclusion_queries": found_x / len(cs.queries) if cs.queries else 0.0,
    }


def markdown(results: dict[str, dict[str, object]]) -> str:
    rows = ["| collection | queries | mean relevant (before -> after) | mean violating | nDCG@10 orig | "
            "nDCG@10 excl | nDCG@10 orig q on excl qrels | nDCG@10 excl + oracle demotion | "
            "violating in top 10 (excl q / orig q) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        c = r["counts"]
        s = r.get("stage1")
        cells = [name, str(c["queries"]), f"{c['mean_relevant_before']:.1f} -> {c['mean_relevant']:.1f}",
                 f"{c['mean_violating']:.1f}"]
        if s:
            cells += [f"{s[k]['value']:.3f}" for k in ("ndcg10_original_queries_original_qrels",
                                                       "ndcg10_exclusion_queries",
                                                       "ndcg10_original_queries_exclusion_qrels",
                                                       "ndcg10_exclusion_queries_oracle_demotion")]
            cells.append(f"{s['violating_share_in_top10_exclusion_queries']:.1%} / "
                         f"{s['violating_share_in_top10_original_queries']:.1%} of {s['violating_total']}")
        else:
            cells += ["-"] * 5
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--collections", nargs="+", default=["cranfield", "cisi", "med"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-queries", type=int, default=None)
    ap.add_argument("--out", default="data/constraint_sets")
    ap.add_argument("--report", default=None, help="write the counts (and stage-1 figures) here as JSON + .md")
    ap.add_argument("--no-stage1", action="store_true", help="only build and write the sets")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    results: dict[str, dict[str, object]] = {}
    for name in args.collections:
        rs = load_beir(name)
        started = time.perf_counter()
        cs = build_exclusion_queries(rs.corpus, rs.judged_queries, rs.qrels, seed=args.seed,
                                     max_queries=args.max_queries, source=name)
        build_s = time.perf_counter() - started
        corpus_file = next(p for p in (data_root() / name / "corpus.jsonl.gz", data_root() / name / "corpus.jsonl")
                           if p.is_file())
        out = write_constraint_set(cs, Path(args.out) / name, corpus_file=corpus_file,
                                   extra={"judged_queries": len(rs.judged_queries)})
        counts = cs.counts().model_dump()
        print(f"{name}: {counts['queries']} of {len(rs.judged_queries)} judged queries kept; mean relevant "
              f"{counts['mean_relevant_before']:.2f} -> {counts['mean_relevant']:.2f}, mean violating "
              f"{counts['mean_violating']:.2f}; built in {build_s:.1f} s -> {out}", flush=True)
        results[name] = {"judged_queries": len(rs.judged_queries), "counts": counts, "build_seconds": round(build_s, 1),
                         "cues": {c: list(cs.cues.values()).count(c) for c in sorted(set(cs.cues.values()))}}
        if not args.no_stage1:
            results[name]["stage1"] = stage1(name, cs, args.seed, args.batch_size)
            print(name, json.dumps(results[name]["stage1"]), flush=True)

    report = {"seed": args.seed, "max_queries": args.max_queries, "top_k": TOP_K,
              "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
              "collections": results}
    table = markdown(results)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
        Path(args.report).with_suffix(".md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
