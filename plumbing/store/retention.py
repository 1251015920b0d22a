"""Retention: removing old sessions with everything derived from them, and the blobs left unused."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from plumbing.sql_dialect import SqlConnection
from plumbing.store.codec import BLOB_REF, CODEC_BLOBS
from plumbing.store.connection import StoreConnection
from plumbing.store.formats import _iso
from plumbing.store.schema import SESSION_TABLES

# A blob reference in a chunk's decompressed JSON (see codec._BLOB_REF_TEXT). Read without parsing
# the events: an escaped literal that only looks like a reference keeps its blob, never loses one.
_REFERENCE = re.compile(rb'"' + re.escape(BLOB_REF.encode()) + rb'"\s*:\s*"([0-9a-f]{64})"')


@dataclass
class PruneReport:
    """What `prune` removed (or, with dry_run, would remove): rows per table, and blobs."""

    sessions: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows keyed by those sessions
    blobs: int = 0
    blob_bytes: int = 0  # compressed bytes of those blobs
    asset_urls: int = 0  # replay assets of sites no session is left of (plumbing/store/replay_assets.py)
    assets: int = 0  # asset bodies no URL is left for
    dry_run: bool = False


class Retention(StoreConnection):
    """`prune`: the store's retention, on either backend."""

    def prune(self, older_than_ms: int, *, site: str | None = None, dry_run: bool = False) -> PruneReport:
        """Remove the sessions whose last event is before `older_than_ms` (epoch ms; a session
        that sent no event, by when it was created), only `site`'s if given, with every row keyed
        by them (chunks, pageviews, hits, named events, index marks, masked fields), then the blobs
        no chunk left references. One transaction: all of it or, on an error, none. `dry_run`
        counts what would go and changes nothing."""
        where = "((last_ts IS NOT NULL AND last_ts < ?) OR (last_ts IS NULL AND created_at < ?))"
        params: list[object] = [int(older_than_ms), _iso(older_than_ms)]
        if site is not None:
            where += " AND site = ?"
            params.append(site)
        doomed = f"SELECT id FROM sessions WHERE {where}"
        report = PruneReport(dry_run=dry_run)
        with self._read() if dry_run else self._write() as conn:
            if not dry_run:  # a count holds up no collector (the sweep does: see lock_for_prune)
                self._backend.lock_for_prune(conn)
            for table in SESSION_TABLES:
                verb = "SELECT COUNT(*) FROM" if dry_run else "DELETE FROM"
                cur = conn.execute(f'{verb} "{table}" WHERE session_id IN ({doomed})', params)
                report.rows[table] = int(cur.fetchone()[0]) if dry_run else int(cur.rowcount)
            if dry_run:
                report.sessions = int(conn.execute(f"SELECT COUNT(*) FROM sessions WHERE {where}",
                                                   params).fetchone()[0])
            else:
                report.sessions = int(conn.execute(f"DELETE FROM sessions WHERE {where}", params).rowcount)
            unused = _unused_blobs(conn, deleted_sessions=(doomed, params) if dry_run else None)
            report.blobs = len(unused)
            for start in range(0, len(unused), 500):
                batch = unused[start:start + 500]
                marks = ", ".join("?" * len(batch))
                report.blob_bytes += int(conn.execute(
                    f"SELECT COALESCE(SUM(length(data)), 0) FROM blobs WHERE hash IN ({marks})",
                    batch).fetchone()[0])
                if not dry_run:
                    conn.execute(f"DELETE FROM blobs WHERE hash IN ({marks})", batch)
            _prune_assets(conn, report, (where, params) if dry_run else None)
        return report


def _prune_assets(conn: SqlConnection, report: PruneReport, deleted: tuple[str, list[object]] | None) -> None:
    """The replay assets of sites that have no session left, then the bodies no URL is left for
    (for a dry run, counted as if `deleted`'s sessions were gone)."""
    left = "SELECT DISTINCT site FROM sessions" + (f" WHERE NOT ({deleted[0]})" if deleted else "")
    params = deleted[1] if deleted else []
    orphan_urls = f"FROM asset_urls WHERE site NOT IN ({left})"
    orphan_assets = f"FROM assets WHERE hash NOT IN (SELECT hash FROM asset_urls WHERE site IN ({left}))"
    if deleted:
        report.asset_urls = int(conn.execute(f"SELECT COUNT(*) {orphan_urls}", params).fetchone()[0])
        report.assets = int(conn.execute(f"SELECT COUNT(*) {orphan_assets}", params).fetchone()[0])
        return
    report.asset_urls = int(conn.execute(f"DELETE {orphan_urls}").rowcount)
    report.assets = int(conn.execute("DELETE FROM assets WHERE hash NOT IN (SELECT hash FROM asset_urls)").rowcount)


def _unused_blobs(conn: SqlConnection, deleted_sessions: tuple[str, list[object]] | None) -> list[str]:
    """Hashes of the blobs no chunk references (leaving out, for a dry run, the chunks of the
    sessions that would be deleted): every chunk that may hold a reference is read, decompressed."""
    sql = "SELECT data FROM chunks WHERE codec = ?"
    params: list[object] = [CODEC_BLOBS]
    if deleted_sessions is not None:
        sql += f" AND session_id NOT IN ({deleted_sessions[0]})"
        params += deleted_sessions[1]
    used: set[str] = set()
    for (data,) in conn.execute(sql, params):
        try:
            used.update(m.decode("ascii") for m in _REFERENCE.findall(zlib.decompress(data)))
        except zlib.error:  # a damaged chunk: it references nothing anyone can read
            continue
    return sorted(h for (h,) in conn.execute("SELECT hash FROM blobs").fetchall() if h not in used)
