"""Compact per-document token states: int8 (per-token scale) or float16, packed ragged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from verirank.errors import ConfigError


@dataclass(frozen=True)
class PackedStates:
    """Ragged token states of N documents in flat arrays (mmap-friendly, no pickle).

    ``values`` (T, d) int8|float16, ``scales`` (T,) float32 (ones for float16),
    ``spans`` (T, 2) int32 char offsets, ``bounds`` (N+1,) int64 row starts.
    """

    values: np.ndarray
    scales: np.ndarray
    spans: np.ndarray
    bounds: np.ndarray

    def __len__(self) -> int:
        return int(self.bounds.shape[0] - 1)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = int(self.bounds[i]), int(self.bounds[i + 1])
        values = self.values[lo:hi].astype(np.float32) * self.scales[lo:hi, None]
        return values, np.asarray(self.spans[lo:hi])


def quantize(states: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(L, d) float32 -> stored values and per-token scales."""
    states = np.asarray(states, dtype=np.float32)
    if dtype == "float16":
        return states.astype(np.float16), np.ones(states.shape[0], dtype=np.float32)
    if dtype == "int8":
        scales = np.abs(states).max(axis=1) / 127.0 if states.size else np.zeros(0, np.float32)
        scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
        values = np.clip(np.rint(states / scales[:, None]), -127, 127).astype(np.int8)
        return values, scales
    raise ConfigError(f"token dtype {dtype!r} is not one of int8, float16")


def pack(
    rows: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], dim: int, dtype: str
) -> PackedStates:
    """Pack per-document (values, scales, spans) already quantised."""
    np_dtype = np.int8 if dtype == "int8" else np.float16
    lengths = [r[0].shape[0] for r in rows]
    bounds = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    if not rows:
        return PackedStates(np.zeros((0, dim), np_dtype), np.zeros(0, np.float32), np.zeros((0, 2), np.int32), bounds)
    values = np.concatenate([r[0] for r in rows]).astype(np_dtype, copy=False).reshape(-1, dim)
    scales = np.concatenate([r[1] for r in rows]).astype(np.float32, copy=False)
    spans = np.concatenate([r[2] for r in rows]).astype(np.int32, copy=False).reshape(-1, 2)
    return PackedStates(values, scales, spans, bounds)
