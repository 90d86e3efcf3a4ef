"""The reproduction's inputs: capped relevance collections and the near-miss pair sets.

Held-out near-miss sets (never trained on, never set a threshold): the ``test`` splits of PAWS,
SNLI, counterfactual SNLI, Breaking NLI and VSR (by image), the hand-written triples, and
near-misses generated from the anchors of held-out human paraphrase pairs (MRPC test, SNLI test,
PAWS test), each scored against the anchor's human paraphrases. Thresholds for both-correct come
from the ``dev`` splits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from verirank.datasets import load_beir, load_handwritten
from verirank.datasets.human import HUMAN_SETS, load_human_pairs
from verirank.datasets.pairs import sample_pairs
from verirank.eval.reproduce.config import ReproConfig
from verirank.types import NearMissPair

HUMAN_FAMILY = "human"
GENERATED_FAMILY = "generated"


@dataclass(frozen=True)
class Collection:
    name: str
    doc_ids: list[str]
    doc_texts: list[str]
    queries: dict[str, str]  # every judged query (or the first ``paradox_queries`` of the seeded order)
    stage2_queries: list[str]  # the seeded subset every stage-2 system scores
    qrels: dict[str, dict[str, int]]
    n_docs_full: int


def load_collection(name: str, cfg: ReproConfig) -> Collection:
    """A seeded subset of the judged queries (``paradox_queries``; 0 = all) and a corpus of at most
    ``max_corpus_docs``: the documents judged for those queries first, then the rest, each part in
    seeded order. Judgements of documents left out are dropped, and so are queries left with no
    relevant document (every system sees the same corpus and queries, so comparisons stay paired)."""
    data = load_beir(name)
    rng = random.Random(cfg.seed)
    qids = sorted(data.judged_queries)
    rng.shuffle(qids)
    if cfg.paradox_queries:
        qids = qids[: max(cfg.paradox_queries, cfg.stage2_queries)]
    docs = data.corpus
    if len(docs) > cfg.max_corpus_docs:
        judged = {d for q in qids for d, g in data.qrels.get(q, {}).items() if g > 0}
        first = [d for d in docs if d.id in judged]
        rest = [d for d in docs if d.id not in judged]
        rng.shuffle(first)
        rng.shuffle(rest)
        chosen = {d.id for d in (first + rest)[: cfg.max_corpus_docs]}
        docs = [d for d in docs if d.id in chosen]
    kept = {d.id for d in docs}
    qrels = {q: {d: g for d, g in data.qrels.get(q, {}).items() if d in kept} for q in qids}
    qids = [q for q in qids if any(g > 0 for g in qrels[q].values())]
    return Collection(name, [d.id for d in docs], [d.text for d in docs], {q: data.queries[q] for q in qids},
                      sorted(qids[: cfg.stage2_queries]), {q: qrels[q] for q in qids}, len(data.corpus))


def pair_to_json(p: NearMissPair) -> dict:
    return {"anchor": p.anchor, "text": p.text, "label": p.label, "category": p.category.value, "source": p.source}


def pair_from_json(row: dict) -> NearMissPair:
    return NearMissPair(**row)


def nearmiss_sets(cfg: ReproConfig) -> dict[str, list[dict]]:
    """Held-out sets by name (JSON rows), plus ``dev`` (the dev splits, for thresholds)."""
    sets: dict[str, list[NearMissPair]] = {}
    for name in HUMAN_SETS:
        sets[f"{name}_test"] = sample_pairs(load_human_pairs(name, "test"), cfg.nearmiss_pairs, seed=cfg.seed)
    sets["handwritten"] = load_handwritten()
    sets["generated_heldout"] = generated_set(cfg)
    sets["dev"] = [p for name in HUMAN_SETS
                   for p in sample_pairs(load_human_pairs(name, "dev"), cfg.dev_pairs, seed=cfg.seed)]
    return {k: [pair_to_json(p) for p in v] for k, v in sets.items()}


def generated_set(cfg: ReproConfig) -> list[NearMissPair]:
    """Generator near-misses (``verirank.nearmiss``) of held-out anchors that have a human paraphrase,
    kept beside those paraphrases: the generator's own paraphrases are too rare on these sentences to
    give pairwise accuracy. Anchors are sampled evenly from MRPC, SNLI and PAWS test splits."""
    from verirank.datasets import load_pairs
    from verirank.nearmiss.generate import generate

    rng = random.Random(cfg.seed)
    positives: dict[str, list[NearMissPair]] = {}
    for pairs in (load_pairs("mrpc", "test"), load_human_pairs("snli", "test"), load_human_pairs("paws", "test")):
        by_anchor: dict[str, list[NearMissPair]] = {}
        for p in pairs:
            if p.label == 1 and 4 <= len(p.anchor.split()) <= 40:
                by_anchor.setdefault(p.anchor, []).append(p)
        anchors = sorted(by_anchor)
        for a in rng.sample(anchors, min(len(anchors), cfg.generated_anchors // 3)):
            positives[a] = [NearMissPair(anchor=a, text=p.text, label=1, category=p.category, source=p.source)
                            for p in by_anchor[a]]
    near = [p for p in generate(list(positives), seed=cfg.seed, positives=False)]
    out = list(near)
    for a in dict.fromkeys(p.anchor for p in near):
        out += positives[a]
    return out


def family(set_name: str) -> str:
    return GENERATED_FAMILY if set_name.startswith("generated") else HUMAN_FAMILY
