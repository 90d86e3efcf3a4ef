"""Sample generator outputs per category for a human validity audit (fixed seed).

    python benchmarks/audit_nearmiss.py --seed 0 --per-category 200 --out reports/nearmiss_audit

Sources: real sentences from MRPC, CANNOT premises and the cranfield / cisi / med corpora.
Writes CATEGORY.tsv (id, original, rewritten, changed span, valid) with an empty `valid`
column for the reviewer, and yield.json (share of sampled sentences each category applies to).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
from pathlib import Path

from verirank.datasets.testset import split_sentences
from verirank.nearmiss.generate import generate
from verirank.types import Category

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def sentences(seed: int, n: int) -> list[str]:
    out: list[str] = []
    with gzip.open(DATA / "mrpc" / "mrpc_pairs.jsonl.gz", "rt") as f:
        for line in f:
            r = json.loads(line)
            out += [r["sentence1"], r["sentence2"]]
    with gzip.open(DATA / "cannot" / "cannot_pairs.jsonl.gz", "rt") as f:
        out += [json.loads(line)["premise"] for line in f]
    for name in ("cranfield", "cisi", "med"):
        with gzip.open(DATA / name / "corpus.jsonl.gz", "rt") as f:
            for line in f:
                out += split_sentences(json.loads(line)["text"])
    out = [s for s in dict.fromkeys(out) if 5 <= len(s.split()) <= 40]
    random.Random(seed).shuffle(out)
    return out[:n]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-category", type=int, default=200)
    ap.add_argument("--pool", type=int, default=12000)
    ap.add_argument("--out", default="reports/nearmiss_audit")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pool = sentences(args.seed, args.pool)
    pairs = generate(pool, seed=args.seed)
    rng = random.Random(args.seed)
    yields = {}
    for cat in [*Category.near_misses(), Category.MATCH]:
        label = 1 if cat is Category.MATCH else 0
        rows = [p for p in pairs if p.category is cat and p.label == label]
        yields[cat.value] = len({p.anchor for p in rows}) / len(pool)
        sample = rng.sample(rows, min(args.per_category, len(rows)))
        name = "paraphrase" if cat is Category.MATCH else cat.value
        with (out / f"{name}.tsv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter="\t")
            w.writerow(["id", "original", "rewritten", "changed", "valid"])
            for i, p in enumerate(sample):
                w.writerow([i, p.anchor, p.text, p.text_span.text if p.text_span else "", ""])
    (out / "yield.json").write_text(json.dumps({"pool": len(pool), "seed": args.seed, "yield": yields}, indent=2))
    print(json.dumps(yields, indent=2))


if __name__ == "__main__":
    main()
