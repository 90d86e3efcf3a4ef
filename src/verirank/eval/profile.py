"""Profile a corpus: stage-1 relevance (if judged queries are given) and near-miss robustness.

``run_profile(ProfileConfig(...)) -> ProfileReport``; :mod:`verirank.eval.report` renders it.
Near-miss sets: generated from the user's corpus (needs the ``nearmiss`` extra), the 70
hand-written triples inside the package (a paraphrase and a near-miss for every anchor, so every
category gets a pairwise accuracy) and, when the data directory is there, held-out samples of the
shipped pair sets (cannot, hans, mrpc).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from verirank._version import __version__
from verirank.errors import ConfigError, InputError
from verirank.eval.metrics import PairSetScores, RunEvaluation, evaluate_pairs, evaluate_run
from verirank.eval.scoring import PairScorer, ProgressCallback, VerifierScorerFactory, make_scorer
from verirank.types import Document, Level, NearMissPair

log = logging.getLogger(__name__)

SHIPPED_SETS = ("cannot", "hans", "mrpc")
HIST_BINS = 30


@dataclass(frozen=True)
class ProfileConfig:
    """Everything a profile run reads; the ``verirank profile`` options map onto these fields."""

    corpus: str
    queries: str | None = None
    qrels: str | None = None
    level: str = "off"
    runtime: str = "torch"
    max_docs: int | None = None
    seed: int = 0
    generated_anchors: int = 2000  # corpus sentences sampled; rarer categories apply to ~1-5% of them
    max_words: int | None = None  # generator's sentence-length limit (None: audited per-category defaults; 0: none)
    handwritten: bool = True  # score the hand-written triples shipped in the package
    shipped_pairs: int = 300  # pairs sampled from each shipped set's held-out split
    shipped_sets: tuple[str, ...] = SHIPPED_SETS
    shipped_split: str = "test"  # held-out split of each shipped set (see load_pairs), or "all"
    data_root: str | None = None  # None: $VERIRANK_DATA, else ../shared/data beside the repo
    top_k: int = 100
    n_resamples: int = 1000
    tar: float = 0.95
    worst_examples: int = 10
    batch_size: int = 64

    def validate(self) -> None:
        if (self.queries is None) != (self.qrels is None):
            raise ConfigError("give both --queries and --qrels for the relevance evaluation, or neither")
        for field in ("generated_anchors", "shipped_pairs", "top_k", "n_resamples", "batch_size"):
            if getattr(self, field) < 0 or (field in ("top_k", "batch_size") and getattr(self, field) == 0):
                raise ConfigError(f"{field}={getattr(self, field)}; give a positive number")
        if self.max_words is not None and self.max_words < 0:
            raise ConfigError(f"max_words={self.max_words}; give 0 (no limit), a positive word count, or leave it unset")
        if self.max_docs is not None and self.max_docs <= 0:
            raise ConfigError(f"max_docs={self.max_docs}; give a positive number or leave it unset")
        if self.shipped_split not in ("train", "test", "all"):
            raise ConfigError(f"shipped_split={self.shipped_split!r}; choose test (held out), train or all")
        unknown = set(self.shipped_sets) - set(SHIPPED_SETS)
        if unknown:
            raise ConfigError(f"unknown shipped sets {sorted(unknown)}; choose from {SHIPPED_SETS}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScoreHistogram(_Frozen):
    """Score histogram of positives vs near-misses over shared bin edges."""

    edges: list[float]
    positive: list[int]
    near_miss: list[int]


class ScoredExample(_Frozen):
    """A near-miss and its score, with the best positive score of the same anchor if any."""

    anchor: str
    text: str
    category: str
    source: str
    score: float
    anchor_positive_score: float | None


class NearMissSetResult(_Frozen):
    """Metrics of one near-miss pair set under the profile's scorer."""

    name: str
    description: str
    n_pairs: int
    n_anchors: int
    scores: PairSetScores
    histogram: ScoreHistogram
    worst: list[ScoredExample]
    manifest: dict[str, Any] | None = None


class ExclusionResult(_Frozen):
    """The judged queries turned into exclusion queries (``verirank.eval.constraint_set``): does
    the search keep the documents that mention what the query excludes out of its top 10?"""

    n_queries: int
    rule: str
    evaluation: RunEvaluation  # on the exclusion judgements (documents mentioning the term: grade 0)
    violating_in_top10: float  # share of violating documents the search puts in its top 10


class RelevanceResult(_Frozen):
    """Retrieval quality on judged queries (at the profiled level), and on their exclusion variants."""

    n_documents: int
    n_queries: int
    top_k: int
    evaluation: RunEvaluation
    exclusion: ExclusionResult | None = None


class ProfileReport(_Frozen):
    """Everything a profile run measured; rendered to markdown/HTML/JSON by :mod:`verirank.eval.report`."""

    verirank_version: str
    created_utc: str
    config: dict[str, Any]
    encoder_id: str
    scorer: str
    level: str
    corpus_documents: int
    relevance: RelevanceResult | None
    nearmiss: list[NearMissSetResult]
    skipped: dict[str, str]  # step -> why it did not run
    timings_s: dict[str, float]


def run_profile(
    config: ProfileConfig, *, scorer: PairScorer | None = None, verifier_factory: VerifierScorerFactory | None = None,
    progress: ProgressCallback | None = None,
) -> ProfileReport:
    """Run every profile step ``config`` asks for; ``progress(step, done, total)`` reports progress."""
    from verirank.datasets import (
        has_data_root, load_corpus, load_handwritten, load_pairs, load_qrels, load_queries, sample_pairs,
    )
    from verirank.encoders import load_encoder

    config.validate()
    level = _level(config.level)
    timings: dict[str, float] = {}
    skipped: dict[str, str] = {}
    started = time.perf_counter()
    corpus = load_corpus(config.corpus)
    docs = list(islice(corpus.documents, config.max_docs))
    if not docs:
        raise InputError(f"{config.corpus} holds no documents; give a corpus with text")
    queries = load_queries(config.queries) if config.queries else None
    qrels = load_qrels(config.qrels) if config.qrels else None
    encoder = load_encoder(config.runtime)
    scorer = scorer or make_scorer(level, encoder, verifier_factory=verifier_factory,
                                   batch_size=config.batch_size, progress=progress)
    timings["load"] = time.perf_counter() - started

    relevance = None
    if queries is not None and qrels is not None:
        started = time.perf_counter()
        verifier = None if level is Level.OFF else getattr(scorer, "verifier", "shipped")
        relevance = _relevance(config, level, encoder, verifier, docs, queries, qrels, progress)
        timings["relevance"] = time.perf_counter() - started
    else:
        skipped["relevance"] = "no --queries/--qrels given"

    sets: list[NearMissSetResult] = []
    started = time.perf_counter()
    if config.generated_anchors > 0:
        generated = _generated_pairs(config, docs, skipped)
        if generated is not None:
            pairs, manifest = generated
            sets.append(_score_set("generated", "near-misses generated from the profiled corpus", pairs, scorer,
                                   config, manifest))
    timings["generated"] = time.perf_counter() - started
    if config.handwritten:
        started = time.perf_counter()
        sets.append(_score_set("handwritten", "70 hand-written triples shipped with verirank, 10 per category "
                               "(an anchor, a reworded paraphrase and a minimal near-miss)", load_handwritten(),
                               scorer, config))
        timings["handwritten"] = time.perf_counter() - started
    for name in config.shipped_sets if config.shipped_pairs > 0 else ():
        if not has_data_root(config.data_root):
            skipped[name] = "data directory not found (set VERIRANK_DATA or --data-root)"
            continue
        started = time.perf_counter()
        split = None if config.shipped_split == "all" else config.shipped_split
        pairs = sample_pairs(load_pairs(name, split, root=config.data_root), config.shipped_pairs, config.seed)
        labels = {p.label for p in pairs}
        if labels != {0, 1}:
            skipped[name] = f"the {config.shipped_split} split has {'no near-miss' if 0 not in labels else 'no positive'}"
            continue
        sets.append(_score_set(name, f"{name} ({config.shipped_split} split, ~{config.shipped_pairs} pairs sampled "
                               f"by anchor, seed {config.seed})", pairs, scorer, config))
        timings[name] = time.perf_counter() - started

    return ProfileReport(
        verirank_version=__version__, created_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        config=_json_config(config), encoder_id=encoder.encoder_id, scorer=scorer.name, level=level.value,
        corpus_documents=len(docs), relevance=relevance, nearmiss=sets, skipped=skipped,
        timings_s={k: round(v, 2) for k, v in timings.items()},
    )


def _level(value: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        raise ConfigError(f"level={value!r}; choose one of {[lv.value for lv in Level]}") from None


def _json_config(config: ProfileConfig) -> dict[str, Any]:
    out = asdict(config)
    out["shipped_sets"] = list(config.shipped_sets)
    return out


def _relevance(
    config: ProfileConfig, level: Level, encoder: Any, verifier: Any, docs: Sequence[Document], queries: dict[str, str],
    qrels: dict[str, dict[str, int]], progress: ProgressCallback | None,
) -> RelevanceResult:
    from verirank.pipeline import Pipeline

    judged = {q: t for q, t in queries.items() if any(g > 0 for g in qrels.get(q, {}).values())}
    if not judged:
        raise InputError(f"none of the {len(queries)} queries has a relevant document in the qrels; "
                         "check that query ids match between the two files")
    pipe = Pipeline.default(encoder=encoder, verifier=verifier)
    step = config.batch_size * 4
    for lo in range(0, len(docs), step):
        pipe.add(docs[lo : lo + step], batch_size=config.batch_size)
        if progress:
            progress("indexing corpus", min(lo + step, len(docs)), len(docs))
    run: dict[str, dict[str, float]] = {}
    for i, (qid, text) in enumerate(judged.items(), start=1):
        run[qid] = {hit.id: hit.score for hit in pipe.search(text, k=config.top_k, level=level)}
        if progress and (i % 10 == 0 or i == len(judged)):
            progress("searching queries", i, len(judged))
    evaluation = evaluate_run(run, qrels, n_resamples=config.n_resamples, seed=config.seed)
    return RelevanceResult(n_documents=len(docs), n_queries=evaluation.n_queries, top_k=config.top_k,
                           evaluation=evaluation, exclusion=_exclusion(config, level, pipe, docs, judged, qrels))


def _exclusion(config: ProfileConfig, level: Level, pipe: Any, docs: Sequence[Document], queries: dict[str, str],
               qrels: dict[str, dict[str, int]]) -> ExclusionResult | None:
    """The same index searched with the exclusion variants of the judged queries (needs spaCy)."""
    from verirank.eval.constraint_set import build_exclusion_queries

    try:
        cs = build_exclusion_queries(docs, queries, qrels, seed=config.seed)
    except ImportError as exc:  # the parser (``nearmiss`` extra) is not installed
        log.warning("exclusion queries skipped: %s", exc)
        return None
    if not cs.queries:
        return None
    run = {qid: {hit.id: hit.score for hit in pipe.search(text, k=config.top_k, level=level)}
           for qid, text in cs.queries.items()}
    found = total = 0
    for qid, violating in cs.violating.items():
        top = sorted(run[qid], key=lambda d: -run[qid][d])[:10]
        found += len(set(top) & set(violating))
        total += len(violating)
    return ExclusionResult(n_queries=len(cs.queries), rule=cs.rule,
                           evaluation=evaluate_run(run, cs.qrels, n_resamples=config.n_resamples, seed=config.seed),
                           violating_in_top10=found / total if total else 0.0)


def _generated_pairs(
    config: ProfileConfig, docs: Sequence[Document], skipped: dict[str, str],
) -> tuple[list[NearMissPair], dict[str, Any]] | None:
    from verirank.datasets import nearmiss_testset

    try:
        testset = nearmiss_testset([d.text for d in docs], seed=config.seed, n=config.generated_anchors,
                                   max_words=config.max_words)
    except ImportError as exc:  # generator or its spaCy extra not installed
        skipped["generated"] = f"near-miss generator unavailable: {exc}"
        log.warning("skipping generated near-misses: %s", exc)
        return None
    if {p.label for p in testset.pairs} != {0, 1}:
        skipped["generated"] = "the generator produced no near-miss or no positive from this corpus"
        return None
    return testset.pairs, testset.manifest.model_dump(mode="json")


def _score_set(
    name: str, description: str, pairs: list[NearMissPair], scorer: PairScorer, config: ProfileConfig,
    manifest: dict[str, Any] | None = None,
) -> NearMissSetResult:
    scores = np.asarray(scorer.score([p.anchor for p in pairs], [p.text for p in pairs]), dtype=np.float64)
    if scores.shape != (len(pairs),):
        raise InputError(f"scorer {scorer.name} returned shape {scores.shape} for {len(pairs)} pairs")
    labels = np.array([p.label for p in pairs])
    return NearMissSetResult(
        name=name, description=description, n_pairs=len(pairs), n_anchors=len({p.anchor for p in pairs}),
        scores=evaluate_pairs(pairs, scores, tar=config.tar, n_resamples=config.n_resamples, seed=config.seed),
        histogram=_histogram(scores, labels), worst=_worst(pairs, scores, config.worst_examples), manifest=manifest,
    )


def _histogram(scores: np.ndarray, labels: np.ndarray) -> ScoreHistogram:
    lo, hi = float(scores.min()), float(scores.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1e-6, HIST_BINS + 1)
    return ScoreHistogram(
        edges=[round(float(e), 6) for e in edges],
        positive=[int(c) for c in np.histogram(scores[labels == 1], edges)[0]],
        near_miss=[int(c) for c in np.histogram(scores[labels == 0], edges)[0]],
    )


def _worst(pairs: Sequence[NearMissPair], scores: np.ndarray, k: int) -> list[ScoredExample]:
    best_positive: dict[str, float] = {}
    for pair, score in zip(pairs, scores):
        if pair.label == 1:
            best_positive[pair.anchor] = max(best_positive.get(pair.anchor, -np.inf), float(score))
    negatives = [i for i, p in enumerate(pairs) if p.label == 0]
    negatives.sort(key=lambda i: -scores[i])
    return [
        ScoredExample(anchor=pairs[i].anchor, text=pairs[i].text, category=pairs[i].category.value,
                      source=pairs[i].source, score=round(float(scores[i]), 6),
                      anchor_positive_score=best_positive.get(pairs[i].anchor))
        for i in negatives[:k]
    ]

