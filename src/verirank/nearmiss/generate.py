"""Generate near-misses (label 0) and paraphrase positives (label 1) for any English text.

A passage is split into sentences by the parser; one sentence is rewritten and the rest kept
verbatim, so spans are in passage coordinates. Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from verirank._version import __version__
from verirank.nearmiss import binding, comparative, exclusion, negation, numeric, paraphrase, role_reversal, spatial
from verirank.nearmiss._nlp import nlp
from verirank.nearmiss.base import Perturbation
from verirank.types import Category, NearMissPair, Span

PERTURBERS: dict[Category, Callable[[Any, random.Random], Perturbation | None]] = {
    Category.NEGATION: negation.perturb,
    Category.ROLE_REVERSAL: role_reversal.perturb,
    Category.SPATIAL: spatial.perturb,
    Category.BINDING: binding.perturb,
    Category.COMPARATIVE: comparative.perturb,
    Category.NUMERIC: numeric.perturb,
    Category.EXCLUSION: exclusion.perturb,
}


def _rng(seed: int, text: str, salt: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{salt}\x00{text}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _in_passage(sentence: Any, pert: Perturbation, passage: str) -> tuple[str, Span, Span]:
    """Lift a sentence-level rewrite into the whole passage."""
    offset = sentence.start_char
    text = passage[:offset] + pert.text + passage[offset + len(sentence.text_with_ws) :]
    src = Span(start=pert.source_span.start + offset, end=pert.source_span.end + offset, text=pert.source_span.text)
    tgt = Span(start=pert.target_span.start + offset, end=pert.target_span.end + offset, text=pert.target_span.text)
    return text, src, tgt


def perturb_text(doc: Any, category: Category, rng: random.Random) -> tuple[str, Span, Span] | None:
    """Apply one category to one sentence of ``doc`` (seeded choice among the sentences it fits)."""
    fn = paraphrase.perturb if category is Category.MATCH else PERTURBERS[category]
    sentences = list(doc.sents)
    rng.shuffle(sentences)
    for sent in sentences:
        pert = fn(sent.as_doc(), rng)
        if pert is not None:
            return _in_passage(sent, pert, doc.text)
    return None


def generate(
    texts: Sequence[str],
    categories: Sequence[Category] | None = None,
    *,
    seed: int = 0,
    positives: bool = True,
    per_category: int = 1,
    batch_size: int = 64,
    n_process: int = 1,
) -> list[NearMissPair]:
    """Near-misses per text and category (at most ``per_category`` each) and paraphrase positives."""
    cats = [Category(c) for c in categories] if categories is not None else Category.near_misses()
    unique = [t for t in dict.fromkeys(texts) if isinstance(t, str) and t.strip()]
    pairs: list[NearMissPair] = []
    for doc in nlp().pipe(unique, batch_size=batch_size, n_process=n_process):
        made: set[str] = set()
        found_near = False
        for cat in cats:
            for n in range(per_category):
                out = perturb_text(doc, cat, _rng(seed, doc.text, f"{cat.value}:{n}"))
                if out is None or out[0] in made:
                    continue
                made.add(out[0])
                found_near = True
                pairs.append(NearMissPair(anchor=doc.text, text=out[0], label=0, category=cat, anchor_span=out[1],
                                          text_span=out[2], source="generator", seed=seed))
        if positives and found_near:
            out = perturb_text(doc, Category.MATCH, _rng(seed, doc.text, "paraphrase"))
            if out is not None and out[0] not in made:
                pairs.append(NearMissPair(anchor=doc.text, text=out[0], label=1, category=Category.MATCH,
                                          anchor_span=out[1], text_span=out[2], source="generator", seed=seed))
    return pairs


def write_testset(pairs: Sequence[NearMissPair], path: str | Path, **info: Any) -> Path:
    """Write pairs as JSONL plus ``<name>.manifest.json`` (source, counts per category, seed, version)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for pair in pairs:
            f.write(pair.model_dump_json() + "\n")
    counts = Counter(f"{p.category.value}:{'positive' if p.label else 'near_miss'}" for p in pairs)
    manifest = {"generator": "verirank.nearmiss", "version": __version__, "pairs": len(pairs),
                "counts": dict(sorted(counts.items())), **info}
    path.with_suffix(".manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
    return path
