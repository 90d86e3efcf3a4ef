"""``reports/reproduction.md`` and its plots, from the cached step outputs alone."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from verirank.eval.reproduce.cache import read_json
from verirank.eval.reproduce.config import ReproConfig
from verirank.eval.reproduce.pairs_eval import pair_metrics
from verirank.eval.reproduce.stage2 import SYSTEMS

log = logging.getLogger(__name__)

LABELS = {
    "stage1": "stage 1 = A as shipped (verirank off)", "bm25_hybrid": "A + BM25 hybrid (RRF)",
    "maxsim_F1": "A + MaxSim late interaction (F1)", "meansim_F0": "A + mean-sim over the map (F0)",
    "simmap_cnn": "A + small CNN over the map (trained here)",
    "cross_encoder": "A + MiniLM-L6 cross-encoder (fine-tuned here)",
    "verifier_pmatch": "A + Transformer verifier p_match (shipped)", "verirank_light": "verirank light",
    "verirank_full": "verirank full", "paradox_B": "B: A fine-tuned, relevance + identity triplets (stage 1 only)",
    "paradox_A_prime": "A': A fine-tuned, relevance only (stage 1 only)",
}
SHORT = {"stage1": "A (off)", "bm25_hybrid": "BM25 hybrid", "maxsim_F1": "MaxSim F1", "meansim_F0": "mean-sim F0",
         "simmap_cnn": "map CNN", "cross_encoder": "cross-enc", "verifier_pmatch": "verifier p",
         "verirank_light": "verirank light", "verirank_full": "verirank full", "paradox_B": "B", "paradox_A_prime": "A'"}
VERIFIER_DECIDED = ("verifier_pmatch", "verirank_light", "verirank_full")
CATEGORIES = ("negation", "role_reversal", "spatial", "binding", "comparative", "numeric", "exclusion", "match")


def fmt(ci: dict | None, pct: bool = False, signed: bool = False) -> str:
    if ci is None:
        return "–"
    k = 100 if pct else 1
    f = "{:+.1f}" if signed and pct else "{:+.3f}" if signed else "{:.1f}" if pct else "{:.3f}"
    return f"{f.format(k * ci['value'])} [{f.format(k * ci['low'])}, {f.format(k * ci['high'])}]"


def val(ci: dict | None, pct: bool = False) -> str:
    return "–" if ci is None else (f"{100 * ci['value']:.1f}" if pct else f"{ci['value']:.3f}")


class Results:
    """Everything cached by the steps, loaded once."""

    def __init__(self, cfg: ReproConfig, folder: Path) -> None:
        self.cfg, self.folder = cfg, folder
        load = lambda p: read_json(p) if p.exists() else None  # noqa: E731
        self.timings = load(folder / "timings.json") or {}
        self.machine = load(folder / "machine.json") or {}
        self.models = {m: load(folder / "models" / m / "train.json") for m in ("B", "A_prime", "cross", "cnn")}
        self.models = {m: v for m, v in self.models.items() if v}
        self.latency = load(folder / "latency.json")
        self.stage2 = {c: load(folder / "stage2" / f"{c}.json") for c in cfg.collections}
        self.paradox = {c: load(folder / "paradox" / f"relevance_{c}.json") for c in cfg.collections}
        self.sets = load(folder / "nearmiss_sets.json") or {}
        self.pairs: dict[str, Any] = {}
        for system in (*SYSTEMS, "paradox_B", "paradox_A_prime"):
            source = "verifier_pmatch" if system in VERIFIER_DECIDED else system
            scores = load(folder / "scores" / f"{source}.json")
            if scores is None or not self.sets:
                continue
            self.pairs[system] = pair_metrics(self.sets, scores, _verifier_decisions() if source == "verifier_pmatch" else None,
                                              cfg.seed, cfg.bootstrap)

    def has_cnn(self) -> bool:
        """Whether this run holds results of the map CNN (stage-2 runs or near-miss scores)."""
        return "simmap_cnn" in self.pairs or any(r and "simmap_cnn" in r["systems"] for r in self.stage2.values())

    def collections_done(self) -> list[str]:
        return [c for c, r in self.stage2.items() if r]

    def macro(self, system: str, metric: str) -> float | None:
        """Mean over finished collections of the system's mean on the stage-2 queries."""
        values = []
        for c in self.collections_done():
            per_query = self._per_query(c, system, metric)
            if per_query is None:
                return None
            values.append(float(np.mean(per_query)))
        return float(np.mean(values)) if values else None

    def _per_query(self, c: str, system: str, metric: str) -> list[float] | None:
        queries = self.stage2[c]["systems"]["stage1"]["per_query"][metric].keys()
        if system.startswith("paradox_"):
            rel = self.paradox.get(c)
            if not rel:
                return None
            pq = rel["models"][system.removeprefix("paradox_")]["per_query"][metric]
            return [pq.get(q, 0.0) for q in queries]
        entry = self.stage2[c]["systems"].get(system)  # None: the cached collection predates the system
        return None if entry is None else list(entry["per_query"][metric].values())


def _verifier_decisions() -> Any:
    from verirank.types import Level
    from verirank.verifier.runtime import NearMissVerifier, decide

    cal = NearMissVerifier.load().calibration.for_mode("identity")

    def decisions(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = [decide(float(p), cal, Level.FULL).value for p in s]
        return np.array([x == "accept" for x in d]), np.array([x == "reject" for x in d])
    return decisions


def write_report(cfg: ReproConfig, folder: Path, out_dir: Path) -> Path:
    res = Results(cfg, folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = "reproduction" if cfg.scale == "full" else f"reproduction_{cfg.scale}"
    plots = _plots(res, out_dir, stem)
    text = render(res, plots)
    path = out_dir / f"{stem}.md"
    path.write_text(text)
    (out_dir / f"{stem}.json").write_text(json.dumps(summary(res), indent=1))
    return path


def summary(res: Results) -> dict[str, Any]:
    """The headline numbers, machine-readable (README figures come from here)."""
    rows = {}
    for system in (*SYSTEMS, "paradox_B", "paradox_A_prime"):
        p = res.pairs.get(system, {})
        rows[system] = {"ndcg@10_macro": res.macro(system, "ndcg@10"), "recall@100_macro": res.macro(system, "recall@100"),
                        "human_pairwise": (p.get("family:human") or {}).get("overall", {}).get("pairwise_accuracy"),
                        "generated_pairwise": (p.get("family:generated") or {}).get("overall", {}).get("pairwise_accuracy"),
                        "human_both_correct": (p.get("family:human") or {}).get("both_correct"),
                        "human_far_at_tar95": (p.get("family:human") or {}).get("overall", {}).get("far_at_tar95"),
                        "ms_per_query_100": _ms(res, system)}
    return {"scale": res.cfg.scale, "collections": res.collections_done(), "systems": rows, "timings": res.timings}


def _ms(res: Results, system: str) -> float | None:
    if not res.latency:
        return None
    key = "stage1" if system.startswith("paradox_") else system
    return res.latency["ms_per_query"].get(key)


def _plots(res: Results, out_dir: Path, stem: str) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = {}
    # Pareto: near-miss pairwise accuracy (human) vs nDCG@10 (macro)
    points = [(s, res.macro(s, "ndcg@10"), (res.pairs.get(s, {}).get("family:human") or {}).get("overall", {}).get("pairwise_accuracy"))
              for s in (*SYSTEMS, "paradox_B", "paradox_A_prime")]
    points = [(s, x, y) for s, x, y in points if x is not None and y is not None]
    if points:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        for s, x, y in points:
            ax.errorbar(x, y["value"], yerr=[[y["value"] - y["low"]], [y["high"] - y["value"]]], fmt="o", capsize=3)
            offset = (-62, 4) if s == "verirank_light" else (5, -10) if s == "paradox_A_prime" else (5, 4)
            ax.annotate(SHORT[s], (x, y["value"]), textcoords="offset points", xytext=offset, fontsize=8)
        ax.set_xlabel(f"nDCG@10, mean over {len(res.collections_done())} collections (stage-2 queries)")
        ax.set_ylabel("pairwise accuracy, held-out human near-misses")
        ax.set_title("Relevance vs near-miss separation")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        made["pareto"] = f"{stem}_pareto.png"
        fig.savefig(out_dir / made["pareto"], dpi=120)
        plt.close(fig)
    if res.latency:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for s, curve in res.latency["sweep_ms"].items():
            xs = [int(n) for n in curve]
            ax.plot(xs, list(curve.values()), marker="o", label=SHORT[s])
        ax.axhline(res.latency["ms_per_query"]["stage1"], color="grey", ls="--", label="stage 1 alone")
        ax.set_xlabel("stage-1 candidates reranked")
        ax.set_ylabel("ms per query (median, 1 thread)")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
        fig.tight_layout()
        made["latency"] = f"{stem}_latency.png"
        fig.savefig(out_dir / made["latency"], dpi=120)
        plt.close(fig)
    systems = [s for s in ("stage1", "paradox_B", "paradox_A_prime", "bm25_hybrid", "maxsim_F1", "simmap_cnn",
                           "cross_encoder", "verifier_pmatch") if s in res.pairs]
    for fam in ("human", "generated"):
        cats = [c for c in CATEGORIES if any(c in (res.pairs[s].get(f"family:{fam}") or {}).get("categories", {}) for s in systems)]
        if not cats:
            continue
        fig, ax = plt.subplots(figsize=(8, 4.2))
        width = 0.8 / len(systems)
        for k, s in enumerate(systems):
            cat = (res.pairs[s].get(f"family:{fam}") or {}).get("categories", {})
            ys = [(cat.get(c) or {}).get("pairwise_accuracy") for c in cats]
            ax.bar(np.arange(len(cats)) + k * width, [y["value"] if y else np.nan for y in ys], width, label=SHORT[s])
        ax.axhline(0.5, color="grey", lw=0.8)
        ax.set_xticks(np.arange(len(cats)) + 0.4 - width / 2, [c.replace("_", " ") for c in cats], fontsize=8)
        ax.set_ylabel("pairwise accuracy")
        ax.set_ylim(0, 1)
        ax.set_title(f"Per category, {fam} held-out near-misses")
        ax.legend(fontsize=7, ncol=4)
        fig.tight_layout()
        made[f"categories_{fam}"] = f"{stem}_categories_{fam}.png"
        fig.savefig(out_dir / made[f"categories_{fam}"], dpi=120)
        plt.close(fig)
    return made


def render(res: Results, plots: dict[str, str]) -> str:
    from verirank.eval.reproduce.report_text import render_markdown

    return render_markdown(res, plots)
