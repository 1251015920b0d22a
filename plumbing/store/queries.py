"""Reading sessions: the session list (filters, sorts, keyset cursors), counts, pageviews."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from plumbing.store.connection import StoreConnection
from plumbing.store.filters import SESSION_SORTS, SessionFilter, _decode_cursor, _encode_cursor, filter_terms
from plumbing.store.formats import (
    _properties,
)
from plumbing.store.rows import (
    ListedSession,
    PageviewRow,
    SessionPage,
    SessionRow,
    StoreError,
)
from plumbing.vocabulary import (
    POINTER_ACTION_KINDS,
)


class SessionQueries(StoreConnection):
    """The session list and what a session page shows beside its replay."""

    def get_session(self, session_id: str) -> SessionRow | None:
        rows = list(self._session_rows("WHERE s.id = ?", (session_id,)))
        return rows[0] if rows else None

    def list_sessions(self, *, limit: int | None = None, offset: int = 0) -> list[SessionRow]:
        """Sessions, newest first, each with its pageview count and parsed properties."""
        clause = "ORDER BY s.first_ts IS NULL, s.first_ts DESC, s.id"
        params: tuple[Any, ...] = ()
        if limit is not None:
            clause += " LIMIT ? OFFSET ?"
            params = (limit, offset)
        return list(self._session_rows(clause, params))

    def query_sessions(
        self, filters: SessionFilter | None = None, *, sort: str = "started", descending: bool = True,
        after: str | None = None, before: str | None = None, limit: int = 50,
    ) -> SessionPage:
        """One page of sessions matching `filters`, in `sort` order (started, duration, events).

        Keyset pagination: `after` / `before` are cursors from a previous page, so page 2 000 costs
        what page 1 does, however many sessions the store holds. Each row carries its pageview
        count, whether it was indexed, and its rage / dead click counts (from the hits table).
        """
        if sort not in SESSION_SORTS:
            raise StoreError(f"sort by one of {', '.join(SESSION_SORTS)}")
        if after and before:
            raise StoreError("give a cursor after or before, not both")
        limit = max(1, min(int(limit), 500))
        column = f"s.{SESSION_SORTS[sort]}"
        filters = filters or SessionFilter()
        terms, params = filter_terms(filters, self._url_share(filters.url), self.dialect)
        # Reading backwards (for the page before a cursor) flips the order, then the rows.
        backwards = before is not None
        newest_first = descending != backwards
        cursor = before or after
        if cursor:
            value, session_id = _decode_cursor(cursor)
            terms.append(f"({column}, s.id) {'<' if newest_first else '>'} (?, ?)")
            params += [value, session_id]
        direction = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT s.*,"
            " (SELECT COUNT(*) FROM pageviews p WHERE p.session_id = s.id) AS n_pageviews,"
            " (SELECT COUNT(*) FROM hits h WHERE h.session_id = s.id AND h.rage = 1) AS n_rage,"
            " (SELECT COUNT(*) FROM hits h WHERE h.session_id = s.id AND h.dead = 1) AS n_dead,"
            " i.n_events AS indexed_events, i.problem AS index_problem"
            " FROM sessions s LEFT JOIN indexed i ON i.session_id = s.id"
            f" WHERE {' AND '.join(terms)} ORDER BY {column} {direction}, s.id {direction} LIMIT ?"
        )
        with self._read() as conn:
            cur = conn.execute(sql, [*params, limit + 1])
            names = [d[0] for d in cur.description]
            read = [dict(zip(names, row)) for row in cur.fetchall()]
        more = len(read) > limit
        read = read[:limit]
        if backwards:
            read.reverse()
        rows = [ListedSession.from_columns(row, properties=_properties(row["properties"])) for row in read]
        key = SESSION_SORTS[sort]
        first = _encode_cursor(rows[0][key], rows[0].id) if rows else None
        last = _encode_cursor(rows[-1][key], rows[-1].id) if rows else None
        if backwards:
            return SessionPage(rows, next_cursor=last, prev_cursor=first if more else None)
        return SessionPage(rows, next_cursor=last if more else None,
                           prev_cursor=first if after else None)

    def count_sessions(self, filters: SessionFilter | None = None, *, cap: int = 10_000,
                       budget_ms: float | None = None) -> tuple[int, bool]:
        """(how many sessions match, whether that is exact), counted up to `cap` + 1 and within
        `budget_ms`: a count is a nicety beside the page, and must never cost more than the page.
        When either bound stops it, the number is a lower bound ("at least", "more than")."""
        filters = filters or SessionFilter()
        terms, params = filter_terms(filters, self._url_share(filters.url), self.dialect)
        sql = f"SELECT 1 FROM sessions s WHERE {' AND '.join(terms)} LIMIT ?"
        n, finished = self._backend.count_rows(sql, [*params, cap + 1], budget_ms)
        return n, finished and n <= cap

    def _url_share(self, url: str | None) -> float | None:
        """Share of pageviews whose URL contains `url` (one scan of the URL index), remembered
        for a few seconds, since the list asks for the page and its count together."""
        if not url:
            return None
        now = time.monotonic()
        remembered = self._url_shares.get(url)
        if remembered and now - remembered[0] < 10:
            return remembered[1]
        with self._read() as conn:
            total, hits = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN instr(url, ?) > 0 THEN 1 ELSE 0 END), 0)"
                " FROM pageviews INDEXED BY pageviews_url", (url,)).fetchone()
        total, hits = int(total), int(hits)
        share = hits / total if total else 0.0
        if len(self._url_shares) > 256:
            self._url_shares.clear()
        self._url_shares[url] = (now, share)
        return share

    def session_viewports(self, limit: int = 40) -> list[tuple[int, int, int]]:
        """(width, height, sessions) of the most common viewports, for the list's viewport choice."""
        sql = ("SELECT viewport_w, viewport_h, COUNT(*) AS n FROM sessions"
               " WHERE viewport_w IS NOT NULL AND viewport_h IS NOT NULL"
               " GROUP BY viewport_w, viewport_h ORDER BY n DESC, viewport_w DESC LIMIT ?")
        with self._read() as conn:
            return [(int(w), int(h), int(n)) for w, h, n in conn.execute(sql, (limit,))]

    def session_flags(self, session_id: str) -> dict[str, Any]:
        """Whether a session was indexed (and from how many events), and its rage / dead hits."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT n_events, indexed_at, problem FROM indexed WHERE session_id = ?", (session_id,)
            ).fetchone()
            cur = conn.execute(
                "SELECT pageview, t, kind, node_id, label, selector, rage, dead FROM hits"
                f" WHERE session_id = ? AND kind IN ({', '.join('?' * len(POINTER_ACTION_KINDS))})"
                " ORDER BY t", (session_id, *POINTER_ACTION_KINDS))
            names = [d[0] for d in cur.description]
            clicks = [dict(zip(names, r)) for r in cur.fetchall()]
        if row is None:
            return {"indexed": False, "clicks": []}
        return {"indexed": True, "indexed_events": row[0], "indexed_at": row[1],
                "problem": row[2], "clicks": clicks}

    def _session_rows(self, clause: str, params: tuple[Any, ...]) -> Iterator[SessionRow]:
        sql = (
            "SELECT s.*, (SELECT COUNT(*) FROM pageviews p WHERE p.session_id = s.id) AS n_pageviews"
            f" FROM sessions s {clause}"
        )
        with self._read() as conn:
            cur = conn.execute(sql, params)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        for row in rows:
            record = dict(zip(names, row))
            yield SessionRow.from_columns(record, properties=_properties(record["properties"]))

    def pageviews(self, session_id: str) -> list[PageviewRow]:
        with self._read() as conn:
            rows = conn.rows('SELECT * FROM pageviews WHERE session_id = ? ORDER BY "index"', [session_id])
        return [PageviewRow.from_columns(row) for row in rows]

    def recent_properties(self, limit: int = 2000) -> list[dict[str, Any]]:
        """The properties of the newest `limit` sessions: what segments people are likely to ask
        for, read from an index, however large the store."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT properties FROM sessions WHERE first_ts IS NOT NULL ORDER BY first_ts DESC LIMIT ?",
                (limit,)).fetchall()
        return [_properties(raw) for (raw,) in rows]

    def page_counts(self) -> list[tuple[str, int]]:
        """Every page (`page_path`) with its number of pageviews, read from the page-path index."""
        with self._read() as conn:
            return [(path, int(n)) for path, n in conn.execute(
                "SELECT page_path, COUNT(*) FROM pageviews GROUP BY page_path")]
