"""Frozen-encoder outputs for training: computed once per unique text.

Per text: the token states the token head reads (float16, first ``max_tokens``) and the pooled
stage-1 vector (float32), so a pair's stage-1 cosine is one dot product.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

Encode = Callable[[list[str]], tuple[list[np.ndarray], np.ndarray]]  # texts -> (token states, pooled (B, D))


class StateCache:
    """text -> (L, E) float16 token states and the (D,) pooled vector of the frozen encoder."""

    def __init__(self, max_tokens: int, state_layer: int | None = None) -> None:
        self.max_tokens = max_tokens
        self.state_layer = state_layer  # encoder layer the states come from (None: the last)
        self._row: dict[str, int] = {}
        self._states: list[np.ndarray] = []
        self._pooled: list[np.ndarray] = []

    def __contains__(self, text: str) -> bool:
        return text in self._row

    def __len__(self) -> int:
        return len(self._states)

    def get(self, text: str) -> np.ndarray:
        return self._states[self._row[text]]

    def pooled(self, text: str) -> np.ndarray:
        return self._pooled[self._row[text]]

    def fill(self, texts: Sequence[str], encode: Encode, chunk: int = 256,
             on_progress: Callable[[int, int], None] | None = None) -> None:
        missing = sorted((t for t in dict.fromkeys(texts) if t not in self._row), key=len)  # little padding
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            states, pooled = encode(part)
            for text, s, v in zip(part, states, pooled):
                self._row[text] = len(self._states)
                self._states.append(np.asarray(s[: self.max_tokens], dtype=np.float16))
                self._pooled.append(np.asarray(v, dtype=np.float32))
            if on_progress:
                on_progress(min(start + chunk, len(missing)), len(missing))

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        texts = sorted(self._row, key=self._row.__getitem__)
        lengths = np.array([s.shape[0] for s in self._states], dtype=np.int64)
        np.save(path / "states.npy", np.concatenate(self._states) if self._states else np.zeros((0, 1), np.float16))
        np.save(path / "pooled.npy", np.stack(self._pooled) if self._pooled else np.zeros((0, 1), np.float32))
        np.save(path / "lengths.npy", lengths)
        meta = {"max_tokens": self.max_tokens, "state_layer": self.state_layer, "texts": texts}
        (path / "texts.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, path: Path) -> StateCache:
        meta = json.loads((path / "texts.json").read_text())
        cache = cls(meta["max_tokens"], meta.get("state_layer"))
        flat = np.load(path / "states.npy")
        pooled = np.load(path / "pooled.npy")
        bounds = np.concatenate([[0], np.cumsum(np.load(path / "lengths.npy"))])
        for i, text in enumerate(meta["texts"]):
            cache._row[text] = i
            cache._states.append(flat[bounds[i] : bounds[i + 1]])
            cache._pooled.append(pooled[i])
        return cache
