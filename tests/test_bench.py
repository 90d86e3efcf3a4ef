"""``benchmarks/bench.py --quick`` runs every section and writes a well-formed record (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


@pytest.mark.slow
def test_bench_quick_writes_record_and_markdown(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    if not (DATA / "npl" / "corpus.jsonl.gz").exists() or not (DATA / "cranfield").exists():
        pytest.skip(f"shared corpora not found under {DATA}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--threads", "1",
                           "--out-dir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "bench-latest.json").read_text())
    assert record["format"] == "verirank-bench" and record["args"]["quick"] is True
    assert {"cpu_model", "logical_cpus", "versions", "load_avg_at_start"} <= set(record["machine"])
    s = record["sections"]
    assert set(s) == {"encoder", "ann", "verify", "cross", "e2e"}
    for batch in ("1", "16", "64"):
        assert {"torch-fp32", "onnx-int8", "onnx_over_torch"} <= set(s["encoder"]["throughput"][batch])
    assert {"min", "median"} <= set(s["encoder"]["query_encode_ms"]["torch-fp32"])
    run = s["ann"]["runs"]["2000"]
    assert 0.0 <= run["hnsw"]["recall_at_10"] <= 1.0 and "median" in run["exact"]["search_ms"]
    assert set(s["verify"]["by_candidates"]) == {"10/light", "10/full", "20/light", "20/full"}
    assert set(s["verify"]["by_candidates"]["10/full"]) == {"torch", "onnx-fp32", "onnx-int8"}
    assert set(s["verify"]["by_doc_tokens"]) == {"32", "128"}
    assert s["cross"]["cross_over_verifier-torch"] > 0 and s["cross"]["reencode_over_verifier-torch"] > 0
    assert s["cross"]["cross_over_verifier-torch-yes-no-question"] > 0
    e2e = s["e2e"]
    assert e2e["docs"] == 500 and e2e["build"]["docs_per_s"] > 0 and e2e["peak_rss_mb"] > 0
    assert {"p50", "p95"} <= set(e2e["latency_ms"]["full, 100 candidates"])
    assert e2e["large_index"]["bytes_per_document"]["total"] > 0
    markdown = (tmp_path / "BENCHMARKS.md").read_text()
    assert "## Targets" in markdown and "## End to end" in markdown
    assert "a yes/no question read both ways" in markdown
