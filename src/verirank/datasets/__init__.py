"""Loaders for the evaluation data: BEIR retrieval sets, shipped pair sets, generated near-miss sets.

Nothing is read at import; the data directory is resolved on each call (``root=`` argument,
else ``$VERIRANK_DATA``, else ``../shared/data`` beside the repository).
"""

from __future__ import annotations

from verirank.datasets._root import ENV_VAR, data_root, has_data_root
from verirank.datasets.beir import (
    RELEVANCE_SETS,
    CorpusFile,
    RetrievalSet,
    load_beir,
    load_corpus,
    load_qrels,
    load_queries,
)
from verirank.datasets.handwritten import load_handwritten
from verirank.datasets.human import HUMAN_SETS, load_human_pairs
from verirank.datasets.pairs import HANS_HEURISTIC_CATEGORY, PAIR_SETS, load_pairs, sample_pairs
from verirank.datasets.testset import (
    NearMissTestset,
    TestsetManifest,
    corpus_sentences,
    nearmiss_testset,
    split_sentences,
)

__all__ = [
    "CorpusFile",
    "ENV_VAR",
    "HANS_HEURISTIC_CATEGORY",
    "HUMAN_SETS",
    "NearMissTestset",
    "PAIR_SETS",
    "RELEVANCE_SETS",
    "RetrievalSet",
    "TestsetManifest",
    "corpus_sentences",
    "data_root",
    "has_data_root",
    "load_beir",
    "load_corpus",
    "load_handwritten",
    "load_human_pairs",
    "load_pairs",
    "load_qrels",
    "load_queries",
    "nearmiss_testset",
    "sample_pairs",
    "split_sentences",
]
