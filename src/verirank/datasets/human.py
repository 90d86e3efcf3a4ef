"""Human-written pair sets (PAWS, SNLI, counterfactual SNLI, Breaking NLI, VSR) as :class:`NearMissPair`.

verirank's convention: ``label 1`` = the text states the same as the anchor, ``label 0`` = a
near-miss. A near-miss whose kind is not one of verirank's categories gets ``Category.MATCH``
("no structural category"), as MRPC negatives do. Every set has ``train`` / ``dev`` / ``test``
splits; ``dev`` is the calibration split (never trained on), ``test`` is held out for reported
figures (never trained on, never sets a threshold):

* **paws**: ``sentence1`` is the anchor. Label 1 -> positive; label 0 -> ``role_reversal`` when
  both sentences hold the same words (a pure swap), else ``match``. train / dev = PAWS dev split
  by anchor hash (90 / 10); test = PAWS test split.
* **snli**: premise is the anchor; entailment -> positive, contradiction -> near-miss
  (``match``), neutral skipped. train / dev = SNLI dev split by premise hash; test = SNLI test.
* **cad_nli**: humans rewrote one side minimally so the label flips. Anchor = the side that was
  kept: the premise for original + revised-hypothesis rows, the hypothesis for original +
  revised-premise rows. Entailment -> positive, contradiction -> near-miss (``match``). Splits
  are the dataset's own (train / dev / test).
* **breaking_nli**: premise is the anchor, one word replaced. Synonyms (entailment) ->
  positive; cardinals and ordinals -> ``numeric``; antonyms -> ``comparative`` when the new word
  is graded (-er/-est, more/less), else ``negation``; colours and materials -> ``binding``; other
  replacements (countries, drinks, rooms, ...) -> ``match``. Splits by premise hash (80/10/10).
* **vsr**: captions "The A <relation> the B." of one image. Two true captions naming the same two
  objects are paraphrases (label 1); a false caption about them is a ``spatial`` near-miss.
  Anchor = a true caption. Splits **by image** hash (80/10/10), so an image never crosses splits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from verirank.datasets._root import data_root, require_file
from verirank.datasets.pairs import HASH_SPLITS, _field, _hash_bucket, _records
from verirank.errors import ConfigError
from verirank.types import Category, NearMissPair

HUMAN_SETS = ("paws", "snli", "cad_nli", "breaking_nli", "vsr")
HUMAN_FILES = {
    "paws": "paws/paws_wiki_final.jsonl.gz",
    "snli": "snli/snli_dev_test.jsonl.gz",
    "cad_nli": "cad_nli/cad_snli.jsonl.gz",
    "breaking_nli": "breaking_nli/breaking_nli.jsonl.gz",
    "vsr": "vsr/vsr_captions.jsonl.gz",
}
SPLITS = ("train", "dev", "test")
NLI_LABEL = {"entailment": 1, "contradiction": 0}  # neutral: neither the same statement nor a near-miss
BREAKING_CATEGORY = {
    "cardinals": Category.NUMERIC, "ordinals": Category.NUMERIC,
    "colors": Category.BINDING, "materials": Category.BINDING,
}
GRADED_WORDS = {"more", "less", "fewer", "most", "least", "better", "worse", "best", "worst"}
_DETOKENIZE = [(re.compile(r"`` ?"), '"'), (re.compile(r" ?''"), '"'), (re.compile(r" ([.,;:!?%)'])"), r"\1"),
               (re.compile(r"([($]) "), r"\1"), (re.compile(r" (n't|'s|'re|'ll|'ve|'d|'m)\b"), r"\1")]

Rows = Iterator[tuple[int, dict[str, Any]]]


def detokenize(text: str) -> str:
    """Undo PTB-style spacing (``word ,`` -> ``word,``) of tokenized corpora."""
    text = text.strip()
    for pattern, repl in _DETOKENIZE:
        text = pattern.sub(repl, text)
    return text


def _hash_split(key: str) -> str:
    bucket = _hash_bucket(key)
    return next(name for name, (lo, hi) in HASH_SPLITS.items() if lo <= bucket < hi)


def _dev_or_train(key: str) -> str:
    """Sets whose released split trains: 90% train, 10% dev by a stable hash of ``key``."""
    return "dev" if _hash_bucket(key) >= 90 else "train"


def _paws(rows: Rows, path: Path, split: str | None) -> list[NearMissPair]:
    out = []
    for n, rec in rows:
        anchor, text = detokenize(_field(rec, "sentence1", path, n)), detokenize(_field(rec, "sentence2", path, n))
        released = _field(rec, "split", path, n)
        mine = "test" if released == "test" else _dev_or_train(anchor)
        if split is not None and mine != split:
            continue
        label = int(_field(rec, "label", path, n))
        same_words = sorted(re.findall(r"\w+", anchor.lower())) == sorted(re.findall(r"\w+", text.lower()))
        category = Category.ROLE_REVERSAL if label == 0 and same_words else Category.MATCH
        out.append(NearMissPair(anchor=anchor, text=text, label=label, category=category, source=f"paws:{mine}"))
    return out


def _snli(rows: Rows, path: Path, split: str | None) -> list[NearMissPair]:
    out = []
    for n, rec in rows:
        label = NLI_LABEL.get(_field(rec, "gold_label", path, n))
        if label is None:
            continue
        anchor, text = detokenize(_field(rec, "premise", path, n)), detokenize(_field(rec, "hypothesis", path, n))
        mine = "test" if _field(rec, "split", path, n) == "test" else _dev_or_train(anchor)
        if split is None or mine == split:
            out.append(NearMissPair(anchor=anchor, text=text, label=label, category=Category.MATCH,
                                    source=f"snli:{mine}"))
    return out


def _cad(rows: Rows, path: Path, split: str | None) -> list[NearMissPair]:
    out: dict[tuple[str, str], NearMissPair] = {}
    for n, rec in rows:
        label = NLI_LABEL.get(_field(rec, "gold_label", path, n))
        mine, part = _field(rec, "split", path, n), _field(rec, "part", path, n)
        if label is None or (split is not None and mine != split):
            continue
        premise, hypothesis = _field(rec, "premise", path, n).strip(), _field(rec, "hypothesis", path, n).strip()
        kept_sides = {"original": ((premise, hypothesis), (hypothesis, premise)),
                      "revised_hypothesis": ((premise, hypothesis),), "revised_premise": ((hypothesis, premise),)}
        for anchor, text in kept_sides.get(part, ()):
            if anchor and text and anchor != text:
                out[(anchor, text)] = NearMissPair(anchor=anchor, text=text, label=label, category=Category.MATCH,
                                                   source=f"cad_nli:{part}")
    return list(out.values())


def _replaced_word(premise: str, hypothesis: str) -> str:
    before = set(re.findall(r"[a-z]+", premise.lower()))
    new = [w for w in re.findall(r"[a-z]+", hypothesis.lower()) if w not in before]
    return new[0] if new else ""


def _breaking(rows: Rows, path: Path, split: str | None) -> list[NearMissPair]:
    out = []
    for n, rec in rows:
        label = NLI_LABEL.get(_field(rec, "gold_label", path, n))
        anchor, text = _field(rec, "premise", path, n).strip(), _field(rec, "hypothesis", path, n).strip()
        if label is None or (split is not None and _hash_split(anchor) != split):
            continue
        kind = _field(rec, "category", path, n)
        if kind.startswith("antonyms"):
            word = _replaced_word(anchor, text)
            graded = word in GRADED_WORDS or (len(word) > 4 and word.endswith(("er", "est")))
            category = Category.COMPARATIVE if graded else Category.NEGATION
        else:
            category = BREAKING_CATEGORY.get(kind, Category.MATCH)
        out.append(NearMissPair(anchor=anchor, text=text, label=label, category=category,
                                source=f"breaking_nli:{kind}"))
    return out


def vsr_objects(caption: str, relation: str) -> tuple[str, str] | None:
    """("laptop", "train") from "The laptop is inside the train." with relation "inside"."""
    match = re.match(rf"^the (.+?) (?:is |are )?{re.escape(relation)} (?:the |a |an )?(.+?)\.?$", caption.strip().lower())
    return (match.group(1), match.group(2)) if match else None


def _vsr(rows: Rows, path: Path, split: str | None) -> list[NearMissPair]:
    groups: dict[tuple[str, frozenset[str]], dict[int, list[str]]] = defaultdict(lambda: {0: [], 1: []})
    for n, rec in rows:
        image, caption = _field(rec, "image", path, n), _field(rec, "caption", path, n).strip()
        if split is not None and _hash_split(image) != split:
            continue
        objects = vsr_objects(caption, _field(rec, "relation", path, n))
        if objects is None or objects[0] == objects[1]:
            continue
        side = groups[(image, frozenset(objects))][int(_field(rec, "label", path, n))]
        if caption not in side:
            side.append(caption)
    out = []
    for (image, _), captions in sorted(groups.items(), key=lambda item: (item[0][0], sorted(item[0][1]))):
        for anchor in captions[1]:
            out += [NearMissPair(anchor=anchor, text=t, label=1, category=Category.SPATIAL, source=f"vsr:{image}")
                    for t in captions[1] if t != anchor]
            out += [NearMissPair(anchor=anchor, text=t, label=0, category=Category.SPATIAL, source=f"vsr:{image}")
                    for t in captions[0]]
    return out


_CONVERTERS: dict[str, Callable[[Rows, Path, str | None], list[NearMissPair]]] = {
    "paws": _paws, "snli": _snli, "cad_nli": _cad, "breaking_nli": _breaking, "vsr": _vsr,
}


def load_human_pairs(name: str, split: str | None = None, *, root: str | Path | None = None) -> list[NearMissPair]:
    """Load a human-written pair set (see the module docstring for labels, categories and splits)."""
    if name not in HUMAN_SETS:
        raise ConfigError(f"unknown human pair set {name!r}; choose one of {HUMAN_SETS}")
    if split is not None and split not in SPLITS:
        raise ConfigError(f"split={split!r} for {name}; choose one of {SPLITS} or None (all rows)")
    path = require_file(data_root(root) / HUMAN_FILES[name], f"{name} pair file")
    return _CONVERTERS[name](_records(path), path, split)
