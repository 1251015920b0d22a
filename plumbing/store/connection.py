"""One store connection: opening (with migrations), transactions, blob lookups, on either backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from plumbing.sql_dialect import SqlConnection
from plumbing.store.backends import Backend, SqliteBackend, open_backend
from plumbing.store.schema import blob_text


class StoreConnection:
    """A store of recorded sessions. Safe to share between threads of one process.

    `location`: a path (a SQLite file, the default) or a `postgresql://` URL. `path` is the SQLite
    file, or for PostgreSQL a local stand-in (see backends.postgres_local_path) beside which the
    heatmap cache a SQLite store keeps beside its file goes (`<path>.maps/`).
    """

    def __init__(self, location: str | Path):
        self._backend: Backend = open_backend(location)
        self.dialect = self._backend.dialect
        self.path = self._backend.local_path
        self._url_shares: dict[str, tuple[float, float]] = {}  # see _url_share

    @property
    def db(self) -> Any:
        """sqlite-utils' Database on a SQLite store's file, for tests and tools that look inside."""
        if not isinstance(self._backend, SqliteBackend):
            raise AttributeError("a PostgreSQL store has no sqlite-utils view (store.db)")
        return self._backend.db

    @contextmanager
    def _read(self) -> Iterator[SqlConnection]:
        with self._backend.read() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[SqlConnection]:
        """One write transaction, committed (durable) when the block ends."""
        with self._backend.write() as conn:
            yield conn

    @property
    def location(self) -> str:
        """What another process opens this same store from (`SessionStore(location)`): the
        resolved path of a SQLite file, or the PostgreSQL URL."""
        return self._backend.location

    @property
    def backend_name(self) -> str:
        """sqlite or postgresql."""
        return self.dialect.name

    def has_session(self, session_id: str) -> bool:
        with self._read() as conn:
            return conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is not None

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _blob(self, digest: str) -> str:
        with self._read() as conn:
            return blob_text(conn, digest)

    def set_wal_autocheckpoint(self, pages: int) -> None:
        """How many WAL pages a commit may leave before it checkpoints itself (0: never; SQLite's
        default is 1000). The collector sets 0 and checkpoints from another connection, so no
        acknowledgement waits for a checkpoint's fsyncs. Nothing to do on PostgreSQL."""
        self._backend.set_wal_autocheckpoint(pages)

    def change_marker(self) -> tuple[int, int]:
        """A value that differs whenever anything in the store changed since it was last taken:
        writes through this store or any other connection (SQLite: `data_version` and total
        changes; PostgreSQL: the WAL position). Lets a reader keep what it derived until the data
        moves, without re-reading it."""
        return self._backend.change_marker()
