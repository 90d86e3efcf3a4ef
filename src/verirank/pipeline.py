"""``Pipeline``: encode -> recall (stage 1) -> verify (stage 2) -> typed hits."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verirank.encoders import Encoder, load_encoder
from verirank.encoders.base import check_texts
from verirank.errors import ConfigError, InputError
from verirank.index.base import IndexSpec, VectorIndex
from verirank.index.factory import create_index, index_exists, open_index
from verirank.tokenhead import IdentityHead, TokenHead
from verirank.types import Document, Level, SearchHit

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 10_000


def as_documents(
    texts: Sequence[str] | Sequence[Document],
    ids: Sequence[str] | None = None,
    metadata: Sequence[dict[str, Any]] | None = None,
    id_offset: int = 0,
) -> list[Document]:
    """Normalise ``add`` input: strings (+ ids, metadata) or ready Documents."""
    if isinstance(texts, str):
        raise InputError("add() takes a list of texts; wrap a single text in a list")
    if texts and all(isinstance(t, Document) for t in texts):
        docs = list(texts)  # type: ignore[arg-type]
        check_texts([d.text for d in docs], "document text")
        return docs
    check_texts(texts, "document text")  # type: ignore[arg-type]
    if ids is not None and len(ids) != len(texts):
        raise InputError(f"{len(texts)} texts but {len(ids)} ids; pass one id per text")
    if metadata is not None and len(metadata) != len(texts):
        raise InputError(f"{len(texts)} texts but {len(metadata)} metadata dicts; pass one per text")
    ids = list(ids) if ids is not None else [str(id_offset + i) for i in range(len(texts))]
    return [
        Document(id=str(i), text=t, metadata=(metadata[n] if metadata else {}))  # type: ignore[index]
        for n, (i, t) in enumerate(zip(ids, texts))
    ]


class Pipeline:
    """Two-stage retrieval: an unchanged embedder for recall, a verifier for precision."""

    def __init__(self, encoder: Encoder, index: VectorIndex, token_head: TokenHead | None = None) -> None:
        self.encoder = encoder
        self.token_head = token_head or IdentityHead(encoder.dim)
        self.index = index
        index.spec.check_compatible(self._spec())

    def _spec(self, token_dtype: str = "int8", max_stored_tokens: int = 128) -> IndexSpec:
        return IndexSpec(
            encoder_id=self.encoder.encoder_id,
            space=self.encoder.space,
            dim=self.encoder.dim,
            token_head_id=self.token_head.head_id,
            token_dim=self.token_head.dim,
            token_dtype=token_dtype,
            max_stored_tokens=max_stored_tokens,
        )

    # ---- construction --------------------------------------------------------------------
    @classmethod
    def default(
        cls,
        index_dir: str | Path | None = None,
        *,
        runtime: str = "torch",
        encoder: Encoder | None = None,
        backend: str | None = None,
        **index_options: Any,
    ) -> Pipeline:
        """Shipped encoder over an index: in memory, or at ``index_dir`` (a directory, or a
        ``postgresql://`` DSN); an existing index there is opened."""
        encoder = encoder or load_encoder(runtime)
        head = IdentityHead(encoder.dim)
        if index_exists(index_dir, backend):
            return cls(encoder, open_index(index_dir, backend, **index_options), head)  # type: ignore[arg-type]
        spec = IndexSpec(encoder.encoder_id, encoder.space, encoder.dim, head.head_id, head.dim)
        return cls(encoder, create_index(spec, index_dir, backend, **index_options), head)

    @classmethod
    def open(cls, index_dir: str | Path, *, runtime: str = "torch", encoder: Encoder | None = None,
             backend: str | None = None, **index_options: Any) -> Pipeline:
        """Reopen a persisted index (directory or ``postgresql://`` DSN) with its encoder and token head."""
        index = open_index(index_dir, backend, **index_options)
        encoder = encoder or load_encoder(runtime)
        return cls(encoder, index, IdentityHead(encoder.dim))

    # ---- writes --------------------------------------------------------------------------
    def add(
        self,
        texts: Sequence[str] | Sequence[Document],
        ids: Sequence[str] | None = None,
        metadata: Sequence[dict[str, Any]] | None = None,
        *,
        batch_size: int = 32,
        overwrite: bool = False,
    ) -> list[str]:
        """Encode and index texts; returns their ids. Existing ids raise unless ``overwrite``."""
        docs = as_documents(texts, ids, metadata, id_offset=len(self.index))
        if not docs:
            return []
        encoded = self.encoder.encode([d.text for d in docs], batch_size=batch_size)
        self.index.add(
            docs,
            encoded.pooled,
            self.token_head.project(encoded.token_states),
            encoded.offsets,
            encoded.truncated,
            overwrite=overwrite,
        )
        return [d.id for d in docs]

    def upsert(self, texts: Sequence[str] | Sequence[Document], ids: Sequence[str] | None = None,
               metadata: Sequence[dict[str, Any]] | None = None, **options: Any) -> list[str]:
        return self.add(texts, ids, metadata, overwrite=True, **options)

    def delete(self, ids: Sequence[str]) -> int:
        return self.index.delete(ids)

    # ---- reads ---------------------------------------------------------------------------
    def _encode_query(self, query: str) -> Any:
        if not isinstance(query, str) or not query.strip():
            raise InputError("query is empty or whitespace; pass the text to search for")
        if len(query) > MAX_QUERY_CHARS:
            raise InputError(f"query has {len(query)} characters (limit {MAX_QUERY_CHARS}); shorten it")
        return self.encoder.encode([query])

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        level: str | Level = Level.OFF,
        candidates: int | None = None,
        where: dict[str, Any] | None = None,
        budget_ms: float | None = None,
        keep_rejected: bool = False,
    ) -> list[SearchHit]:
        """Top-k hits for ``query``. ``level="off"`` is exactly stage 1."""
        level = _level(level)
        started = time.perf_counter()
        encoded = self._encode_query(query)
        n_candidates = max(k, candidates or k)
        raw = self.index.search(encoded.pooled, n_candidates, where=where)[0]
        stored = {d.id: d for d in self.index.get([h.id for h in raw])}
        hits = [
            SearchHit(id=h.id, text=stored[h.id].text, score=h.score, stage1_score=h.score,
                      rank=r, metadata=stored[h.id].metadata)
            for r, h in enumerate(raw)
        ]
        if level is not Level.OFF:
            raise ConfigError(f"level={level.value!r} needs a verifier; this pipeline has none (use level='off')")
        log.debug("search took %.1f ms", 1000 * (time.perf_counter() - started))
        return hits[:k]

    def similarity(self, text: str, others: Sequence[str]) -> list[float]:
        """Stage-1 cosine between ``text`` and each of ``others`` (no index needed)."""
        encoded = self.encoder.encode([text, *check_texts(others)])
        return [float(x) for x in encoded.pooled[1:] @ encoded.pooled[0]]

    def info(self) -> Any:
        return self.index.info()

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _level(level: str | Level) -> Level:
    try:
        return Level(level)
    except ValueError:
        raise ConfigError(f"level={level!r}; choose one of {[lv.value for lv in Level]}") from None
