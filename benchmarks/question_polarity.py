"""Relevance mode on yes/no questions, reading each question one way or both ways.

A passage answers a yes/no question whether it says yes or no. ``Pipeline.opposite_questions``
(``verirank.questions``) also scores each candidate against the question asked the other way ("Is
the man not happy?") and accepts it when either reading does. This script measures that switch on
the question groups of the dev and test splits of SNLI and Breaking NLI
(``verifier.relevance_groups.question_examples``: the statement, its premise, antonym rewrites and
its negation are positives; swapped nouns, colours, materials, roles and directions are negatives),
through ``Pipeline.rerank`` (the shipped path: settle, constraint checks, contrast). Nothing is
fitted: the switch reads the checkpoint's thresholds, so dev and test are two held-out readings.
Per group: every positive accepted and every negative rejected counts as both-correct; the
difference carries a paired bootstrap interval over groups.

    python benchmarks/question_polarity.py --out reports/bench/question_polarity.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

import verirank
from verirank.datasets.human import load_human_pairs
from verirank.eval.metrics import bootstrap_ci
from verirank.types import Decision
from verirank.verifier import relevance_groups as rg


def decisions(pipe: verirank.Pipeline, groups: list[Any], both_ways: bool) -> list[list[Decision]]:
    pipe.opposite_questions = both_ways
    hits = (pipe.rerank(g.query, g.candidates, keep_rejected=True) for g in groups)
    return [[h.decision for h in sorted(found, key=lambda h: int(h.id))] for found in hits]


def per_group(groups: list[Any], decided: list[list[Decision]]) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {"both_correct": [], "positives_accepted": [], "positives_rejected": [],
                                   "negatives_rejected": [], "negatives_accepted": []}
    for g, ds in zip(groups, decided):
        labels = np.array(g.labels)
        accepted = np.array([d is Decision.ACCEPT for d in ds])
        rejected = np.array([d is Decision.REJECT for d in ds])
        out["both_correct"].append(float(accepted[labels == 1].all() and rejected[labels == 0].all()))
        out["positives_accepted"] += accepted[labels == 1].tolist()
        out["positives_rejected"] += rejected[labels == 1].tolist()
        out["negatives_rejected"] += rejected[labels == 0].tolist()
        out["negatives_accepted"] += accepted[labels == 0].tolist()
    return {k: np.array(v, dtype=float) for k, v in out.items()}


def split_report(pipe: verirank.Pipeline, split: str, seed: int) -> dict[str, Any]:
    from verirank.constraints import parse_constraints

    pairs = {name: load_human_pairs(name, split) for name in rg.QUESTION_SOURCES}
    groups = rg.question_examples(pairs, held=set())
    one, both = per_group(groups, decisions(pipe, groups, False)), per_group(groups, decisions(pipe, groups, True))
    ci = lambda xs: bootstrap_ci(xs, seed=seed).model_dump()  # noqa: E731
    return {
        "groups": len(groups), "asked_both_ways": sum(parse_constraints(g.query).opposite is not None for g in groups),
        "positives": int(len(one["positives_accepted"])), "negatives": int(len(one["negatives_rejected"])),
        "one_way": {k: ci(v) for k, v in one.items()}, "both_ways": {k: ci(v) for k, v in both.items()},
        "delta": {k: ci(both[k] - one[k]) for k in one},  # paired: per group / per candidate
    }


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Yes/no questions read one way and both ways (relevance mode, `Pipeline.rerank`)", "",
             f"Checkpoint head `{report['head_id']}`, seed {report['seed']}; question groups of SNLI and Breaking NLI "
             "(nothing fitted: dev and test are both held-out readings). 95% bootstrap intervals; deltas paired.", "",
             "| split | groups (asked both ways) | metric | one way | both ways | delta |", "|---|---|---|---|---|---|"]
    for split, r in report["splits"].items():
        for k in ("both_correct", "positives_accepted", "positives_rejected", "negatives_rejected",
                  "negatives_accepted"):
            a, b, d = r["one_way"][k], r["both_ways"][k], r["delta"][k]
            lines.append(f"| {split} | {r['groups']} ({r['asked_both_ways']}) | {k.replace('_', ' ')} | "
                         f"{a['value']:.3f} | {b['value']:.3f} | {d['value']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--splits", nargs="+", default=["dev", "test"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("reports/bench/question_polarity.json"))
    args = ap.parse_args()
    pipe = verirank.Pipeline.default()
    report = {"seed": args.seed, "head_id": pipe.verifier.head_id,
              "splits": {s: split_report(pipe, s, args.seed) for s in args.splits}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
