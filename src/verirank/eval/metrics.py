"""Evaluation metrics: IR metrics over a run (ranx), near-miss pair metrics, bootstrap CIs, paired tests.

IR: ``run[query_id][doc_id] = score`` and ``qrels[query_id][doc_id] = grade`` (grade 0 = not
relevant). nDCG uses linear gain (trec_eval / BEIR). Queries are those of ``qrels`` with at
least one relevant document; a query missing from the run scores 0.

Near-miss pairs (``label 1`` = states the same, ``label 0`` = near-miss), with scores where
higher means "more likely the same":

* **pairwise accuracy** of category *c*: over near-misses of *c* whose anchor also has a
  positive, P(score(anchor, positive) > score(anchor, near-miss)), ties 1/2. Each near-miss is
  compared with the anchor's positives of the same category, or with all the anchor's positives
  when it has none of that category. Anchors without a positive are left out (``n_anchors``).
* **AUROC** of category *c*: near-misses of *c* against the set's positives of *c* (all of the
  set's positives when *c* has none); ties 1/2.
* **FAR@TAR**: one threshold per set, the highest score that still accepts ``tar`` (95 %) of all
  positives (``score >= threshold`` accepts); FAR is the share of near-misses accepted by it.

Confidence intervals are percentile bootstraps with a fixed seed; pair metrics resample whole
anchors (the pairs of one anchor are not independent).
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from verirank.errors import ConfigError, InputError
from verirank.types import Category, NearMissPair

DEFAULT_IR_METRICS = ("ndcg@10", "recall@100", "mrr@10")
DEFAULT_RESAMPLES = 1000
DEFAULT_TAR = 0.95


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConfidenceInterval(_Frozen):
    """A point estimate with its bootstrap interval ``[low, high]`` and the sample size behind it."""

    value: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


class RunEvaluation(_Frozen):
    """Mean (with 95 % CI) and per-query values of each IR metric for one run."""

    metrics: dict[str, ConfidenceInterval]
    per_query: dict[str, dict[str, float]]  # metric -> query id -> value
    n_queries: int


class PairedComparison(_Frozen):
    """Run B minus run A on the same queries: mean difference, its CI and a randomisation p-value."""

    metric: str
    mean_a: float
    mean_b: float
    difference: ConfidenceInterval
    p_value: float
    n_queries: int


class CategoryScores(_Frozen):
    """Near-miss metrics for one category (or ``"all"``) of one pair set."""

    category: str
    n_near_miss: int
    n_positive: int  # positives it is scored against: its own category's, else all of the set's
    n_anchors: int  # anchors with both a near-miss of this category and a positive
    pairwise_accuracy: ConfidenceInterval | None
    auroc: ConfidenceInterval | None
    far_at_tar: ConfidenceInterval | None


class PairSetScores(_Frozen):
    """Near-miss metrics of one pair set: overall and per category, at one FAR@TAR threshold."""

    tar: float
    threshold: float | None
    overall: CategoryScores
    categories: list[CategoryScores]


# ---- generic statistics --------------------------------------------------------------------
def _interval(value: float, samples: np.ndarray, n: int, confidence: float) -> ConfidenceInterval:
    samples = samples[np.isfinite(samples)]
    if samples.size == 0 or not math.isfinite(value):
        return ConfidenceInterval(value=value, low=value, high=value, n=n)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(samples, [tail, 100 - tail])
    return ConfidenceInterval(value=value, low=float(low), high=float(high), n=n)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
    confidence: float = 0.95,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of the mean of ``values``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise InputError("bootstrap_ci got no values; evaluate at least one query or pair")
    idx = np.random.default_rng(seed).integers(0, arr.size, size=(n_resamples, arr.size))
    return _interval(float(arr.mean()), arr[idx].mean(axis=1), int(arr.size), confidence)


def paired_randomization_test(
    a: Mapping[str, float], b: Mapping[str, float], *, metric: str = "", n_resamples: int = 10_000,
    seed: int = 0, confidence: float = 0.95,
) -> PairedComparison:
    """Two-sided paired randomisation (sign-flip) test of mean(b - a) over shared query ids,
    plus a bootstrap CI of the difference."""
    shared = sorted(set(a) & set(b))
    if not shared:
        raise InputError("the two runs share no query id; compare per-query scores of the same queries")
    va = np.array([a[q] for q in shared], dtype=np.float64)
    vb = np.array([b[q] for q in shared], dtype=np.float64)
    diff = vb - va
    observed = abs(diff.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_resamples, diff.size))
    extreme = int((np.abs((signs * diff).mean(axis=1)) >= observed - 1e-12).sum())
    return PairedComparison(
        metric=metric, mean_a=float(va.mean()), mean_b=float(vb.mean()),
        difference=bootstrap_ci(diff, n_resamples=min(n_resamples, 2000), seed=seed, confidence=confidence),
        p_value=(extreme + 1) / (n_resamples + 1), n_queries=len(shared),
    )


def compare_pairwise(
    pairs: Sequence[NearMissPair], scores_a: Sequence[float] | np.ndarray, scores_b: Sequence[float] | np.ndarray,
    *, n_resamples: int = 10_000, seed: int = 0,
) -> PairedComparison:
    """Is scorer B's pairwise accuracy higher than A's on the same pairs? The paired randomisation
    test over anchors, each anchor's share of won contests (mean_a / mean_b: anchor-averaged)."""
    labels = [p.label for p in pairs]
    rates = []
    for scores in (scores_a, scores_b):
        wins, comparisons, anchors = _anchor_comparisons(pairs, _check_scored(labels, scores)[1], None)
        if not anchors:
            raise InputError("no anchor has both a positive and a near-miss; pairwise accuracy is undefined")
        rates.append(dict(zip(anchors, (wins / comparisons).tolist())))
    return paired_randomization_test(rates[0], rates[1], metric="pairwise_accuracy", n_resamples=n_resamples,
                                     seed=seed)


# ---- IR metrics (ranx) ---------------------------------------------------------------------
def per_query_scores(
    run: Mapping[str, Mapping[str, float]], qrels: Mapping[str, Mapping[str, int]],
    metrics: Sequence[str] = DEFAULT_IR_METRICS,
) -> dict[str, dict[str, float]]:
    """``metric -> query id -> value`` over the qrels queries with a relevant document (ranx)."""
    from verirank._optional import require

    ranx = require("ranx", extra="eval")
    judged = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items() if any(g > 0 for g in docs.values())}
    if not judged:
        raise InputError("qrels hold no relevant (grade > 0) document; check the qrels file")
    ranx_run = ranx.Run({q: {d: float(s) for d, s in docs.items()} for q, docs in run.items() if q in judged and docs})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*unsafe cast.*")  # numba noise inside ranx
        ranx.evaluate(ranx.Qrels(judged), ranx_run, list(metrics), return_mean=False, make_comparable=True)
    return {m: {q: float(v) for q, v in ranx_run.scores[m].items()} for m in metrics}


def evaluate_run(
    run: Mapping[str, Mapping[str, float]], qrels: Mapping[str, Mapping[str, int]],
    metrics: Sequence[str] = DEFAULT_IR_METRICS, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
) -> RunEvaluation:
    """Mean, bootstrap 95 % CI and per-query values of each metric."""
    per_query = per_query_scores(run, qrels, metrics)
    summary = {m: bootstrap_ci(list(v.values()), n_resamples=n_resamples, seed=seed) for m, v in per_query.items()}
    return RunEvaluation(metrics=summary, per_query=per_query, n_queries=len(next(iter(per_query.values()))))


def compare_runs(
    run_a: Mapping[str, Mapping[str, float]], run_b: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]], metric: str = "ndcg@10", *, n_resamples: int = 10_000, seed: int = 0,
) -> PairedComparison:
    """Is run B better than run A on ``metric``? Paired randomisation test on per-query values."""
    a = per_query_scores(run_a, qrels, [metric])[metric]
    b = per_query_scores(run_b, qrels, [metric])[metric]
    return paired_randomization_test(a, b, metric=metric, n_resamples=n_resamples, seed=seed)


# ---- pair metrics, vectorised over bootstrap weights ---------------------------------------
def _auroc_rows(pos: np.ndarray, neg: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray) -> np.ndarray:
    """Weighted AUROC per weight row: (B, P), (B, N) -> (B,). Ties count 1/2."""
    order = np.argsort(neg, kind="stable")
    neg, w_neg = neg[order], w_neg[:, order]
    cum = np.concatenate([np.zeros((w_neg.shape[0], 1)), np.cumsum(w_neg, axis=1)], axis=1)  # (B, N+1)
    lo, hi = np.searchsorted(neg, pos, "left"), np.searchsorted(neg, pos, "right")
    credit = cum[:, lo] + 0.5 * (cum[:, hi] - cum[:, lo])  # (B, P): negative weight below each positive
    total = w_pos.sum(axis=1) * w_neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w_pos * credit).sum(axis=1) / total, np.nan)


def _threshold_rows(pos: np.ndarray, w_pos: np.ndarray, tar: float) -> np.ndarray:
    """Per weight row, the highest threshold accepting at least ``tar`` of the positive weight."""
    order = np.argsort(-pos, kind="stable")
    pos, w_pos = pos[order], w_pos[:, order]
    cum = np.cumsum(w_pos, axis=1)  # (B, P)
    target = tar * cum[:, -1:] - 1e-9
    idx = np.minimum((cum < target).sum(axis=1), pos.size - 1)
    return np.where(cum[:, -1] > 0, pos[idx], np.nan)


def _far_rows(neg: np.ndarray, w_neg: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Share of near-miss weight with ``score >= threshold``, per row: (B, N), (B,) -> (B,)."""
    accepted = (neg[None, :] >= thresholds[:, None]) * w_neg
    total = w_neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, accepted.sum(axis=1) / total, np.nan)


def auroc(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve, label 1 expected to score higher; ties count 1/2."""
    y, s = _check_scored(labels, scores)
    pos, neg = s[y == 1], s[y == 0]
    if pos.size == 0 or neg.size == 0:
        raise InputError(f"AUROC needs both labels; got {pos.size} positives and {neg.size} near-misses")
    return float(_auroc_rows(pos, neg, np.ones((1, pos.size)), np.ones((1, neg.size)))[0])


def threshold_at_tar(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray,
                     tar: float = DEFAULT_TAR) -> float:
    """The highest threshold at which ``score >= threshold`` accepts ``tar`` of the positives."""
    y, s = _check_scored(labels, scores)
    pos = s[y == 1]
    if pos.size == 0:
        raise InputError("threshold_at_tar needs at least one positive (label 1)")
    return float(_threshold_rows(pos, np.ones((1, pos.size)), _check_tar(tar))[0])


def far_at_tar(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray,
               tar: float = DEFAULT_TAR) -> float:
    """False-accept rate of near-misses at the threshold accepting ``tar`` of the positives."""
    y, s = _check_scored(labels, scores)
    neg = s[y == 0]
    if neg.size == 0:
        raise InputError("far_at_tar needs at least one near-miss (label 0)")
    threshold = threshold_at_tar(y, s, tar)
    return float(_far_rows(neg, np.ones((1, neg.size)), np.array([threshold]))[0])


def pairwise_accuracy(pairs: Sequence[NearMissPair], scores: Sequence[float] | np.ndarray,
                      category: Category | str | None = None) -> float:
    """P(score(anchor, positive) > score(anchor, near-miss)) over anchors that have both (ties 1/2)."""
    wins, comparisons, _ = _anchor_comparisons(pairs, _check_scored([p.label for p in pairs], scores)[1], category)
    if comparisons.sum() == 0:
        raise InputError("no anchor has both a positive and a near-miss; pairwise accuracy is undefined")
    return float(wins.sum() / comparisons.sum())


def _check_tar(tar: float) -> float:
    if not 0.0 < tar <= 1.0:
        raise ConfigError(f"tar={tar}; give a true-accept rate in (0, 1], e.g. 0.95")
    return tar


def _check_scored(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise InputError(f"{y.size} labels but {s.size} scores; give one score per pair")
    if not np.all(np.isfinite(s)):
        raise InputError("scores contain NaN or infinity; check the scorer")
    if not np.all((y == 0) | (y == 1)):
        raise InputError("labels must be 0 (near-miss) or 1 (positive)")
    return y, s


def _anchor_comparisons(
    pairs: Sequence[NearMissPair], scores: np.ndarray, category: Category | str | None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per anchor (with a positive and a near-miss of ``category``): summed wins and comparisons."""
    wanted = None if category is None else Category(category)
    positives: dict[str, dict[Category, list[float]]] = defaultdict(lambda: defaultdict(list))
    for pair, score in zip(pairs, scores):
        if pair.label == 1:
            positives[pair.anchor][pair.category].append(float(score))
    wins: dict[str, float] = defaultdict(float)
    comparisons: dict[str, int] = defaultdict(int)
    for pair, score in zip(pairs, scores):
        if pair.label != 0 or (wanted is not None and pair.category is not wanted) or pair.anchor not in positives:
            continue
        by_cat = positives[pair.anchor]
        pos = np.array(by_cat[pair.category] if by_cat.get(pair.category) else [s for v in by_cat.values() for s in v])
        wins[pair.anchor] += float((pos > score).sum() + 0.5 * (pos == score).sum())
        comparisons[pair.anchor] += int(pos.size)
    anchors = sorted(comparisons)
    return np.array([wins[a] for a in anchors]), np.array([comparisons[a] for a in anchors], dtype=np.float64), anchors


# ---- a whole pair set -----------------------------------------------------------------------
def evaluate_pairs(
    pairs: Sequence[NearMissPair], scores: Sequence[float] | np.ndarray, *, tar: float = DEFAULT_TAR,
    n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0, confidence: float = 0.95,
) -> PairSetScores:
    """Pairwise accuracy, AUROC and FAR@TAR, overall and per category, with anchor-bootstrap CIs."""
    y, s = _check_scored([p.label for p in pairs], scores)
    _check_tar(tar)
    anchor_names = sorted({p.anchor for p in pairs})
    anchor_index = {a: i for i, a in enumerate(anchor_names)}
    pair_anchor = np.array([anchor_index[p.anchor] for p in pairs], dtype=np.int64)
    cats = np.array([p.category.value for p in pairs])
    # Row 0: the sample itself (all weights 1); rows 1..B: anchor-bootstrap resamples.
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(anchor_names), size=(n_resamples, len(anchor_names)))
    anchor_w = np.zeros((n_resamples + 1, len(anchor_names)))
    anchor_w[0] = 1.0
    np.add.at(anchor_w, (np.repeat(np.arange(1, n_resamples + 1), len(anchor_names)), draws.ravel()), 1.0)
    pair_w = anchor_w[:, pair_anchor]  # (B+1, n_pairs)

    pos_mask = y == 1
    thresholds = _threshold_rows(s[pos_mask], pair_w[:, pos_mask], tar) if pos_mask.any() else None

    def interval(rows: np.ndarray, n: int) -> ConfidenceInterval | None:
        return None if not math.isfinite(rows[0]) else _interval(float(rows[0]), rows[1:], n, confidence)

    def scores_for(category: str | None) -> CategoryScores:
        neg_mask = (y == 0) & (True if category is None else cats == category)
        cat_pos = pos_mask & (True if category is None else cats == category)
        ref_pos = cat_pos if cat_pos.any() else pos_mask
        wins, comps, anchors = _anchor_comparisons(pairs, s, category)
        acc = None
        if anchors:
            w = anchor_w[:, [anchor_index[a] for a in anchors]]
            with np.errstate(invalid="ignore", divide="ignore"):
                acc = interval((w @ wins) / (w @ comps), len(anchors))
        auc = far = None
        if neg_mask.any() and ref_pos.any():
            auc = interval(_auroc_rows(s[ref_pos], s[neg_mask], pair_w[:, ref_pos], pair_w[:, neg_mask]), int(neg_mask.sum()))
        if neg_mask.any() and thresholds is not None:
            far = interval(_far_rows(s[neg_mask], pair_w[:, neg_mask], thresholds), int(neg_mask.sum()))
        return CategoryScores(
            category=category or "all", n_near_miss=int(neg_mask.sum()), n_positive=int(ref_pos.sum()),
            n_anchors=len(anchors), pairwise_accuracy=acc, auroc=auc, far_at_tar=far,
        )

    present = [c.value for c in Category if c.value in set(cats[y == 0])]
    return PairSetScores(
        tar=tar, threshold=None if thresholds is None else float(thresholds[0]),
        overall=scores_for(None), categories=[scores_for(c) for c in present],
    )


def both_correct(pairs: Sequence[NearMissPair], accepted: np.ndarray, rejected: np.ndarray, seed: int,
                 n_resamples: int = 1000) -> dict[str, float] | None:
    """Share of (anchor, paraphrase, near-miss) triples with the paraphrase accepted and the near-miss
    rejected; mean over anchors of each anchor's rate, 95% bootstrap CI over anchors."""
    by_anchor: dict[str, tuple[list[int], list[int]]] = {}
    for i, p in enumerate(pairs):
        by_anchor.setdefault(p.anchor, ([], []))[p.label == 0].append(i)
    rates = [float(np.mean([accepted[i] and rejected[j] for i in pos for j in neg]))
             for pos, neg in by_anchor.values() if pos and neg]
    if not rates:
        return None
    values = np.array(rates)
    draws = np.random.default_rng(seed).integers(0, len(values), size=(n_resamples, len(values)))
    boot = values[draws].mean(axis=1)
    return {"value": float(values.mean()), "low": float(np.quantile(boot, 0.025)),
            "high": float(np.quantile(boot, 0.975)), "n": len(values)}
