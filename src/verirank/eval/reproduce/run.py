"""The reproduction's steps in order, each cached under ``runs/reproduce/<scale>/``."""

from __future__ import annotations

import functools
import logging
import platform
import time
from pathlib import Path
from typing import Any

from verirank.eval.reproduce.cache import cached_json, read_json, write_json
from verirank.eval.reproduce.config import ReproConfig
from verirank.eval.reproduce.data import load_collection, nearmiss_sets

log = logging.getLogger(__name__)
STEPS = ("data", "cross", "cnn", "finetune", "nearmiss", "stage2", "paradox", "report")
VERIFIER_SYSTEMS = ("verifier_pmatch", "verirank_light", "verirank_full")


class Timer:
    """Wall and CPU seconds per step, appended to ``timings.json`` (kept across resumed runs)."""

    def __init__(self, run: Path) -> None:
        self.path = run / "timings.json"
        self.data: dict[str, Any] = read_json(self.path) if self.path.exists() else {}

    def record(self, step: str, wall: float, cpu: float) -> None:
        if self.path.exists():  # another process (a step run in parallel) may have written since
            self.data = read_json(self.path)
        entry = self.data.setdefault(step, {"wall_s": 0.0, "cpu_s": 0.0, "runs": 0})
        entry["wall_s"] += wall
        entry["cpu_s"] += cpu
        entry["runs"] += 1
        end = time.time()
        entry["first_start"] = min(entry.get("first_start", end - wall), end - wall)  # unix seconds
        entry["last_end"] = max(entry.get("last_end", end), end)
        write_json(self.path, self.data)


def run(cfg: ReproConfig, root: Path, steps: tuple[str, ...] = STEPS, report_dir: Path | None = None,
        models: tuple[str, ...] = ("B", "A_prime")) -> Path:
    """Run ``steps`` in order; ``models`` = the bi-encoders the ``finetune`` step trains (two processes
    can each train one)."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    folder = cfg.run_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "config.json"
    if config_path.exists() and read_json(config_path) != __import__("json").loads(cfg.to_json()):
        log.warning("%s holds another config; its cached steps were computed with that one", config_path)
    config_path.write_text(cfg.to_json())
    write_json(folder / "machine.json", {"python": platform.python_version(), "machine": platform.machine(),
                                         "processor": platform.processor(), "torch": torch.__version__,
                                         "threads": torch.get_num_threads()})
    timer = Timer(folder)
    for step in STEPS:
        if step not in steps:
            continue
        log.info("step %s", step)
        wall, cpu = time.perf_counter(), time.process_time()
        if step == "finetune":
            step_finetune(cfg, folder, report_dir, models)
        else:
            STEP_FUNCTIONS[step](cfg, folder, report_dir)
        timer.record(step, time.perf_counter() - wall, time.process_time() - cpu)
    return folder


def step_data(cfg: ReproConfig, folder: Path, _: Path | None) -> None:
    cached_json(folder / "nearmiss_sets.json", lambda: nearmiss_sets(cfg))


def step_cross(cfg: ReproConfig, folder: Path, _: Path | None) -> None:
    from verirank.eval.reproduce.paradox import train_cross

    train_cross(cfg, folder)


def step_cnn(cfg: ReproConfig, folder: Path, _: Path | None) -> None:
    from verirank.eval.reproduce.cnn import train_cnn

    train_cnn(cfg, folder, _dual_encoder())


def step_finetune(cfg: ReproConfig, folder: Path, _: Path | None, models: tuple[str, ...] = ("B", "A_prime")) -> None:
    from verirank.eval.reproduce.paradox import finetune_models

    finetune_models(cfg, folder, models)


@functools.cache
def _dual_encoder() -> Any:
    from verirank.eval.reproduce.models import DualStateMiniLM

    return DualStateMiniLM()


def step_stage2(cfg: ReproConfig, folder: Path, _: Path | None) -> None:
    """Per collection: systems' runs (cached per collection), model A's vectors for the paradox,
    then cost. A cached collection or cost file that lacks a system of ``SYSTEMS`` (written before
    the system was added) is recomputed whole, so every number of a table comes from one run."""
    from verirank.eval.reproduce.cache import cached_array
    from verirank.eval.reproduce.cnn import load_cnn
    from verirank.eval.reproduce.models import CrossEncoder
    from verirank.eval.reproduce.stage2 import SYSTEMS, build_context, evaluate_collection, pooled_docs
    from verirank.verifier.runtime import NearMissVerifier

    encoder = _dual_encoder()
    verifier = NearMissVerifier.load()
    cross = CrossEncoder(folder / "models" / "cross" / "model.safetensors", cfg.cross_infer_max_len)
    cnn = load_cnn(cfg, folder, encoder)
    for path in [folder / "latency.json", *(folder / "stage2" / f"{c}.json" for c in cfg.collections)]:
        missing = _missing_systems(path, SYSTEMS)
        if missing:
            log.warning("%s predates %s; recomputing it", path, ", ".join(missing))
            path.unlink()
    ctx = None
    for name in cfg.collections:
        out = folder / "stage2" / f"{name}.json"
        vec = folder / "vectors" / "A" / name
        if out.exists() and (vec / "docs.npy").exists() and (vec / "queries.npy").exists():
            continue
        coll = load_collection(name, cfg)
        ctx = build_context(coll, encoder, verifier, cross, cnn)
        cached_array(vec / "docs.npy", lambda: pooled_docs(ctx))
        qids = sorted(coll.queries)
        cached_array(vec / "queries.npy", lambda: encoder.encode([coll.queries[q] for q in qids]).pooled)
        cached_json(out, lambda: evaluate_collection(cfg, coll, ctx))
        if name == cfg.collections[0]:
            from verirank.eval.reproduce.latency import measure

            write_json(folder / "latency.json", measure(cfg, coll, ctx))
    if not (folder / "latency.json").exists():
        coll = load_collection(cfg.collections[0], cfg)
        from verirank.eval.reproduce.latency import measure

        write_json(folder / "latency.json", measure(cfg, coll, build_context(coll, encoder, verifier, cross, cnn)))
    encoder.last_states.clear()
    encoder.pooled_of.clear()


def _missing_systems(path: Path, systems: tuple[str, ...]) -> list[str]:
    """The ``systems`` a cached stage-2 (``systems``) or cost (``ms_per_query``) file lacks; [] if absent."""
    if not path.exists():
        return []
    data = read_json(path)
    have = data.get("systems") or data.get("ms_per_query") or {}
    return [s for s in systems if s not in have]


def step_nearmiss(cfg: ReproConfig, folder: Path, _: Path | None) -> None:
    """Every stage-2 system's scores on the near-miss pair sets (the cross-encoder's last: its
    weights may still be training in a parallel ``cross`` step)."""
    import numpy as np

    from verirank.eval.reproduce.cnn import load_cnn
    from verirank.eval.reproduce.pairs_eval import score_sets
    from verirank.eval.reproduce.stage2 import maxsim, meansim, token_states
    from verirank.eval.scoring import CosineScorer
    from verirank.verifier.scorer import VerifierScorer

    from verirank.eval.reproduce.models import CrossEncoder
    from verirank.verifier.runtime import NearMissVerifier

    encoder = _dual_encoder()
    sets = read_json(folder / "nearmiss_sets.json")
    cosine = CosineScorer(encoder)

    def token_scorer(fn: Any) -> Any:
        def score(anchors: list[str], texts: list[str]) -> np.ndarray:
            states = token_states(encoder, anchors + texts)
            return np.array([fn(a, t) for a, t in zip(states[: len(anchors)], states[len(anchors) :])])
        return score

    def hybrid(anchors: list[str], texts: list[str]) -> np.ndarray:
        return bm25_pair_rrf(anchors, texts, cosine.score(anchors, texts))

    scorers = {"stage1": cosine.score, "bm25_hybrid": hybrid, "maxsim_F1": token_scorer(maxsim),
               "meansim_F0": token_scorer(meansim), "simmap_cnn": load_cnn(cfg, folder, encoder).pair_scorer(encoder),
               "verifier_pmatch": VerifierScorer(NearMissVerifier.load(), encoder, "identity").score}
    for system, scorer in scorers.items():
        cached_json(folder / "scores" / f"{system}.json", lambda scorer=scorer: score_sets(sets, scorer))
    weights = folder / "models" / "cross" / "model.safetensors"
    while not (folder / "models" / "cross" / "train.json").exists():  # a parallel `cross` step
        log.info("waiting for %s", weights)
        time.sleep(30)
    cross = CrossEncoder(weights, cfg.cross_infer_max_len)
    cached_json(folder / "scores" / "cross_encoder.json", lambda: score_sets(sets, cross.score))


def bm25_pair_rrf(anchors: list[str], texts: list[str], cosines: Any) -> Any:
    """The hybrid on pairs: within each anchor's texts, RRF of the cosine ranking and the BM25 ranking
    (BM25 statistics from all texts of the set)."""
    import bm25s
    import numpy as np

    if not texts:
        return np.zeros(0)
    unique = list(dict.fromkeys(texts))
    row = {t: i for i, t in enumerate(unique)}
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(unique, stopwords="en", show_progress=False), show_progress=False)
    by_anchor: dict[str, list[int]] = {}
    for i, a in enumerate(anchors):
        by_anchor.setdefault(a, []).append(i)
    out = np.zeros(len(texts))
    for anchor, rows in by_anchor.items():
        tokens = bm25s.tokenize([anchor], stopwords="en", show_progress=False, return_ids=False)[0]
        bm = bm25.get_scores(tokens) if tokens else np.zeros(len(unique))
        b = np.array([bm[row[texts[i]]] for i in rows])
        c = np.array([cosines[i] for i in rows])
        rank_b = np.argsort(np.argsort(-b, kind="stable"), kind="stable") + 1
        rank_c = np.argsort(np.argsort(-c, kind="stable"), kind="stable") + 1
        out[rows] = 1.0 / (60 + rank_b) + 1.0 / (60 + rank_c)
    return out


def step_paradox(cfg: ReproConfig, folder: Path, _: Path | None) -> None:
    from verirank.eval.reproduce.models import FinetunedMiniLM
    from verirank.eval.reproduce.pairs_eval import score_sets
    from verirank.eval.reproduce.paradox import relevance_of_models
    from verirank.eval.scoring import CosineScorer

    factories = {
        "A": _dual_encoder,
        "B": functools.cache(lambda: FinetunedMiniLM(folder / "models" / "B" / "model.safetensors", "B")),
        "A_prime": functools.cache(lambda: FinetunedMiniLM(folder / "models" / "A_prime" / "model.safetensors", "A_prime")),
    }
    for name in cfg.collections:
        relevance_of_models(cfg, folder, load_collection(name, cfg), factories)
    sets = read_json(folder / "nearmiss_sets.json")
    for model in ("B", "A_prime"):
        cached_json(folder / "scores" / f"paradox_{model}.json",
                    lambda model=model: score_sets(sets, CosineScorer(factories[model]()).score))


def step_report(cfg: ReproConfig, folder: Path, report_dir: Path | None) -> None:
    from verirank.eval.reproduce.render import write_report

    write_report(cfg, folder, report_dir or Path("reports"))


STEP_FUNCTIONS = {"data": step_data, "cross": step_cross, "cnn": step_cnn, "finetune": step_finetune,
                  "nearmiss": step_nearmiss, "stage2": step_stage2, "paradox": step_paradox, "report": step_report}
