"""One store connection: opening (with migrations), write transactions, blob lookups."""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import sqlite_utils

from plumbing.store.schema import SCHEMA_VERSION, TABLES, backfill_named_events, migrate, needs_named_events


class StoreConnection:
    """A SQLite file of recorded sessions. Safe to share between threads of one process."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False,
                               isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self._url_shares: dict[str, tuple[float, float]] = {}  # see _url_share
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # an acknowledged chunk survives a power cut
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
        before_named_events = needs_named_events(conn)
        conn.executescript(TABLES)
        if before_named_events:
            backfill_named_events(conn, self._blob)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE so concurrent writers queue instead of failing."""
        conn = self.db.conn
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def has_session(self, session_id: str) -> bool:
        with self._lock:
            return self.db.conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is not None

    @property
    def location(self) -> str:
        """What another process opens this same store from (`SessionStore(location)`)."""
        return str(self.path.resolve())

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _blob(self, digest: str) -> str:
        row = self.db.conn.execute("SELECT data FROM blobs WHERE hash = ?", (digest,)).fetchone()
        if row is None:
            raise ValueError(f"blob {digest[:12]}… is missing")
        return zlib.decompress(row[0]).decode("utf-8")

    def set_wal_autocheckpoint(self, pages: int) -> None:
        """How many WAL pages a commit may leave before it checkpoints itself (0: never; SQLite's
        default is 1000). The collector sets 0 and checkpoints from another connection, so no
        acknowledgement waits for a checkpoint's fsyncs."""
        with self._lock:
            self.db.conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

    def change_marker(self) -> tuple[int, int]:
        """A value that differs whenever anything in the store changed since it was last taken:
        writes through this store (total changes) or any other connection (`data_version`).
        Lets a reader keep what it derived until the data moves, without re-reading it."""
        with self._lock:
            conn = self.db.conn
            return int(conn.execute("PRAGMA data_version").fetchone()[0]), int(conn.total_changes)
