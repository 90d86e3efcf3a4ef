"""Index the npl corpus (11,426 abstracts) with the torch and ONNX encoders, same run.

    python benchmarks/index_npl.py --out reports/bench/index_npl.json

Reports docs/s for each runtime (encoding + token head + index writes) and bytes per
document on disk (vector + compact token states + text + metadata).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import verirank
from verirank.corpus import read_documents

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(DATA / "npl" / "corpus.jsonl.gz"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", default="reports/bench/index_npl.json")
    args = ap.parse_args()
    docs = list(read_documents(args.corpus))[: args.limit]
    results = {"corpus": args.corpus, "documents": len(docs), "runs": {}}
    for runtime in ("torch", "onnx"):
        tmp = Path(tempfile.mkdtemp())
        try:
            started = time.perf_counter()
            pipe = verirank.Pipeline.default(tmp / "ix", runtime=runtime, autocommit=False)
            for lo in range(0, len(docs), 256):
                pipe.add(docs[lo : lo + 256], batch_size=64)
            pipe.index.commit()
            elapsed = time.perf_counter() - started
            info = pipe.info()
            results["runs"][runtime] = {"seconds": elapsed, "docs_per_s": len(docs) / elapsed,
                                        "bytes_per_document": info.bytes_per_document,
                                        "token_dim": info.token_dim, "token_dtype": info.token_dtype,
                                        "truncated_documents": info.truncated_documents}
            print(runtime, json.dumps(results["runs"][runtime]), flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    results["onnx_over_torch_speed"] = results["runs"]["onnx"]["docs_per_s"] / results["runs"]["torch"]["docs_per_s"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
