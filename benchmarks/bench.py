"""verirank's performance benchmark: every figure of BENCHMARKS.md from one run.

    nice -n 10 python benchmarks/bench.py --seed 0              # full run (~30-60 min on 2 busy cores)
    python benchmarks/bench.py --quick --out-dir /tmp/bench     # <= 2 min, same record structure

Sections (``--sections`` picks some): encoder throughput (torch fp32 vs ONNX int8), ANN search
(embedded exact vs usearch HNSW on synthetic vectors), stage-2 verification latency (candidates,
document length, level; torch vs ONNX runtimes), the verifier against a MiniLM-L6 cross-encoder
and a plain stage-1 re-encoding, end-to-end queries over a 100k-document index, storage and
build throughput, peak RSS. Writes ``<out-dir>/bench-<time>.json`` (+ ``bench-latest.json``) and
renders the markdown (``--markdown``; default BENCHMARKS.md at the repo root for a full run).
Timings are min/median of repeats; ratios are of medians measured in this run, interleaved.
No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import bench_e2e
import bench_sections as sections
from bench_report import render
from harness import new_record, write_record

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("encoder", "ann", "verify", "cross", "e2e")

FULL = {
    "encoder_docs": 256, "encoder_docs_batch1": 64, "encoder_repeats": 2, "query_repeats": 30,
    "ann_sizes": [10_000, 100_000, 1_000_000], "ann_queries": 100,
    "verify_candidates": [10, 50, 100, 200], "verify_doc_tokens": [32, 128, 256], "verify_repeats": 10,
    "verify_doc_candidates": 100,
    "cross_candidates": 100, "cross_repeats": 3,
    "e2e_real_docs": 2000, "e2e_docs": 100_000, "e2e_queries": 60, "e2e_subprocess": True,
}
QUICK = {
    "encoder_docs": 8, "encoder_docs_batch1": 2, "encoder_repeats": 1, "query_repeats": 2,
    "ann_sizes": [2_000], "ann_queries": 10,
    "verify_candidates": [10, 20], "verify_doc_tokens": [32, 128], "verify_repeats": 1,
    "verify_doc_candidates": 5,
    "cross_candidates": 5, "cross_repeats": 1,
    "e2e_real_docs": 8, "e2e_docs": 500, "e2e_queries": 2, "e2e_subprocess": False,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (<= 2 min); same record structure")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    ap.add_argument("--ann-sizes", default=None, help="comma-separated corpus sizes for the ANN section")
    ap.add_argument("--e2e-docs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="intra-op threads for torch and ONNX Runtime alike (default 1: on a shared, busy "
                         "2-core machine two torch threads ran 3-10x slower than one); 0 = library defaults")
    ap.add_argument("--merge", nargs="+", default=None, metavar="RECORD",
                    help="render BENCHMARKS.md from these records (later sections override earlier) and exit")
    ap.add_argument("--out-dir", default=str(ROOT / "reports" / "bench"))
    ap.add_argument("--markdown", default=None, help="where to render the table (default: BENCHMARKS.md at the "
                    "repo root for a full run, <out-dir>/BENCHMARKS.md for --quick)")
    ap.add_argument("--note", default=None, help="a sentence rendered under the title (with --merge)")
    ap.add_argument("--e2e-child", default=None, help=argparse.SUPPRESS)  # internal: the measured process
    args = ap.parse_args()
    if args.merge:
        merged = merge_records([json.loads(Path(p).read_text()) for p in args.merge])
        merged["note"] = args.note
        markdown = Path(args.markdown) if args.markdown else ROOT / "BENCHMARKS.md"
        incremental = ROOT / "reports" / "bench" / "index_incremental.json"
        markdown.write_text(render(merged, incremental if incremental.exists() else None,
                                   record_paths=[Path(p) for p in args.merge]))
        print(markdown.read_text())
        return
    sections.set_threads(args.threads)
    if args.e2e_child:
        print(json.dumps(bench_e2e.e2e_queries(json.loads(args.e2e_child))))
        return
    sizes = dict(QUICK if args.quick else FULL)
    if args.ann_sizes:
        sizes["ann_sizes"] = [int(x) for x in args.ann_sizes.split(",")]
    if args.e2e_docs:
        sizes["e2e_docs"] = args.e2e_docs
    wanted = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")

    record = new_record("bench", {"quick": args.quick, "seed": args.seed, "threads": args.threads,
                                  "sections": wanted, "sizes": sizes})
    out_dir = Path(args.out_dir)
    context = sections.Context(seed=args.seed, sizes=sizes, threads=args.threads)
    runners = {"encoder": sections.encoder, "ann": sections.ann, "verify": sections.verify,
               "cross": sections.cross, "e2e": lambda ctx: e2e(ctx, out_dir)}
    for name in wanted:
        started = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        record["sections"][name] = runners[name](context)
        record["sections"][name]["wall_s"] = time.perf_counter() - started
        print(f"[bench] {name} done in {record['sections'][name]['wall_s']:.0f} s", file=sys.stderr, flush=True)
    record["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = write_record(record, out_dir)
    markdown = Path(args.markdown) if args.markdown else (out_dir if args.quick else ROOT) / "BENCHMARKS.md"
    incremental = ROOT / "reports" / "bench" / "index_incremental.json"
    text = render(record, incremental if incremental.exists() else None, record_paths=[path])
    markdown.write_text(text)
    print(text)
    print(f"record: {path}\nmarkdown: {markdown}", file=sys.stderr)


def merge_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One record from several runs (e.g. the ANN section run beside the others); the first run's
    machine info and args, every run's sections, the span of their times."""
    merged = dict(records[0])
    merged["sections"] = {}
    for record in records:
        merged["sections"].update(record["sections"])
    merged["started_utc"] = min(r["started_utc"] for r in records)
    merged["finished_utc"] = max(r.get("finished_utc", r["started_utc"]) for r in records)
    merged["merged_from"] = [r["started_utc"] for r in records]
    return merged


def e2e(ctx: sections.Context, out_dir: Path) -> dict[str, Any]:
    """Build the large index in this process; measure queries and RSS in a fresh one (full run)."""
    built = bench_e2e.e2e_build(ctx)
    job = {"index_dir": built["index_dir"], "queries": ctx.sizes["e2e_queries"], "seed": ctx.seed, "threads": ctx.threads}
    try:
        if ctx.sizes["e2e_subprocess"]:
            proc = subprocess.run([sys.executable, __file__, "--threads", str(ctx.threads), "--e2e-child",
                                   json.dumps(job)], check=True,
                                  capture_output=True, text=True)
            measured = json.loads(proc.stdout.strip().splitlines()[-1])
            measured["process"] = "a fresh Python process that opens the index and runs the queries"
        else:
            measured = bench_e2e.e2e_queries(job, ctx)
            measured["process"] = "the benchmark process itself (--quick)"
    finally:
        sections.remove_tree(built.pop("tmp_root"))
    built.update(measured)
    built.pop("index_dir")
    return built


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
