"""Hits: what indexing derives from sessions, and the pageview segments heatmaps are drawn from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from plumbing.conversions import (
    Goal,
)
from plumbing.page_paths import page_path
from plumbing.store.connection import StoreConnection
from plumbing.store.filters import SessionFilter, filter_terms
from plumbing.store.formats import (
    _now_iso,
    _properties,
)
from plumbing.store.schema import HIT_COLUMNS, INDEXED_UPSERT


class HitQueries(StoreConnection):
    """Hits in (replaced whole per session) and out (by pageview, element, segment)."""

    HIT_COLUMNS = HIT_COLUMNS  # what callers read as SessionStore.HIT_COLUMNS

    def replace_hits(self, session_id: str, hits: Iterable[dict[str, Any]], *, n_events: int,
                     problem: str | None = None) -> int:
        """Swap a session's hits for freshly resolved ones, in one transaction."""
        cols = self.HIT_COLUMNS
        flags = ("interactive", "rage", "dead")
        rows = [tuple(session_id if c == "session_id" else int(bool(h.get(c))) if c in flags else h.get(c)
                      for c in cols) for h in hits]
        with self._write() as conn:
            # Two index runs of one session at once (two UIs, a Dask task redone while its first
            # worker still runs): on PostgreSQL each DELETE would miss the other's rows, and both
            # inserts stay. The session's lock makes them take turns (SQLite's writer already does).
            self._backend.lock_sessions(conn, [session_id])
            conn.execute("DELETE FROM hits WHERE session_id = ?", (session_id,))
            conn.executemany(
                f"INSERT INTO hits ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
            conn.execute(
                "INSERT INTO indexed (session_id, n_events, indexed_at, problem) VALUES (?, ?, ?, ?)"
                + INDEXED_UPSERT, (session_id, n_events, _now_iso(), problem))
        return len(rows)

    def sessions_to_index(self, *, rebuild: bool = False) -> list[str]:
        """Sessions never indexed, or that received events since (oldest first)."""
        if rebuild:
            sql = "SELECT id FROM sessions WHERE n_events > 0 ORDER BY first_ts"
        else:
            sql = ("SELECT s.id FROM sessions s LEFT JOIN indexed i ON i.session_id = s.id"
                   " WHERE s.n_events > 0 AND (i.n_events IS NULL OR i.n_events < s.n_events)"
                   " ORDER BY s.first_ts")
        with self._read() as conn:
            return [r[0] for r in conn.execute(sql)]

    def hits(self, pageviews: Iterable[tuple[str, int]], kinds: Iterable[str] | None = None
             ) -> list[dict[str, Any]]:
        """Hits of the given (session_id, pageview index) pairs, in time order."""
        pairs = list(pageviews)
        if not pairs:
            return []
        kind_list = list(kinds) if kinds is not None else None
        out: list[dict[str, Any]] = []
        with self._read() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (session_id TEXT, pageview INT)")
            conn.execute("DELETE FROM wanted")
            conn.executemany("INSERT INTO wanted VALUES (?, ?)", pairs)
            sql = ("SELECT h.* FROM hits h JOIN wanted w ON w.session_id = h.session_id"
                   " AND w.pageview = h.pageview")
            params: list[Any] = []
            if kind_list is not None:
                sql += f" WHERE h.kind IN ({', '.join('?' * len(kind_list))})"
                params = kind_list
            cur = conn.execute(sql + " ORDER BY h.session_id, h.t", params)
            names = [d[0] for d in cur.description]
            out = [dict(zip(names, row)) for row in cur]
        return out

    def hit_key_contexts(self, pageviews: Iterable[tuple[str, int]]) -> list[str]:
        """The distinct `key_context` values (JSON, see heatmap/keys.py) of these (session_id,
        pageview) pairs' hits: what a map weighs whether an id is stable on."""
        pairs = list(pageviews)
        if not pairs:
            return []
        with self._read() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (session_id TEXT, pageview INT)")
            conn.execute("DELETE FROM wanted")
            conn.executemany("INSERT INTO wanted VALUES (?, ?)", pairs)
            return [r[0] for r in conn.execute(
                "SELECT DISTINCT h.key_context FROM hits h JOIN wanted w ON w.session_id = h.session_id"
                " AND w.pageview = h.pageview WHERE h.key_context IS NOT NULL")]

    def find_pageviews(
        self, filters: SessionFilter | None = None, *, device: str | None = None,
        viewport_w: tuple[int, int] | None = None, since_ms: int | None = None, until_ms: int | None = None,
        properties: dict[str, str] | None = None, path: str | None = None, goals: tuple[Goal, ...] = (),
    ) -> list[dict[str, Any]]:
        """Pageviews joined with their session's segment columns, in session start order.

        `filters` (the session list's model, with its pageview terms) or, equivalently, the
        keywords: `viewport_w` is an inclusive (min, max) width range; `since_ms`/`until_ms` bound
        the session start (epoch ms); `properties` must all match (as strings; `converted` by
        `goals` when given, see plumbing/conversions.py); `path` keeps the pageviews whose
        `page_path` is `page_path(path)` (hosts are the caller's to compare).
        """
        if filters is None:
            filters = SessionFilter(device=device, since_ms=since_ms, until_ms=until_ms,
                                    properties=dict(properties or {}), goals=tuple(goals),
                                    page_path=None if path is None else page_path(path), width_range=viewport_w)
        terms, params = filter_terms(filters, dialect=self.dialect)
        sql = ("SELECT p.*, s.device, s.viewport_w AS session_viewport_w, s.viewport_h AS"
               " session_viewport_h, s.first_ts, s.started_at, s.properties FROM pageviews p"
               f" JOIN sessions s ON s.id = p.session_id WHERE {' AND '.join(terms)}"
               ' ORDER BY s.first_ts, p."index"')
        with self._read() as conn:
            cur = conn.execute(sql, params)
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur]
        for row in rows:
            row["properties"] = _properties(row["properties"])
        return rows

    def index_marks(self, session_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """(events indexed, when) per session that has been indexed: what a cached heatmap of
        these sessions was drawn from, so a newly indexed session shows it is stale."""
        ids = list(dict.fromkeys(session_ids))
        marks: dict[str, tuple[int, str]] = {}
        with self._read() as conn:
            for start in range(0, len(ids), 500):
                batch = ids[start:start + 500]
                cur = conn.execute(
                    "SELECT session_id, n_events, indexed_at FROM indexed WHERE session_id IN"
                    f" ({', '.join('?' * len(batch))})", batch)
                marks.update({sid: (n, at) for sid, n, at in cur})
        return marks

    def element_hits(self, pageviews: Iterable[tuple[str, int]], element_key: str,
                     kinds: Iterable[str]) -> list[dict[str, Any]]:
        """The hits of these (session_id, pageview) pairs on one element, in session and time
        order: who clicked it, and when, to open each session at that moment."""
        wanted = set(pageviews)
        kind_list = list(kinds)
        if not wanted or not kind_list:
            return []
        with self._read() as conn:
            cur = conn.execute(
                "SELECT session_id, pageview, t, kind, label, tag, rage, dead FROM hits"
                f" WHERE element_key = ? AND kind IN ({', '.join('?' * len(kind_list))})"
                " ORDER BY session_id, t", [element_key, *kind_list])
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur]
        return [r for r in rows if (r["session_id"], r["pageview"]) in wanted]
