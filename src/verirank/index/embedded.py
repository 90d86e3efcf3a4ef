"""The zero-server default index: exact numpy search, usearch HNSW for large collections.

Vectors, documents and compact token states live in memory (memory-mapped after a
reopen) and persist to a directory through :mod:`verirank.index.ondisk`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verirank._version import __version__
from verirank._optional import require
from verirank.errors import ConfigError, IndexError_, InputError
from verirank.index import ondisk
from verirank.index.base import IndexSpec, RawHit, StoredDocument, check_batch, check_k
from verirank.index.tokenstore import PackedStates, pack, quantize
from verirank.types import Document, IndexInfo

log = logging.getLogger(__name__)

ANN_MODES = ("auto", "exact", "hnsw")
EXACT_MAX_DOCS = 50_000  # "auto" switches to HNSW above this many documents


class EmbeddedIndex:
    """In-process vector index; persistent when given a directory."""

    backend = "embedded"

    def __init__(
        self,
        spec: IndexSpec,
        path: str | Path | None = None,
        *,
        ann: str = "auto",
        ann_dtype: str = "f16",
        exact_max_docs: int = EXACT_MAX_DOCS,
        autocommit: bool = True,
    ) -> None:
        if ann not in ANN_MODES:
            raise ConfigError(f"ann={ann!r}; choose one of {ANN_MODES}")
        if spec.token_dtype not in ("int8", "float16"):
            raise ConfigError(f"token_dtype={spec.token_dtype!r}; choose int8 or float16")
        self.spec = spec
        self.path = Path(path) if path is not None else None
        self.ann = ann
        self.ann_dtype = ann_dtype
        self.exact_max_docs = exact_max_docs
        self.autocommit = autocommit
        self._generation = 0
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._texts: list[str] = []
        self._meta: list[dict[str, Any]] = []
        self._truncated: list[bool] = []
        self._matrix = np.zeros((0, spec.dim), dtype=np.float32)
        self._pending: list[np.ndarray] = []  # added vectors not yet joined to _matrix
        self._states: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._keys = np.zeros(0, dtype=np.uint64)
        self._next_key = 0
        self._hnsw: Any = None
        self._hnsw_view = False
        self._hnsw_path: Path | None = None
        self._dirty = False

    @property
    def _vectors(self) -> np.ndarray:
        """All vectors (N, D); batches added since the last read are joined once, not per add."""
        if self._pending:
            self._matrix = np.concatenate([self._matrix, *self._pending])
            self._pending = []
        return self._matrix

    @_vectors.setter
    def _vectors(self, value: np.ndarray) -> None:
        self._matrix, self._pending = value, []

    # ---- create / open -------------------------------------------------------------------
    @classmethod
    def create(cls, spec: IndexSpec, path: str | Path | None = None, **options: Any) -> EmbeddedIndex:
        """A new empty index; refuses a directory that already holds one."""
        if path is not None and (Path(path) / ondisk.MANIFEST).exists():
            raise IndexError_(f"{path} already holds an index; open it with EmbeddedIndex.open or pick a new directory")
        index = cls(spec, path, **options)
        if index.path is not None:
            index.commit()
        return index

    @classmethod
    def open(cls, path: str | Path, *, verify: bool = True, **options: Any) -> EmbeddedIndex:
        """Reopen a persisted index (arrays memory-mapped). ``verify`` checks sha256 of every file."""
        root = Path(path)
        manifest = ondisk.read_manifest(root)
        gen_dir = root / f"gen-{manifest['generation']:06d}"
        ondisk.verify_files(gen_dir, manifest["files"], checksums=verify)
        spec = IndexSpec.from_json(manifest["spec"])
        options.setdefault("ann", manifest.get("ann", "auto"))
        options.setdefault("ann_dtype", manifest.get("ann_dtype", "f16"))
        index = cls(spec, root, **options)
        try:
            index._load(gen_dir, manifest)
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as exc:
            raise IndexError_(f"index at {root} is corrupt ({exc}); rebuild it or restore a backup") from exc
        return index

    def _load(self, gen_dir: Path, manifest: dict[str, Any]) -> None:
        self._generation = manifest["generation"]
        with (gen_dir / "docs.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                self._row[rec["id"]] = len(self._ids)
                self._ids.append(rec["id"])
                self._texts.append(rec["text"])
                self._meta.append(rec.get("metadata", {}))
                self._truncated.append(bool(rec.get("truncated", False)))
        self._vectors = np.load(gen_dir / "vectors.npy", mmap_mode="r", allow_pickle=False)
        self._keys = np.load(gen_dir / "keys.npy", allow_pickle=False)
        self._next_key = int(manifest.get("next_key", len(self._keys)))
        if self._vectors.shape != (len(self._ids), self.spec.dim) or len(self._keys) != len(self._ids):
            raise ValueError(f"vectors {self._vectors.shape} / keys {len(self._keys)} do not match {len(self._ids)} documents")
        if self.spec.token_dim:
            packed = PackedStates(
                *(np.load(gen_dir / f"tokens_{n}.npy", mmap_mode="r", allow_pickle=False)
                  for n in ("values", "scales", "spans", "bounds"))
            )
            if len(packed) != len(self._ids):
                raise ValueError("token-state table does not match the document count")
            b = packed.bounds
            self._states = [
                (packed.values[b[i]:b[i + 1]], packed.scales[b[i]:b[i + 1]], packed.spans[b[i]:b[i + 1]])
                for i in range(len(self._ids))
            ]
        hnsw_path = gen_dir / "hnsw.usearch"
        if hnsw_path.exists():
            usearch_index = require("usearch.index", extra="ann")
            self._hnsw = usearch_index.Index.restore(str(hnsw_path), view=True)
            self._hnsw_view = True
            self._hnsw_path = hnsw_path

    # ---- writes --------------------------------------------------------------------------
    def add(
        self,
        documents: Sequence[Document],
        vectors: np.ndarray,
        token_states: Sequence[np.ndarray] | None = None,
        token_spans: Sequence[np.ndarray] | None = None,
        truncated: Sequence[bool] | None = None,
        *,
        overwrite: bool = False,
    ) -> None:
        """Add documents; with ``overwrite=True`` replace existing ids (upsert)."""
        if not documents:
            return
        vectors = check_batch(self.spec, documents, vectors, token_states)
        existing = [d.id for d in documents if d.id in self._row]
        if existing and not overwrite:
            raise InputError(
                f"{len(existing)} id(s) already indexed (first: {existing[0]!r}); "
                "use upsert / overwrite=True to replace them, or give new ids"
            )
        if existing:
            self._remove_rows([self._row[i] for i in existing])
        new_states = []
        if self.spec.token_dim:
            for i, states in enumerate(token_states or []):
                keep = min(states.shape[0], self.spec.max_stored_tokens)
                values, scales = quantize(states[:keep], self.spec.token_dtype)
                spans = (np.asarray(token_spans[i], dtype=np.int32)[:keep] if token_spans is not None
                         else np.zeros((keep, 2), dtype=np.int32))
                new_states.append((values, scales, spans))
        keys = np.arange(self._next_key, self._next_key + len(documents), dtype=np.uint64)
        self._next_key += len(documents)
        for doc in documents:
            self._row[doc.id] = len(self._ids)
            self._ids.append(doc.id)
            self._texts.append(doc.text)
            self._meta.append(dict(doc.metadata))
        self._truncated.extend(bool(t) for t in (truncated or [False] * len(documents)))
        self._states.extend(new_states)
        self._pending.append(vectors)
        self._keys = np.concatenate([self._keys, keys])
        if self._hnsw is not None:
            self._writable_hnsw().add(keys, vectors)
        self._dirty = True
        if self.autocommit:
            self.commit()

    def delete(self, ids: Sequence[str]) -> int:
        """Delete by id; unknown ids raise (nothing is deleted then). Returns the count deleted."""
        unknown = [i for i in ids if i not in self._row]
        if unknown:
            raise InputError(f"unknown id(s): {unknown[:5]}; nothing was deleted")
        self._remove_rows([self._row[i] for i in dict.fromkeys(ids)])
        self._dirty = True
        if self.autocommit:
            self.commit()
        return len(set(ids))

    def _remove_rows(self, rows: Sequence[int]) -> None:
        drop = set(rows)
        keep = np.array([r for r in range(len(self._ids)) if r not in drop], dtype=np.int64)
        if self._hnsw is not None:
            hnsw = self._writable_hnsw()
            for r in drop:
                hnsw.remove(int(self._keys[r]))
        self._ids = [self._ids[r] for r in keep]
        self._texts = [self._texts[r] for r in keep]
        self._meta = [self._meta[r] for r in keep]
        self._truncated = [self._truncated[r] for r in keep]
        if self._states:
            self._states = [self._states[r] for r in keep]
        self._vectors = np.ascontiguousarray(self._vectors[keep])
        self._keys = self._keys[keep]
        self._row = {doc_id: r for r, doc_id in enumerate(self._ids)}

    def commit(self) -> None:
        """Persist atomically (no-op for an in-memory index)."""
        if self.path is None:
            self._dirty = False
            return
        self._ensure_hnsw()
        with ondisk.writer_lock(self.path):
            on_disk = (self.path / ondisk.MANIFEST).exists()
            if on_disk and ondisk.read_manifest(self.path)["generation"] != self._generation:
                raise IndexError_(
                    f"{self.path} was changed by another writer since it was opened; "
                    "reopen the index and apply your change again"
                )
            writer = ondisk.GenerationWriter(self.path, self._generation + 1)
            with writer.path("docs.jsonl").open("w", encoding="utf-8") as f:
                for i in range(len(self._ids)):
                    rec = {"id": self._ids[i], "text": self._texts[i], "metadata": self._meta[i]}
                    if self._truncated[i]:
                        rec["truncated"] = True
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            np.save(writer.path("vectors.npy"), np.asarray(self._vectors, dtype=np.float32))
            np.save(writer.path("keys.npy"), self._keys)
            if self.spec.token_dim:
                packed = pack(self._states, self.spec.token_dim, self.spec.token_dtype)
                for name in ("values", "scales", "spans", "bounds"):
                    np.save(writer.path(f"tokens_{name}.npy"), getattr(packed, name))
            if self._hnsw is not None:
                self._writable_hnsw().save(str(writer.path("hnsw.usearch")))
            writer.publish({
                "library_version": __version__,
                "spec": self.spec.to_json(),
                "count": len(self._ids),
                "next_key": self._next_key,
                "ann": self.ann,
                "ann_dtype": self.ann_dtype,
            })
            self._generation += 1
        self._dirty = False

    # ---- ANN -----------------------------------------------------------------------------
    def _use_hnsw(self) -> bool:
        return self.ann == "hnsw" or (self.ann == "auto" and len(self._ids) > self.exact_max_docs)

    def _ensure_hnsw(self) -> None:
        if self._use_hnsw() and self._hnsw is None and len(self._ids):
            usearch_index = require("usearch.index", extra="ann")
            log.info("building HNSW over %d vectors (%s)", len(self._ids), self.ann_dtype)
            self._hnsw = usearch_index.Index(
                ndim=self.spec.dim, metric="cos", dtype=self.ann_dtype,
                connectivity=16, expansion_add=128, expansion_search=128,
            )
            self._hnsw.add(self._keys, np.asarray(self._vectors, dtype=np.float32))
            self._hnsw_view = False

    def _writable_hnsw(self) -> Any:
        if self._hnsw_view:  # a memory-mapped view is read-only: load a private copy first
            usearch_index = require("usearch.index", extra="ann")
            self._hnsw = usearch_index.Index.restore(str(self._hnsw_path), view=False)
            self._hnsw_view = False
        return self._hnsw

    # ---- reads ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row

    def ids(self) -> list[str]:
        return list(self._ids)

    def get(self, ids: Sequence[str], with_states: bool = False) -> list[StoredDocument]:
        unknown = [i for i in ids if i not in self._row]
        if unknown:
            raise InputError(f"unknown id(s): {unknown[:5]}; check the ids with `verirank info`")
        out = []
        for doc_id in ids:
            r = self._row[doc_id]
            states = spans = None
            if with_states and self.spec.token_dim:
                values, scales, spans_q = self._states[r]
                states = values.astype(np.float32) * np.asarray(scales)[:, None]
                spans = np.asarray(spans_q)
            out.append(StoredDocument(doc_id, self._texts[r], dict(self._meta[r]), states, spans, self._truncated[r]))
        return out

    def search(
        self, vectors: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[list[RawHit]]:
        """Top-k by cosine for each query vector (Q, D); ``where`` = metadata equality filter."""
        check_k(k)
        queries = np.asarray(vectors, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None]
        if queries.shape[1] != self.spec.dim:
            from verirank.errors import DimensionMismatch

            raise DimensionMismatch(f"query vector dim {queries.shape[1]} != index dim {self.spec.dim}")
        if not np.isfinite(queries).all():
            raise InputError("query vector contains NaN or inf")
        if not self._ids:
            return [[] for _ in range(len(queries))]
        allowed = self._filter_rows(where)
        self._ensure_hnsw()
        if self._hnsw is not None and self._use_hnsw() and (allowed is None or len(allowed) > 4 * k):
            return [self._search_hnsw(q, k, allowed) for q in queries]
        return self._search_exact(queries, k, allowed)

    def _filter_rows(self, where: dict[str, Any] | None) -> np.ndarray | None:
        if not where:
            return None
        rows = [r for r, meta in enumerate(self._meta) if all(meta.get(f) == v for f, v in where.items())]
        return np.asarray(rows, dtype=np.int64)

    def _search_exact(self, queries: np.ndarray, k: int, rows: np.ndarray | None) -> list[list[RawHit]]:
        matrix = self._vectors if rows is None else self._vectors[rows]
        if matrix.shape[0] == 0:
            return [[] for _ in range(len(queries))]
        scores = queries @ np.asarray(matrix).T  # (Q, N)
        k = min(k, scores.shape[1])
        out = []
        for row_scores in scores:
            top = np.argpartition(-row_scores, k - 1)[:k]
            top = top[np.argsort(-row_scores[top], kind="stable")]
            ids = top if rows is None else rows[top]
            out.append([RawHit(self._ids[int(i)], float(row_scores[j])) for i, j in zip(ids, top)])
        return out

    def _search_hnsw(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> list[RawHit]:
        key_to_row = self._key_to_row()
        want = k if rows is None else min(len(self._ids), 8 * k)
        matches = self._hnsw.search(query, want)
        allowed = None if rows is None else set(rows.tolist())
        hits = []
        for key, dist in zip(matches.keys, matches.distances):
            r = key_to_row.get(int(key))
            if r is None or (allowed is not None and r not in allowed):
                continue
            hits.append(RawHit(self._ids[r], float(1.0 - dist)))
            if len(hits) == k:
                break
        if len(hits) < min(k, len(self._ids) if allowed is None else len(allowed)):
            return self._search_exact(query[None], k, rows)[0]  # rare: ANN under-filled
        return hits

    def _key_to_row(self) -> dict[int, int]:
        cache = getattr(self, "_k2r", None)
        if cache is None or cache[0] is not self._keys:
            cache = (self._keys, {int(key): r for r, key in enumerate(self._keys)})
            self._k2r = cache
        return cache[1]

    # ---- info ----------------------------------------------------------------------------
    def info(self) -> IndexInfo:
        bytes_on_disk = None
        if self.path is not None and (self.path / ondisk.MANIFEST).exists():
            manifest = ondisk.read_manifest(self.path)
            bytes_on_disk = sum(f["bytes"] for f in manifest["files"].values())
        n = len(self._ids)
        return IndexInfo(
            backend=self.backend,
            path=str(self.path) if self.path else None,
            count=n,
            dim=self.spec.dim,
            encoder_id=self.spec.encoder_id,
            token_head_id=self.spec.token_head_id,
            token_dim=self.spec.token_dim,
            token_dtype=self.spec.token_dtype,
            ann="hnsw" if self._use_hnsw() else "exact",
            bytes_on_disk=bytes_on_disk,
            bytes_per_document=(bytes_on_disk / n) if bytes_on_disk and n else None,
            truncated_documents=sum(self._truncated),
        )

    def close(self) -> None:
        if self._dirty and self.path is not None:
            self.commit()
