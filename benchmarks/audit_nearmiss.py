"""Sample generator outputs per category for a human validity audit, and summarise the verdicts.

    python benchmarks/audit_nearmiss.py sample --seed 0 --per-category 200     # writes the TSVs
    (read every row; put 1 or 0 in `valid`, a reason in `note` for each 0)
    python benchmarks/audit_nearmiss.py summarize                             # SUMMARY.md + .json

Sources (../shared/data, gzip JSONL): MRPC sentences, CANNOT and HANS premises, and sentences of
the cranfield / cisi / med / npl / cacm / lisa abstracts (all of them; HANS capped), shuffled with a fixed seed.  Each
category's sample is random over real text, with at most HANS_ROWS templated HANS rows.  ``sample`` writes
``CATEGORY.tsv`` (id, source, original, rewritten, source span, target span, valid, note) for the
seven near-miss categories and ``paraphrase.tsv`` for the positives, plus ``yield.json`` (share
of pool sentences each category applies to, overall and per source) and the throughput of the
run.  Re-sampling keeps the verdicts already given to identical (original, rewritten) rows, so a
re-audit after a rule change only needs the new rows read.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

from verirank.datasets.testset import split_sentences
from verirank.nearmiss.generate import generate
from verirank.types import Category

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUOTAS = {"mrpc": 20000, "cannot": 30000, "hans": 2000, "cranfield": 20000, "cisi": 20000, "med": 20000,
          "npl": 20000, "cacm": 20000, "lisa": 40000}
HANS_ROWS = 20  # HANS premises are templated and easy: at most this many rows per category unless real text runs out
FIELDS = ["id", "source", "original", "rewritten", "source_span", "target_span", "valid", "note"]
csv.field_size_limit(1 << 24)


def _rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _clean(sentence: str) -> str:
    return " ".join(sentence.replace(" .", ".").replace(" ,", ",").split())


def pool(seed: int) -> list[tuple[str, str]]:
    """(source, sentence) pairs: real sentences from each source, shuffled with ``seed``, capped by QUOTAS."""
    by_source: dict[str, list[str]] = {}
    mrpc = _rows(DATA / "mrpc" / "mrpc_pairs.jsonl.gz")
    by_source["mrpc"] = [r[k] for r in mrpc for k in ("sentence1", "sentence2")]
    by_source["cannot"] = [r["premise"] for r in _rows(DATA / "cannot" / "cannot_pairs.jsonl.gz")]
    by_source["hans"] = [r["premise"] for r in _rows(DATA / "hans" / "hans_regenerated.jsonl.gz")]
    for name in ("cranfield", "cisi", "med", "npl", "cacm", "lisa"):
        by_source[name] = [s for d in _rows(DATA / name / "corpus.jsonl.gz") for s in split_sentences(d["text"])]
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, quota in QUOTAS.items():
        sentences = [s for s in dict.fromkeys(_clean(s) for s in by_source[name]) if 5 <= len(s.split()) <= 40]
        rng.shuffle(sentences)
        for s in sentences[:quota]:
            if s not in seen:
                seen.add(s)
                out.append((name, s))
    return out


def _stratified(rows: list, source_of: dict[str, str], n: int, rng: random.Random) -> list:
    """A random sample of ``n`` rows, real text first: HANS fills at most HANS_ROWS unless real rows run out."""
    real = [p for p in rows if source_of[p.anchor] != "hans"]
    hans = [p for p in rows if source_of[p.anchor] == "hans"]
    n_hans = min(len(hans), max(HANS_ROWS, n - len(real)))
    chosen = rng.sample(real, min(len(real), n - n_hans)) + rng.sample(hans, n_hans)
    rng.shuffle(chosen)
    return chosen


def _old_verdicts(path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["original"], r["rewritten"]): (r.get("valid", ""), r.get("note", ""))
                for r in csv.DictReader(f, delimiter="\t") if r.get("valid", "") != ""}


def sample(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sentences = pool(args.seed)
    source_of = {s: src for src, s in sentences}
    texts = [s for _, s in sentences]
    start = time.perf_counter()
    pairs = generate(texts, seed=args.seed, positives=True)
    seconds = time.perf_counter() - start
    rng = random.Random(args.seed)
    n_by_source = Counter(source_of.values())
    report: dict = {"seed": args.seed, "pool": len(texts), "pool_by_source": dict(n_by_source),
                    "generate_seconds": round(seconds, 1), "texts_per_second": round(len(texts) / seconds, 1),
                    "yield": {}, "yield_by_source": {}}
    groups: dict[str, list] = defaultdict(list)
    for p in pairs:
        if p.label == 0:
            groups[p.category.value].append(p)
    positives = {(p.anchor, p.text): p for p in pairs if p.label == 1}
    groups["paraphrase"] = list(positives.values())
    for name in [c.value for c in Category.near_misses()] + ["paraphrase"]:
        rows = groups[name]
        anchors = {p.anchor for p in rows}
        report["yield"][name] = round(len(anchors) / len(texts), 4)
        per_src = Counter(source_of[a] for a in anchors)
        report["yield_by_source"][name] = {s: round(per_src[s] / n, 4) for s, n in n_by_source.items()}
        chosen = _stratified(rows, source_of, args.per_category, rng)
        old = _old_verdicts(out / f"{name}.tsv")
        with (out / f"{name}.tsv").open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, FIELDS, delimiter="\t")
            w.writeheader()
            for i, p in enumerate(chosen):
                valid, note = old.get((p.anchor, p.text), ("", ""))
                w.writerow({"id": i, "source": source_of[p.anchor], "original": p.anchor, "rewritten": p.text,
                            "source_span": p.anchor_span.text if p.anchor_span else "",
                            "target_span": p.text_span.text if p.text_span else "", "valid": valid, "note": note})
    (out / "yield.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["yield"], indent=2), f"\n{report['texts_per_second']} texts/s")


def _wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for k successes out of n (scipy)."""
    if n == 0:
        return float("nan"), float("nan")
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def summarize(args: argparse.Namespace) -> None:
    out = Path(args.out)
    report = json.loads((out / "yield.json").read_text(encoding="utf-8"))
    earlier = [Path(d) for d in args.earlier]
    lines = ["| category | judged | valid | validity [95% CI] | real text (no HANS) | fresh rows [95% CI] | "
             "same verdict as an earlier round | yield (share of pool) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    summary = {}
    for name in [c.value for c in Category.near_misses()] + ["paraphrase"]:
        with (out / f"{name}.tsv").open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        judged = [r for r in rows if r["valid"] in ("0", "1")]
        real = [r for r in judged if r.get("source") != "hans"]
        valid, real_valid = sum(r["valid"] == "1" for r in judged), sum(r["valid"] == "1" for r in real)
        rate = valid / len(judged) if judged else float("nan")
        lo, hi = _wilson(valid, len(judged))
        real_rate = real_valid / len(real) if real else float("nan")
        # rows no earlier round judged: the rules were not tuned on them
        seen: dict[tuple[str, str], str] = {}
        for d in earlier:  # later rounds overwrite earlier ones: the most recent verdict of each row
            seen.update({k: v for k, (v, _) in _old_verdicts(d / f"{name}.tsv").items()})
        fresh = [r for r in judged if (r["original"], r["rewritten"]) not in seen]
        shared = [r for r in judged if (r["original"], r["rewritten"]) in seen]
        agree = sum(seen[(r["original"], r["rewritten"])] == r["valid"] for r in shared)
        fresh_valid = sum(r["valid"] == "1" for r in fresh)
        flo, fhi = _wilson(fresh_valid, len(fresh))
        summary[name] = {"rows": len(rows), "judged": len(judged), "valid": valid, "validity": round(rate, 4),
                         "ci95": [round(lo, 4), round(hi, 4)], "real_judged": len(real),
                         "real_validity": round(real_rate, 4), "fresh_judged": len(fresh), "fresh_valid": fresh_valid,
                         "fresh_ci95": [round(flo, 4), round(fhi, 4)], "shared_with_earlier": len(shared),
                         "same_verdict_as_earlier": agree, "yield": report["yield"][name]}
        lines.append(f"| {name} | {len(judged)} | {valid} | {rate:.1%} [{lo:.1%}, {hi:.1%}] | "
                     f"{real_valid}/{len(real)} = {real_rate:.1%} | {fresh_valid}/{len(fresh)} [{flo:.1%}, {fhi:.1%}] | "
                     f"{agree}/{len(shared)} | {report['yield'][name]:.2%} |")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "summary_table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["sample", "summarize"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-category", type=int, default=200)
    ap.add_argument("--out", default="reports/nearmiss_audit")
    ap.add_argument("--earlier", nargs="*", default=[],
                    help="summarize: earlier round dirs; rows judged there are left out of the 'fresh rows' column")
    args = ap.parse_args()
    sample(args) if args.command == "sample" else summarize(args)


if __name__ == "__main__":
    main()
