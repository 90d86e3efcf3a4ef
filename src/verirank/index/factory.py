"""Pick an index backend by explicit name (or a ``postgresql://`` DSN), create or open it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verirank.errors import ConfigError
from verirank.index.base import IndexSpec, VectorIndex
from verirank.index.embedded import EmbeddedIndex

BACKENDS = ("embedded", "postgres")


def backend_for(location: str | Path | None, backend: str | None = None) -> str:
    if backend is not None:
        if backend not in BACKENDS:
            raise ConfigError(f"unknown index backend {backend!r}; choose one of {BACKENDS}")
        return backend
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        return "postgres"
    return "embedded"


def index_exists(location: str | Path | None, backend: str | None = None, **options: Any) -> bool:
    """Whether an index is at ``location`` (for PostgreSQL: in ``options["table"]``, if given)."""
    if location is None:
        return False
    if backend_for(location, backend) == "embedded":
        return (Path(location) / "manifest.json").exists()
    from verirank.index.postgres import PostgresIndex

    table = options.get("table")
    return PostgresIndex.exists(str(location)) if table is None else PostgresIndex.exists(str(location), table=table)


def open_index(location: str | Path, backend: str | None = None, **options: Any) -> VectorIndex:
    if backend_for(location, backend) == "embedded":
        return EmbeddedIndex.open(location, **options)
    from verirank.index.postgres import PostgresIndex

    return PostgresIndex.open(str(location), **options)


def create_index(spec: IndexSpec, location: str | Path | None, backend: str | None = None, **options: Any) -> VectorIndex:
    if backend_for(location, backend) == "embedded":
        return EmbeddedIndex.create(spec, location, **options)
    from verirank.index.postgres import PostgresIndex

    return PostgresIndex.create(spec, str(location), **options)
