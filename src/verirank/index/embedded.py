"""The zero-server default index: exact numpy search, usearch HNSW for large collections.

Rows live in segments (:mod:`verirank.index.segments`): the persisted ones memory-mapped,
plus one pending segment collecting adds until ``commit``. A commit writes only the pending
rows and the tombstones of rows it deleted or replaced (:mod:`verirank.index.ondisk`), so
its cost follows the change, not the index size; ``compact`` merges segments.
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
from verirank.index.segments import HNSW_FILE, Segment, merged
from verirank.index.tokenstore import quantize
from verirank.types import Document, IndexInfo

log = logging.getLogger(__name__)

ANN_MODES = ("auto", "exact", "hnsw")
EXACT_MAX_DOCS = 50_000  # "auto" switches to HNSW above this many documents
HNSW_MIN_ROWS = 1024  # with HNSW on, smaller segments are scanned exactly instead of graphed
MAX_SEGMENTS = 16  # a commit leaving more merges the smallest neighbours (0: never merge automatically)


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
        hnsw_min_rows: int = HNSW_MIN_ROWS,
        max_segments: int = MAX_SEGMENTS,
    ) -> None:
        if ann not in ANN_MODES:
            raise ConfigError(f"ann={ann!r}; choose one of {ANN_MODES}")
        if spec.token_dtype not in ("int8", "float16"):
            raise ConfigError(f"token_dtype={spec.token_dtype!r}; choose int8 or float16")
        if max_segments < 0 or max_segments == 1:
            raise ConfigError(f"max_segments={max_segments}; use 0 (no automatic merging) or 2 and more")
        self.spec = spec
        self.path = Path(path) if path is not None else None
        self.ann = ann
        self.ann_dtype = ann_dtype
        self.exact_max_docs = exact_max_docs
        self.autocommit = autocommit
        self.hnsw_min_rows = hnsw_min_rows
        self.max_segments = max_segments
        self._generation = 0
        self._on_disk_version = ondisk.FORMAT_VERSION
        self._segments: list[Segment] = []  # persisted, oldest first
        self._pending = Segment(spec)  # rows added since the last commit
        self._tombstones: list[int] = []  # keys of persisted rows deleted since the last commit
        self._row: dict[str, tuple[Segment, int]] = {}
        self._next_key = 0
        self._dirty = False

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
        """Reopen a persisted index (arrays memory-mapped). ``verify`` checks sha256 of every file.

        Reads format 1 (one generation folder) as one segment; the next commit upgrades the
        manifest to format 2 without rewriting the data.
        """
        root = Path(path)
        with ondisk.reader_lock(root):
            manifest = ondisk.read_manifest(root)
            for entry in manifest["segments"]:
                ondisk.verify_files(root / entry["name"], entry["files"], checksums=verify)
            spec = IndexSpec.from_json(manifest["spec"])
            options.setdefault("ann", manifest.get("ann", "auto"))
            options.setdefault("ann_dtype", manifest.get("ann_dtype", "f16"))
            index = cls(spec, root, **options)
            try:
                index._load(root, manifest)
            except (ValueError, OSError, KeyError, json.JSONDecodeError) as exc:
                raise IndexError_(f"index at {root} is corrupt ({exc}); rebuild it or restore a backup") from exc
        if manifest.get("upgraded_from") == 1:
            log.info("%s is in index format 1; the next commit writes format 2 (no data rewrite)", root)
        return index

    def _load(self, root: Path, manifest: dict[str, Any]) -> None:
        self._generation = manifest["generation"]
        self._on_disk_version = manifest.get("upgraded_from", ondisk.FORMAT_VERSION)
        self._segments = [Segment.load(self.spec, root / e["name"], e) for e in manifest["segments"]]
        self._apply_tombstones()
        self._reindex()
        count = len(self._row)
        if count != manifest["count"]:
            raise ValueError(f"{count} live documents but the manifest says {manifest['count']}")
        used = [int(a.max()) + 1 for s in self._segments for a in (s.keys, s.deletes) if len(a)]
        self._next_key = int(manifest.get("next_key", max(used, default=0)))  # keys are never reused

    def _apply_tombstones(self) -> None:
        dead = np.concatenate([np.zeros(0, np.uint64), *(s.deletes for s in self._segments)])
        for segment in self._segments:
            if len(dead):
                segment.live &= ~np.isin(segment.keys, dead)

    def _reindex(self) -> None:
        """Rebuild id -> (segment, row) from the live rows; a later segment wins (it cannot clash)."""
        self._row = {}
        for segment in self._all_segments():
            for r in np.flatnonzero(segment.live):
                doc_id = segment.ids[r]
                if doc_id in self._row:
                    raise ValueError(f"document id {doc_id!r} is live in two segments")
                self._row[doc_id] = (segment, int(r))

    def _all_segments(self) -> list[Segment]:
        return [*self._segments, self._pending]

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
            self._remove(existing)
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
        pending, start = self._pending, len(self._pending)
        pending.append([d.id for d in documents], [d.text for d in documents], [dict(d.metadata) for d in documents],
                       [bool(t) for t in (truncated or [False] * len(documents))], vectors, keys, new_states)
        for r, doc in enumerate(documents, start):
            self._row[doc.id] = (pending, r)
        if pending.hnsw is not None:
            pending.hnsw.add(keys, vectors)
        self._dirty = True
        if self.autocommit:
            self.commit()

    def delete(self, ids: Sequence[str]) -> int:
        """Delete by id; unknown ids raise (nothing is deleted then). Returns the count deleted."""
        unknown = [i for i in ids if i not in self._row]
        if unknown:
            raise InputError(f"unknown id(s): {unknown[:5]}; nothing was deleted")
        unique = list(dict.fromkeys(ids))
        self._remove(unique)
        self._dirty = self._dirty or bool(unique)
        if self.autocommit and unique:
            self.commit()
        return len(unique)

    def _remove(self, ids: Sequence[str]) -> None:
        """Mark rows dead: pending rows are dropped at commit, persisted ones get a tombstone."""
        for doc_id in ids:
            segment, r = self._row.pop(doc_id)
            segment.live[r] = False
            key = int(segment.keys[r])
            if segment is self._pending:
                if segment.hnsw is not None:
                    segment.hnsw.remove(key)
            else:
                self._tombstones.append(key)

    def commit(self) -> None:
        """Persist atomically: write the pending rows and tombstones as one new segment.

        No-op for an in-memory index and when nothing changed. Afterwards, if more than
        ``max_segments`` segments are live, the smallest neighbouring pairs are merged (see
        :meth:`compact`), then folders no manifest names are deleted.
        """
        if self.path is None:
            self._dirty = False
            return
        self._commit(merge_all=False)

    def compact(self) -> None:
        """Merge every segment into one, dropping deleted and replaced rows (commits first).

        Rewrites the whole index (and rebuilds or extends the HNSW graph): run it after many
        deletes or commits, not after each one. Searches return the same hits afterwards.
        """
        if self.path is None:
            self._pending = merged(self.spec, [self._pending], np.zeros(0, np.uint64))
            self._reindex()
            return
        self._commit(merge_all=True)

    def _commit(self, merge_all: bool) -> None:
        assert self.path is not None
        root = self.path
        exists = (root / ondisk.MANIFEST).exists()
        changed = self._pending.live_count > 0 or bool(self._tombstones)
        with ondisk.writer_lock(root):
            if exists and ondisk.read_manifest(root)["generation"] != self._generation:
                raise IndexError_(
                    f"{root} was changed by another writer since it was opened; "
                    "reopen the index and apply your change again"
                )
            generation = self._generation + 1
            segments = list(self._segments)
            if changed:
                pending = self._pending
                pending.deletes = np.asarray(self._tombstones, dtype=np.uint64)
                if self._needs_graph(pending):
                    self._build_graph(pending)
                pending.files = self._write_segment(pending, f"seg-{generation:06d}-00")
                segments.append(pending)
            groups = self._merge_plan(segments, merge_all)
            rewrite = [len(g) > 1 or (merge_all and not g[0].is_clean()) for g in groups]
            sidecars = self._persist_graphs([g[0] for g, r in zip(groups, rewrite) if not r])
            if not (changed or sidecars or any(rewrite)) and exists and self._on_disk_version == 2:
                self._dirty = False
                return
            final: list[Segment] = []
            merged_names = []
            for j, (group, again) in enumerate(zip(groups, rewrite), start=1):
                if not again:
                    final.append(group[0])
                    continue
                name = f"seg-{generation:06d}-{j:02d}"
                merged_names.append(name)
                final.append(self._merge(group, segments, name))
            entries = []
            for segment in final:
                entry = segment.manifest_entry()
                if segment is self._pending:
                    entry["name"] = f"seg-{generation:06d}-00"
                if segment.name in sidecars:
                    entry["files"] = {**entry["files"], HNSW_FILE: sidecars[segment.name]}
                entries.append(entry)
            ondisk.publish(root, {
                "library_version": __version__,
                "spec": self.spec.to_json(),
                "count": len(self._row),
                "next_key": self._next_key,
                "ann": self.ann,
                "ann_dtype": self.ann_dtype,
                "generation": generation,
                "segments": entries,
            })
            # published: only now does the in-memory state move on
            self._generation = generation
            self._on_disk_version = ondisk.FORMAT_VERSION
            if changed:
                self._pending.name = f"seg-{generation:06d}-00"
                self._pending = Segment(self.spec)
                self._tombstones = []
            for segment, entry in zip(final, entries):
                segment.files = entry["files"]
            if merged_names:  # reopen merged segments from disk (memory-mapped, old inputs released)
                by_name = {e["name"]: e for e in entries}
                final = [Segment.load(self.spec, root / s.name, by_name[s.name]) if s.name in merged_names else s
                         for s in final]
            self._segments = final
            if merged_names:
                self._apply_tombstones()
                self._reindex()
            removed = ondisk.collect_garbage(root, {s.name for s in final if s.name})
            if removed:
                log.debug("removed unreferenced %s", removed)
        self._dirty = False

    def _write_segment(self, segment: Segment, name: str) -> dict[str, dict[str, Any]]:
        assert self.path is not None
        folder = ondisk.SegmentWriter(self.path, name)
        segment.write(folder)
        segment.rows_on_disk = segment.live_count
        return folder.finish()

    def _merge_plan(self, segments: list[Segment], merge_all: bool) -> list[list[Segment]]:
        """Groups of neighbouring segments to merge (a group of one stays as it is).

        ``merge_all``: everything with live rows into one. Otherwise, while more than
        ``max_segments`` groups remain, join the neighbouring pair with the fewest live rows.
        A commit adds one segment, so it triggers at most one merge, which rewrites the
        smallest neighbouring pair: usually small recent segments, and never more than
        2/max_segments of the live rows (the S pair sums of S+1 groups add up to at most 2N).
        """
        if merge_all:
            return [segments] if segments else []
        groups = [[s] for s in segments]
        while self.max_segments and len(groups) > self.max_segments:
            sizes = [sum(s.live_count for s in g) for g in groups]
            i = min(range(len(groups) - 1), key=lambda j: sizes[j] + sizes[j + 1])
            groups[i:i + 2] = [groups[i] + groups[i + 1]]
        return groups

    def _merge(self, group: list[Segment], everything: list[Segment], name: str) -> Segment:
        """Write the live rows of ``group`` as segment ``name``; returns it (not yet loaded)."""
        outside = [s for s in everything if all(s is not g for g in group)]
        carried = np.unique(np.concatenate([np.zeros(0, np.uint64), *(s.deletes for s in group)]))
        still_there = np.zeros(len(carried), dtype=bool)
        for segment in outside:  # a tombstone is kept while some other segment still holds its row
            still_there |= segment.rows_of_keys(carried) >= 0
        out = merged(self.spec, group, carried[still_there])
        if self._needs_graph(out):
            out.hnsw = self._merged_graph(group, out)
        log.info("merging %d segments (%d live rows) into %s", len(group), len(out), name)
        out.files = self._write_segment(out, name)
        out.name = name
        return out

    # ---- ANN -----------------------------------------------------------------------------
    def _use_hnsw(self) -> bool:
        return self.ann == "hnsw" or (self.ann == "auto" and len(self._row) > self.exact_max_docs)

    def _needs_graph(self, segment: Segment) -> bool:
        return self._use_hnsw() and segment.hnsw is None and segment.live_count >= self.hnsw_min_rows

    def _new_graph(self) -> Any:
        usearch_index = require("usearch.index", extra="ann")
        return usearch_index.Index(
            ndim=self.spec.dim, metric="cos", dtype=self.ann_dtype,
            connectivity=16, expansion_add=128, expansion_search=128,
        )

    def _build_graph(self, segment: Segment) -> None:
        live = np.flatnonzero(segment.live)
        log.info("building HNSW over %d vectors (%s)", len(live), self.ann_dtype)
        graph = self._new_graph()
        graph.add(segment.keys[live], np.asarray(segment.vectors[live], dtype=np.float32))
        segment.hnsw, segment.hnsw_view = graph, False

    def _merged_graph(self, group: list[Segment], out: Segment) -> Any:
        """Extend the largest input's graph (minus its dead rows) rather than rebuild from scratch."""
        base = max((s for s in group if s.hnsw is not None), key=len, default=None)
        if base is None:
            self._build_graph(out)
            return out.hnsw
        if base.hnsw_view and base.name is not None:
            usearch_index = require("usearch.index", extra="ann")
            graph = usearch_index.Index.restore(str(self.path / base.name / HNSW_FILE), view=False)
        else:
            graph = base.hnsw.copy()
        dead = base.keys[~base.live]
        if len(dead):
            graph.remove(dead)
        others = np.isin(out.keys, base.keys[base.live], invert=True)
        if others.any():
            graph.add(out.keys[others], np.asarray(out.vectors[others], dtype=np.float32))
        return graph

    def _ensure_hnsw(self) -> None:
        """Graph every segment large enough (in memory; a commit persists them)."""
        for segment in self._all_segments():
            if self._needs_graph(segment):
                self._build_graph(segment)

    def _persist_graphs(self, segments: list[Segment]) -> dict[str, dict[str, Any]]:
        """Write graphs of persisted segments that lack one on disk (ANN switched on, or built lazily)."""
        assert self.path is not None
        written = {}
        for segment in segments:
            if segment.name is None or segment is self._pending or HNSW_FILE in segment.files:
                continue
            if self._needs_graph(segment):
                self._build_graph(segment)
            if segment.hnsw is not None:
                written[segment.name] = ondisk.add_file(self.path / segment.name, HNSW_FILE,
                                                        lambda p, g=segment.hnsw: g.save(str(p)))
        return written

    # ---- reads ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row

    def ids(self) -> list[str]:
        return [s.ids[r] for s in self._all_segments() for r in np.flatnonzero(s.live)]

    def get(self, ids: Sequence[str], with_states: bool = False) -> list[StoredDocument]:
        unknown = [i for i in ids if i not in self._row]
        if unknown:
            raise InputError(f"unknown id(s): {unknown[:5]}; check the ids with `verirank info`")
        out = []
        for doc_id in ids:
            segment, r = self._row[doc_id]
            states = spans = vector = None
            if with_states:
                vector = segment.vectors[r]
            if with_states and self.spec.token_dim:
                values, scales, spans_q = segment.state_row(r)
                states = values.astype(np.float32) * np.asarray(scales)[:, None]
                spans = np.asarray(spans_q)
            out.append(StoredDocument(doc_id, segment.texts[r], dict(segment.meta[r]), states, spans,
                                      segment.truncated[r], vector))
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
        if not self._row:
            return [[] for _ in range(len(queries))]
        masks = self._eligible(where)
        allowed = sum(int(m.sum()) for m in masks)
        if self._use_hnsw() and (not where or allowed > 4 * k):
            self._ensure_hnsw()
            return [self._search_ann(q, k, masks, filtered=bool(where)) for q in queries]
        return self._search_exact(queries, k, masks)

    def _eligible(self, where: dict[str, Any] | None) -> list[np.ndarray]:
        """Per segment, the rows a search may return: live and matching ``where``."""
        masks = []
        for segment in self._all_segments():
            mask = segment.live.copy()
            if where:
                for r in np.flatnonzero(mask):
                    meta = segment.meta[r]
                    mask[r] = all(meta.get(f) == v for f, v in where.items())
            masks.append(mask)
        return masks

    def _search_exact(self, queries: np.ndarray, k: int, masks: list[np.ndarray]) -> list[list[RawHit]]:
        """Exact top-k over the eligible rows in index order (ties keep that order)."""
        parts, refs = [], []
        for s, (segment, mask) in enumerate(zip(self._all_segments(), masks)):
            rows = np.flatnonzero(mask)
            if not len(rows):
                continue
            matrix = segment.vectors if len(rows) == len(segment) else segment.vectors[rows]
            parts.append(queries @ np.asarray(matrix).T)  # (Q, n_s)
            refs.append(np.stack([np.full(len(rows), s), rows], axis=1))
        if not parts:
            return [[] for _ in range(len(queries))]
        scores = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)  # (Q, N)
        ref = refs[0] if len(refs) == 1 else np.concatenate(refs)
        segments = self._all_segments()
        k = min(k, scores.shape[1])
        out = []
        for row_scores in scores:
            top = np.argpartition(-row_scores, k - 1)[:k]
            top = top[np.argsort(-row_scores[top], kind="stable")]
            out.append([RawHit(segments[ref[j, 0]].ids[ref[j, 1]], float(row_scores[j])) for j in top])
        return out

    def _search_ann(self, query: np.ndarray, k: int, masks: list[np.ndarray], filtered: bool) -> list[RawHit]:
        """Each segment's top k (its graph, or exact when it has none), merged by score."""
        found: list[tuple[float, int, str]] = []
        for s, (segment, mask) in enumerate(zip(self._all_segments(), masks)):
            eligible = int(mask.sum())
            if not eligible:
                continue
            hits = None
            if segment.hnsw is not None:
                base = 8 * k if filtered else k
                dead = len(segment) - segment.live_count  # tombstoned rows are still in a persisted graph
                want = min(len(segment), base + min(dead, 10 * base))
                matches = segment.hnsw.search(query, want)
                rows = segment.rows_of_keys(np.asarray(matches.keys, dtype=np.uint64))
                ok = rows >= 0
                ok[ok] = mask[rows[ok]]
                hits = [(float(1.0 - d), int(r)) for r, d in zip(rows[ok], np.asarray(matches.distances)[ok])][:k]
                if len(hits) < min(k, eligible):
                    hits = None  # rare: ANN under-filled
            if hits is None:
                rows = np.flatnonzero(mask)
                scores = np.asarray(segment.vectors[rows]) @ query
                top = np.argsort(-scores, kind="stable")[:k]
                hits = [(float(scores[j]), int(rows[j])) for j in top]
            found.extend((score, s, segment.ids[r]) for score, r in hits)
        found.sort(key=lambda h: (-h[0], h[1]))
        return [RawHit(doc_id, score) for score, _, doc_id in found[:k]]

    # ---- info ----------------------------------------------------------------------------
    def segment_count(self) -> int:
        """Persisted segments (the pending, uncommitted rows are not counted)."""
        return len(self._segments)

    def info(self) -> IndexInfo:
        bytes_on_disk = None
        if self.path is not None and (self.path / ondisk.MANIFEST).exists():
            manifest = ondisk.read_manifest(self.path)
            bytes_on_disk = sum(f["bytes"] for e in manifest["segments"] for f in e["files"].values())
        n = len(self._row)
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
            truncated_documents=sum(s.truncated[r] for s, r in self._row.values()),
        )

    def close(self) -> None:
        if self._dirty and self.path is not None:
            self.commit()
