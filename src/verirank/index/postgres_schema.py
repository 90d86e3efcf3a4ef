"""Tables, row encoding and the schema check of the PostgreSQL backend.

One row per document, so one query returns candidates and their token states::

    {table}       id text PK | seq bigint | text | metadata jsonb | embedding vector(dim)
                  | states bytea (packed, see encode_states) | truncated bool
                  indexes: HNSW (vector_cosine_ops) on embedding, GIN on metadata,
                           partial on truncated
    {table}_meta  one row: schema_version, library_version, spec jsonb, hnsw jsonb, doc_count

``doc_count`` is updated in the same transaction as every write, so ``len()`` is O(1).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from verirank.errors import ConfigError, IndexError_, InputError
from verirank.index.base import IndexSpec, StoredDocument
from verirank.types import Document

SCHEMA_VERSION = 1
DEFAULT_TABLE = "verirank_documents"
MIN_PGVECTOR = (0, 5, 0)  # first release with HNSW
ITERATIVE_SCAN_PGVECTOR = (0, 8, 0)  # hnsw.iterative_scan keeps filtered searches filled
TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,47}")
COLUMNS = ("id", "text", "metadata", "embedding", "states", "truncated")

# ---- token states: one little-endian bytea per document ------------------------------------
STATES_HEADER = struct.Struct("<BBHI")  # format version, dtype code, token_dim, n_tokens
STATES_FORMAT = 1
DTYPE_CODES = {"int8": 1, "float16": 2}
DTYPES = {1: np.dtype("<i1"), 2: np.dtype("<f2")}


def encode_states(values: np.ndarray, scales: np.ndarray, spans: np.ndarray, dtype: str) -> bytes:
    """Quantised (L, d) values + (L,) scales + (L, 2) spans -> header | values | scales | spans."""
    code = DTYPE_CODES[dtype]
    n_tokens, dim = values.shape
    return b"".join((
        STATES_HEADER.pack(STATES_FORMAT, code, dim, n_tokens),
        np.ascontiguousarray(values, dtype=DTYPES[code]).tobytes(),
        np.ascontiguousarray(scales, dtype="<f4").tobytes(),
        np.ascontiguousarray(spans, dtype="<i4").tobytes(),
    ))


def decode_states(blob: bytes | memoryview) -> tuple[np.ndarray, np.ndarray]:
    """Packed bytea -> ((L, d) float32 dequantised states, (L, 2) int32 spans)."""
    version, code, dim, n_tokens = STATES_HEADER.unpack_from(blob)
    if version != STATES_FORMAT or code not in DTYPES:
        raise IndexError_(f"token states stored in format {version}/dtype {code}, which this verirank cannot read; "
                          "upgrade verirank or re-index")
    offset = STATES_HEADER.size
    values = np.frombuffer(blob, dtype=DTYPES[code], count=n_tokens * dim, offset=offset).reshape(n_tokens, dim)
    offset += values.nbytes
    scales = np.frombuffer(blob, dtype="<f4", count=n_tokens, offset=offset)
    offset += scales.nbytes
    spans = np.frombuffer(blob, dtype="<i4", count=2 * n_tokens, offset=offset).reshape(n_tokens, 2)
    return values.astype(np.float32) * scales[:, None], spans.astype(np.int32)


# ---- binary COPY ----------------------------------------------------------------------------
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)
_FIELD_COUNT = struct.pack(">h", len(COLUMNS))
_NULL = struct.pack(">i", -1)


def _field(data: bytes | None) -> bytes:
    return _NULL if data is None else struct.pack(">i", len(data)) + data


def copy_rows(
    ids: Sequence[str],
    texts: Sequence[str],
    metadata: Sequence[dict[str, Any]],
    vectors: np.ndarray,
    states: Sequence[bytes | None],
    truncated: Sequence[bool],
) -> Iterator[bytes]:
    """The complete ``COPY ... (FORMAT BINARY)`` stream for :data:`COLUMNS`, one chunk per row.

    pgvector's binary ``vector``: uint16 dim, uint16 0, dim big-endian float32; ``jsonb``: 0x01 + JSON.
    """
    dim = vectors.shape[1]
    vector_head = struct.pack(">HH", dim, 0)
    big_endian = np.ascontiguousarray(vectors, dtype=">f4")
    yield COPY_SIGNATURE
    for i, doc_id in enumerate(ids):
        yield b"".join((
            _FIELD_COUNT,
            _field(doc_id.encode()),
            _field(texts[i].encode()),
            _field(b"\x01" + json.dumps(metadata[i], ensure_ascii=False).encode()),
            _field(vector_head + big_endian[i].tobytes()),
            _field(states[i]),
            _field(b"\x01" if truncated[i] else b"\x00"),
        ))
    yield COPY_TRAILER


def vector_literal(vector: np.ndarray) -> str:
    """A query vector as pgvector text input, e.g. ``[0.1,-0.2]``."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


# ---- DDL ------------------------------------------------------------------------------------
def check_table_name(table: str) -> str:
    if not isinstance(table, str) or not TABLE_NAME.fullmatch(table):
        raise ConfigError(f"table={table!r}: use 1-48 lowercase letters, digits or underscores, starting with a "
                          "letter or underscore (e.g. 'verirank_documents')")
    return table


def create_statements(table: str, spec: IndexSpec, hnsw_m: int, hnsw_ef_construction: int) -> list[str]:
    """DDL for a new index (identifiers pre-validated by :func:`check_table_name`)."""
    return [
        f"""CREATE TABLE {table} (
            id text PRIMARY KEY,
            seq bigint GENERATED BY DEFAULT AS IDENTITY,
            text text NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{{}}',
            embedding vector({spec.dim}) NOT NULL,
            states bytea,
            truncated boolean NOT NULL DEFAULT false)""",
        # quantised states do not compress: store them out of line without trying pglz
        f"ALTER TABLE {table} ALTER COLUMN states SET STORAGE EXTERNAL",
        f"""CREATE INDEX {table}_embedding_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)
            WITH (m = {int(hnsw_m)}, ef_construction = {int(hnsw_ef_construction)})""",
        f"CREATE INDEX {table}_metadata_gin ON {table} USING gin (metadata jsonb_path_ops)",
        f"CREATE INDEX {table}_truncated ON {table} (seq) WHERE truncated",
        f"""CREATE TABLE {table}_meta (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            schema_version integer NOT NULL,
            library_version text NOT NULL,
            spec jsonb NOT NULL,
            hnsw jsonb NOT NULL,
            doc_count bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now())""",
    ]


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def check_meta(row: dict[str, Any], table: str, where: str) -> IndexSpec:
    """Refuse a newer schema; return the stored spec."""
    version = int(row["schema_version"])
    if version > SCHEMA_VERSION:
        raise IndexError_(
            f"table {table!r} at {where} uses verirank PostgreSQL schema {version}, newer than this verirank "
            f"reads ({SCHEMA_VERSION}); upgrade verirank (written by verirank {row['library_version']})"
        )
    try:
        return IndexSpec.from_json(row["spec"])
    except (TypeError, KeyError) as exc:
        raise IndexError_(f"{table}_meta at {where} holds an unreadable spec ({exc}); restore it or re-index") from exc


# ---- row validation and decoding, metadata filters --------------------------------------
def check_text(doc: Document) -> str:
    """The document's text, refusing what PostgreSQL cannot store (NUL characters)."""
    if "\x00" in doc.text:
        raise InputError(f"text of document {doc.id!r} contains a NUL character, which PostgreSQL cannot store; "
                         "remove it; nothing was stored")
    if "\x00" in doc.id:
        raise InputError(f"id {doc.id!r} contains a NUL character, which PostgreSQL cannot store")
    return doc.text


def check_metadata(doc: Document) -> dict[str, Any]:
    """The document's metadata, refusing what jsonb cannot hold (NaN, non-JSON values, NUL)."""
    try:
        encoded = json.dumps(doc.metadata, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"metadata of document {doc.id!r} is not JSON ({exc}); use str/int/float/bool/None, "
                         "lists and dicts; nothing was stored") from exc
    if "\\u0000" in encoded:
        raise InputError(f"metadata of document {doc.id!r} contains a NUL character, which PostgreSQL cannot store")
    return dict(doc.metadata)


def stored_document(row: Sequence[Any]) -> StoredDocument:
    """(id, text, metadata, truncated[, vector[, states]]) -> StoredDocument."""
    states = spans = vector = None
    if len(row) > 4 and row[4] is not None:
        vector = np.asarray(row[4], dtype=np.float32)
    if len(row) > 5 and row[5] is not None:
        states, spans = decode_states(row[5])
    return StoredDocument(row[0], row[1], row[2], states, spans, bool(row[3]), vector)


def where_clause(where: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """Metadata equality as ``metadata @> {...}`` (GIN-indexed); lists/dicts also need exact equality."""
    if not where:
        return "", {}
    if not isinstance(where, dict) or not all(isinstance(key, str) for key in where):
        raise InputError(f"where must be a dict of metadata field -> value, got {where!r}")
    try:
        json.dumps(where, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"where values must be JSON values, got {where!r} ({exc})") from exc
    clauses: list[str] = []
    params: dict[str, Any] = {}
    scalars = {key: value for key, value in where.items() if value is not None}
    if scalars:
        clauses.append("metadata @> %(where)s::jsonb")
        params["where"] = json.dumps(scalars, allow_nan=False)
    for n, (key, value) in enumerate(where.items()):
        if value is None:  # like dict.get(key) == None: a missing key or an explicit null
            clauses.append(f"coalesce(metadata -> %(k{n})s, 'null'::jsonb) = 'null'::jsonb")
            params[f"k{n}"] = key
        elif isinstance(value, (list, dict)):  # containment alone would also accept supersets
            clauses.append(f"metadata -> %(k{n})s = %(v{n})s::jsonb")
            params.update({f"k{n}": key, f"v{n}": json.dumps(value)})
    return "WHERE " + " AND ".join(clauses), params
