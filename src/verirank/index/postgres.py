"""PostgreSQL + pgvector backend: the same surface as :class:`EmbeddedIndex`, on a server.

    index = PostgresIndex.create(spec, "postgresql://app@db:5432/search", table="docs")
    index = PostgresIndex.open("postgresql://app@db:5432/search", table="docs",
                               replicas=["postgresql://app@replica1:5432/search"])

Every ``add``/``delete`` is one transaction (a batch lands entirely or not at all); rows are
streamed with binary COPY. Searches use an HNSW index (``vector_cosine_ops``) and return
``1 - cosine distance``; ``where`` filters are jsonb containment (GIN-indexed). Layout and
encoding: :mod:`verirank.index.postgres_schema`; pools, timeouts, retries, replicas:
:mod:`verirank.index.postgres_connection`. Needs ``pip install "verirank[postgres]"``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from verirank._optional import require
from verirank._version import __version__
from verirank.errors import BackendUnavailable, ConfigError, DimensionMismatch, IndexError_, InputError
from verirank.index import postgres_schema as schema
from verirank.index.base import IndexSpec, RawHit, StoredDocument, StoredHit, check_batch, check_k, finite_score
from verirank.index.postgres_connection import (
    ConnectionOptions,
    Connections,
    describe,
    first_line,
    parse_dsn,
    translate,
)
from verirank.index.tokenstore import quantize
from verirank.types import Document, IndexInfo

log = logging.getLogger(__name__)

ANN_MODES = ("hnsw", "exact")
MAX_EF_SEARCH = 1000  # pgvector's upper bound for hnsw.ef_search
COPY_CHUNK_BYTES = 1 << 20  # COPY data is sent in messages of about this size


class PostgresIndex:
    """A verirank index in one PostgreSQL table (plus a one-row ``{table}_meta``)."""

    backend = "postgres"

    def __init__(
        self,
        spec: IndexSpec,
        dsn: str,
        *,
        table: str = schema.DEFAULT_TABLE,
        replicas: Sequence[str] = (),
        ann: str = "hnsw",
        ef_search: int = 100,
        max_scan_tuples: int = 20_000,
        connection: ConnectionOptions | None = None,
    ) -> None:
        """Use :meth:`create` or :meth:`open` (this only validates options and starts the pools).

        ``ann="exact"`` forces a sequential scan (exact, O(N)); ``ef_search`` is pgvector's
        ``hnsw.ef_search`` (raised to k per query, max 1000); ``max_scan_tuples`` bounds the
        iterative HNSW scan of a filtered search. Safe to share between threads.
        """
        if ann not in ANN_MODES:
            raise ConfigError(f"ann={ann!r}; choose one of {ANN_MODES}")
        if not 1 <= ef_search <= MAX_EF_SEARCH:
            raise ConfigError(f"ef_search={ef_search}; choose 1..{MAX_EF_SEARCH} (higher: better recall, slower)")
        if spec.token_dtype not in schema.DTYPE_CODES:
            raise ConfigError(f"token_dtype={spec.token_dtype!r}; choose int8 or float16")
        self.spec = spec
        self.dsn = dsn
        self.table = schema.check_table_name(table)
        self.ann = ann
        self.ef_search = ef_search
        self.max_scan_tuples = max_scan_tuples
        self._where = describe(dsn)
        self._db = Connections(dsn, replicas, connection)
        self._iterative_scan = True

    # ---- create / open -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        spec: IndexSpec,
        dsn: str,
        *,
        table: str = schema.DEFAULT_TABLE,
        exist_ok: bool = False,
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 64,
        **options: Any,
    ) -> PostgresIndex:
        """Create the tables (and the ``vector`` extension if allowed); refuse an existing index
        unless ``exist_ok`` (then open it, refusing a different encoder or token head)."""
        if not (2 <= hnsw_m <= 100 and max(4, 2 * hnsw_m) <= hnsw_ef_construction <= 1000):
            raise ConfigError(f"hnsw_m={hnsw_m}, hnsw_ef_construction={hnsw_ef_construction}: pgvector needs "
                              "2 <= m <= 100 and 2*m <= ef_construction <= 1000 (defaults 16, 64)")
        index = cls(spec, dsn, table=table, **options)
        try:
            index._ensure_extension()

            def create(conn: Any) -> bool:
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"verirank:{table}",))
                if _table_exists(conn, f"{table}_meta"):
                    return False
                for statement in schema.create_statements(table, spec, hnsw_m, hnsw_ef_construction):
                    conn.execute(statement)
                conn.execute(
                    f"INSERT INTO {table}_meta (schema_version, library_version, spec, hnsw) VALUES (%s, %s, %s, %s)",
                    (schema.SCHEMA_VERSION, __version__, json.dumps(spec.to_json()),
                     json.dumps({"m": hnsw_m, "ef_construction": hnsw_ef_construction})),
                )
                return True

            created = index._db.write(create, f"creating table {table!r}")
            if created:
                log.info("created verirank index table %s at %s", table, index._where)
            elif not exist_ok:
                raise IndexError_(
                    f"{index._where} already holds a verirank index in table {table!r}; open it with "
                    "PostgresIndex.open or pick another table= name"
                )
            else:
                stored = index._load_meta()
                stored.check_compatible(spec)
                index.spec = stored
            index._probe_features()
        except BaseException:
            index.close()
            raise
        return index

    @classmethod
    def open(
        cls, dsn: str, *, table: str = schema.DEFAULT_TABLE, spec: IndexSpec | None = None, **options: Any
    ) -> PostgresIndex:
        """Open an existing index; with ``spec``, refuse one built by another encoder or token head."""
        placeholder = IndexSpec(encoder_id="?", space="?", dim=1)
        index = cls(placeholder, dsn, table=table, **options)
        try:
            index.spec = index._load_meta()
            if spec is not None:
                index.spec.check_compatible(spec)
            index._probe_features()
        except BaseException:
            index.close()
            raise
        return index

    @classmethod
    def exists(cls, dsn: str, *, table: str = schema.DEFAULT_TABLE, connect_timeout_s: float = 5.0) -> bool:
        """Whether ``table`` holds a verirank index at ``dsn`` (BackendUnavailable if unreachable)."""
        psycopg = require("psycopg", extra="postgres")
        schema.check_table_name(table)
        parse_dsn(dsn)
        try:
            with psycopg.connect(dsn, connect_timeout=max(2, int(round(connect_timeout_s))), autocommit=True) as conn:
                return _table_exists(conn, f"{table}_meta")
        except psycopg.OperationalError as exc:
            raise BackendUnavailable(
                f"PostgreSQL at {describe(dsn)} is unreachable (checking for an index): {first_line(exc)}; "
                "check that the server is running and the DSN host/port/user/password are right"
            ) from exc
        except psycopg.Error as exc:
            raise translate(exc, describe(dsn), "checking for an index") from exc

    @classmethod
    def drop(cls, dsn: str, *, table: str = schema.DEFAULT_TABLE) -> None:
        """Delete the index tables (irreversible)."""
        index = cls(IndexSpec(encoder_id="?", space="?", dim=1), dsn, table=table)
        try:
            index._db.write(lambda conn: conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_meta"),
                            f"dropping table {table!r}")
        finally:
            index.close()

    def _ensure_extension(self) -> None:
        psycopg = require("psycopg", extra="postgres")

        def installed(conn: Any) -> str | None:
            row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
            return row[0] if row else None

        version = self._db.write(installed, "checking the vector extension")
        if version is None:
            try:
                with self._db.primary.pool.connection() as conn:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.errors.DatabaseError as exc:
                if isinstance(exc, psycopg.OperationalError):
                    raise translate(exc, self._where, "creating the vector extension") from exc
                raise ConfigError(
                    f"PostgreSQL at {self._where} has no pgvector extension and verirank could not create it "
                    f"({type(exc).__name__}: {first_line(exc)}); install pgvector on the server "
                    "(https://github.com/pgvector/pgvector#installation), then as a superuser run in this "
                    "database: CREATE EXTENSION vector;"
                ) from exc
            version = self._db.write(installed, "checking the vector extension")
        if schema.parse_version(version or "0") < schema.MIN_PGVECTOR:
            raise ConfigError(f"pgvector {version} at {self._where} has no HNSW index; upgrade it to >= 0.5.0: "
                              "ALTER EXTENSION vector UPDATE;")

    def _load_meta(self) -> IndexSpec:
        table = self.table

        def load(conn: Any) -> dict[str, Any] | None:
            if not _table_exists(conn, f"{table}_meta"):
                return None
            row = conn.execute(f"SELECT schema_version, library_version, spec FROM {table}_meta").fetchone()
            dim = conn.execute(
                "SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'embedding'",
                (table,),
            ).fetchone()
            if row is None or dim is None:
                raise IndexError_(f"verirank index {table!r} at {self._where} is incomplete (no meta row or no "
                                  "embedding column); drop it with PostgresIndex.drop and re-index")
            return {"schema_version": row[0], "library_version": row[1], "spec": row[2], "column_dim": dim[0]}

        meta = self._db.read(load, f"reading {table}_meta", primary_only=True)
        if meta is None:
            raise IndexError_(f"no verirank index in table {table!r} at {self._where}; create one with "
                              f"PostgresIndex.create (or `verirank index FILE --index DSN`)")
        spec = schema.check_meta(meta, table, self._where)
        if meta["column_dim"] != spec.dim:
            raise IndexError_(f"table {table!r} stores vector({meta['column_dim']}) but its meta says dim {spec.dim}; "
                              "the index is damaged: re-index")
        return spec

    def _probe_features(self) -> None:
        version = self._db.read(
            lambda conn: conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0],
            "checking the vector extension", primary_only=True)
        self._iterative_scan = schema.parse_version(version) >= schema.ITERATIVE_SCAN_PGVECTOR

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
        """Add documents in one transaction; with ``overwrite=True`` replace existing ids (upsert)."""
        if not documents:
            return
        vectors = check_batch(self.spec, documents, vectors, token_states)
        ids = [d.id for d in documents]
        texts = [schema.check_text(d) for d in documents]
        metadata = [schema.check_metadata(d) for d in documents]
        states = self._encode_states(token_states, token_spans, len(documents))
        flags = [bool(t) for t in (truncated or [False] * len(documents))]
        table = self.table

        def write(conn: Any) -> None:
            rows = schema.copy_rows(ids, texts, metadata, vectors, states, flags)
            if overwrite:  # stage, then upsert: safe against a concurrent writer of the same ids
                conn.execute(f"CREATE TEMP TABLE {table}_staging ON COMMIT DROP AS "
                             f"SELECT {', '.join(schema.COLUMNS)} FROM {table} WITH NO DATA")
                _copy(conn, f"{table}_staging", rows)
                updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in schema.COLUMNS[1:])
                inserted = sum(row[0] for row in conn.execute(
                    f"INSERT INTO {table} ({', '.join(schema.COLUMNS)}) SELECT * FROM {table}_staging "
                    f"ON CONFLICT (id) DO UPDATE SET {updates}, seq = EXCLUDED.seq RETURNING xmax = 0"))
            else:
                existing = [r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE id = ANY(%s)", (ids,))]
                if existing:
                    position = {doc_id: i for i, doc_id in enumerate(ids)}
                    raise _already_indexed(sorted(existing, key=position.__getitem__))
                _copy(conn, table, rows)
                inserted = len(ids)
            conn.execute(f"UPDATE {table}_meta SET doc_count = doc_count + %s", (inserted,))

        self._db.write(write, f"adding {len(ids)} documents")

    def _encode_states(self, token_states: Sequence[np.ndarray] | None, token_spans: Sequence[np.ndarray] | None,
                       n: int) -> list[bytes | None]:
        if not self.spec.token_dim:
            return [None] * n
        blobs: list[bytes | None] = []
        for i, states in enumerate(token_states or []):
            keep = min(states.shape[0], self.spec.max_stored_tokens)
            values, scales = quantize(states[:keep], self.spec.token_dtype)
            spans = (np.asarray(token_spans[i], dtype=np.int32)[:keep] if token_spans is not None
                     else np.zeros((keep, 2), dtype=np.int32))
            blobs.append(schema.encode_states(values, scales, spans.reshape(keep, 2), self.spec.token_dtype))
        return blobs

    def delete(self, ids: Sequence[str]) -> int:
        """Delete by id; unknown ids raise (nothing is deleted then). Returns the count deleted."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return 0
        table = self.table

        def delete(conn: Any) -> int:
            gone = {r[0] for r in conn.execute(f"DELETE FROM {table} WHERE id = ANY(%s) RETURNING id", (wanted,))}
            unknown = [i for i in ids if i not in gone]
            if unknown:
                raise InputError(f"unknown id(s): {unknown[:5]}; nothing was deleted")  # rolls the DELETE back
            conn.execute(f"UPDATE {table}_meta SET doc_count = doc_count - %s", (len(gone),))
            return len(gone)

        return self._db.write(delete, f"deleting {len(wanted)} documents")

    def commit(self) -> None:
        """A no-op: every add/delete is already a committed transaction."""

    # ---- reads ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._db.read(lambda conn: conn.execute(f"SELECT doc_count FROM {self.table}_meta").fetchone()[0],
                                 "counting documents", primary_only=True))

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str):
            return False
        row = self._db.read(lambda conn: conn.execute(f"SELECT 1 FROM {self.table} WHERE id = %s", (doc_id,))
                            .fetchone(), "looking up an id", primary_only=True)
        return row is not None

    def ids(self) -> list[str]:
        """Every id, oldest first (an overwritten document counts as new)."""
        return self._db.read(lambda conn: [r[0] for r in conn.execute(f"SELECT id FROM {self.table} ORDER BY seq")],
                             "listing ids", primary_only=True)

    def get(self, ids: Sequence[str], with_states: bool = False) -> list[StoredDocument]:
        if not ids:
            return []
        columns = "id, text, metadata, truncated" + self._state_columns(with_states)
        wanted = list(dict.fromkeys(ids))
        rows = self._db.read(
            lambda conn: conn.execute(f"SELECT {columns} FROM {self.table} WHERE id = ANY(%s)", (wanted,),
                                      binary=True).fetchall(),
            f"fetching {len(wanted)} documents")
        found = {row[0]: schema.stored_document(row) for row in rows}
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise InputError(f"unknown id(s): {unknown[:5]}; check the ids with `verirank info`")
        return [found[i] for i in ids]

    def _state_columns(self, with_states: bool) -> str:
        """What a verifying read adds to a document's row: its recall vector and token states."""
        if not with_states:
            return ""
        return ", embedding::real[]" + (", states" if self.spec.token_dim else "")

    def search(self, vectors: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[list[RawHit]]:
        """Top-k by cosine for each query vector (Q, D); ``where`` = metadata equality filter."""
        results = self._search(vectors, k, where, "id, 1 - (embedding <=> %(q)s::vector)")
        return [[RawHit(row[0], finite_score(float(row[1]))) for row in rows] for rows in results]

    def search_stored(self, vectors: np.ndarray, k: int, where: dict[str, Any] | None = None,
                      with_states: bool = False) -> list[list[StoredHit]]:
        """Like :meth:`search`, plus each hit's stored document (and token states): one query."""
        columns = "id, 1 - (embedding <=> %(q)s::vector), text, metadata, truncated" + self._state_columns(with_states)
        results = self._search(vectors, k, where, columns)
        return [[StoredHit(finite_score(float(row[1])), schema.stored_document(row[:1] + row[2:])) for row in rows]
                for rows in results]

    def _search(self, vectors: np.ndarray, k: int, where: dict[str, Any] | None, columns: str) -> list[list[Any]]:
        check_k(k)
        queries = np.asarray(vectors, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None]
        if queries.ndim != 2 or queries.shape[1] != self.spec.dim:
            raise DimensionMismatch(f"query vector dim {queries.shape[-1]} != index dim {self.spec.dim}")
        if not np.isfinite(queries).all():
            raise InputError("query vector contains NaN or inf")
        filters, params = schema.where_clause(where)
        sql = (f"SELECT {columns} FROM {self.table} {filters} "
               "ORDER BY embedding <=> %(q)s::vector LIMIT %(k)s")

        def run(conn: Any) -> list[list[Any]]:
            self._configure_search(conn, k, bool(where))
            return [conn.execute(sql, {**params, "q": schema.vector_literal(q), "k": k}, binary=True).fetchall()
                    for q in queries]

        return self._db.read(run, f"searching {len(queries)} queries")

    def _configure_search(self, conn: Any, k: int, filtered: bool) -> None:
        """Transaction-local planner settings (``SET LOCAL``) for one search."""
        settings = {"hnsw.ef_search": str(min(MAX_EF_SEARCH, max(self.ef_search, k)))}
        if self.ann == "exact":
            settings["enable_indexscan"] = "off"  # sequential scan + top-k sort: exact
        elif filtered and self._iterative_scan:
            settings["hnsw.iterative_scan"] = "strict_order"  # keep scanning until k rows pass the filter
            settings["hnsw.max_scan_tuples"] = str(self.max_scan_tuples)
        names = list(settings)
        conn.execute("SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names),
                     [v for name in names for v in (name, settings[name])])

    # ---- info ----------------------------------------------------------------------------
    def info(self) -> IndexInfo:
        table = self.table

        def stats(conn: Any) -> tuple[int, int, int]:
            count = conn.execute(f"SELECT doc_count FROM {table}_meta").fetchone()[0]
            size = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (table,)).fetchone()[0]
            flagged = conn.execute(f"SELECT count(*) FROM {table} WHERE truncated").fetchone()[0]
            return int(count), int(size), int(flagged)

        count, size, flagged = self._db.read(stats, "reading index statistics", primary_only=True)
        return IndexInfo(
            backend=self.backend, path=f"{self._where} table {table}", count=count, dim=self.spec.dim,
            encoder_id=self.spec.encoder_id, token_head_id=self.spec.token_head_id, token_dim=self.spec.token_dim,
            token_dtype=self.spec.token_dtype, ann=self.ann, bytes_on_disk=size,
            bytes_per_document=(size / count) if count else None, truncated_documents=flagged,
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PostgresIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- helpers -------------------------------------------------------------------------------
def _copy(conn: Any, table: str, rows: Iterator[bytes]) -> None:
    """Stream a binary COPY in ~1 MiB messages; a concurrent duplicate id reads as "already indexed"."""
    psycopg = require("psycopg", extra="postgres")
    try:
        with conn.cursor().copy(f"COPY {table} ({', '.join(schema.COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
            buffer = bytearray()
            for chunk in rows:
                buffer += chunk
                if len(buffer) >= COPY_CHUNK_BYTES:
                    copy.write(buffer)
                    buffer = bytearray()
            copy.write(buffer)
    except psycopg.errors.UniqueViolation as exc:  # another writer committed one of these ids meanwhile
        raise _already_indexed([_duplicate_key(exc) or "?"]) from exc


def _table_exists(conn: Any, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]




def _already_indexed(existing: Sequence[str]) -> InputError:
    return InputError(
        f"{len(existing)} id(s) already indexed (first: {existing[0]!r}); "
        "use upsert / overwrite=True to replace them, or give new ids"
    )


def _duplicate_key(exc: Exception) -> str | None:
    detail = getattr(getattr(exc, "diag", None), "message_detail", None) or ""
    return detail.split("=(", 1)[1].split(")", 1)[0] if "=(" in detail else None
