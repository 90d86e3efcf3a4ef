"""The verifier's training and calibration groups, built from the shipped data.

Identity mode (v2): human-written pairs first (PAWS, SNLI, counterfactual SNLI, Breaking NLI, VSR,
HANS, CANNOT; their ``train`` splits), plus near-misses and paraphrases the generator makes from
those sets' own short sentences (a minority of every batch, see ``TrainConfig.source_weights``).
Relevance mode: inverse-cloze groups from training corpora (``verifier.data``), and groups whose
negatives break a constraint of the query: exclusions and questions (``verifier.relevance_groups``).

Calibration uses the ``dev`` splits of the same human sets; ``test`` splits are never read here,
and any training pair whose text also appears in a held-out split is dropped.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verirank.datasets import load_handwritten, load_pairs
from verirank.datasets.human import HUMAN_SETS, load_human_pairs
from verirank.types import Category, NearMissPair
from verirank.verifier import data as vdata

log = logging.getLogger(__name__)

GENERATED = "generated"
SWAPS = "swaps"
SWAP_SOURCES = ("paws", "snli", "cad_nli", "breaking_nli", "vsr")  # human sentences the swap rules rewrite
PAIR_SOURCES = ("cannot", "hans")  # sets read through ``datasets.load_pairs`` (hash splits)


def load_source(name: str, split: str, root: str) -> list[NearMissPair]:
    if name in HUMAN_SETS:
        return load_human_pairs(name, split, root=root)
    return load_pairs(name, split, root=root)


def heldout_texts(sources: Iterable[str], root: str) -> set[str]:
    """Every text of a held-out split (``test``) and of the hand-written triples."""
    texts: set[str] = set()
    for name in sources:
        for p in load_source(name, "test", root):
            texts.update((p.anchor, p.text))
    for p in load_handwritten():
        texts.update((p.anchor, p.text))
    return texts


def identity_examples(pairs: Iterable[NearMissPair], source: str) -> list[vdata.Example]:
    """Group pairs by anchor. A near-miss whose category is ``match`` (no structural category)
    gets category -1 (unknown); positives get ``match``."""
    groups: dict[str, vdata.Example] = {}
    for p in pairs:
        ex = groups.setdefault(p.anchor, vdata.Example(vdata.MODE_INDEX["identity"], p.anchor, source=source))
        if p.text in ex.candidates:
            continue
        if p.label == 1:
            category = vdata.CATEGORY_INDEX["match"]
        else:
            category = vdata.UNKNOWN if p.category is Category.MATCH else vdata.CATEGORY_INDEX[p.category.value]
        ex.add(p.text, p.label, category)
    return [ex for ex in groups.values() if ex.candidates]


def merge_generated(human: list[vdata.Example], generated: list[vdata.Example]) -> list[vdata.Example]:
    """Generated near-misses of a human anchor join its group (next to the human paraphrases);
    the rest stay groups of their own, with source ``generated``."""
    by_query = {ex.query: ex for ex in human}
    rest = []
    for ex in generated:
        target = by_query.get(ex.query)
        if target is None:
            rest.append(ex)
            continue
        for text, label, category in zip(ex.candidates, ex.labels, ex.categories):
            if text not in target.candidates and text != ex.query:
                target.add(text, label, category)
    return human + rest


def generator_anchors(pairs_by_source: dict[str, list[NearMissPair]], limit: int, rng: random.Random) -> list[str]:
    """Short concrete sentences from the human sets (anchors and their positives) for the generator."""
    texts = [t for pairs in pairs_by_source.values() for p in pairs for t in (p.anchor, p.text) if p.label == 1]
    texts = [t for t in dict.fromkeys(texts) if 4 <= len(t.split()) <= 30]
    rng.shuffle(texts)
    return texts[:limit]


def build_identity(cfg: Any, report: Callable[[str], None] = log.info) -> list[vdata.Example]:
    """Identity groups from the ``train`` splits of ``cfg.identity_sources`` plus generated ones."""
    from verirank.nearmiss.generate import generate

    rng = random.Random(cfg.seed)
    held = heldout_texts(cfg.identity_sources, cfg.data_root)
    pairs_by_source = {}
    for name in cfg.identity_sources:
        pairs = [p for p in load_source(name, "train", cfg.data_root) if p.anchor not in held and p.text not in held]
        pairs_by_source[name] = pairs
        report(f"{name}: {len(pairs)} training pairs")
    human = [ex for name, pairs in pairs_by_source.items() for ex in identity_examples(pairs, name)]
    anchors = [a for a in generator_anchors(pairs_by_source, cfg.max_generator_anchors, rng) if a not in held]
    made = [p for p in generate(anchors, seed=cfg.seed, positives=True) if p.text not in held]
    generated = identity_examples(made, GENERATED)
    for ex in generated:  # the anchor restated verbatim: a cheap positive where the generator gave none
        if 1 not in ex.labels:
            ex.add(ex.query, 1, vdata.CATEGORY_INDEX["match"])
    report(f"generator: {len(made)} pairs from {len(anchors)} anchors")
    swapped = swap_examples([ex for ex in human if ex.source in SWAP_SOURCES], held, cfg.swap_categories)
    report(f"swaps: {len(swapped)} groups, {sum(ex.labels.count(0) for ex in swapped)} near-misses")
    return merge_generated(human, generated) + swapped


def swap_examples(human: Sequence[vdata.Example], held: set[str], categories: Sequence[str] = ("role_reversal",
                  "binding", "spatial"), positives: int = 1) -> list[vdata.Example]:
    """Word-order near-misses of human anchors (``verifier.swaps``), each group holding the anchor
    verbatim and up to ``positives`` of its human paraphrases: the contrast a swap needs."""
    from verirank.nearmiss._nlp import nlp
    from verirank.verifier.swaps import swaps

    by_query = {ex.query: ex for ex in human}
    groups: dict[str, vdata.Example] = {}
    for anchor, text, category in swaps(nlp().pipe(list(by_query), batch_size=256), categories):
        if text in held:
            continue
        if anchor not in groups:
            ex = groups[anchor] = vdata.Example(vdata.MODE_INDEX["identity"], anchor, source=SWAPS)
            ex.add(anchor, 1, vdata.CATEGORY_INDEX["match"])
            source = by_query[anchor]
            paraphrases = [t for t, label in zip(source.candidates, source.labels) if label == 1 and t != anchor]
            for t in paraphrases[:positives]:
                ex.add(t, 1, vdata.CATEGORY_INDEX["match"])
        if text not in groups[anchor].candidates:
            groups[anchor].add(text, 0, vdata.CATEGORY_INDEX[category])
    return list(groups.values())


def build_calibration(cfg: Any) -> list[vdata.Example]:
    """Identity groups from the ``dev`` splits: calibration and dev metrics, never trained on."""
    return [ex for name in cfg.identity_sources
            for ex in identity_examples(load_source(name, "dev", cfg.data_root), name)]


def read_corpus(root: str, name: str) -> list[dict]:
    """A training corpus's documents; lisa's upper-case text lowered (the parser and the encoder
    both prefer normal case)."""
    docs = vdata.read_jsonl_gz(Path(root) / name / "corpus.jsonl.gz")
    if name == "lisa":
        docs = [{**d, "title": (d.get("title") or "").lower(), "text": (d.get("text") or "").lower()} for d in docs]
    return docs


def build_relevance(cfg: Any, encoder: Any, report: Callable[[str], None] = log.info) -> list[vdata.Example]:
    """Inverse-cloze relevance groups from ``cfg.relevance_corpora`` with stage-1 hard negatives."""
    overlap = set(cfg.relevance_corpora) & set(cfg.heldout_corpora)
    if overlap:
        raise ValueError(f"corpora {sorted(overlap)} are both trained on and held out; pick one")
    rng = random.Random(cfg.seed)
    perturb = vdata.generator_perturb(cfg.seed)
    relevance: list[vdata.Example] = []
    for name in cfg.relevance_corpora:
        docs = [d for d in read_corpus(cfg.data_root, name) if len(vdata.doc_text(d).split()) >= 5]
        rng.shuffle(docs)
        docs = docs[: cfg.max_docs_per_corpus]
        queries = vdata.ict_queries(docs, rng)
        rng.shuffle(queries)
        queries = queries[: cfg.max_relevance_queries_per_corpus]
        doc_vecs = encoder.encode(vdata.doc_texts(docs), batch_size=64).pooled
        query_vecs = encoder.encode([q.query for q in queries], batch_size=64).pooled
        neighbours = np.argsort(-(query_vecs @ doc_vecs.T), axis=1)[:, :24]
        relevance += vdata.relevance_examples(queries, docs, neighbours, perturb, rng, source=name)
        report(f"{name}: {len(queries)} ICT queries -> {len(relevance)} relevance groups so far")
    return relevance


def build_constraint_relevance(cfg: Any, ict_train: Sequence[vdata.Example], ict_dev: Sequence[vdata.Example],
                               report: Callable[[str], None] = log.info) -> dict[str, list[vdata.Example]]:
    """Groups with constraint-violating negatives (``verifier.relevance_groups``): relevance ``train``
    and ``dev`` (exclusion groups follow their inverse-cloze query's side of the split; question,
    statement and direction groups, all from the ``train`` splits of the human sets, are split by
    query text), and the ``identity`` groups that go with them (questions against their negations,
    route sentences against their swaps)."""
    from verirank.nearmiss._nlp import nlp
    from verirank.verifier import relevance_groups as rg

    rng = random.Random(cfg.seed)
    stop = nlp().Defaults.stop_words
    train, dev = rg.exclusion_examples(ict_train, rng, stop), rg.exclusion_examples(ict_dev, rng, stop)
    report(f"exclusion groups: {len(train)} train, {len(dev)} dev")
    held = heldout_texts(cfg.identity_sources, cfg.data_root)
    sources = cfg.identity_sources if cfg.direction_groups else [n for n in rg.QUESTION_SOURCES if n in cfg.identity_sources]
    pairs = {name: [p for p in load_source(name, "train", cfg.data_root) if p.anchor not in held and p.text not in held]
             for name in sources}  # direction groups read every human set, questions only QUESTION_SOURCES
    lexicon = None
    if cfg.wordnet:
        from verirank.verifier.lexicon import ensure

        lexicon = ensure(cfg.wordnet)
    groups = rg.question_examples({name: pairs[name] for name in rg.QUESTION_SOURCES if name in pairs}, held,
                                  cfg.question_swaps, negations=cfg.question_negations,
                                  statements=cfg.statement_groups, identity=cfg.question_identity,
                                  lexicon=lexicon, seed=cfg.seed)
    if cfg.direction_groups:
        texts = [t for ps in pairs.values() for p in ps for t in (p.anchor, p.text)]
        groups += rg.direction_examples(texts + corpus_sentences(cfg), held)
    relevance = vdata.MODE_INDEX["relevance"]
    identity = [ex for ex in groups if ex.mode != relevance]
    q_train, q_dev = vdata.split_dev([ex for ex in groups if ex.mode == relevance], cfg.dev_fraction, cfg.seed)
    if cfg.question_opposites:  # each twin on its question's side of the split
        q_train, q_dev = (part + rg.opposite_question_examples(part, held) for part in (q_train, q_dev))
    report(f"question, statement and direction groups: {len(q_train)} train, {len(q_dev)} dev "
           f"({sum(ex.labels.count(0) for ex in q_train + q_dev)} constraint-violating passages); "
           f"identity groups beside them: {len(identity)}")
    return {"train": train + q_train, "dev": dev + q_dev, "identity": identity}


def corpus_sentences(cfg: Any) -> list[str]:
    """The sentences of the training corpora's documents (``read_corpus``)."""
    from verirank.datasets.testset import split_sentences

    return [s for name in cfg.relevance_corpora for doc in read_corpus(cfg.data_root, name)
            for s in split_sentences(vdata.doc_text(doc))]


def sample_groups(pools: dict[str, Sequence[vdata.Example]], weights: dict[str, float], n: int,
                  rng: random.Random) -> list[vdata.Example]:
    """``n`` groups drawn source by source in proportion to ``weights`` (balanced batches)."""
    names = [s for s in pools if pools[s] and weights.get(s, 0) > 0]
    chosen = rng.choices(names, weights=[weights[s] for s in names], k=n)
    return [rng.choice(pools[s]) for s in chosen]
