"""Moving house: copying a whole store into another (a SQLite file into PostgreSQL, typically).

Chunks travel as stored (the same compressed bytes), blobs by hash, everything else row by row.
Copying again is safe: the rows of each session are replaced whole, and shared rows (sites, users,
blobs...) already there are kept. A session the target holds chunks of that the source lacks
(collectors already writing there, the usual cutover) is left as the target has it and reported:
replacing it would delete acknowledged chunks. The check reads every session back from both stores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from plumbing.sql_dialect import SqlConnection
from plumbing.store.connection import StoreConnection
from plumbing.store.formats import _json, _properties
from plumbing.store.reading import EventReading
from plumbing.store.schema import SESSION_TABLES

# Shared rows, in the order foreign keys need them; each is kept when the target has it already.
SHARED_TABLES = ("sites", "goals", "users", "api_tokens", "logins", "settings", "assets", "asset_urls")
SESSION_BATCH = 200
NAMED_TABLES = ("sites", "users", "settings")  # keyed by `name`, first column: checked for conflicts


@dataclass
class CopyReport:
    """What `copy_store` copied, and what its check found."""

    sessions: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows in the target afterwards
    blobs: int = 0
    mismatched: list[str] = field(default_factory=list)  # tables whose counts differ, sessions whose export does
    kept: list[str] = field(default_factory=list)  # sessions left as the target had them (it has more)

    @property
    def ok(self) -> bool:
        return not self.mismatched


def copy_store(source: EventReading, target: EventReading, *, check: bool = True,
               progress: Callable[[str, int, int], None] | None = None) -> CopyReport:
    """Copy every row of `source` into `target` (two `SessionStore`s), then, with `check`,
    compare the row counts of every table and `export_events` of every session, byte for byte.
    `progress(stage, done, total)` is told as it goes."""
    report = CopyReport()
    with source._read() as src, target._write() as dst:
        for table in SHARED_TABLES:
            _copy_rows(src, dst, table, f"SELECT * FROM {_quoted(table)}", [], keep_existing=True)
    ids = [r[0] for r in _all(source, "SELECT id FROM sessions ORDER BY id")]
    for start in range(0, len(ids), SESSION_BATCH):
        batch = ids[start:start + SESSION_BATCH]
        marks = ", ".join("?" * len(batch))
        with source._read() as src, target._write() as dst:
            target._backend.lock_sessions(dst, batch)  # no collector folds into them meanwhile
            newer = _sessions_with_more(src, dst, batch, marks)
            if newer:
                report.kept += newer
                batch = [session_id for session_id in batch if session_id not in newer]
                marks = ", ".join("?" * len(batch))
            if not batch:
                continue
            for table in SESSION_TABLES:  # the batch's rows go, then come again: a second copy is the same
                dst.execute(f"DELETE FROM {_quoted(table)} WHERE session_id IN ({marks})", batch)
            dst.execute(f"DELETE FROM sessions WHERE id IN ({marks})", batch)
            _copy_rows(src, dst, "sessions", f"SELECT * FROM sessions WHERE id IN ({marks})", batch)
            for table in SESSION_TABLES:
                _copy_rows(src, dst, table, f"SELECT * FROM {_quoted(table)} WHERE session_id IN ({marks})",
                           batch)
        if progress:
            progress("sessions", min(start + SESSION_BATCH, len(ids)), len(ids))
    hashes = [r[0] for r in _all(source, "SELECT hash FROM blobs ORDER BY hash")]
    for start in range(0, len(hashes), SESSION_BATCH):
        batch = hashes[start:start + SESSION_BATCH]
        marks = ", ".join("?" * len(batch))
        with source._read() as src, target._write() as dst:
            _copy_rows(src, dst, "blobs", f"SELECT * FROM blobs WHERE hash IN ({marks})", batch,
                       keep_existing=True)
        if progress:
            progress("blobs", start + len(batch), len(hashes))
    report.sessions, report.blobs = len(ids), len(hashes)
    for table in ("sessions", "blobs", *SHARED_TABLES, *SESSION_TABLES):
        report.rows[table] = _count(target, table)
        if check:  # (the target counted again only when some of its sessions were kept as they were)
            in_target = _count(target, table, report.kept) if report.kept else report.rows[table]
            if _count(source, table, report.kept) > in_target:
                report.mismatched.append(f"table {table}")
    if check:
        report.mismatched += _differing_named_rows(source, target)
        kept = set(report.kept)
        for done, session_id in enumerate(ids, 1):
            if session_id in kept:
                continue
            if source.export_events(session_id) != target.export_events(session_id):
                report.mismatched.append(f"session {session_id}")
            if progress:
                progress("check", done, len(ids))
    return report


def _copy_rows(src: SqlConnection, dst: SqlConnection, table: str, select: str, params: list[Any],
               keep_existing: bool = False) -> None:
    cur = src.execute(select, params)
    names = [d[0] for d in cur.description]
    rows = [_row(names, row) for row in cur.fetchall()]
    if not rows:
        return
    verb = "INSERT OR IGNORE INTO" if keep_existing else "INSERT INTO"
    dst.executemany(f"{verb} {_quoted(table)} ({', '.join(map(_quoted, names))})"
                    f" VALUES ({', '.join('?' * len(names))})", rows)


def _row(names: list[str], row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row as the target takes it: properties as a JSON object's text (a damaged value, which
    PostgreSQL's JSONB would refuse, as none), bytes as bytes."""
    return tuple(_json(_properties(v)) if n == "properties" else bytes(v) if isinstance(v, memoryview) else v
                 for n, v in zip(names, row))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _all(store: StoreConnection, sql: str) -> list[tuple[Any, ...]]:
    with store._read() as conn:
        return list(conn.execute(sql).fetchall())


def _differing_named_rows(source: StoreConnection, target: StoreConnection) -> list[str]:
    """Sites, users and settings the target already had under a source's name, with other values
    (a site's key, say: the snippets that send the source's key would be refused after the move).
    The target's rows were kept; they are reported, not overwritten."""
    found = []
    for table in NAMED_TABLES:
        sql = f"SELECT * FROM {_quoted(table)} ORDER BY name"
        with source._read() as src:
            cur = src.execute(sql)
            names = [d[0] for d in cur.description]
            mine = {row[0]: _row(names, row) for row in cur.fetchall()}
        with target._read() as dst:
            theirs = {row[0]: _row(names, row) for row in dst.execute(sql).fetchall()}
        found += [f"{table} {name!r} differs in the target (its row was kept)"
                  for name, row in mine.items() if name in theirs and _comparable(theirs[name]) != _comparable(row)]
    return found


def _comparable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Values as both backends give them back (JSON text read as JSON, times as text)."""
    return tuple(str(v) if v is not None and not isinstance(v, (int, float, bytes)) else v for v in row)


def _sessions_with_more(src: SqlConnection, dst: SqlConnection, batch: list[str], marks: str) -> list[str]:
    """The batch's sessions of which the target holds a chunk the source does not."""
    sql = f"SELECT session_id, seq FROM chunks WHERE session_id IN ({marks})"
    have = set(map(tuple, src.execute(sql, batch).fetchall()))
    return sorted({row[0] for row in dst.execute(sql, batch).fetchall() if tuple(row) not in have})


def _count(store: StoreConnection, table: str, leaving_out: list[str] | None = None) -> int:
    """Rows of `table`, leaving out those of the sessions `leaving_out` (tables keyed by session)."""
    sql, params = f"SELECT COUNT(*) FROM {_quoted(table)}", []
    if leaving_out and table not in (*SHARED_TABLES, "blobs"):
        params = list(leaving_out)
        sql += f" WHERE {'id' if table == 'sessions' else 'session_id'} NOT IN ({', '.join('?' * len(params))})"
    with store._read() as conn:
        return int(conn.execute(sql, params).fetchone()[0])
