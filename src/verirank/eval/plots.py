"""Profile figures as PNG bytes (matplotlib, Agg backend, imported on first use)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from verirank.eval.metrics import ConfidenceInterval
from verirank.eval.profile import ProfileReport


def _pyplot() -> Any:
    from verirank._optional import require

    matplotlib = require("matplotlib", extra="eval")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def _bars(ax: Any, x: np.ndarray, intervals: list[ConfidenceInterval | None], width: float, label: str,
          color: str = "C0") -> None:
    """Bars with asymmetric CI whiskers; a missing interval (metric undefined) draws nothing."""
    keep = [i for i, ci in enumerate(intervals) if ci is not None]
    shown = [intervals[i] for i in keep]
    values = np.array([ci.value for ci in shown])  # type: ignore[union-attr]
    low = np.array([ci.value - ci.low for ci in shown])  # type: ignore[union-attr]
    high = np.array([ci.high - ci.value for ci in shown])  # type: ignore[union-attr]
    ax.bar(x[keep], values, width, yerr=[low, high] if keep else None, capsize=3, label=label, color=color)


def relevance_figure(report: ProfileReport) -> bytes | None:
    """nDCG@10 / Recall@100 / MRR@10 bars with 95 % CIs."""
    if report.relevance is None:
        return None
    plt = _pyplot()
    metrics = report.relevance.evaluation.metrics
    fig, ax = plt.subplots(figsize=(5, 3.2))
    names = list(metrics)
    _bars(ax, np.arange(len(names)), [metrics[m] for m in names], 0.6, report.scorer)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylim(0, 1)
    ax.set_title(f"stage-1 relevance (level={report.level}, {report.relevance.n_queries} queries)")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def category_figure(report: ProfileReport) -> bytes | None:
    """Per-category pairwise accuracy (left) and AUROC (right) per near-miss set, with 95 % CIs."""
    if not report.nearmiss:
        return None
    plt = _pyplot()
    categories = sorted({c.category for s in report.nearmiss for c in s.scores.categories})
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 1.4 * len(categories) + 4), 3.6), sharey=True)
    width = 0.8 / len(report.nearmiss)
    x = np.arange(len(categories))
    for metric, ax in zip(("pairwise_accuracy", "auroc"), axes):
        for i, result in enumerate(report.nearmiss):
            by_cat = {c.category: getattr(c, metric) for c in result.scores.categories}
            _bars(ax, x + (i - (len(report.nearmiss) - 1) / 2) * width, [by_cat.get(c) for c in categories],
                  width, result.name, color=f"C{i}")
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xticks(x, categories, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_title(metric.replace("_", " "))
        ax.grid(axis="y", alpha=0.3)
    from matplotlib.patches import Patch

    handles = [Patch(color=f"C{i}", label=r.name) for i, r in enumerate(report.nearmiss)]
    axes[0].legend(handles=handles, fontsize=8, loc="lower left")
    fig.suptitle(f"near-miss separation by category ({report.scorer})", fontsize=10)
    return _png(fig)


def histogram_figure(report: ProfileReport) -> bytes | None:
    """Score histograms, positives (match) vs near-misses, one panel per set."""
    if not report.nearmiss:
        return None
    plt = _pyplot()
    n = len(report.nearmiss)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3), squeeze=False)
    for ax, result in zip(axes[0], report.nearmiss):
        edges = np.array(result.histogram.edges)
        centers, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        ax.bar(centers, result.histogram.positive, width, alpha=0.55, label="match (label 1)")
        ax.bar(centers, result.histogram.near_miss, width, alpha=0.55, label="near-miss (label 0)")
        if result.scores.threshold is not None:
            ax.axvline(result.scores.threshold, color="black", lw=0.8, ls="--",
                       label=f"TAR {result.scores.tar:.0%} threshold")
        ax.set_title(result.name)
        ax.set_xlabel("score")
    axes[0][0].legend(fontsize=7)
    return _png(fig)


def figures(report: ProfileReport) -> dict[str, bytes]:
    """All figures that apply to ``report``: ``name -> PNG bytes``."""
    made = {
        "relevance": relevance_figure(report),
        "categories": category_figure(report),
        "histograms": histogram_figure(report),
    }
    return {name: png for name, png in made.items() if png is not None}
