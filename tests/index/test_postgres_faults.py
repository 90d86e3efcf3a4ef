"""PostgreSQL faults against a real server: crash mid-batch, server down, bad DSN, missing
extension, read replica."""

from __future__ import annotations

import threading
import time

import numpy as np
import psycopg
import pytest
from index_testdata import make_batch, unique_table, unit_vectors

from verirank.errors import BackendUnavailable, ConfigError
from verirank.index.base import IndexSpec
from verirank.index.factory import create_index
from verirank.index.postgres import PostgresIndex
from verirank.index.postgres_connection import ConnectionOptions
from verirank.index.postgres_local import wait_for_replay

pytestmark = pytest.mark.postgres

DIM, TOK = 64, 16
SPEC = IndexSpec(encoder_id="test@fp32", space="test", dim=DIM, token_head_id="h1", token_dim=TOK)
FAST_FAIL = ConnectionOptions(connect_timeout_s=2.0, retries=1, backoff_s=0.05)


@pytest.fixture
def running(crash_server):
    """The crash server, guaranteed running before and after the test."""
    if crash_server.pid is None:
        crash_server.start()
    yield crash_server
    if crash_server.pid is None:
        crash_server.start()


def wait_for_copy(dsn: str, table: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            active = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
                                  (f"COPY {table} %",)).fetchone()[0]
            if active:
                return
            time.sleep(0.02)
    raise AssertionError("the batch COPY never started")


def test_crash_mid_batch_leaves_each_batch_whole_or_absent(running):
    rng = np.random.default_rng(0)
    table = unique_table()
    first = make_batch(rng, 0, 500, DIM, TOK, max_tokens=40, prefix="a")
    big = make_batch(rng, 0, 6000, DIM, TOK, max_tokens=40, prefix="b")
    index = PostgresIndex.create(SPEC, running.dsn, table=table, connection=FAST_FAIL)
    index.add(first.documents, first.vectors, first.states, first.spans)
    outcome: dict[str, BaseException] = {}

    def writer() -> None:
        try:
            index.add(big.documents, big.vectors, big.states, big.spans)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=writer)
    thread.start()
    wait_for_copy(running.dsn, table)
    time.sleep(0.3)  # well inside the COPY of 6000 rows into an HNSW-indexed table
    running.kill()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the writer hung after the server died"
    assert isinstance(outcome.get("error"), BackendUnavailable)
    assert "entirely or not at all" in str(outcome["error"])
    running.start()  # crash recovery replays the WAL

    with PostgresIndex.open(running.dsn, table=table, ann="exact") as again:
        present = set(again.ids())
        assert present <= set(first.ids + big.ids) and ("a0" in again) == ("a0" in present)
        assert set(first.ids) <= present  # the committed batch survived whole
        assert present & set(big.ids) in (set(), set(big.ids))  # the killed batch: all or nothing
        assert len(again) == len(present)  # the O(1) counter is as consistent as the rows
        for batch in (first, big):
            if batch.ids[0] not in present:
                continue
            sample = [batch.ids[i] for i in (0, len(batch.ids) // 2, -1)]
            for doc in again.get(sample, with_states=True):
                i = batch.ids.index(doc.id)
                np.testing.assert_allclose(doc.token_states, batch.states[i],
                                           atol=np.abs(batch.states[i]).max() / 100)
                assert again.search(batch.vectors[i], 1)[0][0].id == doc.id
        # writes and HNSW searches work after recovery: the lost batch can simply be re-sent
        again.add(big.documents[:50], big.vectors[:50], big.states[:50], big.spans[:50], overwrite=True)
    with PostgresIndex.open(running.dsn, table=table) as hnsw:
        assert hnsw.search(big.vectors[7], 1)[0][0].id == "b7"
    index.close()


def test_server_down_fails_fast_and_recovers(running):
    rng = np.random.default_rng(1)
    table = unique_table()
    index = PostgresIndex.create(SPEC, running.dsn, table=table, connection=FAST_FAIL)
    batch = make_batch(rng, 0, 20, DIM, TOK)
    index.add(batch.documents, batch.vectors, batch.states, batch.spans)
    running.stop("immediate")
    for call in (lambda: index.search(batch.vectors[0], 3), lambda: len(index),
                 lambda: index.add(batch.documents, batch.vectors, batch.states, batch.spans, overwrite=True),
                 lambda: PostgresIndex.open(running.dsn, table=table, connection=FAST_FAIL),
                 lambda: PostgresIndex.exists(running.dsn, table=table)):
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="unreachable"):
            call()
        assert time.monotonic() - started < 8, "no hang: the connect timeout bounds the wait"
    running.start()
    assert index.search(batch.vectors[0], 1)[0][0].id == "d0"  # the same object recovers
    assert len(index) == 20
    index.close()


def test_malformed_dsns_are_config_errors(running):
    for dsn, message in (
        ("postgresql://me:s3cret@127.0.0.1:notaport/db", "port 'notaport' is not a number"),
        ("postgresql://127.0.0.1/db?nosuchoption=1", "malformed PostgreSQL DSN"),
        ("host=127.0.0.1 port", "malformed PostgreSQL DSN"),
        ("", "DSN is empty"),
    ):
        with pytest.raises(ConfigError, match=message) as caught:
            PostgresIndex.create(SPEC, dsn)
        assert "s3cret" not in str(caught.value)
    with pytest.raises(ConfigError, match="malformed"):
        create_index(SPEC, "postgresql://me@127.0.0.1:99999/db")
    # well-formed but wrong: the message carries the server's reason
    wrong_db = running.dsn.rsplit("/", 1)[0] + "/nosuchdb"
    with pytest.raises(BackendUnavailable, match='database "nosuchdb" does not exist'):
        PostgresIndex.open(wrong_db, connection=FAST_FAIL)


def test_missing_vector_extension_says_what_to_run(running):
    with psycopg.connect(running.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS noext")
        conn.execute("DROP ROLE IF EXISTS app")
        conn.execute("CREATE ROLE app LOGIN")
        conn.execute("CREATE DATABASE noext OWNER app")  # a plain user may not create pgvector
    dsn = running.dsn.replace("postgres@", "app@").rsplit("/", 1)[0] + "/noext"
    with pytest.raises(ConfigError, match="CREATE EXTENSION vector;") as caught:
        PostgresIndex.create(SPEC, dsn, connection=FAST_FAIL)
    assert "permission denied" in str(caught.value).lower()
    with psycopg.connect(dsn.replace("app@", "postgres@"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION vector")  # what the message says to do ...
    with PostgresIndex.create(SPEC, dsn, connection=FAST_FAIL) as index:  # ... and then it works
        assert len(index) == 0


def test_replica_serves_the_same_results_and_fails_over(running):
    rng = np.random.default_rng(2)
    table = unique_table()
    batch = make_batch(rng, 0, 400, DIM, TOK)
    queries = unit_vectors(rng, 5, DIM)
    replica = running.start_replica()
    try:
        with PostgresIndex.create(SPEC, running.dsn, table=table) as primary:
            primary.add(batch.documents, batch.vectors, batch.states, batch.spans)
            expected = primary.search(queries, 10, where={"parity": 1})
            expected_docs = primary.get(batch.ids[:5], with_states=True)
        wait_for_replay(running.dsn, replica.dsn)
        with PostgresIndex.open(replica.dsn, table=table) as on_replica:  # the replica alone, read-only
            assert on_replica.search(queries, 10, where={"parity": 1}) == expected
        index = PostgresIndex.open(running.dsn, table=table, replicas=[replica.dsn], connection=FAST_FAIL)
        assert index.search(queries, 10, where={"parity": 1}) == expected
        got = index.get(batch.ids[:5], with_states=True)
        for a, b in zip(got, expected_docs):
            np.testing.assert_array_equal(a.token_states, b.token_states)
        running.stop("fast")  # reads keep working from the replica; writes say the primary is down
        assert index.search(queries, 10, where={"parity": 1}) == expected
        with pytest.raises(BackendUnavailable, match="primary .* is unreachable"):
            index.delete(["d0"])
        running.start()
        replica.stop("immediate")  # a dead replica: reads fall back to the primary
        assert index.search(queries, 10, where={"parity": 1}) == expected
        index.close()
    finally:
        replica.remove()
