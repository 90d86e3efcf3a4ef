"""Micro-batching: concurrent requests' encoder and verifier calls run as one batch.

Each request runs ``Pipeline.search``/``verify`` in a worker thread. The pipeline's encoder and
verifier are swapped for coalescing stand-ins: a call joins a queue; one caller at a time (the
leader) waits up to ``window_ms`` for more calls, runs the whole queue as one model call, and
hands each caller its rows. While one batch runs, the next one fills.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from verirank.encoders.base import EncodedBatch

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Slot(Generic[T, R]):
    item: T
    key: Hashable
    done: bool = False
    result: Any = None
    error: BaseException | None = None


@dataclass
class Coalescer(Generic[T, R]):
    """``coalescer(item, key)`` -> ``run(key, [items...])[i]``, batching concurrent calls that
    share ``key`` (up to ``max_batch`` items, waiting at most ``window_ms`` for company).

    One batch runs at a time; its callers are woken as soon as it is done, and the next caller
    still waiting becomes the leader of the next batch. ``observe(stage, batch_size, seconds)``
    is told about every batch run.
    """

    run: Callable[[Hashable, list[T]], Sequence[R]]
    stage: str
    max_batch: int = 32
    window_ms: float = 2.0
    observe: Callable[[str, int, float], None] | None = None
    _pending: list[_Slot[T, R]] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _running: bool = False

    def __call__(self, item: T, key: Hashable = None) -> R:
        slot: _Slot[T, R] = _Slot(item, key)
        with self._cond:
            self._pending.append(slot)
            self._cond.notify_all()  # a leader collecting company may now have a full batch
            while not slot.done:
                if self._running:
                    self._cond.wait()
                else:
                    self._lead()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[no-any-return]

    def _lead(self) -> None:
        """Holding the condition: wait for company, run the oldest key's batch, wake its callers."""
        self._running = True
        try:
            deadline = time.perf_counter() + self.window_ms / 1000
            while len(self._pending) < self.max_batch:
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                self._cond.wait(left)
            key = self._pending[0].key
            batch = [s for s in self._pending if s.key == key][: self.max_batch]
            taken = {id(s) for s in batch}
            self._pending = [s for s in self._pending if id(s) not in taken]
            self._cond.release()  # run the model without blocking new arrivals
            started = time.perf_counter()
            try:
                results = self.run(key, [s.item for s in batch])
                for s, r in zip(batch, results, strict=True):
                    s.result = r
            except BaseException as exc:  # every caller of the batch gets the error
                for s in batch:
                    s.error = exc
            finally:
                self._cond.acquire()
            for s in batch:
                s.done = True
            if self.observe is not None:
                self.observe(self.stage, len(batch), time.perf_counter() - started)
        finally:
            self._running = False
            self._cond.notify_all()


def _split(encoded: EncodedBatch, sizes: list[int]) -> list[EncodedBatch]:
    out, lo = [], 0
    for n in sizes:
        out.append(encoded.rows(lo, lo + n))
        lo += n
    return out


class CoalescingEncoder:
    """An Encoder whose concurrent ``encode`` calls run as one batch (same ``state_layer``)."""

    def __init__(self, encoder: Any, max_batch: int, window_ms: float,
                 observe: Callable[[str, int, float], None] | None = None) -> None:
        self.inner = encoder
        self._batch = Coalescer(self._run, "encode", max_batch, window_ms, observe)

    @property
    def encoder_id(self) -> str:
        return str(self.inner.encoder_id)

    @property
    def space(self) -> str:
        return str(self.inner.space)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    @property
    def max_tokens(self) -> int:
        return int(self.inner.max_tokens)

    def encode(self, texts: Sequence[str], batch_size: int = 32, state_layer: int | None = None) -> EncodedBatch:
        return self._batch(list(texts), key=state_layer)

    def _run(self, state_layer: Hashable, calls: list[list[str]]) -> list[EncodedBatch]:
        texts = [t for call in calls for t in call]
        encoded = self.inner.encode(texts, batch_size=max(32, len(texts)), state_layer=state_layer)
        return _split(encoded, [len(call) for call in calls])


class CoalescingVerifier:
    """A NearMissVerifier whose concurrent ``verify`` and ``project`` calls run as one batch.

    Names the verifier attributes the pipeline reads; everything else stays on ``inner``.
    """

    def __init__(self, verifier: Any, max_batch: int, window_ms: float,
                 observe: Callable[[str, int, float], None] | None = None) -> None:
        self.inner = verifier
        self.meta = verifier.meta
        self.cfg = verifier.cfg
        self._verify = Coalescer(lambda _, jobs: verifier.verify_many(jobs), "verify", max_batch, window_ms, observe)
        self._project = Coalescer(self._run_project, "project", max_batch, window_ms, observe)

    head_id = property(lambda self: self.inner.head_id)
    dim = property(lambda self: self.inner.dim)
    max_tokens = property(lambda self: self.inner.max_tokens)
    state_layer = property(lambda self: self.inner.state_layer)

    def project(self, states: Sequence[np.ndarray], max_tokens: int | None = None, batch_size: int = 64) -> list[np.ndarray]:
        # truncating here (what inner.project does with max_tokens) lets query and candidate calls share a batch
        limit = max_tokens or self.inner.max_tokens
        return self._project([s[:limit] for s in states])

    def project_query(self, states: np.ndarray) -> np.ndarray:
        return self.project([states], max_tokens=self.cfg.max_query_tokens)[0]

    def _run_project(self, _: Hashable, calls: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
        flat = self.inner.project([s for call in calls for s in call], max_tokens=self.inner.max_tokens)
        out, lo = [], 0
        for call in calls:
            out.append(flat[lo : lo + len(call)])
            lo += len(call)
        return out

    def settle(self, verdicts: list[Any]) -> list[Any]:
        return self.inner.settle(verdicts)  # type: ignore[no-any-return]

    def verify(self, query: Any, candidates: Sequence[Any], mode: Any = "relevance", level: Any = "full",
               settle: bool = True, opposite: Any = None) -> list[Any]:
        from verirank.verifier.runtime import VerifyJob

        job = VerifyJob(query, list(candidates), mode, level, settle, opposite)
        return self._verify(job)  # type: ignore[no-any-return]

    def logits(self, query: Any, candidates: Sequence[Any], mode: Any) -> Any:
        return self.inner.logits(query, candidates, mode)

    def alignment(self, query: Any, candidate: Any, mode: Any) -> Any:
        return self.inner.alignment(query, candidate, mode)


def coalescing_pipeline(pipeline: Any, max_batch: int, window_ms: float,
                        observe: Callable[[str, int, float], None] | None = None) -> Any:
    """The same pipeline (shared index, models loaded once) with coalescing encoder and verifier."""
    from verirank.pipeline import FITTED_SETTINGS, Pipeline

    verifier = pipeline.verifier
    if verifier is not None:
        verifier = CoalescingVerifier(verifier, max_batch, window_ms, observe)
    batched = Pipeline(CoalescingEncoder(pipeline.encoder, max_batch, window_ms, observe), pipeline.index, verifier,
                       rerank_weight=pipeline.rerank_weight)
    for setting in FITTED_SETTINGS:
        setattr(batched, setting, getattr(pipeline, setting))
    if observe is not None:
        batched.stage_observer = lambda stage, seconds: observe(stage, 1, seconds)  # recall: one query per call
    return batched
