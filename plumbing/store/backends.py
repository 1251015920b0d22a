"""Where a store lives: a SQLite file (the default) or a PostgreSQL database, chosen by location.

A location is a path (SQLite, through sqlite-utils) or a `postgresql://` URL (psycopg 3 with its
connection pool; the optional `postgres` extra, imported only when such a store is opened). Both
give the store the same things: a read connection, a write transaction that is durable once it
returns (what the collector acknowledges after), the schema brought up to date on open.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from plumbing.sql_dialect import POSTGRES, SQLITE, Dialect, SqlConnection
from plumbing.store.rows import StoreError
from plumbing.store.schema import (
    SCHEMA_VERSION,
    TABLES,
    backfill_named_events,
    migrate,
    needs_named_events,
    postgres_tables,
)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
MIGRATION_LOCK = 0x5E55_1047  # the advisory lock every process opening a PostgreSQL store takes
SESSION_LOCK_SPACE = 0x5E55  # per-session advisory locks: hashtextextended(session id, this)
PRUNE_LOCK = 0x5E55_0B10  # chunk writes hold it shared, `prune`'s blob sweep exclusively
POOL_SIZE = int(os.environ.get("SESSIONHEAT_DB_POOL", "8"))


def is_postgres(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


class Backend(Protocol):
    @property
    def dialect(self) -> Dialect: ...
    @property
    def location(self) -> str: ...
    @property
    def local_path(self) -> Path: ...

    def read(self) -> AbstractContextManager[SqlConnection]: ...
    def write(self) -> AbstractContextManager[SqlConnection]: ...
    def lock_sessions(self, conn: SqlConnection, session_ids: list[str]) -> None: ...
    def lock_for_prune(self, conn: SqlConnection) -> None: ...
    def count_rows(self, sql: str, params: list[Any], budget_ms: float | None) -> tuple[int, bool]: ...
    def change_marker(self) -> tuple[int, int]: ...
    def set_wal_autocheckpoint(self, pages: int) -> None: ...
    def close(self) -> None: ...


def open_backend(location: str | Path) -> Backend:
    """The backend for a location: a `postgresql://` URL, else a SQLite file's path."""
    if is_postgres(location):
        return PostgresBackend(str(location))
    return SqliteBackend(Path(location))


class SqliteBackend:
    """One SQLite connection, shared by the threads of a process under a lock; WAL, synchronous=FULL."""

    dialect = SQLITE

    def __init__(self, path: Path):
        self.local_path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        self.lock = threading.RLock()
        self.conn = SqlConnection(raw, SQLITE)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")  # an acknowledged chunk survives a power cut
        raw.execute("PRAGMA foreign_keys=ON")
        migrate(raw)
        before_named_events = needs_named_events(raw)
        raw.executescript(TABLES)
        if before_named_events:
            backfill_named_events(self.conn)
        raw.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @property
    def location(self) -> str:
        return str(self.local_path.resolve())

    @functools.cached_property
    def db(self) -> Any:
        """sqlite-utils' view of the file, made when first asked for: importing sqlite-utils
        costs ~0.2 s (it brings numpy when installed), which every `pytest --sessionheat` run
        and CLI command would otherwise pay for nothing."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn.raw)

    @contextmanager
    def read(self) -> Iterator[SqlConnection]:
        with self.lock:
            yield self.conn

    @contextmanager
    def write(self) -> Iterator[SqlConnection]:
        """BEGIN IMMEDIATE: concurrent writers queue instead of failing, one at a time."""
        raw = self.conn.raw
        with self.lock:
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")

    def lock_sessions(self, conn: SqlConnection, session_ids: list[str]) -> None:
        """Nothing to do: BEGIN IMMEDIATE already lets one writer in at a time."""

    def lock_for_prune(self, conn: SqlConnection) -> None:
        """Nothing to do, as above."""

    def count_rows(self, sql: str, params: list[Any], budget_ms: float | None) -> tuple[int, bool]:
        """How many rows `sql` yields, stopped after `budget_ms`: (n, whether it ran to the end)."""
        deadline = None if budget_ms is None else time.perf_counter() + budget_ms / 1000
        n = 0
        with self.lock:
            raw = self.conn.raw
            if deadline is not None:
                raw.set_progress_handler(lambda: int(time.perf_counter() > deadline), 2000)
            try:
                for _ in raw.execute(sql, params):
                    n += 1
            except sqlite3.OperationalError as exc:
                if "interrupt" not in str(exc):
                    raise
                return n, False
            finally:
                raw.set_progress_handler(None, 0)
        return n, True

    def change_marker(self) -> tuple[int, int]:
        with self.lock:
            raw = self.conn.raw
            return int(raw.execute("PRAGMA data_version").fetchone()[0]), int(raw.total_changes)

    def set_wal_autocheckpoint(self, pages: int) -> None:
        with self.lock:
            self.conn.raw.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

    def close(self) -> None:
        with self.lock:
            self.conn.raw.close()


def postgres_local_path(url: str) -> Path:
    """Where what a SQLite store keeps beside its file (the web UI's heatmap cache, `<db>.maps/`) goes
    for a PostgreSQL store: `$SESSIONHEAT_CACHE`, else `$XDG_CACHE_HOME/sessionheat`
    (`~/.cache/sessionheat`), as `<host>-<port>-<database>.pg.maps/`. Local to each machine, and
    only a cache. (Replay assets are in the store itself: plumbing/store/replay_assets.py.)"""
    parts = urlsplit(url)
    base = os.environ.get("SESSIONHEAT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sessionheat")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{parts.hostname or 'local'}-{parts.port or 5432}-"
                                              f"{parts.path.lstrip('/') or 'postgres'}")
    return Path(base) / f"{name}.pg"


class PostgresBackend:
    """A psycopg connection pool; each write is one transaction, committed before it returns."""

    dialect = POSTGRES

    def __init__(self, url: str):
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise StoreError("a postgresql:// store needs psycopg and psycopg_pool: "
                             "pip install 'sessionheat[postgres]'") from None
        self._psycopg = psycopg
        self.url = url
        self.local_path = postgres_local_path(url)
        pool = None
        try:
            pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True},
                                  open=True, timeout=30, name="sessionheat")
            pool.wait(timeout=30)
            with pool.connection() as raw:
                raw.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))  # one migrator at a time
                try:
                    raw.execute(postgres_tables())
                finally:
                    raw.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        except Exception as exc:  # a bad URL, a server that is not there, no right to create tables
            if pool is not None:  # its threads would go on reconnecting for the life of the process
                pool.close()
            raise StoreError(f"cannot open the PostgreSQL store: {str(exc).strip() or type(exc).__name__}") from None
        self.pool = pool

    @property
    def location(self) -> str:
        return self.url

    @contextmanager
    def read(self) -> Iterator[SqlConnection]:
        with self.pool.connection() as raw:
            yield SqlConnection(raw, POSTGRES)

    @contextmanager
    def write(self) -> Iterator[SqlConnection]:
        with self.pool.connection() as raw, raw.transaction():
            yield SqlConnection(raw, POSTGRES)

    def lock_sessions(self, conn: SqlConnection, session_ids: list[str]) -> None:
        """Hold these sessions until the transaction ends, always in the same order (no deadlock):
        two collectors folding chunks of one session must not both read, then write, its row. The
        prune lock, shared, first: a blob sweep never runs while a chunk that may reference a blob
        it is about to remove is uncommitted."""
        ids = sorted(set(session_ids))
        # One statement: its select list is evaluated left to right, so the order holds, and a
        # batch of chunks pays one round trip instead of one per session.
        locks = ", ".join(["pg_advisory_xact_lock_shared(?)",
                           *["pg_advisory_xact_lock(hashtextextended(?, ?))"] * len(ids)])
        conn.run(f"SELECT {locks}",
                 (PRUNE_LOCK, *[value for session_id in ids for value in (session_id, SESSION_LOCK_SPACE)]))

    def lock_for_prune(self, conn: SqlConnection) -> None:
        """Wait for the chunk writes in flight, and hold new ones until this transaction ends."""
        conn.execute("SELECT pg_advisory_xact_lock(?)", (PRUNE_LOCK,))

    def count_rows(self, sql: str, params: list[Any], budget_ms: float | None) -> tuple[int, bool]:
        """Rows counted as they stream from a server-side cursor, so a count stopped by the budget
        (the statement timeout, or the clock between fetches) still says how many it saw."""
        deadline = None if budget_ms is None else time.perf_counter() + budget_ms / 1000
        n = 0
        with self.pool.connection() as raw:
            try:
                with raw.transaction():
                    if budget_ms is not None:
                        raw.execute(f"SET LOCAL statement_timeout = {max(1, int(budget_ms))}")
                    with raw.cursor(name="sessionheat_count") as cursor:
                        cursor.execute(POSTGRES.sql(sql), POSTGRES.params(params))
                        while len(rows := cursor.fetchmany(2000)) == 2000:
                            n += len(rows)
                            if deadline is not None and time.perf_counter() > deadline:
                                return n, False
                        n += len(rows)
                return n, True
            except self._psycopg.errors.QueryCanceled:
                return n, False

    def change_marker(self) -> tuple[int, int]:
        """The WAL position: it moves with every write to the server (a few more than ours: harmless)."""
        with self.read() as conn:
            high, low = str(conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]).split("/")
        return int(high, 16), int(low, 16)

    def set_wal_autocheckpoint(self, pages: int) -> None:
        """SQLite's concern only: the server checkpoints on its own."""

    def close(self) -> None:
        self.pool.close()
