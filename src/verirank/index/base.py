"""The vector-index protocol shared by the embedded and PostgreSQL backends."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from verirank.errors import DimensionMismatch, EncoderMismatch, InputError
from verirank.types import Document, IndexInfo

TOKEN_DTYPES = ("int8", "float16")


@dataclass(frozen=True)
class IndexSpec:
    """Which models produced an index's vectors and token states, and how states are stored."""

    encoder_id: str
    space: str
    dim: int
    token_head_id: str = "none"
    token_dim: int = 0  # 0: no token states stored
    token_dtype: str = "int8"
    max_stored_tokens: int = 128

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexSpec:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def check_compatible(self, other: IndexSpec) -> None:
        """Refuse to mix vectors or token states from different models."""
        if self.space != other.space or self.dim != other.dim:
            raise EncoderMismatch(
                f"index was built with encoder {self.encoder_id!r} (dim {self.dim}) but the pipeline "
                f"uses {other.encoder_id!r} (dim {other.dim}); re-index with the current encoder "
                "(verirank index ... --index NEW_DIR) or load the encoder the index was built with"
            )
        if self.token_head_id != other.token_head_id:
            raise EncoderMismatch(
                f"index token states come from token head {self.token_head_id!r} but the verifier uses "
                f"{other.token_head_id!r}; re-index with the current verifier "
                "(verirank index ... --index NEW_DIR) or load the checkpoint the index was built with"
            )


@dataclass(frozen=True)
class StoredDocument:
    """A document as stored: text, metadata and, when asked for with its token states, those states,
    their char spans and its recall vector."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    token_states: np.ndarray | None = None  # (L, token_dim) float32, dequantised
    token_spans: np.ndarray | None = None  # (L, 2) int32 character offsets
    truncated: bool = False
    vector: np.ndarray | None = None  # (D,) float32 recall vector, fetched with the states


@dataclass(frozen=True)
class RawHit:
    id: str
    score: float


@dataclass(frozen=True)
class StoredHit:
    """A search hit with its stored document (PostgreSQL returns both from one query)."""

    score: float
    document: StoredDocument

    @property
    def id(self) -> str:
        return self.document.id


@runtime_checkable
class VectorIndex(Protocol):
    spec: IndexSpec

    def __len__(self) -> int: ...

    def add(
        self,
        documents: Sequence[Document],
        vectors: np.ndarray,
        token_states: Sequence[np.ndarray] | None = None,
        token_spans: Sequence[np.ndarray] | None = None,
        truncated: Sequence[bool] | None = None,
        *,
        overwrite: bool = False,
    ) -> None: ...

    def delete(self, ids: Sequence[str]) -> int: ...

    def get(self, ids: Sequence[str], with_states: bool = False) -> list[StoredDocument]: ...

    def search(
        self, vectors: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[list[RawHit]]: ...

    def info(self) -> IndexInfo: ...

    def close(self) -> None: ...


def search_stored(
    index: VectorIndex, vectors: np.ndarray, k: int, where: dict[str, Any] | None = None, with_states: bool = False
) -> list[list[StoredHit]]:
    """Search and fetch the hits' documents: one query where the backend can (``search_stored``),
    else ``search`` then ``get``."""
    own = getattr(index, "search_stored", None)
    if own is not None:
        return own(vectors, k, where, with_states)
    results = index.search(vectors, k, where)
    docs = {d.id: d for d in index.get(list(dict.fromkeys(h.id for hits in results for h in hits)), with_states)}
    return [[StoredHit(h.score, docs[h.id]) for h in hits] for hits in results]


def check_batch(
    spec: IndexSpec,
    documents: Sequence[Document],
    vectors: np.ndarray,
    token_states: Sequence[np.ndarray] | None,
) -> np.ndarray:
    """Validate one upsert batch; return the vectors as contiguous float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != spec.dim:
        raise DimensionMismatch(
            f"vectors have shape {vectors.shape} but the index expects (n, {spec.dim}); "
            "encode with the index's encoder or create a new index"
        )
    if vectors.shape[0] != len(documents):
        raise InputError(f"{len(documents)} documents but {vectors.shape[0]} vectors; pass one vector per document")
    if not np.isfinite(vectors).all():
        bad = int(np.where(~np.isfinite(vectors).all(axis=1))[0][0])
        raise InputError(f"vector for document {documents[bad].id!r} contains NaN or inf; nothing was stored")
    ids = [d.id for d in documents]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"duplicate id {dup!r} within one batch; ids must be unique")
    if spec.token_dim:
        if token_states is None or len(token_states) != len(documents):
            raise InputError("this index stores token states: pass one (L, token_dim) array per document")
        for doc, states in zip(documents, token_states):
            if states.ndim != 2 or states.shape[1] != spec.token_dim:
                raise DimensionMismatch(
                    f"token states of {doc.id!r} have shape {states.shape}; index expects (L, {spec.token_dim})"
                )
            if not np.isfinite(states).all():
                raise InputError(f"token states of {doc.id!r} contain NaN or inf; nothing was stored")
    return np.ascontiguousarray(vectors)


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    return k


def finite_score(value: float) -> float:
    return value if math.isfinite(value) else -1.0
