"""Fit relevance mode's unrelated check (``verirank.verifier.contrast.far_below``); report it on
held-out human-written groups.

The check rejects an abstaining candidate when the verifier scores it under the checkpoint's
``reject_beside_accept`` and stage 1 ranks it at least ``unrelated_gap`` (cosine to the query) under
an accepted candidate of the same query. It acts on every relevance query, as the contrast check
does.

Fitted on the classic collections' nDCG@10 (top 20 verified, 3 windows, the shipped rule of
``relevance_levels.py``, the check on top): the smallest gap of ``GAPS`` at which no collection
loses more than ``--max-loss`` (default 0: none) against the same rule without the check. All six
collections take part, cranfield, cisi and med too, so the gap is not blind to them; their top
candidates are all on the query's topic, so what this fit guards against is rejecting a relevant
document, not missing an unrelated one.

Reported, not fitted: question groups of the SNLI and Breaking NLI **test** splits
(``tune_contrast.py``'s), each with ``--distractors`` statements of other groups added as unrelated
passages: shares of positives, near-miss negatives and distractors rejected, and the both-correct
rate (every positive accepted, every negative and distractor rejected), without and with the check;
and what each witness (stage 1's gap, the verifier's p_match) would reject alone.

    python benchmarks/tune_unrelated.py --out reports/bench/unrelated.json [--apply]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
from relevance_levels import collection_verdicts, contrast_checked, ranking

import verirank
from verirank.datasets.human import load_human_pairs
from verirank.eval.metrics import bootstrap_ci, compare_runs
from verirank.types import Decision, Level
from verirank.verifier import relevance_groups as rg

GAPS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
COLLECTIONS = ("npl", "cacm", "lisa", "cranfield", "cisi", "med")


def collection_deltas(name: str, candidates: int, seed: int) -> dict[str, Any]:
    """Per gap (None: without the check): nDCG@10 change of ``full`` vs ``off``, the number of
    unrelated rejections and how many of them are judged relevant."""
    pipe, data, stage1, directed, vectors, acts, whole = collection_verdicts(name, candidates)
    off = {q: dict(h) for q, h in stage1.items()}
    out: dict[str, Any] = {}
    pipe.unrelated_gap = None
    before = {q: contrast_checked(pipe, directed[q], vectors[q], Level.FULL, acts[q], stage1[q], whole[q])[1]
              for q in stage1}
    for gap in (None, *GAPS):
        pipe.unrelated_gap = gap
        checked = {q: contrast_checked(pipe, directed[q], vectors[q], Level.FULL, acts[q], stage1[q], whole[q])
                   for q in stage1}
        run = {q: ranking(stage1[q], checked[q][0], Level.FULL, pipe.rerank_weight, False, acts[q], checked[q][1])
               for q in stage1}
        diff = compare_runs(off, run, data.qrels, "ndcg@10", seed=seed)
        new = [(q, d) for q in stage1 for d in checked[q][1] - before[q]]
        out[str(gap)] = {"delta": diff.difference.model_dump(), "p_value": diff.p_value, "rejected": len(new),
                         "rejected_relevant": sum(data.qrels.get(q, {}).get(d, 0) > 0 for q, d in new)}
        print(json.dumps({"collection": name, "gap": gap, "delta": round(diff.difference.value, 5),
                          "rejected": len(new), "relevant": out[str(gap)]["rejected_relevant"]}), flush=True)
    return out


def distractor_groups(split: str, distractors: int, seed: int) -> list[dict[str, Any]]:
    """Question groups of ``split``, each with statements drawn from other groups as unrelated passages."""
    pairs = {name: load_human_pairs(name, split) for name in rg.QUESTION_SOURCES}
    groups = rg.question_examples(pairs, held=set())
    rng = random.Random(seed)
    out = []
    for k, g in enumerate(groups):
        own = set(g.candidates)  # groups from the same premise share passages: not unrelated
        others = [groups[j].candidates[0] for j in rng.sample(range(len(groups)), 4 * distractors)
                  if not own & set(groups[j].candidates)][:distractors]
        out.append({"query": g.query, "candidates": [*g.candidates, *others],
                    "kinds": [("positive" if y == 1 else "negative") for y in g.labels] + ["distractor"] * len(others)})
    return out


def rates(pipe: verirank.Pipeline, groups: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    """Shares of positives, negatives and distractors rejected through ``Pipeline.rerank``, and the
    both-correct rate per group."""
    rejected: dict[str, list[bool]] = {"positive": [], "negative": [], "distractor": []}
    both = []
    for g in groups:
        hits = sorted(pipe.rerank(g["query"], g["candidates"], keep_rejected=True), key=lambda h: int(h.id))
        right = []
        for hit, kind in zip(hits, g["kinds"]):
            rejected[kind].append(hit.decision is Decision.REJECT)
            right.append(hit.decision is (Decision.ACCEPT if kind == "positive" else Decision.REJECT))
        both.append(all(right))
    ci = lambda xs: bootstrap_ci(np.array(xs, dtype=float), seed=seed).model_dump()  # noqa: E731
    return {"groups": len(groups), **{f"{k}s": len(v) for k, v in rejected.items()},
            **{f"{k}s_rejected": ci(v) for k, v in rejected.items()}, "both_correct": ci(both)}


def witnesses(pipe: verirank.Pipeline, groups: list[dict[str, Any]], gap: float, seed: int) -> dict[str, Any]:
    """Each witness of the check alone beside both, on the verdicts ``rerank`` gives without it: in a
    group with an accepted candidate, an abstention is rejected by stage 1 alone when its cosine is
    ``gap`` under the accepted one's, by the verifier alone when its p_match is under
    ``reject_beside_accept``, and by the shipped check when both hold. Shares of distractors and
    positives newly rejected."""
    below = pipe.verifier.reject_beside_accept
    rules = {"stage1_alone": lambda p, drop: drop >= gap, "verifier_alone": lambda p, drop: p < below,
             "both": lambda p, drop: p < below and drop >= gap}
    pipe.unrelated_gap = None
    found: dict[str, dict[str, list[bool]]] = {r: {"distractor": [], "positive": []} for r in rules}
    for g in groups:
        hits = sorted(pipe.rerank(g["query"], g["candidates"], keep_rejected=True), key=lambda h: int(h.id))
        top = max((h.stage1_score for h in hits if h.decision is Decision.ACCEPT), default=None)
        for hit, kind in zip(hits, g["kinds"]):
            if kind == "negative":
                continue
            for rule, rejects in rules.items():
                found[rule][kind].append(top is not None and hit.decision is Decision.ABSTAIN
                                         and rejects(hit.p_match, top - hit.stage1_score))
    return {rule: {f"{k}s_newly_rejected": bootstrap_ci(np.array(v, dtype=float), seed=seed).model_dump()
                   for k, v in kinds.items()} for rule, kinds in found.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-loss", type=float, default=0.0, help="nDCG@10 a collection may lose")
    ap.add_argument("--collections", nargs="+", default=list(COLLECTIONS))
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--distractors", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="reports/bench/unrelated.json")
    ap.add_argument("--apply", action="store_true", help="write the gap into the shipped checkpoint")
    args = ap.parse_args()
    deltas = {name: collection_deltas(name, args.candidates, args.seed) for name in args.collections}
    cost = lambda n, g: deltas[n][str(g)]["delta"]["value"] - deltas[n]["None"]["delta"]["value"]  # noqa: E731
    allowed = [g for g in GAPS if all(cost(n, g) >= -args.max_loss for n in deltas)]
    gap = min(allowed) if allowed else None
    pipe = verirank.Pipeline.default()
    before = pipe.unrelated_gap
    test = distractor_groups("test", args.distractors, args.seed)
    out: dict[str, Any] = {"max_loss": args.max_loss, "gap": gap, "collections": deltas}
    for name, setting in (("test_without_check", None), ("test", gap)):
        pipe.unrelated_gap = setting
        out[name] = rates(pipe, test, args.seed)
    if gap is not None:
        out["test_witnesses"] = witnesses(pipe, test, gap, args.seed)
    if before is not None and before != gap:
        pipe.unrelated_gap = before
        out["test_shipped_before"] = {"gap": before, **rates(pipe, test, args.seed)}
    out["command"] = "python benchmarks/tune_unrelated.py" + (" --apply" if args.apply else "")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(json.dumps({k: out[k] for k in ("gap", "test_without_check", "test")}, indent=2))
    if args.apply:
        from verirank.verifier import checkpoint

        directory = checkpoint.shipped_path()
        meta = checkpoint.read_meta(directory)
        meta["unrelated_gap"] = gap
        meta.setdefault("metrics", {})["unrelated_tuning"] = {k: out[k] for k in ("max_loss", "gap", "test_without_check", "test")}
        checkpoint.write_meta(directory, meta)


if __name__ == "__main__":
    main()
