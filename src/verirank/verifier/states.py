"""Frozen-encoder token states for training: computed once per unique text, kept as float16."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class StateCache:
    """text -> (L, E) float16 token states of the frozen encoder (first ``max_tokens`` kept)."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self._row: dict[str, int] = {}
        self._states: list[np.ndarray] = []

    def __contains__(self, text: str) -> bool:
        return text in self._row

    def __len__(self) -> int:
        return len(self._states)

    def get(self, text: str) -> np.ndarray:
        return self._states[self._row[text]]

    def fill(
        self,
        texts: Sequence[str],
        encode: Callable[[list[str]], list[np.ndarray]],
        chunk: int = 256,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self._row]
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            for text, states in zip(part, encode(part)):
                self._row[text] = len(self._states)
                self._states.append(np.asarray(states[: self.max_tokens], dtype=np.float16))
            if on_progress:
                on_progress(min(start + chunk, len(missing)), len(missing))

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        texts = sorted(self._row, key=self._row.__getitem__)
        lengths = np.array([s.shape[0] for s in self._states], dtype=np.int64)
        np.save(path / "states.npy", np.concatenate(self._states) if self._states else np.zeros((0, 1), np.float16))
        np.save(path / "lengths.npy", lengths)
        (path / "texts.json").write_text(json.dumps({"max_tokens": self.max_tokens, "texts": texts}))

    @classmethod
    def load(cls, path: Path) -> StateCache:
        meta = json.loads((path / "texts.json").read_text())
        cache = cls(meta["max_tokens"])
        flat = np.load(path / "states.npy")
        bounds = np.concatenate([[0], np.cumsum(np.load(path / "lengths.npy"))])
        for i, text in enumerate(meta["texts"]):
            cache._row[text] = i
            cache._states.append(flat[bounds[i] : bounds[i + 1]])
        return cache
