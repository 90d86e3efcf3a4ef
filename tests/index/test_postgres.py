"""PostgreSQL-backend specifics: schema/meta checks, factory routing, DSN and option errors."""

from __future__ import annotations

import threading

import numpy as np
import psycopg
import pytest
from index_testdata import make_batch, unique_table

from verirank.errors import ConfigError, EncoderMismatch, IndexError_, InputError
from verirank.index.base import IndexSpec
from verirank.index.factory import create_index, index_exists, open_index
from verirank.index.postgres import PostgresIndex
from verirank.index.postgres_schema import SCHEMA_VERSION, decode_states, encode_states
from verirank.index.tokenstore import quantize
from verirank.types import Document

pytestmark = pytest.mark.postgres

DIM, TOK = 16, 4
SPEC = IndexSpec(encoder_id="test@fp32", space="test", dim=DIM, token_head_id="h1", token_dim=TOK)


@pytest.fixture
def table(pg_server):
    name = unique_table()
    yield name
    PostgresIndex.drop(pg_server.dsn, table=name)


def test_factory_routes_dsn_to_postgres(pg_server, table):
    assert not index_exists(pg_server.dsn, table=table)
    index = create_index(SPEC, pg_server.dsn, table=table)
    try:
        assert index.backend == "postgres" and index_exists(pg_server.dsn, table=table)
    finally:
        index.close()
    again = open_index(pg_server.dsn, table=table)
    try:
        assert again.spec == SPEC and len(again) == 0
    finally:
        again.close()


def test_create_exist_ok_checks_the_spec(pg_server, table):
    PostgresIndex.create(SPEC, pg_server.dsn, table=table).close()
    with PostgresIndex.create(SPEC, pg_server.dsn, table=table, exist_ok=True) as same:
        assert same.spec == SPEC
    other = IndexSpec(encoder_id="other", space="other", dim=DIM + 1, token_head_id="h1", token_dim=TOK)
    with pytest.raises(EncoderMismatch, match="re-index"):
        PostgresIndex.create(other, pg_server.dsn, table=table, exist_ok=True)
    with pytest.raises(EncoderMismatch, match="token head"):
        PostgresIndex.open(pg_server.dsn, table=table, spec=IndexSpec("test@fp32", "test", DIM, "h2", TOK))


def test_missing_index_and_newer_schema_are_refused(pg_server, table):
    with pytest.raises(IndexError_, match=f"no verirank index in table '{table}'.*PostgresIndex.create"):
        PostgresIndex.open(pg_server.dsn, table=table)
    PostgresIndex.create(SPEC, pg_server.dsn, table=table).close()
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"UPDATE {table}_meta SET schema_version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(IndexError_, match=f"schema {SCHEMA_VERSION + 1}, newer than this verirank reads"):
        PostgresIndex.open(pg_server.dsn, table=table)


def test_column_dimension_must_match_the_meta(pg_server, table):
    PostgresIndex.create(SPEC, pg_server.dsn, table=table).close()
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE {table} ALTER COLUMN embedding TYPE vector({DIM + 1})")
    with pytest.raises(IndexError_, match=rf"stores vector\({DIM + 1}\) but its meta says dim {DIM}"):
        PostgresIndex.open(pg_server.dsn, table=table)


def test_bad_options_say_what_to_use(pg_server):
    for options, message in (({"table": "Bad-Name"}, "lowercase letters"), ({"ann": "ivf"}, "choose one of"),
                             ({"ef_search": 0}, "ef_search=0")):
        with pytest.raises(ConfigError, match=message):
            PostgresIndex.open(pg_server.dsn, **options)
    with pytest.raises(ConfigError, match="list of DSNs"):
        PostgresIndex.open(pg_server.dsn, replicas=pg_server.dsn)


def test_a_bad_row_rolls_back_the_whole_batch(pg_server, table):
    rng = np.random.default_rng(0)
    with PostgresIndex.create(SPEC, pg_server.dsn, table=table) as index:
        batch = make_batch(rng, 0, 5, DIM, TOK)
        batch.documents[4] = Document(id="d4", text="nul \x00 byte")
        with pytest.raises(InputError, match="'d4' contains a NUL character"):
            index.add(batch.documents, batch.vectors, batch.states, batch.spans)
        batch.documents[4] = Document(id="d4", text="ok", metadata={"x": float("nan")})
        with pytest.raises(InputError, match="metadata of document 'd4' is not JSON"):
            index.add(batch.documents, batch.vectors, batch.states, batch.spans)
        assert len(index) == 0 and index.ids() == []


def test_count_survives_upserts_and_deletes(pg_server, table):
    rng = np.random.default_rng(1)
    with PostgresIndex.create(SPEC, pg_server.dsn, table=table) as index:
        batch = make_batch(rng, 0, 30, DIM, TOK)
        index.add(batch.documents, batch.vectors, batch.states, batch.spans)
        more = make_batch(rng, 20, 20, DIM, TOK)  # 10 overwritten, 10 new
        index.add(more.documents, more.vectors, more.states, more.spans, overwrite=True)
        index.delete(["d0", "d39"])
        with psycopg.connect(pg_server.dsn) as conn:
            true_count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert len(index) == true_count == 38 == index.info().count
        assert index.info().bytes_per_document > 0


def test_concurrent_upserts_of_the_same_ids(pg_server, table):
    rng = np.random.default_rng(3)
    batches = [make_batch(rng, 0, 40, DIM, TOK) for _ in range(4)]  # the same 40 ids, different vectors
    errors: list[BaseException] = []
    with PostgresIndex.create(SPEC, pg_server.dsn, table=table) as index:

        def upsert(batch) -> None:
            try:
                for _ in range(3):
                    index.add(batch.documents, batch.vectors, batch.states, batch.spans, overwrite=True)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=upsert, args=(b,)) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(index) == 40 == len(index.ids())
        stored = index.search(batches[0].vectors, 1)  # every id holds one complete version
        assert all(hits and hits[0].id.startswith("d") for hits in stored)


def test_states_codec_round_trip():
    rng = np.random.default_rng(2)
    states = rng.normal(size=(7, TOK)).astype(np.float32)
    spans = np.arange(14, dtype=np.int32).reshape(7, 2)
    for dtype in ("int8", "float16"):
        values, scales = quantize(states, dtype)
        decoded, decoded_spans = decode_states(encode_states(values, scales, spans, dtype))
        np.testing.assert_allclose(decoded, values.astype(np.float32) * scales[:, None])
        np.testing.assert_array_equal(decoded_spans, spans)
    with pytest.raises(IndexError_, match="cannot read"):
        decode_states(b"\x09" + encode_states(values, scales, spans, "int8")[1:])
