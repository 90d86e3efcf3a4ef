"""Connections for the PostgreSQL backend: DSN checks, pools, timeouts, retries, error mapping.

Writes go to the primary; reads may go to replicas (round robin) and fall back to the
primary. Obtaining a connection waits at most ``connect_timeout_s`` (the pool reconnects
with backoff meanwhile), then raises :class:`BackendUnavailable`: never a hang.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from verirank._optional import require
from verirank.errors import BackendUnavailable, ConfigError, IndexError_, VerirankError

log = logging.getLogger(__name__)

T = TypeVar("T")

REPLICA_COOLDOWN_S = 30.0  # reads skip a replica this long after it was unreachable
DSN_HINT = "expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME or 'host=... dbname=...'"


@dataclass(frozen=True)
class ConnectionOptions:
    """How the backend talks to PostgreSQL (one per index; identical for primary and replicas)."""

    pool_size: int = 4
    connect_timeout_s: float = 5.0  # max wait for a usable connection before BackendUnavailable
    statement_timeout_ms: int = 60_000  # server-side cap per statement (0: none)
    retries: int = 2  # extra attempts for a read whose connection broke mid-query
    backoff_s: float = 0.2  # first retry delay; doubles each attempt

    def __post_init__(self) -> None:
        if self.pool_size < 1:
            raise ConfigError(f"pool_size must be >= 1, got {self.pool_size}")
        if self.connect_timeout_s <= 0:
            raise ConfigError(f"connect_timeout_s must be > 0, got {self.connect_timeout_s}")
        if self.statement_timeout_ms < 0 or self.retries < 0 or self.backoff_s < 0:
            raise ConfigError("statement_timeout_ms, retries and backoff_s must be >= 0")


def parse_dsn(dsn: str) -> dict[str, str]:
    """Validate a libpq DSN (URI or key=value) without connecting; ConfigError if malformed."""
    psycopg = require("psycopg", extra="postgres")
    if not isinstance(dsn, str) or not dsn.strip():
        raise ConfigError(f"PostgreSQL DSN is empty; {DSN_HINT}")
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"malformed PostgreSQL DSN {redact(dsn)!r} ({first_line(exc)}); {DSN_HINT}") from exc
    for port in str(params.get("port", "")).split(","):
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ConfigError(f"malformed PostgreSQL DSN {redact(dsn)!r}: port {port!r} is not a number "
                              f"in 1..65535; {DSN_HINT}")
    return {k: str(v) for k, v in params.items()}


def redact(dsn: str) -> str:
    """The DSN with any password replaced by ``***`` (safe for messages and logs)."""
    dsn = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn)


def describe(dsn: str) -> str:
    """``user@host:port/dbname`` for messages."""
    try:
        p = parse_dsn(dsn)
    except ConfigError:
        return redact(dsn)
    return f"{p.get('user', '')}@{p.get('host', 'localhost')}:{p.get('port', '5432')}/{p.get('dbname', '')}"


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def translate(exc: Exception, endpoint: str, action: str, connect_error: str | None = None) -> VerirankError:
    """Map a psycopg / pool error to the verirank tree, saying what to do."""
    psycopg = require("psycopg", extra="postgres")
    pool = require("psycopg_pool", extra="postgres")
    if isinstance(exc, pool.PoolTimeout):
        why = f"last connection attempt: {connect_error}" if connect_error else "no connection within the timeout"
        return BackendUnavailable(
            f"PostgreSQL at {endpoint} is unreachable ({action}; {why}); check that the server is running "
            "and the DSN host/port/user/password are right, or raise connect_timeout_s"
        )
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return BackendUnavailable(
            f"PostgreSQL at {endpoint} cancelled a statement ({action}): {first_line(exc)}; "
            "raise statement_timeout_ms or make the batch smaller"
        )
    if isinstance(exc, psycopg.OperationalError):
        return BackendUnavailable(f"lost the connection to PostgreSQL at {endpoint} ({action}): {first_line(exc)}")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return ConfigError(f"PostgreSQL at {endpoint} refused {action}: {first_line(exc)}; "
                           "grant the DSN's user rights on the index tables or use another user")
    return IndexError_(f"PostgreSQL error at {endpoint} ({action}): {type(exc).__name__}: {first_line(exc)}")


class Endpoint:
    """One server (primary or replica) behind a small connection pool."""

    def __init__(self, dsn: str, options: ConnectionOptions, role: str) -> None:
        parse_dsn(dsn)
        psycopg_pool = require("psycopg_pool", extra="postgres")
        self.dsn = dsn
        self.name = f"{role} {describe(dsn)}"
        self.options = options
        self.down_until = 0.0  # monotonic time before which reads skip this endpoint
        kwargs: dict[str, Any] = {
            "connect_timeout": max(2, int(round(options.connect_timeout_s))),
            "application_name": "verirank",
        }
        if options.statement_timeout_ms:
            kwargs["options"] = f"-c statement_timeout={options.statement_timeout_ms}"
        self.last_connect_error: str | None = None  # why the pool's latest connection attempt failed
        self.pool = psycopg_pool.ConnectionPool(
            dsn, connection_class=_recording_connection_class(self), kwargs=kwargs, min_size=1, max_size=options.pool_size, open=False,
            timeout=options.connect_timeout_s, check=psycopg_pool.ConnectionPool.check_connection,
            reconnect_timeout=options.connect_timeout_s, name=self.name,  # then new demand retries at once
        )
        self.pool.open(wait=False)

    @contextmanager
    def connection(self, action: str) -> Iterator[Any]:
        """A pooled connection in a transaction (committed on success); errors translated."""
        psycopg = require("psycopg", extra="postgres")
        pool = require("psycopg_pool", extra="postgres")
        try:
            with self.pool.connection() as conn:
                with conn.transaction():
                    yield conn
        except (psycopg.Error, pool.PoolTimeout) as exc:
            raise translate(exc, self.name, action, self.last_connect_error) from exc

    def close(self) -> None:
        self.pool.close(timeout=1.0)


class Connections:
    """The primary (all writes) and optional read replicas of one index."""

    def __init__(self, dsn: str, replicas: Sequence[str] = (), options: ConnectionOptions | None = None) -> None:
        self.options = options or ConnectionOptions()
        if isinstance(replicas, str):
            raise ConfigError("replicas must be a list of DSNs, got a single string; wrap it in a list")
        for replica in replicas:
            parse_dsn(replica)
        self.primary = Endpoint(dsn, self.options, "primary")
        self.replicas = [Endpoint(r, self.options, "replica") for r in replicas]
        self._turn = 0

    def write(self, work: Callable[[Any], T], action: str) -> T:
        """Run ``work(conn)`` in one primary transaction: it commits entirely or not at all.

        A connection lost mid-transaction is not retried: the commit may have landed.
        """
        psycopg = require("psycopg", extra="postgres")
        try:
            with self.primary.connection(action) as conn:
                return work(conn)
        except BackendUnavailable as exc:
            if _connection_lost(exc.__cause__, psycopg):
                raise BackendUnavailable(
                    f"{exc}; the {action} was applied entirely or not at all: check with get() or `in`, "
                    "or repeat it with overwrite=True once the server is back"
                ) from exc.__cause__
            raise

    def read(self, work: Callable[[Any], T], action: str, *, primary_only: bool = False) -> T:
        """Run read-only ``work(conn)`` on a replica (round robin), falling back to the primary.

        A connection broken mid-query is retried with exponential backoff; an unreachable
        replica is skipped for ``REPLICA_COOLDOWN_S``; an unreachable primary raises at once
        (its pool already waited ``connect_timeout_s`` while reconnecting).
        """
        psycopg = require("psycopg", extra="postgres")
        pool = require("psycopg_pool", extra="postgres")
        delay = self.options.backoff_s
        for attempt in range(self.options.retries + 1):
            endpoints = self._read_order(primary_only)
            for position, endpoint in enumerate(endpoints, start=1):
                try:
                    with endpoint.connection(action) as conn:
                        return work(conn)
                except BackendUnavailable as exc:
                    cause, last = exc.__cause__, position == len(endpoints)
                    if isinstance(cause, pool.PoolTimeout):
                        endpoint.down_until = time.monotonic() + REPLICA_COOLDOWN_S
                        if last:
                            raise
                    elif not (_connection_lost(cause, psycopg) or _recovery_conflict(cause)):
                        raise  # e.g. a statement timeout: retrying would time out again
                    elif last and attempt == self.options.retries:
                        raise
                    log.warning("read from %s failed (attempt %d), trying again: %s", endpoint.name, attempt + 1, exc)
            time.sleep(delay)
            delay *= 2
        raise BackendUnavailable(f"{action} failed after {self.options.retries + 1} attempts")  # not reached

    def _read_order(self, primary_only: bool) -> list[Endpoint]:
        if primary_only or not self.replicas:
            return [self.primary]
        self._turn = (self._turn + 1) % len(self.replicas)
        rotated = self.replicas[self._turn:] + self.replicas[:self._turn]
        now = time.monotonic()
        return [r for r in rotated if r.down_until <= now] + [self.primary]

    def close(self) -> None:
        for endpoint in [self.primary, *self.replicas]:
            endpoint.close()


def _recording_connection_class(endpoint: Endpoint) -> type:
    """A psycopg Connection that notes on ``endpoint`` why connecting failed (the pool only logs it)."""
    psycopg = require("psycopg", extra="postgres")

    class RecordingConnection(psycopg.Connection):  # type: ignore[misc, name-defined]
        @classmethod
        def connect(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                conn = super().connect(*args, **kwargs)
            except psycopg.OperationalError as exc:
                endpoint.last_connect_error = first_line(exc).removeprefix("connection failed: ")
                raise
            endpoint.last_connect_error = None
            return conn

    return RecordingConnection


def _connection_lost(exc: BaseException | None, psycopg: Any) -> bool:
    """The server went away mid-operation (not a timeout, not a pool wait)."""
    pool = require("psycopg_pool", extra="postgres")
    return (isinstance(exc, psycopg.OperationalError)
            and not isinstance(exc, (psycopg.errors.QueryCanceled, pool.PoolTimeout)))


def _recovery_conflict(exc: BaseException | None) -> bool:
    """A replica cancelled the query to replay WAL (worth retrying elsewhere)."""
    return exc is not None and "conflict with recovery" in str(exc)
