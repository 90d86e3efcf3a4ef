"""`make demo` keeps working: the shipped corpus indexes and the demo script runs end to end."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_demo_corpus_has_near_miss_clusters_and_queries_point_into_it():
    rows = [json.loads(line) for line in (EXAMPLES / "demo_corpus.jsonl").read_text().splitlines()]
    ids = {r["_id"] for r in rows}
    assert len(rows) == len(ids) >= 150
    kinds = {r["metadata"]["kind"] for r in rows}
    assert {"fact", "filler", "negation", "role_reversal", "spatial", "binding", "comparative", "numeric",
            "exclusion"} <= kinds
    for query in json.loads((EXAMPLES / "demo_queries.json").read_text()):
        assert query["expects"] in ids and set(query["trap"]) <= ids and set(query.get("answers", [])) <= ids
        assert not set(query["trap"]) & set(query.get("answers", []))


@pytest.mark.slow
def test_demo_script_runs(capsys):
    module = runpy.run_path(str(EXAMPLES / "demo.py"))
    assert module["main"]() == 0
    out = capsys.readouterr().out
    assert "verified (full)" in out and "near-miss" in out
