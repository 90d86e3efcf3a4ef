"""Shipped pair sets (CANNOT, HANS, MRPC) as :class:`NearMissPair` with verirank's label convention.

verirank: ``label 1`` = the text states the same as the anchor (paraphrase / entailment),
``label 0`` = a near-miss. Each source is mapped as follows.

* **cannot** (``cannot/cannot_pairs.jsonl.gz``): its label 1 means the hypothesis *negates* the
  premise, so it becomes our label 0; its label 0 rows (antonym substitutions that keep the
  meaning, "not correct" / "incorrect") become our label 1. Category ``negation`` for both;
  ``source = "cannot:<component>"``. Training use allowed (CC BY-SA 4.0).
* **hans** (``hans/hans_regenerated.jsonl.gz``): entailment -> 1, non-entailment -> 0;
  ``source = "hans:<subcase>"``. Category by heuristic (:data:`HANS_HEURISTIC_CATEGORY`):
  ``lexical_overlap`` (subject/object swap, passive, conjunction, relative clause, preposition:
  the same words with the arguments reassigned) -> ``role_reversal``; ``subsequence`` (a
  predicate read off the wrong noun: PP / relative clause on the subject, NP/S, NP/Z, past
  participle) -> ``binding``; ``constituent`` (a clause the premise only embeds under if/unless,
  "or", a hedging adverb or a non-factive verb) is **skipped**: that is modality, not one of
  verirank's structural categories, and labelling it ``negation`` would pollute that category.
  The file is a regeneration with the official templates, not the official HANS eval set.
* **mrpc** (``mrpc/mrpc_pairs.jsonl.gz``): paraphrase -> 1, not paraphrase -> 0. MRPC negatives
  are topical non-paraphrases, not structural near-misses, so every MRPC pair gets category
  ``match`` ("no structural category") and ``source = "mrpc:<split>"``. Evaluation only
  (Microsoft research-use terms): never train the shipped checkpoint on it.

``split``: MRPC has its own ``train``/``test``. CANNOT and HANS have none; ``train``/``dev``/
``test`` is an 80/10/10 split by a stable hash of the anchor, so an anchor never crosses splits.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from verirank.datasets._root import data_root, require_file
from verirank.errors import ConfigError, InputError
from verirank.types import Category, NearMissPair

log = logging.getLogger(__name__)

PAIR_SETS = ("cannot", "hans", "mrpc")
PAIR_FILES = {
    "cannot": "cannot/cannot_pairs.jsonl.gz",
    "hans": "hans/hans_regenerated.jsonl.gz",
    "mrpc": "mrpc/mrpc_pairs.jsonl.gz",
}
HASH_SPLITS = {"train": (0, 80), "dev": (80, 90), "test": (90, 100)}
HANS_HEURISTIC_CATEGORY: dict[str, Category | None] = {
    "lexical_overlap": Category.ROLE_REVERSAL,
    "subsequence": Category.BINDING,
    "constituent": None,  # skipped: modality / factivity, no verirank category
}


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8") as f:
            for line_no, line in enumerate(f, start=1):
                if line.strip():
                    yield line_no, json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line is not valid JSON ({exc.msg}); is the file complete?") from exc
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc}); is the file truncated or not gzip?") from exc


def _hash_bucket(anchor: str) -> int:
    return int.from_bytes(hashlib.blake2b(anchor.encode("utf-8"), digest_size=8).digest(), "big") % 100


def _field(rec: dict[str, Any], key: str, path: Path, line_no: int) -> Any:
    if key not in rec:
        raise InputError(f"{path}:{line_no}: record has no {key!r} field; is this the right file?")
    return rec[key]


def _cannot(rec: dict[str, Any], path: Path, n: int) -> NearMissPair | None:
    negates = int(_field(rec, "label", path, n)) == 1
    return NearMissPair(
        anchor=_field(rec, "premise", path, n), text=_field(rec, "hypothesis", path, n),
        label=0 if negates else 1, category=Category.NEGATION, source=f"cannot:{rec.get('source', '')}",
    )


def _hans(rec: dict[str, Any], path: Path, n: int) -> NearMissPair | None:
    heuristic = _field(rec, "heuristic", path, n)
    if heuristic not in HANS_HEURISTIC_CATEGORY:
        raise InputError(f"{path}:{n}: unknown HANS heuristic {heuristic!r}; expected {sorted(HANS_HEURISTIC_CATEGORY)}")
    category = HANS_HEURISTIC_CATEGORY[heuristic]
    if category is None:
        return None
    return NearMissPair(
        anchor=_field(rec, "premise", path, n).replace(" .", ".").replace(" ,", ","),
        text=_field(rec, "hypothesis", path, n).replace(" .", ".").replace(" ,", ","),
        label=int(_field(rec, "label", path, n)), category=category, source=f"hans:{rec.get('subcase', '')}",
    )


def _mrpc(rec: dict[str, Any], path: Path, n: int) -> NearMissPair | None:
    return NearMissPair(
        anchor=_field(rec, "sentence1", path, n), text=_field(rec, "sentence2", path, n),
        label=int(_field(rec, "label", path, n)), category=Category.MATCH, source=f"mrpc:{rec.get('split', '')}",
    )


_CONVERTERS = {"cannot": _cannot, "hans": _hans, "mrpc": _mrpc}


def load_pairs(name: str, split: str | None = None, *, root: str | Path | None = None) -> list[NearMissPair]:
    """Load a shipped pair set (``"cannot"``, ``"hans"``, ``"mrpc"``) as labelled pairs.

    See the module docstring for the label/category mapping and what ``split`` means per set.
    """
    if name not in PAIR_SETS:
        raise ConfigError(f"unknown pair set {name!r}; choose one of {PAIR_SETS}")
    valid = ("train", "test") if name == "mrpc" else tuple(HASH_SPLITS)
    if split is not None and split not in valid:
        raise ConfigError(f"split={split!r} for {name}; choose one of {valid} or None (all rows)")
    path = require_file(data_root(root) / PAIR_FILES[name], f"{name} pair file")
    convert = _CONVERTERS[name]
    pairs: list[NearMissPair] = []
    skipped = 0
    for line_no, rec in _records(path):
        if name == "mrpc" and split is not None and rec.get("split") != split:
            continue
        pair = convert(rec, path, line_no)
        if pair is None:
            skipped += 1
            continue
        if name != "mrpc" and split is not None:
            lo, hi = HASH_SPLITS[split]
            if not lo <= _hash_bucket(pair.anchor) < hi:
                continue
        pairs.append(pair)
    if skipped:
        log.info("%s: skipped %d rows whose subcase maps to no verirank category", name, skipped)
    return pairs


def sample_pairs(pairs: Sequence[NearMissPair], n: int, seed: int = 0) -> list[NearMissPair]:
    """About ``n`` pairs, half near-misses and half positives where the set allows, by whole anchors.

    Anchors are visited in a seeded random order and all their pairs kept while a label they
    carry is still short of its quota, so anchors that have both a positive and a near-miss
    (what pairwise accuracy needs) survive the sampling.
    """
    if n <= 0:
        raise ConfigError(f"sample size n={n}; give a positive number of pairs")
    groups: dict[str, list[NearMissPair]] = defaultdict(list)
    for pair in pairs:
        groups[pair.anchor].append(pair)
    anchors = sorted(groups)
    random.Random(seed).shuffle(anchors)
    have_labels = {p.label for p in pairs}
    quota = {label: (n // len(have_labels) if have_labels else 0) for label in have_labels}
    taken: list[NearMissPair] = []
    for anchor in anchors:
        if all(q <= 0 for q in quota.values()):
            break
        group = groups[anchor]
        if any(quota[p.label] > 0 for p in group):
            taken.extend(group)
            for p in group:
                quota[p.label] -= 1
    return taken
