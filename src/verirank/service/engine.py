"""The service's model side: one pipeline per process (loaded once, maybe in the background),
micro-batched model calls, and a readers-writer lock so document writes never race searches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from verirank.errors import BackendUnavailable
from verirank.service.batching import coalescing_pipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceConfig:
    """Deployment settings of ``verirank serve`` (CLI options map 1:1 onto these fields)."""

    api_key: str | None = None  # bearer token required on every route but /, /healthz, /readyz, docs
    max_body_bytes: int = 2_000_000
    max_candidates: int = 256  # per /v1/verify or /v1/rerank request, and search's `candidates`
    max_documents: int = 256  # per /v1/documents request
    max_k: int = 100
    batch_window_ms: float = 2.0  # how long a model call waits for concurrent company
    max_batch: int = 64  # calls coalesced into one model call


class EngineNotReady(BackendUnavailable):
    """The pipeline is still loading, or failed to load."""


class _ReadWriteLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0  # readers queue behind a waiting writer, so writes never starve

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class Engine:
    """Holds the batched pipeline; ``pipeline`` raises ``EngineNotReady`` (-> 503) until loaded."""

    def __init__(self, config: ServiceConfig, observe: Callable[[str, int, float], None] | None = None) -> None:
        self.config = config
        self._observe = observe
        self._pipeline: Any = None
        self._error: BaseException | None = None
        self.lock = _ReadWriteLock()

    def attach(self, pipeline: Any) -> None:
        self._pipeline = coalescing_pipeline(pipeline, self.config.max_batch, self.config.batch_window_ms,
                                             self._observe)

    def load_in_background(self, loader: Callable[[], Any]) -> threading.Thread:
        def load() -> None:
            try:
                self.attach(loader())
                log.info("pipeline loaded: %d documents", len(self._pipeline.index))
            except BaseException as exc:  # reported by /readyz and every request
                log.exception("pipeline failed to load")
                self._error = exc

        thread = threading.Thread(target=load, name="verirank-load", daemon=True)
        thread.start()
        return thread

    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            if self._error is not None:
                raise EngineNotReady(f"the pipeline failed to load ({self._error}); fix it and restart the server")
            raise EngineNotReady("the model is still loading; retry in a few seconds (GET /readyz says when)")
        return self._pipeline

    @property
    def loading(self) -> bool:
        return self._pipeline is None and self._error is None

    def read(self, call: Callable[[Any], Any]) -> Any:
        with self.lock.reading():
            return call(self.pipeline)

    def write(self, call: Callable[[Any], Any]) -> Any:
        with self.lock.writing():
            return call(self.pipeline)
