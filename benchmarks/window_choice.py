"""Which windows of a long candidate the verifier's scorer reads: every one, or the best by MaxSim.

A candidate longer than one window scores as its best window. ``NearMissVerifier.scored_windows``
(``runtime.SCORED_WINDOWS``) lets the scorer read only the windows whose MaxSim with the query is
highest; this script measures what that changes on the classic collections' top ``--candidates``
stage-1 hits of every judged query (3 windows per document, relevance mode):

- how often MaxSim's window is the scorer's own best window (over candidates of 2+ windows);
- p_match and decisions (full, strict) against scoring every window;
- (query, window) pairs scored, and verification time of both settings, interleaved in one run
  (one thread; read the ratio, not the milliseconds).

    python benchmarks/window_choice.py --out reports/bench/window_choice.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import verirank
from verirank.datasets import load_beir
from verirank.eval.metrics import bootstrap_ci
from verirank.types import Level, Mode
from verirank.verifier.runtime import Candidate, NearMissVerifier, query_states, windows

SETTINGS = {"every window": None, "best by MaxSim": 1}


def measure(name: str, candidates: int, seed: int) -> dict[str, Any]:
    data = load_beir(name)
    verifier = NearMissVerifier.load(doc_windows=3)
    pipe = verirank.Pipeline.default(verifier=verifier)
    pipe.add(data.corpus)
    size = verifier.cfg.max_doc_tokens
    p: dict[str, list[float]] = {k: [] for k in SETTINGS}
    decisions: dict[tuple[str, str], list[str]] = {}
    seconds = dict.fromkeys(SETTINGS, 0.0)
    pairs = dict.fromkeys(SETTINGS, 0)
    multi: list[bool] = []
    for text in data.judged_queries.values():
        top = pipe.search(text, k=candidates, level="off")
        q = query_states(verifier, text, pipe.encoder.encode([text], state_layer=verifier.state_layer))
        docs = {d.id: d for d in pipe.index.get([h.id for h in top], with_states=True)}
        cands = [Candidate(docs[h.id].text, docs[h.id].token_states, docs[h.id].token_spans, h.score,
                           docs[h.id].vector) for h in top]
        multi += [len(windows(len(c.states), size)) > 1 for c in cands]
        for key, scored in SETTINGS.items():
            verifier.scored_windows = scored
            pairs[key] += sum(len(verifier._scored_windows(q, c)) for c in cands)
            for level in (Level.FULL, Level.STRICT):
                started = time.perf_counter()
                verdicts = verifier.verify(q, cands, Mode.RELEVANCE, level)
                if level is Level.FULL:
                    seconds[key] += time.perf_counter() - started
                    p[key] += [v.p_match for v in verdicts]
                decisions.setdefault((key, level.value), []).extend(v.decision.value for v in verdicts)
    every, chosen = np.array(p["every window"]), np.array(p["best by MaxSim"])
    long = np.array(multi)
    same_window = np.abs(every - chosen)[long] < 1e-4
    out: dict[str, Any] = {"collection": name, "queries": len(data.judged_queries), "candidates": len(every),
                           "multi_window_candidates": int(long.sum()),
                           "maxsim_window_is_best": bootstrap_ci(same_window.astype(float), seed=seed).model_dump(),
                           "p_match_abs_diff": {"mean": float(np.abs(every - chosen).mean()),
                                                "max": float(np.abs(every - chosen).max())},
                           "pairs_scored": pairs, "verify_seconds": seconds,
                           "speedup": seconds["every window"] / seconds["best by MaxSim"]}
    for level in ("full", "strict"):
        a, b = decisions["every window", level], decisions["best by MaxSim", level]
        out[f"decisions_changed_{level}"] = [f"{x} -> {y}" for x, y in zip(a, b) if x != y]
    print(json.dumps({k: v for k, v in out.items() if not k.startswith("decisions")}), flush=True)
    return out


def render(rows: list[dict[str, Any]]) -> str:
    lines = ["| collection | candidates (2+ windows) | MaxSim's window = scorer's best | mean / max abs Δ p_match "
             "| decisions changed (full; strict) | pairs scored (every / MaxSim) | verify time ratio |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ci = r["maxsim_window_is_best"]
        lines.append(f"| {r['collection']} | {r['candidates']} ({r['multi_window_candidates']}) "
                     f"| {ci['value']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}] "
                     f"| {r['p_match_abs_diff']['mean']:.4f} / {r['p_match_abs_diff']['max']:.3f} "
                     f"| {len(r['decisions_changed_full'])}; {len(r['decisions_changed_strict'])} "
                     f"| {r['pairs_scored']['every window']} / {r['pairs_scored']['best by MaxSim']} "
                     f"| {r['speedup']:.2f}x |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--collections", nargs="+", default=["cranfield", "cisi", "med", "npl", "cacm", "lisa"])
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="reports/bench/window_choice.json")
    args = ap.parse_args()
    rows = [measure(name, args.candidates, args.seed) for name in args.collections]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"seed": args.seed, "candidates": args.candidates, "rows": rows,
                               "command": "python benchmarks/window_choice.py"}, indent=2))
    out.with_suffix(".md").write_text(render(rows))
    print(render(rows))


if __name__ == "__main__":
    main()
