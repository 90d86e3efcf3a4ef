"""Fixtures for eval tests: a mini data root and a tiny fake near-miss generator.

The fake stands in for ``verirank.nearmiss.generate`` (owned elsewhere) so profile tests check
the report plumbing, not the generator.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest

from verirank.types import Category, NearMissPair

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAIR_FILES = {"cannot": "cannot/cannot_pairs.jsonl.gz", "hans": "hans/hans_regenerated.jsonl.gz",
              "mrpc": "mrpc/mrpc_pairs.jsonl.gz"}


@pytest.fixture
def mini_data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for name, rel in PAIR_FILES.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress((FIXTURES / "pairs" / f"{name}.jsonl").read_bytes()))
    shutil.copytree(FIXTURES / "beir_tiny", root / "tiny")
    return root


def fake_generate(texts: Sequence[str], categories: Sequence[Category] | None = None, *, seed: int = 0,
                  positives: bool = True, per_category: int = 1, max_words: int | None = None) -> list[NearMissPair]:
    """Negation by prefix, role reversal by swapping the first and last word, positive by rewording."""
    cats = list(categories) if categories else [Category.NEGATION, Category.ROLE_REVERSAL]
    out = []
    for text in texts:
        words = text.rstrip(".").split()
        made = {
            Category.NEGATION: "It is not true that " + text,
            Category.ROLE_REVERSAL: " ".join([words[-1], *words[1:-1], words[0]]) + ".",
        }
        for cat in cats:
            if cat in made:
                out.append(NearMissPair(anchor=text, text=made[cat], label=0, category=cat, source="fake", seed=seed))
                if positives:
                    out.append(NearMissPair(anchor=text, text="In short, " + text, label=1, category=cat,
                                            source="fake", seed=seed))
    return out


@pytest.fixture
def fake_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("verirank.nearmiss.generate")
    module.generate = fake_generate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "verirank.nearmiss.generate", module)
