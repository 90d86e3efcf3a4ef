from __future__ import annotations

import math

import numpy as np
import pytest

from verirank.errors import ConfigError, InputError
from verirank.eval.metrics import (
    auroc,
    bootstrap_ci,
    compare_pairwise,
    compare_runs,
    evaluate_pairs,
    evaluate_run,
    far_at_tar,
    paired_randomization_test,
    pairwise_accuracy,
    per_query_scores,
    threshold_at_tar,
)
from verirank.types import Category, NearMissPair

QRELS = {"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 1}, "q3": {"d9": 1}, "q4": {"d1": 0}}
RUN = {"q1": {"d1": 0.9, "d3": 0.8, "d2": 0.5}, "q2": {"d5": 1.0, "d3": 0.7}}


def test_ir_metrics_by_hand():
    per_query = per_query_scores(RUN, QRELS)
    # q1: DCG = 2/log2(2) + 1/log2(4) = 2.5; IDCG = 2 + 1/log2(3)
    assert per_query["ndcg@10"]["q1"] == pytest.approx(2.5 / (2 + 1 / math.log2(3)))
    assert per_query["ndcg@10"]["q2"] == pytest.approx(1 / math.log2(3))  # relevant doc at rank 2
    assert per_query["mrr@10"] == pytest.approx({"q1": 1.0, "q2": 0.5, "q3": 0.0})  # q3 missing from run: 0
    assert per_query["recall@100"] == pytest.approx({"q1": 1.0, "q2": 1.0, "q3": 0.0})
    assert "q4" not in per_query["ndcg@10"]  # no relevant document: not evaluated


def test_evaluate_run_mean_and_ci():
    result = evaluate_run(RUN, QRELS, n_resamples=200)
    assert result.n_queries == 3
    assert result.metrics["mrr@10"].value == pytest.approx(0.5)
    ci = result.metrics["ndcg@10"]
    assert ci.low <= ci.value <= ci.high and ci.n == 3
    with pytest.raises(InputError, match="no relevant"):
        per_query_scores(RUN, {"q1": {"d1": 0}})


def test_bootstrap_ci_is_seeded_and_degenerate_for_constants():
    ci = bootstrap_ci([0.3] * 10)
    assert (ci.value, ci.low, ci.high, ci.n) == (pytest.approx(0.3), pytest.approx(0.3), pytest.approx(0.3), 10)
    values = np.random.default_rng(1).random(50)
    assert bootstrap_ci(values, seed=5) == bootstrap_ci(values, seed=5)
    ci = bootstrap_ci(values)
    assert ci.low < values.mean() < ci.high


def test_paired_randomization_test():
    a = {f"q{i}": 0.1 * (i % 7) for i in range(30)}
    better = paired_randomization_test(a, {q: v + 0.1 for q, v in a.items()}, n_resamples=2000)
    assert better.difference.value == pytest.approx(0.1) and better.p_value < 0.001
    same = paired_randomization_test(a, dict(a), n_resamples=500)
    assert same.p_value == 1.0
    assert compare_runs(RUN, RUN, QRELS).p_value == 1.0


def test_auroc_by_hand_and_against_sklearn():
    assert auroc([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1]) == pytest.approx(0.75)
    assert auroc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    roc_auc_score = pytest.importorskip("sklearn.metrics").roc_auc_score

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) + 0.3 * labels, 1)  # rounding makes ties
    assert auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_far_at_tar_by_hand():
    positives = [i / 20 for i in range(1, 21)]  # 0.05 .. 1.00
    negatives = [0.1, 0.09, 0.5, 0.2]
    labels, scores = [1] * 20 + [0] * 4, positives + negatives
    assert threshold_at_tar(labels, scores, 0.95) == pytest.approx(0.10)  # 19 of 20 positives accepted
    assert far_at_tar(labels, scores, 0.95) == pytest.approx(0.75)  # 0.1 (tie accepted), 0.5, 0.2
    assert far_at_tar(labels, scores, 1.0) == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        far_at_tar(labels, scores, 1.5)


def _pair(anchor: str, label: int, category: Category, text: str = "") -> NearMissPair:
    return NearMissPair(anchor=anchor, text=text or f"{anchor}/{category.value}/{label}", label=label, category=category)


NEG, NUM = Category.NEGATION, Category.NUMERIC
PAIRS = [
    _pair("A", 1, NEG), _pair("A", 0, NEG), _pair("A", 0, NUM),  # A: positive 0.9 > 0.5, < 0.95
    _pair("B", 1, NEG), _pair("B", 0, NEG),  # B: tie 0.7 = 0.7
    _pair("C", 0, NEG),  # C: no positive, left out of pairwise accuracy
]
SCORES = [0.9, 0.5, 0.95, 0.7, 0.7, 0.1]


def test_pairwise_accuracy_by_hand():
    assert pairwise_accuracy(PAIRS, SCORES, NEG) == pytest.approx((1 + 0.5) / 2)
    assert pairwise_accuracy(PAIRS, SCORES, NUM) == pytest.approx(0.0)  # A's only positive is NEG: falls back to it
    assert pairwise_accuracy(PAIRS, SCORES) == pytest.approx(1.5 / 3)
    with pytest.raises(InputError, match="no anchor"):
        pairwise_accuracy(PAIRS[-1:], SCORES[-1:])


def test_compare_pairwise_pairs_anchors():
    # anchor A: positive 0.9 vs near-misses 0.5 and 0.7 (both won); anchor B: 0.7 vs 0.1 (won)
    pairs = [_pair("A", 1, NEG), _pair("A", 0, NEG), _pair("A", 0, NEG), _pair("B", 1, NEG), _pair("B", 0, NEG)]
    better, worse = [0.9, 0.5, 0.7, 0.7, 0.1], [0.9, 0.95, 0.7, 0.7, 0.8]
    cmp = compare_pairwise(pairs, worse, better, n_resamples=500)
    # worse: A loses to 0.95 and beats 0.7, B loses to 0.8 -> anchor rates 1/2 and 0; better: 1 and 1
    assert (cmp.mean_a, cmp.mean_b, cmp.n_queries) == (pytest.approx(0.25), 1.0, 2)
    assert cmp.difference.value == pytest.approx(0.75)
    assert compare_pairwise(pairs, better, better).p_value == 1.0
    with pytest.raises(InputError, match="no anchor"):
        compare_pairwise(pairs[-1:], [0.1], [0.2])


def test_evaluate_pairs_matches_the_plain_functions():
    result = evaluate_pairs(PAIRS, SCORES, n_resamples=300)
    by_cat = {c.category: c for c in result.categories}
    assert list(by_cat) == ["negation", "numeric"]
    neg = by_cat["negation"]
    assert (neg.n_near_miss, neg.n_positive, neg.n_anchors) == (3, 2, 2)
    assert neg.pairwise_accuracy.value == pytest.approx(0.75)
    # negation AUROC: positives {0.9, 0.7} vs near-misses {0.5, 0.7, 0.1} -> (3 + 2 + 0.5 tie) / 6
    assert neg.auroc.value == pytest.approx(5.5 / 6)
    # numeric has no positive of its own: AUROC against all positives {0.9, 0.7} vs {0.95} -> 0
    assert by_cat["numeric"].auroc.value == pytest.approx(0.0) and by_cat["numeric"].n_positive == 2
    # one threshold for the set: TAR 95% of {0.9, 0.7} -> 0.7; FAR(negation) = 1/3 (the 0.7 tie)
    assert result.threshold == pytest.approx(0.7)
    assert neg.far_at_tar.value == pytest.approx(1 / 3)
    assert result.overall.far_at_tar.value == pytest.approx(far_at_tar([p.label for p in PAIRS], SCORES))
    assert result.overall.auroc.value == pytest.approx(auroc([p.label for p in PAIRS], SCORES))
    for c in [*result.categories, result.overall]:
        for ci in (c.pairwise_accuracy, c.auroc, c.far_at_tar):
            assert ci is None or ci.low - 1e-12 <= ci.value <= ci.high + 1e-12
    assert evaluate_pairs(PAIRS, SCORES, n_resamples=300) == result  # seeded


def test_evaluate_pairs_without_shared_anchors_reports_no_pairwise_accuracy():
    pairs = [_pair("A", 1, NEG), _pair("B", 0, NEG)]
    result = evaluate_pairs(pairs, [0.8, 0.3], n_resamples=50)
    assert result.categories[0].pairwise_accuracy is None and result.categories[0].n_anchors == 0
    assert result.categories[0].auroc.value == 1.0


def test_bad_scores_are_refused():
    with pytest.raises(InputError, match="one score per pair"):
        evaluate_pairs(PAIRS, SCORES[:-1])
    with pytest.raises(InputError, match="NaN"):
        evaluate_pairs(PAIRS, [*SCORES[:-1], float("nan")])


def test_public_api_is_pinned():
    import verirank.eval as ev

    assert sorted(ev.__all__) == [
        "CategoryScores", "ConfidenceInterval", "CosineScorer", "PairScorer", "PairSetScores", "PairedComparison",
        "ProfileConfig", "ProfileReport", "ReportFiles", "RunEvaluation", "auroc", "bootstrap_ci", "compare_pairwise",
        "compare_runs", "evaluate_pairs", "evaluate_run", "far_at_tar", "make_scorer", "paired_randomization_test",
        "pairwise_accuracy", "per_query_scores", "run_profile", "threshold_at_tar", "write_report"]
    assert all(getattr(ev, name) is not None for name in ev.__all__)
