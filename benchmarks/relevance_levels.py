"""Relevance mode per verification level on the classic collections: nDCG@10 of ``off``, ``light``
and ``full`` with paired randomisation tests against ``off``, the verdict mix, and the stored
token-state bytes per document for each per-document window budget.

    python benchmarks/relevance_levels.py --windows 1 3 --seed 0 --out reports/bench/relevance_levels

One index per collection, built with the largest window budget; a smaller budget is the same
stored states cut to its first windows (the head projects each window on its own, so this is
what an index built with that budget stores). Each query's top ``--candidates`` stage-1 hits are
verified once (relevance mode, the pipeline's query and candidate states); ``light`` is the same
verdicts on the top ``LIGHT_TOP`` only (verdicts are per candidate), and the final ranking uses
``verirank.pipeline.final_score`` with the stage-1 tail after the verified head, under each rule
in ``RULES``: the shipped one (Pipeline.search's ``verdicts_act``: stage-1 order on a query with
no parsed constraint; its direction check on a query with a direction; its contrast and unrelated
checks on every query) and two ungated ones for comparison (without those checks). Queries with an
exclusion clause go through the same path as the rest here (the classic collections have almost
none). With ``--sets``, the collection's exclusion-query set
(``benchmarks/build_constraint_set.py``; same corpus) is searched on the same index through
``Pipeline.search``: ``off`` on the query as written vs ``full`` (core query searched and
verified, exclusions checked over every stored window at the checkpoint's threshold), per set and
with every set's queries pooled.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import verirank
from verirank.datasets import load_beir
from verirank.eval.metrics import (bootstrap_ci, compare_runs, evaluate_run, paired_randomization_test,
                                   per_query_scores)
from verirank.constraints import parse_constraints
from verirank.pipeline import LIGHT_TOP, final_score, hold, verdicts_act
from verirank.types import Level, Mode
from verirank.verifier.runtime import Candidate, NearMissVerifier, query_states

BYTES_PER_TOKEN_EXTRA = 4 + 8  # float32 scale + (start, end) int32 char span per stored token
# name -> (verdicts act only on queries with a parsed constraint, abstentions move too)
RULES = {"shipped: acts on queries with a constraint, accept/reject only": (True, False),
         "every query, moves all (v7d's rule)": (False, True),
         "every query, moves accept/reject only": (False, False)}


def storage(docs: list[Any], token_dim: int, max_tokens: int) -> dict[str, float]:
    """Token-state bytes per document at a budget of ``max_tokens`` (int8 value + scale + span)."""
    tokens = [min(len(d.token_states), max_tokens) for d in docs]
    per_token = token_dim + BYTES_PER_TOKEN_EXTRA
    return {"mean_tokens": sum(tokens) / len(tokens), "mean_bytes": per_token * sum(tokens) / len(tokens),
            "max_bytes": per_token * max(tokens)}


def verdicts_by_query(pipe: verirank.Pipeline, queries: dict[str, str], candidates: int,
                      windows: list[int], directed: dict[int, dict[str, dict[str, Any]]] | None = None,
                      vectors: dict[str, dict[str, Any]] | None = None,
                      whole: dict[int, dict[str, dict[str, bool]]] | None = None) -> tuple[dict, dict]:
    """Stage-1 top 100 per query, and per window budget the verdicts of the top ``candidates``; into
    ``directed`` (if given) the same verdicts after ``Pipeline.check_direction`` (what search runs
    on a query with a direction constraint); into ``vectors`` (if given) the candidates' recall vectors;
    into ``whole`` (if given), per window budget, whether each fits one scorer window."""
    verifier = pipe.verifier
    size = verifier.cfg.max_doc_tokens
    stage1: dict[str, list[tuple[str, float]]] = {}
    verdicts: dict[int, dict[str, dict[str, Any]]] = {w: {} for w in windows}
    for qid, text in queries.items():
        hits = pipe.search(text, k=100, level="off")
        stage1[qid] = [(h.id, h.score) for h in hits]
        encoded = pipe.encoder.encode([text], state_layer=verifier.state_layer)
        q = query_states(verifier, text, encoded)
        top = stage1[qid][:candidates]
        checked = parse_constraints(text)
        opposite = pipe.opposite_reading(checked)  # a yes/no question is also read the other way, as in search
        docs = {d.id: d for d in pipe.index.get([i for i, _ in top], with_states=True)}
        if vectors is not None:
            vectors[qid] = {i: docs[i].vector for i, _ in top}
        for w in windows:
            cut = w * size
            cands = [Candidate(docs[i].text, docs[i].token_states[:cut], docs[i].token_spans[:cut], s, docs[i].vector)
                     for i, s in top]
            verified = verifier.verify(q, cands, Mode.RELEVANCE, Level.FULL, opposite=opposite)
            verdicts[w][qid] = dict(zip((i for i, _ in top), verified))
            if whole is not None:
                whole.setdefault(w, {})[qid] = dict(zip((i for i, _ in top), pipe.fits_one_window(cands)))
            if directed is not None:
                directed.setdefault(w, {})[qid] = dict(zip(verdicts[w][qid], pipe.check_direction(
                    checked, checked.core, cands, list(verdicts[w][qid].values()), Level.FULL)))
    return stage1, verdicts


def collection_verdicts(name: str, candidates: int) -> tuple[verirank.Pipeline, Any, dict, dict, dict, dict, dict]:
    """A classic collection indexed at 3 windows per document: the pipeline, the data and, per judged
    query, its stage-1 top 100, the direction-checked verdicts of its top ``candidates``, their
    recall vectors, whether its verdicts act, and whether each candidate fits one scorer window (what
    the fitting scripts start from)."""
    data = load_beir(name)
    pipe = verirank.Pipeline.default(verifier=NearMissVerifier.load(doc_windows=3))
    pipe.add(data.corpus)
    directed: dict[int, dict[str, dict[str, Any]]] = {}
    vectors: dict[str, dict[str, Any]] = {}
    whole: dict[int, dict[str, dict[str, bool]]] = {}
    stage1, _ = verdicts_by_query(pipe, data.judged_queries, candidates, [3], directed, vectors, whole)
    acts = {q: verdicts_act(Mode.RELEVANCE, Level.FULL, parse_constraints(t)) for q, t in data.judged_queries.items()}
    return pipe, data, stage1, directed[3], vectors, acts, whole[3]


def contrast_checked(pipe: verirank.Pipeline, verdicts: dict[str, Any], vectors: dict[str, Any], level: Level,
                     acts: bool, stage1: list[tuple[str, float]],
                     whole: dict[str, bool]) -> tuple[dict[str, Any], set[str]]:
    """What search holds of one query's verdicts at ``level`` (``hold`` where they do not act), after
    ``Pipeline.check_contrast`` over the hits it verifies (``stage1``: the query's (id, cosine)
    hits; ``whole``: whether each fits one scorer window); and the ids the contrast or unrelated
    check rejected."""
    ids = list(verdicts)[:LIGHT_TOP] if level is Level.LIGHT else list(verdicts)
    listed = [verdicts[i] if acts else hold(verdicts[i]) for i in ids]
    scores = dict(stage1)
    listed, rejected = pipe.check_contrast(Mode.RELEVANCE, [vectors[i] for i in ids], listed, [scores[i] for i in ids],
                                           [whole[i] for i in ids])
    return dict(zip(ids, listed)), {ids[j] for j in rejected}


def ranking(stage1: list[tuple[str, float]], verdicts: dict[str, Any], level: Level, weight: float,
            move_abstained: bool, acts: bool = True, contrasted: set[str] = frozenset()) -> dict[str, float]:
    """A query's final scores; where its verdicts do not act, stage 1's, but for the hits the contrast
    check rejected (those act anyway, as in search)."""
    if not acts:
        return {d: final_score(s, verdicts[d], weight, level, keep_rejected=True) if d in contrasted else s
                for d, s in stage1}
    verified = list(verdicts)[:LIGHT_TOP] if level is Level.LIGHT else list(verdicts)
    head = {}
    for doc_id, s in stage1:
        if doc_id in verified:
            score = final_score(s, verdicts[doc_id], weight, level, keep_rejected=True, move_abstained=move_abstained)
            head[doc_id] = 10.0 + score  # the reranked head, then the stage-1 tail
    return {**head, **{d: s for d, s in stage1 if d not in head}}


def exclusion_set(pipe: verirank.Pipeline, path: Path, candidates: int, seed: int) -> dict[str, Any]:
    """nDCG@10 of ``off`` vs ``full`` on an exclusion-query set over the pipeline's corpus."""
    data = load_beir(path)
    if set(pipe.index.ids()) != {d.id for d in data.corpus}:
        raise SystemExit(f"{path} was built from another corpus than the indexed collection; rebuild it")
    runs: dict[str, dict[str, dict[str, float]]] = {"off": {}, "full": {}}
    for qid, text in data.judged_queries.items():
        for level in runs:
            runs[level][qid] = {h.id: h.score for h in pipe.search(text, k=candidates, level=level,
                                                                    candidates=candidates)}
    diff = compare_runs(runs["off"], runs["full"], data.qrels, "ndcg@10", seed=seed)
    return {"queries": len(data.judged_queries), "threshold": pipe.exclusion_threshold,
            "off": evaluate_run(runs["off"], data.qrels, seed=seed).metrics["ndcg@10"].model_dump(),
            "full": evaluate_run(runs["full"], data.qrels, seed=seed).metrics["ndcg@10"].model_dump(),
            "difference": diff.difference.model_dump(), "p_value": diff.p_value,
            "per_query": {level: per_query_scores(run, data.qrels, ["ndcg@10"])["ndcg@10"] for level, run in runs.items()}}


def pooled_sets(rows: list[dict[str, Any]], seed: int) -> dict[str, Any] | None:
    """Every exclusion set's queries as one set: mean nDCG@10 of ``off`` and ``full`` over all of
    them, with the paired test of the difference."""
    sets = {r["collection"]: r["exclusion_set"]["per_query"] for r in rows if "per_query" in r.get("exclusion_set", {})}
    if not sets:
        return None
    pooled = {level: {f"{name}/{q}": v for name, per in sets.items() for q, v in per[level].items()}
              for level in ("off", "full")}
    diff = paired_randomization_test(pooled["off"], pooled["full"], metric="ndcg@10", seed=seed)
    return {"sets": sorted(sets), "queries": len(pooled["off"]),
            **{level: bootstrap_ci(list(pooled[level].values()), seed=seed).model_dump() for level in pooled},
            "difference": diff.difference.model_dump(), "p_value": diff.p_value}


def measure(name: str, windows: list[int], candidates: int, seed: int, sets: Path | None) -> list[dict[str, Any]]:
    data = load_beir(name)
    pipe = verirank.Pipeline.default(verifier=NearMissVerifier.load(doc_windows=max(windows)))
    started = time.perf_counter()
    pipe.add(data.corpus)
    index_seconds = time.perf_counter() - started
    stored = pipe.index.get(pipe.index.ids(), with_states=True)
    directed: dict[int, dict[str, dict[str, Any]]] = {}
    vectors: dict[str, dict[str, Any]] = {}
    whole: dict[int, dict[str, dict[str, bool]]] = {}
    stage1, verdicts = verdicts_by_query(pipe, data.judged_queries, candidates, windows, directed, vectors, whole)
    acts = {q: verdicts_act(Mode.RELEVANCE, Level.FULL, parse_constraints(text))
            for q, text in data.judged_queries.items()}
    # the shipped rule's verdicts per (windows, level, query): direction-checked, held where they do
    # not act, contrast-checked; with the ids the contrast rejected
    shipped = {(w, level): {q: contrast_checked(pipe, directed[w][q], vectors[q], level, acts[q], stage1[q],
                                                    whole[w][q])
                            for q in stage1}
               for w in windows for level in (Level.LIGHT, Level.FULL)}
    run_off = {q: dict(hits) for q, hits in stage1.items()}
    off = evaluate_run(run_off, data.qrels, seed=seed).metrics["ndcg@10"]
    rows = []
    for w in windows:
        row: dict[str, Any] = {"collection": name, "windows": w, "queries": len(data.judged_queries),
                               "index_seconds": index_seconds, "off": off.model_dump(),
                               "storage": storage(stored, pipe.index.spec.token_dim, w * pipe.verifier.cfg.max_doc_tokens),
                               "queries_with_constraints": sum(acts.values())}
        row["contrast_rejected"] = sum(len(shipped[w, Level.FULL][q][1]) for q in stage1)
        for key, gated in (("verdicts", True), ("verdicts_every_query", False)):
            mix = Counter(v.decision.value for q in stage1
                          for v in (shipped[w, Level.FULL][q][0] if gated else verdicts[w][q]).values())
            row[key] = {k: n / sum(mix.values()) for k, n in mix.items()}
        for rule, (gated, move) in RULES.items():
            for level in (Level.LIGHT, Level.FULL):
                if gated:  # the direction and contrast checks are part of the shipped rule
                    run = {q: ranking(stage1[q], shipped[w, level][q][0], level, pipe.rerank_weight, move, acts[q],
                                      shipped[w, level][q][1]) for q in stage1}
                else:
                    run = {q: ranking(stage1[q], verdicts[w][q], level, pipe.rerank_weight, move) for q in stage1}
                diff = compare_runs(run_off, run, data.qrels, "ndcg@10", seed=seed)
                row[f"{rule}/{level.value}"] = {
                    "ndcg@10": evaluate_run(run, data.qrels, seed=seed).metrics["ndcg@10"].model_dump(),
                    "difference": diff.difference.model_dump(), "p_value": diff.p_value}
        rows.append(row)
    if sets is not None and (sets / name / "manifest.json").exists():
        rows[-1]["exclusion_set"] = exclusion_set(pipe, sets / name, candidates, seed)
    return rows


def render(rows: list[dict[str, Any]], candidates: int, seed: int = 0) -> str:
    lines = ["# Relevance mode by level: nDCG@10 on the classic collections", "",
             f"Generated by `python benchmarks/relevance_levels.py` (seed 0; shipped verifier, rerank weight "
             f"from its checkpoint). The top {candidates} stage-1 hits are verified (`light`: the top "
             f"{LIGHT_TOP}); Δ vs `off` in points with a 95% CI and a paired randomisation test. Bytes/doc: "
             "stored token states (int8 value + float32 scale + int32 char span per token).", ""]
    for rule, (gated, _) in RULES.items():
        lines += [f"## {rule}", "",
                  "| collection | windows/doc | queries (with a constraint) | bytes/doc (mean / max) | off | light "
                  "| full | verdicts accept / abstain / reject |", "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            cells = []
            for level in ("light", "full"):
                cell = r[f"{rule}/{level}"]
                d = cell["difference"]
                cells.append(f"{cell['ndcg@10']['value']:.3f} ({100 * d['value']:+.1f} "
                             f"[{100 * d['low']:+.1f}, {100 * d['high']:+.1f}], p={cell['p_value']:.2f})")
            shares = r["verdicts" if gated else "verdicts_every_query"]
            mix = " / ".join(f"{shares.get(k, 0.0):.2f}" for k in ("accept", "abstain", "reject"))
            if gated:
                mix += f" ({r.get('contrast_rejected', 0)} beside an accepted candidate)"
            s = r["storage"]
            lines.append(f"| {r['collection']} | {r['windows']} | {r['queries']} ({r['queries_with_constraints']}) "
                         f"| {s['mean_bytes']:,.0f} / {s['max_bytes']:,.0f} "
                         f"| {r['off']['value']:.3f} | {cells[0]} | {cells[1]} | {mix} |")
        lines.append("")
    sets = [r for r in rows if "exclusion_set" in r]
    if sets:
        lines += [f"## Exclusion-query sets ({sets[0]['windows']} windows/doc, threshold "
                  f"{sets[0]['exclusion_set']['threshold']})", "",
                  "| set | queries | off | full (Δ pt, 95% CI, p) |", "|---|---|---|---|"]
        for r in sets:
            e = r["exclusion_set"]
            d = e["difference"]
            lines.append(f"| {r['collection']} | {e['queries']} | {e['off']['value']:.3f} | {e['full']['value']:.3f} "
                         f"({100 * d['value']:+.1f} [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}], "
                         f"p={e['p_value']:.3f}) |")
        pooled = pooled_sets(rows, seed)
        if pooled is not None and len(pooled["sets"]) > 1:
            d = pooled["difference"]
            lines.append(f"| all sets, pooled | {pooled['queries']} | {pooled['off']['value']:.3f} "
                         f"| {pooled['full']['value']:.3f} ({100 * d['value']:+.1f} [{100 * d['low']:+.1f}, "
                         f"{100 * d['high']:+.1f}], p={pooled['p_value']:.3f}) |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--collections", nargs="+", default=["cranfield", "cisi", "med", "npl", "cacm", "lisa"])
    ap.add_argument("--windows", nargs="+", type=int, default=[1, 3])
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sets", type=Path, default=None, help="exclusion-query sets, e.g. data/constraint_sets")
    ap.add_argument("--out", default="reports/bench/relevance_levels")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for name in args.collections:
        started = time.perf_counter()
        rows += measure(name, sorted(args.windows), args.candidates, args.seed, args.sets)
        print(json.dumps({"collection": name, "seconds": round(time.perf_counter() - started)}), flush=True)
        (out / "relevance_levels.json").write_text(json.dumps(rows, indent=2))
        (out / "relevance_levels.md").write_text(render(rows, args.candidates, args.seed))
    print(render(rows, args.candidates, args.seed))


if __name__ == "__main__":
    main()
