"""Synthetic documents, unit vectors and token states for index tests (no encoder needed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from verirank.types import Document


def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@dataclass
class Batch:
    documents: list[Document]
    vectors: np.ndarray
    states: list[np.ndarray] | None
    spans: list[np.ndarray] | None

    @property
    def ids(self) -> list[str]:
        return [d.id for d in self.documents]


def make_batch(rng: np.random.Generator, start: int, n: int, dim: int, token_dim: int = 0,
               max_tokens: int = 12, prefix: str = "d") -> Batch:
    docs = [Document(id=f"{prefix}{i}", text=f"text {i}", metadata={"parity": i % 2, "bucket": i % 7})
            for i in range(start, start + n)]
    states = spans = None
    if token_dim:
        states = [rng.normal(size=(int(rng.integers(1, max_tokens + 1)), token_dim)).astype(np.float32)
                  for _ in docs]
        spans = [np.stack([np.arange(len(s)), np.arange(len(s)) + 1], axis=1).astype(np.int32) for s in states]
    return Batch(docs, unit_vectors(rng, n, dim), states, spans)


def unique_table() -> str:
    """A fresh PostgreSQL table name, so tests sharing one server never collide."""
    return f"t_{uuid.uuid4().hex[:16]}"
