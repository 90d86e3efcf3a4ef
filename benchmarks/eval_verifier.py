"""Held-out evaluation of a verifier checkpoint beside stage-1 cosine and the previous checkpoint.

Every set here is held out from training and from threshold setting: the ``test`` splits of PAWS,
SNLI, counterfactual SNLI, Breaking NLI and VSR (by image), the hand-written triples, the HANS
test split, and near-misses generated from the held-out corpora (cranfield, cisi, med), whose
queries also give nDCG@10 with verification vs stage 1. Relevance mode: passages with one
sentence turned into a near-miss, questions made from the SNLI / Breaking NLI test statements, and
route sentences against their direction swap (``constraint_pairs``); identity mode also gets those
questions against their own negation and the route sentences against their swaps.

Per set and scorer: pairwise accuracy, AUROC and FAR@TAR95 with anchor-bootstrap CIs; the
both-correct rate (paraphrase accepted AND near-miss rejected, at the checkpoint's shipped
``level="full"`` thresholds; for cosine at the threshold of best balanced accuracy on the dev
splits); abstain rate; ECE; the reason category's accuracy where a set has categories.

    python benchmarks/eval_verifier.py --previous runs/verifier_v1 --seed 0 --out reports/verifier_eval
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from verirank.datasets import load_beir, load_handwritten, load_pairs
from verirank.datasets.human import HUMAN_SETS, load_human_pairs
from verirank.datasets.pairs import sample_pairs
from verirank.datasets.testset import nearmiss_testset, split_sentences
from verirank.encoders import load_encoder
from verirank.errors import InputError
from verirank.eval.metrics import both_correct, compare_pairwise, compare_runs, evaluate_pairs, evaluate_run
from verirank.eval.scoring import CosineScorer
from verirank.nearmiss.generate import generate
from verirank.types import Category, Level, NearMissPair
from verirank.verifier.runtime import CATEGORY_ORDER, NearMissVerifier, decide
from verirank.verifier.scorer import VerifierScorer
from verirank.verifier.train import expected_calibration_error

HELDOUT_CORPORA = ("cranfield", "cisi", "med")
CATEGORY_SETS = ("breaking_nli", "vsr", "handwritten", "generated_heldout")


def relevance_nearmiss_pairs(seed: int, n_docs: int) -> list[NearMissPair]:
    """Query = a sentence of a held-out passage; positive = the passage; negative = the passage
    with that sentence turned into a near-miss (relevance mode)."""
    rng = random.Random(seed)
    chosen: list[tuple[str, str]] = []
    for name in HELDOUT_CORPORA:
        docs = [d.text for d in load_beir(name).corpus]
        rng.shuffle(docs)
        for text in docs[:n_docs]:
            sentences = split_sentences(text)
            if len(sentences) >= 2:
                chosen.append((rng.choice(sentences), text))
    by_sentence = {s: t for s, t in chosen}
    pairs = []
    for nm in generate(list(by_sentence), seed=seed, positives=False):
        passage = by_sentence[nm.anchor]
        broken = passage.replace(nm.anchor, nm.text, 1)
        if broken == passage:
            continue
        pairs.append(NearMissPair(anchor=nm.anchor, text=passage, label=1, category=nm.category, source="rel"))
        pairs.append(NearMissPair(anchor=nm.anchor, text=broken, label=0, category=nm.category, source="rel"))
    return pairs


def constraint_pairs() -> dict[str, dict[str, list[NearMissPair]]]:
    """Sets by mode, from the *test* splits (rules: ``verifier.relevance_groups``). Relevance: yes/no
    questions made from the SNLI and Breaking NLI statements, where passages that answer them (the
    statement, its premise, its predicate antonym, its negation) face passages about something else
    or with roles, attributes or direction swapped; the statements themselves as queries, where the
    passages that state them (premise, synonym rewrites) face the same negatives; and route sentences
    of every human test split ("from A to B", "the train to X") against their direction swap.
    Identity: each question against its own negation, and each route sentence against its swap."""
    from verirank.verifier.model import CATEGORIES
    from verirank.verifier.relevance_groups import QUESTION_SOURCES, direction_examples, question_examples

    groups = question_examples({name: load_human_pairs(name, "test") for name in QUESTION_SOURCES}, held=set(),
                               statements=True, identity=True)
    groups += direction_examples((t for name in HUMAN_SETS for p in load_human_pairs(name, "test")
                                  for t in (p.anchor, p.text)), held=set())
    sets: dict[str, dict[str, list[NearMissPair]]] = {"identity": {}, "relevance": {}}
    for source, mode, name in (("question", "relevance", "question_heldout"),
                               ("statement", "relevance", "statement_heldout"),
                               ("direction", "relevance", "direction_heldout"),
                               ("question_negation", "identity", "question_negation_heldout"),
                               ("directions", "identity", "direction_identity_heldout")):
        sets[mode][name] = [
            NearMissPair(anchor=g.query, text=text, label=label, source=source,
                         category=Category.MATCH if category < 0 else Category(CATEGORIES[category]))
            for g in groups if g.source == source for text, label, category in zip(g.candidates, g.labels, g.categories)]
    return sets


def cosine_threshold(encoder: Any, limit: int, seed: int) -> float:
    """The cosine threshold of best balanced accuracy on the dev (calibration) splits of the human sets."""
    pairs = [p for name in HUMAN_SETS for p in sample_pairs(load_human_pairs(name, "dev"), limit, seed=seed)]
    scores = CosineScorer(encoder).score([p.anchor for p in pairs], [p.text for p in pairs])
    labels = np.array([p.label for p in pairs])
    grid = np.quantile(scores, np.linspace(0.01, 0.99, 197))
    return float(max(grid, key=lambda t: np.mean(scores[labels == 1] >= t) + np.mean(scores[labels == 0] < t)))


def heldout_sets(args: argparse.Namespace) -> dict[str, list[NearMissPair]]:
    gen_texts = [d.text for name in HELDOUT_CORPORA for d in load_beir(name).corpus]
    sets = {f"{name}_test": load_human_pairs(name, "test") for name in HUMAN_SETS}
    if args.max_pairs:
        sets = {k: sample_pairs(v, args.max_pairs, seed=args.seed) for k, v in sets.items()}
    sets["handwritten"] = load_handwritten()
    sets["hans_test"] = sample_pairs(load_pairs("hans", "test"), args.hans, seed=args.seed)
    sets["generated_heldout"] = nearmiss_testset(gen_texts, seed=args.seed, n=args.generated_anchors).pairs
    return sets


def score_set(name: str, pairs: list[NearMissPair], scorer_name: str, scorer: Any, cos_t: float,
              seed: int, keep: dict[tuple[str, str], np.ndarray] | None = None) -> dict[str, Any]:
    """Metrics of one scorer on one pair set; ``keep`` collects the raw scores by (set, scorer)."""
    anchors, texts = [p.anchor for p in pairs], [p.text for p in pairs]
    labels = np.array([p.label for p in pairs])
    out: dict[str, Any] = {"set": name, "scorer": scorer_name}
    if isinstance(scorer, VerifierScorer):
        details = scorer.score_details(anchors, texts)
        scores = details.p_match
        cal = scorer.verifier.calibration.for_mode(scorer.mode.value)
        decisions = [decide(float(p), cal, Level.FULL).value for p in scores]
        accepted = np.array([d == "accept" for d in decisions])
        rejected = np.array([d == "reject" for d in decisions])
        out["ece"] = expected_calibration_error(scores, labels)
        out["abstain"] = float(1 - accepted.mean() - rejected.mean())
        nm = [i for i, p in enumerate(pairs) if p.label == 0 and p.category is not Category.MATCH]
        if nm and any(name.startswith(s) for s in CATEGORY_SETS):
            pred = [CATEGORY_ORDER[int(np.argmax(details.category_probs[i, 1:])) + 1] for i in nm]
            out["category_accuracy"] = float(np.mean([pred[j] is pairs[i].category for j, i in enumerate(nm)]))
            out["category_n"] = len(nm)
        out["accepted_paraphrases"] = float(accepted[labels == 1].mean())
        out["rejected_near_misses"] = float(rejected[labels == 0].mean())
    else:
        scores = scorer.score(anchors, texts)
        accepted, rejected = scores >= cos_t, scores < cos_t
    if keep is not None:
        keep[(name, scorer_name)] = np.asarray(scores)
    result = evaluate_pairs(pairs, scores, seed=seed)
    out["both_correct"] = both_correct(pairs, accepted, rejected, seed)
    out["categories"] = [
        {"category": c.category, "n_near_miss": c.n_near_miss, "n_anchors": c.n_anchors,
         "pairwise_accuracy": c.pairwise_accuracy.model_dump() if c.pairwise_accuracy else None,
         "auroc": c.auroc.model_dump() if c.auroc else None,
         "far_at_tar95": c.far_at_tar.model_dump() if c.far_at_tar else None}
        for c in [result.overall, *result.categories]
    ]
    return out


def ndcg_with_verification(pipe: Any, name: str, candidates: int, seed: int) -> dict[str, Any]:
    data = load_beir(name)
    pipe.add(data.corpus)
    run_off: dict[str, dict[str, float]] = {}
    run_full: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for qid, text in data.judged_queries.items():
        base = pipe.search(text, k=100, level="off")
        run_off[qid] = {h.id: h.score for h in base}
        verified = pipe.search(text, k=candidates, level="full", mode="relevance", candidates=candidates)
        top = {h.id: 10.0 + h.score for h in verified}  # verified head, then the stage-1 tail
        tail = {h.id: h.score for h in base if h.id not in top and h.rank >= candidates}
        run_full[qid] = {**top, **tail}
    off = evaluate_run(run_off, data.qrels, seed=seed)
    full = evaluate_run(run_full, data.qrels, seed=seed)
    diff = compare_runs(run_off, run_full, data.qrels, "ndcg@10", seed=seed)
    return {
        "collection": name, "queries": len(data.judged_queries), "candidates_verified": candidates,
        "stage1": {m: v.model_dump() for m, v in off.metrics.items()},
        "verified": {m: v.model_dump() for m, v in full.metrics.items()},
        "ndcg10_difference": diff.difference.model_dump(), "p_value": diff.p_value,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=None, help="checkpoint to evaluate (default: the shipped one)")
    ap.add_argument("--previous", default=None, help="previous checkpoint, scored beside it")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-pairs", type=int, default=0, help="cap each human test set (0: all pairs)")
    ap.add_argument("--hans", type=int, default=2000)
    ap.add_argument("--generated-anchors", type=int, default=3000)
    ap.add_argument("--relevance-docs", type=int, default=200)
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--skip-ndcg", action="store_true")
    ap.add_argument("--out", default="reports/verifier_eval")
    ap.add_argument("--update-card", action="store_true",
                    help="write the held-out summary into the checkpoint's verifier.json and README card")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    encoder = load_encoder("torch")
    verifier = NearMissVerifier.load(args.checkpoint)
    scorers: dict[str, Any] = {"stage1_cosine": CosineScorer(encoder)}
    if args.previous:
        scorers["previous"] = VerifierScorer(NearMissVerifier.load(args.previous), encoder, "identity")
    scorers["verifier"] = VerifierScorer(verifier, encoder, "identity")
    cos_t = cosine_threshold(encoder, 2000, args.seed)
    print(f"cosine threshold (best balanced accuracy on the dev splits): {cos_t:.3f}", flush=True)
    rows, kept = [], {}
    constraint_sets = constraint_pairs()
    all_sets = {**heldout_sets(args), **constraint_sets["identity"]}
    for set_name, pairs in all_sets.items():
        for scorer_name, scorer in scorers.items():
            t0 = time.perf_counter()
            rows.append(score_set(set_name, pairs, scorer_name, scorer, cos_t, args.seed, kept))
            overall = rows[-1]["categories"][0]
            print(f"{set_name:22s} {scorer_name:14s} pairwise {fmt(overall['pairwise_accuracy'])} "
                  f"auroc {fmt(overall['auroc'])} both {fmt(rows[-1]['both_correct'])} "
                  f"({time.perf_counter() - t0:.0f}s)", flush=True)

    relevance_sets = {"relevance_nearmiss_heldout": relevance_nearmiss_pairs(args.seed, args.relevance_docs),
                      **constraint_sets["relevance"]}
    all_sets.update(relevance_sets)
    for set_name, pairs in relevance_sets.items():
        for scorer_name, scorer in scorers.items():
            if isinstance(scorer, VerifierScorer):
                scorer = VerifierScorer(scorer.verifier, encoder, "relevance")
            rows.append(score_set(set_name, pairs, scorer_name, scorer, cos_t, args.seed, kept))

    ndcg = []
    if not args.skip_ndcg:
        import verirank

        for name in HELDOUT_CORPORA:
            pipe = verirank.Pipeline.default(encoder=encoder, verifier=verifier)
            ndcg.append(ndcg_with_verification(pipe, name, args.candidates, args.seed))
            print(json.dumps({k: ndcg[-1][k] for k in ("collection", "ndcg10_difference", "p_value")}), flush=True)

    report = {"seed": args.seed, "checkpoint": str(verifier.path), "token_head_id": verifier.head_id,
              "previous": args.previous, "cosine_threshold": cos_t, "rows": rows, "ndcg": ndcg,
              "paired": paired_comparisons(all_sets, kept, [s for s in scorers if s != "verifier"], args.seed),
              "command": "python benchmarks/eval_verifier.py " + " ".join(
                  f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in vars(args).items()
                  if v not in (None, False) and k not in ("update_card", "checkpoint"))}
    (out / "eval.json").write_text(json.dumps(report, indent=2))
    (out / "eval.md").write_text(render_markdown(report))
    print((out / "eval.md").read_text())
    if args.update_card:
        update_card(verifier.path, report)


def paired_comparisons(sets: dict[str, list[NearMissPair]], kept: dict[tuple[str, str], np.ndarray],
                       baselines: list[str], seed: int) -> list[dict[str, Any]]:
    """The verifier against each baseline on each set: pairwise accuracy, paired over anchors."""
    out = []
    for name, pairs in sets.items():
        for base in baselines:
            try:
                cmp = compare_pairwise(pairs, kept[(name, base)], kept[(name, "verifier")], seed=seed)
            except InputError:  # no anchor with both a match and a near-miss
                continue
            out.append({"set": name, "baseline": base, **cmp.model_dump()})
    return out


def fmt(ci: dict | None) -> str:
    return "–" if ci is None else f"{ci['value']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]"


def short(ci: dict | None) -> str:
    return "–" if ci is None else f"{ci['value']:.3f}"


def update_card(directory: Path, report: dict[str, Any]) -> None:
    """Held-out headline numbers into the checkpoint metadata (weights and calibration untouched)."""
    from verirank.verifier import checkpoint

    meta = checkpoint.read_meta(directory)
    headline = {}
    for r in report["rows"]:
        if r["scorer"] != "verifier":
            continue
        for c in r["categories"]:
            headline[f"{r['set']}/{c['category']}"] = {
                "pairwise_accuracy": (c["pairwise_accuracy"] or {}).get("value"),
                "auroc": (c["auroc"] or {}).get("value"), "far_at_tar95": (c["far_at_tar95"] or {}).get("value")}
        headline[f"{r['set']}/all"].update({k: r.get(k) for k in ("ece", "abstain", "category_accuracy")})
        headline[f"{r['set']}/all"]["both_correct"] = (r["both_correct"] or {}).get("value")
    meta["metrics"] = {**meta.get("metrics", {}), "held_out": headline,
                       "ndcg10": {r["collection"]: {"stage1": r["stage1"]["ndcg@10"]["value"],
                                                    "verified": r["verified"]["ndcg@10"]["value"]} for r in report["ndcg"]},
                       "command": report["command"]}
    checkpoint.write_meta(directory, meta)


def render_markdown(report: dict[str, Any]) -> str:
    scorers = list(dict.fromkeys(r["scorer"] for r in report["rows"]))
    lines = [f"# Verifier held-out evaluation (seed {report['seed']}, head {report['token_head_id']})", "",
             f"`{report['command']}`", "",
             "Identity mode, except the `relevance_nearmiss_heldout`, `question_heldout` and `statement_heldout` "
             "sets (relevance mode; for questions, a passage that answers with either truth value is a match, one "
             "about another thing or with roles, attributes or direction swapped is the near-miss; for statements, "
             "a passage that states it is the match). Pairwise = P(score(anchor, paraphrase) > score(anchor, near-miss)); both-correct = "
             "paraphrase accepted and near-miss rejected at the shipped `level=\"full\"` thresholds (cosine: the "
             f"threshold of best balanced accuracy on the dev splits, {report['cosine_threshold']:.3f}); FAR@TAR95 = near-misses "
             "accepted at the threshold that accepts 95% of true matches. 95% bootstrap CIs over anchors. "
             f"Scorers: {', '.join(scorers)} (previous = {report['previous']}).", "",
             "## Headline", "",
             "| set | n pairs | " + " | ".join(f"pairwise / AUROC {s}" for s in scorers) + " | "
             + " | ".join(f"both-correct {s}" for s in scorers) + " | FAR@TAR95 " + " → ".join(scorers) + " |",
             "|---|---|" + "---|" * (2 * len(scorers) + 1)]
    sets = list(dict.fromkeys(r["set"] for r in report["rows"]))
    for set_name in sets:
        rows = {r["scorer"]: r for r in report["rows"] if r["set"] == set_name}
        overall = {s: rows[s]["categories"][0] for s in scorers if s in rows}
        n = overall[scorers[0]]["n_near_miss"]
        cells = [f"{short(o['pairwise_accuracy'])} / {short(o['auroc'])}" for o in overall.values()]
        both = [short(rows[s]["both_correct"]) for s in scorers if s in rows]
        far = " → ".join(short(o["far_at_tar95"]) for o in overall.values())
        lines.append(f"| {set_name} | {n} near-misses | " + " | ".join(cells) + " | " + " | ".join(both) + f" | {far} |")
    if report.get("paired"):
        lines += ["", "## Verifier vs each baseline, paired (same anchors)", "",
                  "Pairwise accuracy averaged over anchors (each anchor's share of won contests), the verifier "
                  "minus the baseline with a 95% bootstrap CI and a two-sided paired randomisation p-value.", "",
                  "| set | baseline | anchors | baseline | verifier | difference [95% CI] | p |", "|---|---|---|---|---|---|---|"]
        for r in report["paired"]:
            lines.append(f"| {r['set']} | {r['baseline']} | {r['n_queries']} | {r['mean_a']:.3f} | {r['mean_b']:.3f} "
                         f"| {fmt(r['difference'])} | {r['p_value']:.3f} |")
    lines += ["", "## Verdicts of the verifiers (shipped thresholds)", "",
              "| set | scorer | accepted paraphrases | rejected near-misses | abstain | ECE | reason category acc |",
              "|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        if "ece" in r:
            cat = f"{r['category_accuracy']:.3f} (n={r['category_n']})" if "category_accuracy" in r else "–"
            lines.append(f"| {r['set']} | {r['scorer']} | {r['accepted_paraphrases']:.3f} | {r['rejected_near_misses']:.3f} "
                         f"| {r['abstain']:.3f} | {r['ece']:.3f} | {cat} |")
    lines += ["", "## Per category (pairwise accuracy with CI, AUROC)", "",
              "| set | category | n near-miss | " + " | ".join(scorers) + " |", "|---|---|---|" + "---|" * len(scorers)]
    for set_name in sets:
        rows = {r["scorer"]: r for r in report["rows"] if r["set"] == set_name}
        first = rows[scorers[0]]["categories"]
        for k, c in enumerate(first):
            cells = []
            for s in scorers:
                cs = rows[s]["categories"][k] if s in rows else None
                cells.append("–" if cs is None else f"{fmt(cs['pairwise_accuracy'])}, {short(cs['auroc'])}")
            name = "other (no category)" if c["category"] == "match" else c["category"]
            lines.append(f"| {set_name} | {name} | {c['n_near_miss']} | " + " | ".join(cells) + " |")
    if report["ndcg"]:
        lines += ["", "## nDCG@10 on held-out collections: stage 1 vs verified (level=full, relevance mode)", "",
                  "| collection | queries | stage 1 | verified | difference [95% CI] | p |", "|---|---|---|---|---|---|"]
        for r in report["ndcg"]:
            lines.append(f"| {r['collection']} | {r['queries']} | {fmt(r['stage1']['ndcg@10'])} | "
                         f"{fmt(r['verified']['ndcg@10'])} | {fmt(r['ndcg10_difference'])} | {r['p_value']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
