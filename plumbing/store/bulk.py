"""A bulk loader of session summaries without chunks, for benchmarks and tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from plumbing.page_paths import page_path
from plumbing.store.connection import StoreConnection
from plumbing.store.formats import (
    _iso,
    _now_iso,
)
from plumbing.store.schema import HIT_COLUMNS, INDEXED_UPSERT


class BulkLoading(StoreConnection):
    """Stores of 100 000 sessions in seconds."""

    def load_session_summaries(
        self, sessions: Iterable[dict[str, Any]], pageviews: Iterable[dict[str, Any]] = (),
        hits: Iterable[dict[str, Any]] = (), indexed: Iterable[str] = (),
    ) -> None:
        """Write session rows (and their pageviews, hits, index marks) without any chunk, in one
        transaction: for benchmarks and tests that need a store of 100 000 sessions in seconds.
        Such sessions list and filter like recorded ones; they have no events to replay."""
        session_cols = ("id", "site", "started_at", "ended_at", "duration_ms", "first_ts", "last_ts",
                        "user_agent", "device", "viewport_w", "viewport_h", "entry_url",
                        "properties", "n_events", "n_chunks", "n_bytes", "n_raw_bytes", "created_at")
        defaults = {"site": "", "user_agent": "", "device": "", "duration_ms": 0, "n_events": 0,
                    "n_chunks": 0, "n_bytes": 0, "n_raw_bytes": 0, "properties": {}}
        now = _now_iso()

        def session_row(s: dict[str, Any]) -> tuple[Any, ...]:
            s = {**defaults, **s}
            s.setdefault("started_at", _iso(s.get("first_ts")))
            s.setdefault("ended_at", _iso(s.get("last_ts")))
            s.setdefault("created_at", now)
            s["properties"] = json.dumps(s["properties"], sort_keys=True)
            return tuple(s.get(c) for c in session_cols)

        pv_cols = ("session_id", "index", "url", "ts_start", "t_start", "t_end", "width", "height")
        hit_cols = HIT_COLUMNS
        with self._write() as conn:
            conn.executemany(
                f"INSERT INTO sessions ({', '.join(session_cols)}) VALUES"
                f" ({', '.join('?' * len(session_cols))})", map(session_row, sessions))
            conn.executemany(
                'INSERT INTO pageviews (session_id, "index", url, ts_start, t_start, t_end, width,'
                " height, page_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((*(p.get(c) for c in pv_cols), page_path(p["url"])) for p in pageviews))
            conn.executemany(
                f"INSERT INTO hits ({', '.join(hit_cols)}) VALUES ({', '.join('?' * len(hit_cols))})",
                (tuple(int(bool(h.get(c))) if c in ("interactive", "rage", "dead") else h.get(c)
                       for c in hit_cols) for h in hits))
            conn.executemany(
                "INSERT INTO indexed (session_id, n_events, indexed_at, problem)"
                " SELECT id, n_events, ?, NULL FROM sessions WHERE id = ?" + INDEXED_UPSERT,
                ((now, session_id) for session_id in indexed))
