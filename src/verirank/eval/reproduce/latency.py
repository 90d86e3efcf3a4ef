"""Cost of each system, measured in one run on one collection: ms per query for N stage-1 candidates.

Every system's time includes stage 1 (query pass + dense search over the index); stored states
(verifier head states in the index, last-layer states for MaxSim) are index-time work and not
counted. Medians over queries x repeats; the report gives ratios to stage 1 alone.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from verirank.eval.reproduce.config import ReproConfig
from verirank.eval.reproduce.data import Collection
from verirank.eval.reproduce.stage2 import SYSTEMS, Stage2Context

SWEEP = ("maxsim_F1", "cross_encoder", "verifier_pmatch", "verirank_full")


def _timed(fn: Any, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - started))
    return out


def measure(cfg: ReproConfig, coll: Collection, ctx: Stage2Context) -> dict[str, Any]:
    import torch

    queries = [coll.queries[q] for q in coll.stage2_queries[: cfg.latency_queries]]

    def one(system: str, query: str, n: int) -> None:
        ctx.encoder.last_states.pop(query, None)  # the query pass is part of every system's cost
        stage1 = ctx.stage1(query, max(n, 1))
        ctx.system_run(system, query, stage1, n)

    at_100: dict[str, float] = {}
    for system in SYSTEMS:
        times = [t for q in queries for t in _timed(lambda q=q: one(system, q, cfg.stage1_k), cfg.latency_repeats)]
        at_100[system] = statistics.median(times)
    sweep: dict[str, dict[str, float]] = {}
    for system in SWEEP:
        sweep[system] = {}
        for n in cfg.latency_candidates:
            times = [t for q in queries for t in _timed(lambda q=q: one(system, q, n), cfg.latency_repeats)]
            sweep[system][str(n)] = statistics.median(times)
    return {"collection": coll.name, "queries": len(queries), "repeats": cfg.latency_repeats,
            "threads": torch.get_num_threads(), "candidates": cfg.stage1_k, "ms_per_query": at_100,
            "sweep_ms": sweep, "note": "verirank_light verifies its top 5 of the N candidates"}
