"""Near-miss pair metrics of any system: pairwise accuracy, both-correct and FAR@TAR95.

Scores live in ``scores/<system>.json`` as ``{set name: [score per pair]}`` (the ``dev`` set
included). Both-correct needs accept/reject verdicts: the verifier's come from its shipped
``level="full"`` thresholds (identity mode); every other system gets the threshold of best balanced
accuracy on the dev splits of the human sets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from verirank.eval.metrics import both_correct, evaluate_pairs
from verirank.eval.reproduce.data import family, pair_from_json
from verirank.types import NearMissPair

Scorer = Callable[[list[str], list[str]], np.ndarray]


def score_sets(sets: dict[str, list[dict]], scorer: Scorer) -> dict[str, list[float]]:
    out = {}
    for name, rows in sets.items():
        if not rows:
            out[name] = []
            continue
        out[name] = [float(s) for s in scorer([r["anchor"] for r in rows], [r["text"] for r in rows])]
    return out


def balanced_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    grid = np.quantile(scores, np.linspace(0.01, 0.99, 197))
    return float(max(grid, key=lambda t: np.mean(scores[labels == 1] >= t) + np.mean(scores[labels == 0] < t)))


def _ci(c: Any) -> dict[str, float] | None:
    return None if c is None else c.model_dump()


def pair_metrics(sets: dict[str, list[dict]], scores: dict[str, list[float]], decisions: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None,
                 seed: int, n_resamples: int) -> dict[str, Any]:
    """Per set and per family (human / generated pooled): overall and per-category metrics.

    ``decisions(scores) -> (accepted, rejected)``; None: one threshold fitted on ``dev``."""
    if decisions is None:
        dev = np.array(scores["dev"])
        threshold = balanced_threshold(dev, np.array([r["label"] for r in sets["dev"]]))

        def decisions(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return s >= threshold, s < threshold
    groups: dict[str, tuple[list[NearMissPair], list[float]]] = {}
    for name, rows in sets.items():
        if name == "dev":
            continue
        pairs = [pair_from_json(r) for r in rows]
        groups[name] = (pairs, scores[name])
        fam = groups.setdefault(f"family:{family(name)}", ([], []))
        fam[0].extend(pairs)
        fam[1].extend(scores[name])
    out = {}
    for name, (pairs, s) in groups.items():
        arr = np.array(s, dtype=np.float64)
        result = evaluate_pairs(pairs, arr, seed=seed, n_resamples=n_resamples)
        accepted, rejected = decisions(arr)
        out[name] = {
            "n_pairs": len(pairs),
            "overall": {"pairwise_accuracy": _ci(result.overall.pairwise_accuracy), "auroc": _ci(result.overall.auroc),
                        "far_at_tar95": _ci(result.overall.far_at_tar), "n_near_miss": result.overall.n_near_miss},
            "both_correct": both_correct(pairs, accepted, rejected, seed, n_resamples),
            "categories": {c.category: {"pairwise_accuracy": _ci(c.pairwise_accuracy), "n_near_miss": c.n_near_miss,
                                        "far_at_tar95": _ci(c.far_at_tar)} for c in result.categories},
        }
    return out
