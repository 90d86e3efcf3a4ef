"""Prometheus metrics of one app (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from verirank._optional import require

LATENCY_BUCKETS_S = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServiceMetrics:
    """Request counts and latency per route, latency and batch size per stage (encode, project,
    verify: batched model calls; recall: index round trips, one query each), verdict counts per
    decision and mode."""

    def __init__(self) -> None:
        prom = require("prometheus_client", extra="server")
        self._prom = prom
        self.registry = prom.CollectorRegistry()
        self.requests = prom.Counter("verirank_requests_total", "HTTP requests by route and status code.",
                                     ["route", "status"], registry=self.registry)
        self.request_latency = prom.Histogram("verirank_request_latency_seconds", "HTTP request latency by route.",
                                              ["route"], buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.stage_latency = prom.Histogram("verirank_stage_latency_seconds",
                                            "Latency per stage: one batched model call (encode, project, verify) or one index round trip (recall).",
                                            ["stage"], buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.batch_size = prom.Histogram("verirank_batch_size", "Calls coalesced into one model call, per stage.",
                                         ["stage"], buckets=BATCH_BUCKETS, registry=self.registry)
        self.verdicts = prom.Counter("verirank_verdicts_total", "Verdicts returned, by decision and mode.",
                                     ["decision", "mode"], registry=self.registry)

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.request_latency.labels(route).observe(seconds)

    def observe_batch(self, stage: str, size: int, seconds: float) -> None:
        self.stage_latency.labels(stage).observe(seconds)
        self.batch_size.labels(stage).observe(size)

    def count_verdicts(self, mode: str, decisions: Iterable[Any]) -> None:
        for decision in decisions:
            if decision is not None:
                self.verdicts.labels(decision.value, mode).inc()

    def render(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return self._prom.generate_latest(self.registry), self._prom.CONTENT_TYPE_LATEST
