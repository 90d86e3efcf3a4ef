"""Evaluation: IR and near-miss metrics, pair scorers, the corpus profile and its report.

Importing this package loads numpy and pydantic only; ranx and matplotlib load on first use.
"""

from __future__ import annotations

from verirank.eval.metrics import (
    CategoryScores,
    ConfidenceInterval,
    PairedComparison,
    PairSetScores,
    RunEvaluation,
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
from verirank.eval.profile import ProfileConfig, ProfileReport, run_profile
from verirank.eval.report import ReportFiles, write_report
from verirank.eval.scoring import CosineScorer, PairScorer, make_scorer

__all__ = [
    "CategoryScores",
    "ConfidenceInterval",
    "CosineScorer",
    "PairScorer",
    "PairSetScores",
    "PairedComparison",
    "ProfileConfig",
    "ProfileReport",
    "ReportFiles",
    "RunEvaluation",
    "auroc",
    "bootstrap_ci",
    "compare_pairwise",
    "compare_runs",
    "evaluate_pairs",
    "evaluate_run",
    "far_at_tar",
    "make_scorer",
    "paired_randomization_test",
    "pairwise_accuracy",
    "per_query_scores",
    "run_profile",
    "threshold_at_tar",
    "write_report",
]
