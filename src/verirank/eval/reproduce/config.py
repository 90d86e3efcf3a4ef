"""One frozen config per reproduction scale: every size, step count and seed the run reads."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from verirank.datasets.beir import RELEVANCE_SETS
from verirank.errors import ConfigError


@dataclass(frozen=True)
class ReproConfig:
    scale: str = "full"
    seed: int = 0
    collections: tuple[str, ...] = RELEVANCE_SETS
    max_corpus_docs: int = 300  # larger corpora: the chosen queries' judged documents first, then a seeded sample
    paradox_queries: int = 50  # seeded judged queries per collection for A/B/A' (0: all)
    stage2_queries: int = 15  # the first of those queries, scored by every stage-2 system
    rerank_depth: int = 20  # stage-1 hits each reranker reorders (the depth the shipped rerank was tuned at)
    stage1_k: int = 100
    nearmiss_pairs: int = 400  # pairs per human test set (sample_pairs, whole anchors)
    dev_pairs: int = 200  # pairs per human dev set: the threshold of best balanced accuracy
    generated_anchors: int = 900  # held-out anchors (MRPC/SNLI/PAWS test) the generator perturbs
    # bi-encoder fine-tuning (B and A')
    finetune_steps: int = 40
    finetune_batch: int = 32
    finetune_max_len: int = 64
    finetune_lr: float = 3e-5
    mnrl_scale: float = 10.0
    # cross-encoder
    cross_steps: int = 60
    cross_batch: int = 16
    cross_max_len: int = 96
    cross_lr: float = 3e-5
    cross_infer_max_len: int = 128
    # small CNN over the token cosine map (F0/F1's input), on the cross-encoder's pairs
    cnn_steps: int = 400
    cnn_batch: int = 32
    cnn_lr: float = 1e-3
    # cost
    latency_queries: int = 2
    latency_repeats: int = 1
    latency_candidates: tuple[int, ...] = (10, 50, 100)
    bootstrap: int = 1000

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def run_dir(self, root: str | Path = "runs/reproduce") -> Path:
        return Path(root) / self.scale


SCALES: dict[str, ReproConfig] = {
    "full": ReproConfig(),
    # --quick: under 10 minutes on one thread
    "quick": ReproConfig(scale="quick", collections=("cranfield", "limit-small"), max_corpus_docs=200,
                         paradox_queries=20, stage2_queries=10, nearmiss_pairs=60, dev_pairs=40, generated_anchors=60,
                         finetune_steps=10, finetune_batch=8, cross_steps=10, cross_batch=8, cnn_steps=40, cnn_batch=16,
                         latency_queries=2, latency_repeats=1, latency_candidates=(10, 100), bootstrap=200),
    # what CI runs (a slow-marked test): the whole chain on the smallest inputs
    "smoke": ReproConfig(scale="smoke", collections=("limit-small",), max_corpus_docs=46, stage2_queries=4,
                         paradox_queries=20,
                         nearmiss_pairs=16, dev_pairs=16, generated_anchors=6, finetune_steps=2,
                         finetune_batch=4, cross_steps=2, cross_batch=4, cross_infer_max_len=64, cnn_steps=3, cnn_batch=4,
                         latency_queries=1, latency_repeats=1, latency_candidates=(10,), bootstrap=50),
}


def load_config(scale: str, **overrides: object) -> ReproConfig:
    if scale not in SCALES:
        raise ConfigError(f"scale={scale!r}; choose one of {sorted(SCALES)}")
    try:
        return replace(SCALES[scale], **overrides)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ConfigError(f"{exc}; overrides must be ReproConfig fields") from None
