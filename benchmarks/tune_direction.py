"""Fit relevance mode's direction check on dev splits; report it on the test splits.

Route sentences of every human set's split ("from A to B", "the train to X") give relevance groups
(``verifier.relevance_groups.direction_examples``): the sentence and its yes/no question as queries,
the sentence (and its reordered route) as positives, its direction swap as the negative. For each
query the rule writes the reversed reading, and every candidate is scored under both readings
(``Pipeline.reversed_fits``, what search uses): the verifier's p_match, each with the query's
stage-1 cosine, and stage 1's cosine. A candidate is rejected when its gap, p_match(reversed) -
p_match(query) + weight x (cosine(reversed) - cosine(query)), exceeds the margin.

Fitted on dev only: the weight is the one of ``WEIGHTS`` whose gap best separates the dev
positives that are not the query verbatim from the swaps (AUROC, threshold-free, so the small dev
set's single operating point does not pick it); the margin is then the smallest on a 0.001 grid
that rejects at most ``--budget`` of those positives. Test figures are reported only, beside the
verifier alone (weight 0, margin fitted the same way) and no check at all.

    python benchmarks/tune_direction.py --out reports/bench/direction.json [--apply]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

import verirank
from verirank.constraints import parse_constraints
from verirank.datasets.human import HUMAN_SETS, load_human_pairs
from verirank.eval.metrics import auroc, bootstrap_ci
from verirank.verifier.relevance_groups import direction_examples

WEIGHTS = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)  # stage-1 cosine gap weights tried

def gaps(pipe: verirank.Pipeline, split: str) -> dict[str, Any]:
    """Per candidate of every direction group of ``split``: label, verbatim or not, p_match under the
    query, and how it fits the reversed reading (p_match gap, stage-1 cosine gap)."""
    texts = (t for name in HUMAN_SETS for p in load_human_pairs(name, split) for t in (p.anchor, p.text))
    groups = [g for g in direction_examples(texts, held=set()) if g.source == "direction"]
    rows: list[tuple[int, int, bool, float, float]] = []
    skipped = 0
    for n, g in enumerate(groups):
        q, cands = pipe._pair_states(g.query, g.candidates)
        fits = pipe.reversed_fits(g.query, cands)  # what Pipeline.check_direction compares against
        if fits is None:
            skipped += 1
            continue
        opposite = pipe.opposite_reading(parse_constraints(g.query))  # a yes/no question read both ways, as in search
        p = [v.p_match for v in pipe.verifier.verify(q, cands, settle=False, opposite=opposite)]
        rows += [(n, label, text == g.query, both_ends(g.query, text), a, fit.p_match - a, fit.cosine_gap)
                 for text, label, a, fit in zip(g.candidates, g.labels, p, fits)]
    group, label, verbatim, two_ends, p, p_gap, cosine_gap = (np.array(col) for col in zip(*rows))
    return {"groups": len(groups), "skipped": skipped, "group": group, "label": label, "verbatim": verbatim,
            "two_ends": two_ends, "p": p, "p_gap": p_gap, "cosine_gap": cosine_gap}


def gap(data: dict[str, Any], weight: float) -> np.ndarray:
    """``direction.ReversedFit.gap`` of every candidate."""
    return data["p_gap"] + weight * data["cosine_gap"]


def positives(data: dict[str, Any]) -> np.ndarray:
    return (data["label"] == 1) & ~data["verbatim"]


def fit(dev: dict[str, Any], budget: float, weights: tuple[float, ...] = WEIGHTS) -> dict[str, Any]:
    """Weight by dev AUROC of the gap (swaps above positives), then the smallest margin within budget."""
    separation = {w: separates(dev, gap(dev, w)) for w in weights}
    weight = max(weights, key=lambda w: (separation[w], -w))
    return {"weight": weight, "margin": margin_within(dev, weight, budget),
            "dev_auroc_by_weight": {str(w): round(a, 4) for w, a in separation.items()},
            "dev_auroc_cosine_alone": round(separates(dev, dev["cosine_gap"]), 4)}


def separations(data: dict[str, Any], weight: float) -> dict[str, float]:
    """AUROC of stage-1 cosine gap alone, verifier gap alone and their weighted sum."""
    scores = {"stage1_cosine_alone": data["cosine_gap"], "verifier_alone": gap(data, 0.0), "shipped": gap(data, weight)}
    return {name: round(separates(data, s), 4) for name, s in scores.items()}


def separates(data: dict[str, Any], scores: np.ndarray) -> float:
    """AUROC of ``scores`` ranking the swaps above the positives that are not the query verbatim."""
    pos, neg = positives(data), data["label"] == 0
    keep = pos | neg
    return auroc(neg[keep].astype(int), scores[keep])


def margin_within(dev: dict[str, Any], weight: float, budget: float) -> float:
    scores = gap(dev, weight)[positives(dev)]
    return next(round(float(m), 3) for m in np.arange(-0.2, 1.0, 0.001) if np.mean(scores > m) <= budget)


def both_ends(query: str, text: str) -> bool:
    """Whether ``text`` can be a swap of both ends of the query's "from A to B" (as many "from"s
    as the query, which has both words) rather than a lone "to"/"from" flipped."""
    count = lambda s, w: len(re.findall(rf"\b{w}\b", s, re.IGNORECASE))  # noqa: E731
    return count(query, "from") > 0 and count(query, "to") > 0 and count(query, "from") == count(text, "from")


def rates(data: dict[str, Any], weight: float, margin: float, accept: float, seed: int) -> dict[str, Any]:
    """Shares rejected by the margin, and both-correct: per group with a positive that is not the
    query verbatim, every such positive accepted (p_match >= ``accept``, not rejected) and the swap
    rejected. A margin of 1 is no check at all (the shipped relevance reject threshold is 0, so
    p_match alone rejects nothing; search's settle rule is not modelled here)."""
    rejected = gap(data, weight) > margin
    pos, neg = positives(data), data["label"] == 0
    ok = (data["p"] >= accept) & ~rejected
    both = [bool(np.all(ok[in_group & pos])) and bool(np.all(rejected[in_group & neg]))
            for in_group in (data["group"] == g for g in np.unique(data["group"][pos]))]
    return {"weight": weight, "margin": margin, "negatives": int(neg.sum()), "positives_not_verbatim": int(pos.sum()),
            "negatives_rejected": bootstrap_ci(rejected[neg].astype(float), seed=seed).model_dump(),
            "positives_rejected": bootstrap_ci(rejected[pos].astype(float), seed=seed).model_dump(),
            "both_correct": bootstrap_ci(np.array(both, dtype=float), seed=seed).model_dump(),
            **{f"negatives_rejected_{name}": bootstrap_ci(rejected[neg & sel].astype(float), seed=seed).model_dump()
               for name, sel in (("both_ends_swapped", data["two_ends"]), ("one_end_flipped", ~data["two_ends"]))}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=0.05, help="share of dev positives the margin may reject")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="reports/bench/direction.json")
    ap.add_argument("--apply", action="store_true", help="write the margin into the shipped checkpoint")
    args = ap.parse_args()
    pipe = verirank.Pipeline.default()
    dev, test = gaps(pipe, "dev"), gaps(pipe, "test")
    fitted = fit(dev, args.budget)
    weight, margin = fitted["weight"], fitted["margin"]
    accept = pipe.verifier.calibration.relevance.accept
    out = {"budget": args.budget, **fitted, "accept": accept,
           **{name: {"groups": d["groups"], "skipped": d["skipped"], **rates(d, weight, margin, accept, args.seed)}
              for name, d in (("dev", dev), ("test", test))},
           "test_auroc": separations(test, weight),
           "test_verifier_alone": rates(test, 0.0, margin_within(dev, 0.0, args.budget), accept, args.seed),
           "test_shipped_before": None if pipe.direction_margin is None else
           rates(test, pipe.direction_cosine_weight, pipe.direction_margin, accept, args.seed),
           "test_without_check": rates(test, 0.0, 1.0, accept, args.seed),
           "command": "python benchmarks/tune_direction.py" + (" --apply" if args.apply else "")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    if args.apply:
        from verirank.verifier import checkpoint

        directory = checkpoint.shipped_path()
        meta = checkpoint.read_meta(directory)
        meta["direction_margin"], meta["direction_cosine_weight"] = margin, weight
        meta.setdefault("metrics", {})["direction_tuning"] = {k: out[k] for k in ("budget", "weight", "margin", "dev", "test")}
        checkpoint.write_meta(directory, meta)


if __name__ == "__main__":
    main()
