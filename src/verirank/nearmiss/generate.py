"""Generate near-misses (label 0) and paraphrase positives (label 1) for any English text.

A passage is split into sentences by the parser; one sentence is rewritten and the rest kept
verbatim, so spans are in passage coordinates. Deterministic for a seed: every random choice
comes from a generator seeded by (seed, text, category, index).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from verirank._version import __version__
from verirank.nearmiss import (
    binding, comparative, exclusion, guards, negation, numeric, paraphrase, role_reversal, spatial,
)
from verirank.nearmiss._nlp import model_id, nlp
from verirank.nearmiss.base import Perturbation
from verirank.types import Category, NearMissPair, Span

Perturber = Callable[[Any, random.Random], Perturbation | None]
PERTURBERS: dict[Category, Perturber] = {
    Category.NEGATION: negation.perturb,
    Category.ROLE_REVERSAL: role_reversal.perturb,
    Category.SPATIAL: spatial.perturb,
    Category.BINDING: binding.perturb,
    Category.COMPARATIVE: comparative.perturb,
    Category.NUMERIC: numeric.perturb,
    Category.EXCLUSION: exclusion.perturb,
}
MANIFEST_FORMAT = 1


def _rng(seed: int, text: str, salt: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{salt}\x00{text}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _quoted(doc: Any, sent: Any) -> bool:
    """A sentence inside a quotation the parser split up, or the reporting clause split off one
    ('...rebuilding of Iraq." he told reporters.'): rewritten alone, it misreads who says what."""
    before = doc.text[: sent.start_char].rstrip()
    opened = before.count('"') % 2 == 1 or before.count("“") > before.count("”")
    return opened or before.endswith(('"', "”")) and sent.text[:1].islower()


class _Passage:
    """A parsed text with its sentences as stand-alone docs (made once, shared by all categories)."""

    def __init__(self, doc: Any) -> None:
        self.text = doc.text
        self.sentences = []
        for s in doc.sents:
            if s.text.strip() and not _quoted(doc, s):
                sent = s.as_doc()  # its text may keep the trailing space of the last token
                self.sentences.append((s.start_char, s.start_char + len(sent.text), sent))

    def rewrite(self, fn: Perturber, rng: random.Random, category: Category,
                max_words: int | None = None) -> tuple[str, Span, Span] | None:
        """Apply ``fn`` to one sentence (tried in a seeded order) whose rewrite passes the context
        guards, and lift the result into the passage."""
        order = list(range(len(self.sentences)))
        rng.shuffle(order)
        for k in order:
            start, end, sent = self.sentences[k]
            pert = fn(sent, rng)
            if pert is None or not guards.accepts(category, sent, self.text, pert, max_words):
                continue
            text = self.text[:start] + pert.text + self.text[end:]
            src = Span(start=pert.source_span.start + start, end=pert.source_span.end + start, text=pert.source_span.text)
            tgt = Span(start=pert.target_span.start + start, end=pert.target_span.end + start, text=pert.target_span.text)
            return text, src, tgt
        return None


def generate(
    texts: Sequence[str],
    categories: Sequence[Category] | None = None,
    *,
    seed: int = 0,
    positives: bool = True,
    per_category: int = 1,
    n_process: int = 1,
    batch_size: int = 64,
    max_words: int | None = None,
) -> list[NearMissPair]:
    """Near-misses (label 0) for each text and category, at most ``per_category`` each, plus positives.

    With ``positives``, each text that got a near-miss also gets up to ``per_category`` paraphrases
    (label 1), emitted once per category it has near-misses in, with that ``category``: so a
    per-category metric can ask for "accept the paraphrase and reject the near-miss".  Categories a
    text does not support are skipped (no broken sentence is ever emitted).  Empty and duplicate
    texts are dropped.  Deterministic for ``seed``.

    Rewrites also pass the context guards of ``verirank.nearmiss.guards``: by default each category
    rewrites sentences of at most ``guards.MAX_WORDS[category]`` words (the audited precision);
    ``max_words`` sets one limit for all categories instead (0: no limit, more yield, less valid).
    """
    cats = [Category(c) for c in categories] if categories is not None else Category.near_misses()
    if Category.MATCH in cats:
        raise ValueError("Category.MATCH is not a near-miss category; ask for positives with positives=True")
    if per_category < 1:
        raise ValueError(f"per_category={per_category}; give 1 or more")
    if max_words is not None and max_words < 0:
        raise ValueError(f"max_words={max_words}; give 0 (no limit) or more, or None for the audited defaults")
    unique = [t for t in dict.fromkeys(texts) if isinstance(t, str) and t.strip()]
    pairs: list[NearMissPair] = []
    for doc in nlp().pipe(unique, batch_size=batch_size, n_process=n_process):
        passage = _Passage(doc)
        made: set[str] = {doc.text}
        near: list[NearMissPair] = []
        for cat in cats:
            for n in range(per_category):
                out = passage.rewrite(PERTURBERS[cat], _rng(seed, doc.text, f"{cat.value}:{n}"), cat, max_words)
                if out is None or out[0] in made:
                    continue
                made.add(out[0])
                near.append(NearMissPair(anchor=doc.text, text=out[0], label=0, category=cat, anchor_span=out[1],
                                         text_span=out[2], source="generator", seed=seed))
        pairs += near
        if not positives or not near:
            continue
        paraphrases = []
        for n in range(per_category):
            out = passage.rewrite(paraphrase.perturb, _rng(seed, doc.text, f"paraphrase:{n}"), Category.MATCH,
                                  max_words)
            if out is not None and out[0] not in made:
                made.add(out[0])
                paraphrases.append(out)
        for cat in dict.fromkeys(p.category for p in near):
            pairs += [NearMissPair(anchor=doc.text, text=text, label=1, category=cat, anchor_span=src,
                                   text_span=tgt, source="generator", seed=seed) for text, src, tgt in paraphrases]
    return pairs


def write_jsonl(pairs: Sequence[NearMissPair], path: str | Path) -> Path:
    """Write one ``NearMissPair`` JSON object per line (atomically: temp file, then rename)."""
    path = Path(path)
    _atomic_write(path, "".join(pair.model_dump_json() + "\n" for pair in pairs))
    return path


def write_manifest(pairs: Sequence[NearMissPair], path: str | Path, **info: Any) -> Path:
    """Write a test set's manifest JSON: format, generator and library version, seeds, counts.

    ``counts`` is per category, ``{"near_miss": n, "positive": n}``; ``info`` (e.g. the corpus
    name) is stored as given and must be JSON-serialisable.
    """
    counts: dict[str, Counter[str]] = {}
    for pair in pairs:
        counts.setdefault(pair.category.value, Counter())["positive" if pair.label else "near_miss"] += 1
    sources = sorted({p.source for p in pairs})
    manifest = {
        "format": MANIFEST_FORMAT,
        "generator": "verirank.nearmiss",
        "library_version": __version__,
        "parser": model_id(),
        "source": sources[0] if len(sources) == 1 else sources,
        "seeds": sorted({p.seed for p in pairs if p.seed is not None}),
        "pairs": len(pairs),
        "anchors": len({p.anchor for p in pairs}),
        "counts": {c: {"near_miss": v["near_miss"], "positive": v["positive"]} for c, v in sorted(counts.items())},
        **info,
    }
    path = Path(path)
    _atomic_write(path, json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return path


def write_testset(pairs: Sequence[NearMissPair], path: str | Path, **info: Any) -> Path:
    """Write ``path`` (JSONL pairs) and ``<path stem>.manifest.json`` beside it; returns ``path``."""
    path = Path(path)
    write_jsonl(pairs, path)
    write_manifest(pairs, path.with_suffix(".manifest.json"), file=path.name, **info)
    return path


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
