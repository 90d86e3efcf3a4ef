"""The reproduction report's discussion: prose and comparisons built from the measured numbers, so
every claim (direction, significance, which CI lies above which) is recomputed on each run."""

from __future__ import annotations

from typing import Any

from verirank.eval.reproduce.render import CATEGORIES, SHORT, fmt
from verirank.eval.reproduce.stage2 import SYSTEMS


def discussion_facts(res: Any) -> list[str]:
    """Comparisons the discussion rests on, computed (not written by hand)."""
    out = ["## Measured facts for the discussion", ""]
    ver = (res.pairs.get("verifier_pmatch", {}).get("family:human") or {}).get("categories", {})
    for s in ("cross_encoder", "stage1", "maxsim_F1", *(("simmap_cnn",) if res.has_cnn() else ()), "paradox_B"):
        other = (res.pairs.get(s, {}).get("family:human") or {}).get("categories", {})
        worse = [c for c in CATEGORIES if c in ver and c in other and ver[c]["pairwise_accuracy"] and other[c]["pairwise_accuracy"]
                 and other[c]["pairwise_accuracy"]["low"] > ver[c]["pairwise_accuracy"]["high"]]
        better = [c for c in CATEGORIES if c in ver and c in other and ver[c]["pairwise_accuracy"] and other[c]["pairwise_accuracy"]
                  and ver[c]["pairwise_accuracy"]["low"] > other[c]["pairwise_accuracy"]["high"]]
        out.append(f"- Human categories where the verifier's CI lies entirely below {SHORT[s]}'s: "
                   f"{', '.join(worse) or 'none'}; entirely above: {', '.join(better) or 'none'}.")
    nd = _stage2_ndcg(res)
    if nd:
        best = max(nd, key=lambda s: nd[s])
        out.append(f"- Best mean nDCG@10 among stage-2 systems: {SHORT[best]} ({nd[best]:.3f}); stage 1 {nd['stage1']:.3f}, "
                   f"verirank full {nd['verirank_full']:.3f}.")
    return out + [""]


def _pw(res: Any, system: str, key: str = "family:human") -> dict | None:
    return ((res.pairs.get(system, {}).get(key) or {}).get("overall") or {}).get("pairwise_accuracy")


def _paradox_macro(res: Any, model: str, metric: str = "ndcg@10") -> float | None:
    done = [r for r in res.paradox.values() if r]
    if not done:
        return None
    import numpy as np

    return float(np.mean([np.mean(list(r["models"][model]["per_query"][metric].values())) for r in done]))


def _pt(x: float) -> str:
    return f"{100 * x:+.1f} pt"


def discussion(res: Any) -> list[str]:
    """Prose built from the measured numbers: every claim below is recomputed on each run."""
    out = ["## Discussion", ""]
    a, b, ap = (_paradox_macro(res, m) for m in ("A", "B", "A_prime"))
    pa, pb, pap = _pw(res, "stage1"), _pw(res, "paradox_B"), _pw(res, "paradox_A_prime")
    if None not in (a, b, ap) and None not in (pa, pb, pap):
        sig = [c for c, r in res.paradox.items() if r and r["models"]["B"]["vs_A"]["ndcg@10"]["p_value"] < 0.05]
        diff = _paired_b_vs_aprime(res)
        gain = pb["value"] - pap["value"]
        gen_b, gen_ap = _pw(res, "paradox_B", "family:generated"), _pw(res, "paradox_A_prime", "family:generated")
        sep_human = pb["low"] > pap["high"]
        sep_gen = bool(gen_b and gen_ap and gen_b["low"] > gen_ap["high"])
        costly = diff is not None and diff["high"] < 0
        if (sep_human or sep_gen) and costly:
            verdict = "the trade-off reproduces: the triplets bought near-miss separation and paid for it in relevance"
        elif sep_human or sep_gen:
            verdict = ("the triplets measurably improved separation without a measurable relevance cost, so only one "
                       "side of the trade-off shows at this budget")
        elif costly:
            verdict = "the triplets cost relevance without a measurable separation gain at this budget"
        else:
            verdict = (f"separation moved {'up' if gain > 0 else 'down'} and relevance did not measurably move, but "
                       "neither difference is "
                       "significant at this budget: the paradox is neither confirmed nor refuted here")
        out.append(
            f"**The paradox.** Fine-tuning the embedder itself (B) moved mean nDCG@10 by {_pt(b - a)} against A "
            f"(significant on {', '.join(sig) or 'no collection'}), while the control A' trained the same steps on "
            f"relevance pairs alone moved it by {_pt(ap - a)}. Against that control, the identity triplets moved "
            f"nDCG@10 by {_pt(diff['value']) if diff else '?'} (paired over all "
            f"{diff['n'] if diff else '?'} queries, 95 % CI [{_pt(diff['low']) if diff else '?'}, "
            f"{_pt(diff['high']) if diff else '?'}]) and pairwise near-miss accuracy on human sets from "
            f"{pap['value']:.3f} to {pb['value']:.3f} ({_pt(gain)}; A: {pa['value']:.3f}; CIs {'apart' if sep_human else 'overlap'})"
            + (f", on generated edits from {gen_ap['value']:.3f} to {gen_b['value']:.3f} (CIs "
               f"{'apart' if sep_gen else 'overlap'})" if gen_b and gen_ap else "")
            + f": {verdict}.{_b_vs_aprime_tests(res)} The budget is tiny ({res.cfg.finetune_steps} steps), so read the "
            "direction, not the size.")
        out.append("")
    nd = _stage2_ndcg(res)
    lat = res.latency["ms_per_query"] if res.latency else {}
    if nd and res.pairs.get("verifier_pmatch") and lat:
        base = lat["stage1"]
        pv, pc, pcos = _pw(res, "verifier_pmatch"), _pw(res, "cross_encoder"), _pw(res, "stage1")
        pc_gen = _pw(res, "cross_encoder", "family:generated")
        out.append(
            f"**Stage 2 on the same top-100.** verirank full changes mean nDCG@10 by {_pt(nd['verirank_full'] - nd['stage1'])} "
            f"(light {_pt(nd['verirank_light'] - nd['stage1'])}) at {lat['verirank_full'] / base:.1f}x stage 1's cost, "
            f"and {'lifts' if pv and pcos and pv['value'] > pcos['value'] else 'moves'} human near-miss pairwise "
            f"accuracy from {fmt(pcos)} (cosine) to {fmt(pv)}. "
            f"The cross-encoder trained here on the same identity pairs reaches {pc['value'] if pc else float('nan'):.3f} on "
            f"the human near-misses (its CI {_relation(pc, pcos)} cosine's"
            + (f"; {pc_gen['value']:.3f} on generated edits" if pc_gen else "") + f") and {_pt(nd['cross_encoder'] - nd['stage1'])} nDCG@10, at "
            f"{lat['cross_encoder'] / base:.0f}x stage 1 ({lat['cross_encoder'] / lat['verirank_full']:.0f}x verirank full). "
            f"The BM25 hybrid moves nDCG@10 by {_pt(nd['bm25_hybrid'] - nd['stage1'])} for {lat['bm25_hybrid'] / base:.1f}x; "
            f"MaxSim by {_pt(nd['maxsim_F1'] - nd['stage1'])}." + _cnn_sentence(res, nd, lat))
        out.append("")
        losses = []
        for s in ("cross_encoder", "stage1", "bm25_hybrid", "maxsim_F1", "simmap_cnn"):
            p = _pw(res, s)
            if p and pv and p["low"] > pv["high"]:
                losses.append(f"{SHORT[s]} separates human near-misses better overall")
        for name, row in res.pairs.get("verifier_pmatch", {}).items():
            if name.startswith("family:"):
                continue
            cos = (res.pairs["stage1"].get(name) or {}).get("overall", {}).get("pairwise_accuracy")
            ver = row["overall"]["pairwise_accuracy"]
            if cos and ver and ver["value"] < cos["value"] - 0.02:
                losses.append(f"{name}: verifier {ver['value']:.3f} < cosine {cos['value']:.3f}")
        for c in res.collections_done():
            for level in ("verirank_full", "verirank_light"):
                d = res.stage2[c]["systems"][level]["vs_stage1"]
                if d["difference"]["value"] <= -0.01 or (d["p_value"] < 0.05 and d["difference"]["value"] < 0):
                    losses.append(f"{c}: {SHORT[level]} {_pt(d['difference']['value'])} nDCG@10 (p={d['p_value']:.2f})")
        natural = [c for c in res.collections_done() if c != "limit-small"]
        nat = {s: _macro_over(res, s, natural) for s in nd} if natural else {}
        for s in ("bm25_hybrid", "cross_encoder", "maxsim_F1", "simmap_cnn"):
            if s in nd and nd[s] > nd["verirank_full"] + 0.005:
                losses.append(f"{SHORT[s]} ranks better than verirank full on mean nDCG@10 ({nd[s]:.3f} vs "
                              f"{nd['verirank_full']:.3f})" + (
                                  f", {'and' if nat[s] > nat['verirank_full'] else 'but'} over the {len(natural)} "
                                  f"natural-text collections alone (without limit-small) it scores {nat[s]:.3f} vs "
                                  f"{nat['verirank_full']:.3f} (stage 1 {nat['stage1']:.3f})" if nat else ""))
        ver_cats = (res.pairs["verifier_pmatch"].get("family:human") or {}).get("categories", {})
        for c in CATEGORIES:
            v = (ver_cats.get(c) or {}).get("pairwise_accuracy")
            rivals = [(SHORT[o], ((res.pairs.get(o, {}).get("family:human") or {}).get("categories", {}).get(c) or {})
                       .get("pairwise_accuracy")) for o in ("stage1", "cross_encoder", "bm25_hybrid", "simmap_cnn")]
            ahead = [f"{name} {r['value']:.2f}" for name, r in rivals if v and r and r["value"] >= v["value"] + 0.1]
            if ahead:
                losses.append(f"human {c} near-misses (n={ver_cats[c]['n_near_miss']}, CIs overlap): verifier "
                              f"{v['value']:.2f} vs {', '.join(ahead)}")
        losses.append(f"the verifier's p_match used alone as the ranking score costs {_pt(nd['verifier_pmatch'] - nd['stage1'])} "
                      "nDCG@10: it judges \"states the same\", not relevance; verirank stays level with stage 1 "
                      "because its verdicts reorder hits only on queries with a parsed constraint, and there p_match "
                      "nudges the cosine rather than replacing it")
        out.append("**Where the verifier loses.** " + ("; ".join(losses) + "." if losses else "nowhere measurable at this scale."))
        out.append("")
    out.append(
        "**Caveats.** Everything ran on one niced thread of a CPU shared with other jobs, so absolute milliseconds "
        "are inflated and noisy; ratios come from one run. The cross-encoder, the map CNN and B/A' had minutes of "
        "training, not "
        "the epochs a released checkpoint gets, and the cross-encoder never saw (query, passage) relevance pairs "
        "(none exist offline): its relevance numbers are a floor. Corpora are cut and queries subsampled (see the "
        "scale section), so CIs are wide; a difference whose CI spans zero is not a finding.")
    return out + [""]


def _paired_b_vs_aprime(res: Any) -> dict | None:
    """nDCG@10 of B minus A' per query, pooled over collections: mean and 95 % bootstrap CI."""
    from verirank.eval.metrics import bootstrap_ci

    diffs = []
    for r in res.paradox.values():
        if r:
            pb, pa = r["models"]["B"]["per_query"]["ndcg@10"], r["models"]["A_prime"]["per_query"]["ndcg@10"]
            diffs += [pb[q] - pa[q] for q in pb if q in pa]
    return bootstrap_ci(diffs, seed=res.cfg.seed).model_dump() if diffs else None


def _stage2_ndcg(res: Any) -> dict[str, float]:
    """Mean nDCG@10 of every stage-2 system the run holds; {} unless all but the map CNN are there."""
    nd = {s: v for s in SYSTEMS if (v := res.macro(s, "ndcg@10")) is not None}
    return nd if all(s in nd for s in SYSTEMS if s != "simmap_cnn") else {}


def _relation(a: dict | None, b: dict | None) -> str:
    """How interval ``a`` sits against ``b``: apart above, apart below, or overlapping."""
    if not a or not b:
        return "is not comparable with"
    return "lies above" if a["low"] > b["high"] else "lies below" if a["high"] < b["low"] else "overlaps"


def _cnn_sentence(res: Any, nd: dict[str, float], lat: dict[str, float]) -> str:
    """The map CNN against the training-free map scores and the verifier ('' when it did not run)."""
    if "simmap_cnn" not in nd:
        return ""
    p, gen = _pw(res, "simmap_cnn"), _pw(res, "simmap_cnn", "family:generated")
    text = (f" The small CNN trained here on the maps F0/F1 read (on the cross-encoder's pairs) moves nDCG@10 by "
            f"{_pt(nd['simmap_cnn'] - nd['stage1'])} (MaxSim: {_pt(nd['maxsim_F1'] - nd['stage1'])})"
            + (f" at {lat['simmap_cnn'] / lat['stage1']:.1f}x stage 1" if "simmap_cnn" in lat else ""))
    if p:
        text += (f", and reaches {fmt(p)} on the human near-misses" + (f" ({gen['value']:.3f} on generated edits)" if gen else "")
                 + "; its CI " + ", ".join(f"{_relation(p, _pw(res, o))} {SHORT[o]}'s ({_pw(res, o)['value']:.3f})"
                                           for o in ("meansim_F0", "maxsim_F1", "verifier_pmatch") if _pw(res, o)))
    return text + "."


def _b_vs_aprime_tests(res: Any) -> str:
    """B against A' per collection and metric (the paradox table's Δ B − A' columns), counted against chance."""
    from math import comb

    tests = {c: r["models"]["B"]["vs_A_prime"] for c, r in res.paradox.items() if r and "vs_A_prime" in r["models"]["B"]}
    if not tests:
        return ""
    parts, n_sig = [], 0
    for metric, name in (("ndcg@10", "nDCG@10"), ("recall@100", "Recall@100")):
        sig = {c: t[metric]["difference"]["value"] for c, t in tests.items() if t[metric]["p_value"] < 0.05}
        n_sig += len(sig)
        moves = [f"{word} on {', '.join(c for c, v in sig.items() if (v > 0) == up)}" for word, up in
                 (("higher", True), ("lower", False)) if any((v > 0) == up for v in sig.values())]
        parts.append(f"{name} is significantly {' and '.join(moves)}" if moves else f"{name} differs significantly on no collection")
    n = 2 * len(tests)
    if not n_sig:
        return (f" Tested per collection against A' (paired randomisation), B differs significantly (p < 0.05) in "
                f"neither nDCG@10 nor Recall@100 on any of the {len(tests)} collections.")
    chance = sum(comb(n, k) * 0.05**k * 0.95 ** (n - k) for k in range(n_sig, n + 1))
    return (f" Tested per collection against A' (paired randomisation, p < 0.05), B's {parts[0]}, and its {parts[1]}: "
            f"{n_sig} of {n} tests pass, {'more than chance explains' if chance < 0.05 else 'no more than chance alone gives'} "
            f"(P(≥ {n_sig} of {n} at p < 0.05 by chance) = {chance:.2f}, tests taken as independent).")


def _macro_over(res: Any, system: str, collections: list[str]) -> float:
    import numpy as np

    return float(np.mean([np.mean(list(res.stage2[c]["systems"][system]["per_query"]["ndcg@10"].values()))
                          for c in collections]))
