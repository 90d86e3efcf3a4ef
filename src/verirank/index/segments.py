"""One segment of the embedded index: the rows a commit (or a merge) wrote, plus a live mask.

A persisted segment never changes on disk. Deletes and overwrites of its rows are recorded
as tombstones (the rows' keys) in the segment of the commit that made them, and applied here
as ``live[i] = False``. Row keys are unique over the index's life and increase within a
segment, so ``keys`` also orders rows and maps HNSW results back to rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verirank.index.base import IndexSpec
from verirank.index.tokenstore import PackedStates, pack

TOKEN_FILES = ("values", "scales", "spans", "bounds")
HNSW_FILE = "hnsw.usearch"
DELETES_FILE = "deletes.npy"

StateRow = tuple[np.ndarray, np.ndarray, np.ndarray]  # values, scales, spans of one document


class Segment:
    """Rows in insertion order; ``name`` is the folder once persisted, None while pending."""

    def __init__(
        self,
        spec: IndexSpec,
        name: str | None = None,
        ids: list[str] | None = None,
        texts: list[str] | None = None,
        meta: list[dict[str, Any]] | None = None,
        truncated: list[bool] | None = None,
        vectors: np.ndarray | None = None,
        keys: np.ndarray | None = None,
        states: PackedStates | list[StateRow] | None = None,
        deletes: np.ndarray | None = None,
        files: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.spec = spec
        self.name = name
        self.ids = ids or []
        self.texts = texts or []
        self.meta = meta or []
        self.truncated = truncated or []
        self._matrix = vectors if vectors is not None else np.zeros((0, spec.dim), np.float32)
        self._pending: list[np.ndarray] = []
        self.keys = keys if keys is not None else np.zeros(0, np.uint64)
        self.states: PackedStates | list[StateRow] = states if states is not None else []
        self.deletes = deletes if deletes is not None else np.zeros(0, np.uint64)  # tombstones it carries
        self.files = files or {}
        self.live = np.ones(len(self.ids), dtype=bool)
        self.rows_on_disk = len(self.ids) if name is not None else 0
        self.hnsw: Any = None  # usearch.index.Index over this segment's keys, if built or loaded
        self.hnsw_view = False  # a memory-mapped (read-only) graph

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def live_count(self) -> int:
        return int(self.live.sum())

    @property
    def vectors(self) -> np.ndarray:
        """(n, D) float32; batches appended since the last read are joined once, not per add."""
        if self._pending:
            self._matrix = np.concatenate([self._matrix, *self._pending])
            self._pending = []
        return self._matrix

    # ---- pending segment -----------------------------------------------------------------
    def append(self, ids: list[str], texts: list[str], meta: list[dict[str, Any]], truncated: list[bool],
               vectors: np.ndarray, keys: np.ndarray, states: list[StateRow]) -> None:
        if self.name is not None:
            raise RuntimeError("a persisted segment is immutable")
        self.ids += ids
        self.texts += texts
        self.meta += meta
        self.truncated += truncated
        self._pending.append(vectors)
        self.keys = np.concatenate([self.keys, keys])
        self.states += states  # type: ignore[operator]
        self.live = np.concatenate([self.live, np.ones(len(ids), dtype=bool)])

    # ---- rows ----------------------------------------------------------------------------
    def state_row(self, i: int) -> StateRow:
        if isinstance(self.states, PackedStates):
            lo, hi = int(self.states.bounds[i]), int(self.states.bounds[i + 1])
            return self.states.values[lo:hi], self.states.scales[lo:hi], self.states.spans[lo:hi]
        return self.states[i]

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """Row index of each key, -1 where the key is not in this segment."""
        keys = np.asarray(keys, dtype=np.uint64)
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.searchsorted(self.keys, keys).clip(0, len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1).astype(np.int64)

    # ---- persistence ---------------------------------------------------------------------
    def write(self, folder: Any) -> None:
        """Write the live rows, the tombstones and the graph (if any) through ``folder.path(name)``."""
        live = np.flatnonzero(self.live)
        with folder.path("docs.jsonl").open("w", encoding="utf-8") as f:
            for i in live:
                rec = {"id": self.ids[i], "text": self.texts[i], "metadata": self.meta[i]}
                if self.truncated[i]:
                    rec["truncated"] = True
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        np.save(folder.path("vectors.npy"), np.ascontiguousarray(np.asarray(self.vectors, dtype=np.float32)[live]))
        np.save(folder.path("keys.npy"), np.ascontiguousarray(self.keys[live]))
        if self.spec.token_dim:
            packed = pack([self.state_row(int(i)) for i in live], self.spec.token_dim, self.spec.token_dtype)
            for part in TOKEN_FILES:
                np.save(folder.path(f"tokens_{part}.npy"), getattr(packed, part))
        if len(self.deletes):
            np.save(folder.path(DELETES_FILE), np.ascontiguousarray(self.deletes, dtype=np.uint64))
        if self.hnsw is not None:
            self.hnsw.save(str(folder.path(HNSW_FILE)))

    @classmethod
    def load(cls, spec: IndexSpec, seg_dir: Path, entry: dict[str, Any]) -> Segment:
        """Open a persisted segment (arrays memory-mapped); raises ValueError/OSError if damaged."""
        ids, texts, meta, truncated = [], [], [], []
        with (seg_dir / "docs.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                ids.append(rec["id"])
                texts.append(rec["text"])
                meta.append(rec.get("metadata", {}))
                truncated.append(bool(rec.get("truncated", False)))
        vectors = np.load(seg_dir / "vectors.npy", mmap_mode="r", allow_pickle=False)
        keys = np.load(seg_dir / "keys.npy", allow_pickle=False).astype(np.uint64, copy=False)
        if vectors.shape != (len(ids), spec.dim) or len(keys) != len(ids):
            raise ValueError(f"{seg_dir.name}: vectors {vectors.shape} / keys {len(keys)} do not match {len(ids)} documents")
        if len(keys) > 1 and not (np.diff(keys.astype(np.int64)) > 0).all():
            raise ValueError(f"{seg_dir.name}: row keys are not increasing")
        states: PackedStates | None = None
        if spec.token_dim:
            states = PackedStates(*(np.load(seg_dir / f"tokens_{n}.npy", mmap_mode="r", allow_pickle=False)
                                    for n in TOKEN_FILES))
            if len(states) != len(ids):
                raise ValueError(f"{seg_dir.name}: token-state table does not match the document count")
        files = entry["files"]
        deletes = (np.load(seg_dir / DELETES_FILE, allow_pickle=False).astype(np.uint64, copy=False)
                   if DELETES_FILE in files else None)
        segment = cls(spec, seg_dir.name, ids, texts, meta, truncated, vectors, keys, states, deletes, files)
        if HNSW_FILE in files:
            from verirank._optional import require

            usearch_index = require("usearch.index", extra="ann")
            segment.hnsw = usearch_index.Index.restore(str(seg_dir / HNSW_FILE), view=True)
            segment.hnsw_view = True
        return segment

    def is_clean(self) -> bool:
        """Nothing for a compaction to drop: every row live, no tombstones carried."""
        return bool(self.live.all()) and not len(self.deletes)

    def manifest_entry(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows_on_disk, "deletes": len(self.deletes), "files": self.files}


def merged(spec: IndexSpec, parts: Sequence[Segment], keep_deletes: np.ndarray) -> Segment:
    """One pending segment holding the live rows of ``parts`` in order, carrying ``keep_deletes``."""
    out = Segment(spec, deletes=np.asarray(keep_deletes, dtype=np.uint64))
    for part in parts:
        live = np.flatnonzero(part.live)
        out.append(
            [part.ids[i] for i in live], [part.texts[i] for i in live], [part.meta[i] for i in live],
            [part.truncated[i] for i in live], np.asarray(part.vectors[live], dtype=np.float32),
            part.keys[live], [part.state_row(int(i)) for i in live] if spec.token_dim else [],
        )
    return out
