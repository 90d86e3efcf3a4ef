"""Fixtures: a mini data root in the shipped layout, built from tests/fixtures (pair files gzipped)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAIR_FILES = {"cannot": "cannot/cannot_pairs.jsonl.gz", "hans": "hans/hans_regenerated.jsonl.gz",
              "mrpc": "mrpc/mrpc_pairs.jsonl.gz"}


def build_data_root(root: Path) -> Path:
    for name, rel in PAIR_FILES.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress((FIXTURES / "pairs" / f"{name}.jsonl").read_bytes()))
    shutil.copytree(FIXTURES / "beir_tiny", root / "tiny")
    return root


@pytest.fixture
def mini_data_root(tmp_path: Path) -> Path:
    return build_data_root(tmp_path / "data")
