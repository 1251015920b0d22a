"""Reading a session's events back from its chunks, stopping at the first damage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plumbing.events import events_problem
from plumbing.store.codec import (
    decode_chunk,
)
from plumbing.store.connection import StoreConnection
from plumbing.store.rows import (
    ChunkProblem,
    SessionEvents,
)


class EventReading(StoreConnection):
    """A session's events, its export, and what the chunks weigh."""

    def read_events(self, session_id: str) -> SessionEvents:
        """The session's events in order, up to the first missing or unreadable chunk.

        Reading stops at damage rather than skipping it: events after a gap would replay against a
        DOM that never received the missing mutations. The problems say where and why.
        """
        problems: list[ChunkProblem] = []
        events = [e for chunk in self.event_chunks(session_id, problems) for e in chunk]
        events.sort(key=lambda e: e["timestamp"])  # stable: equal stamps keep recorded order
        return SessionEvents(session_id, events, problems)

    def event_chunks(self, session_id: str, problems: list[ChunkProblem]) -> Iterator[list[dict[str, Any]]]:
        """The session's chunks of events in stored order, each decoded only when reached, up to
        the first missing or unreadable one (appended to `problems`): a reader that handles one
        chunk at a time never holds the millions of objects of a large session at once."""
        if not self.has_session(session_id):
            raise KeyError(f"no session {session_id!r}")
        with self._read() as conn:
            rows = conn.execute(
                "SELECT seq, codec, data FROM chunks WHERE session_id = ? ORDER BY seq", (session_id,)
            ).fetchall()
        for expected, (seq, codec, data) in enumerate(rows):
            if seq != expected:
                problems.append(ChunkProblem(expected, f"chunk {expected} is missing"
                                             + (f" (next stored is {seq})" if seq > expected else "")))
                return
            try:
                chunk = decode_chunk(codec, data, self._blob)
                bad = events_problem(chunk)
                if bad:
                    raise ValueError(bad)
            except Exception as exc:
                problems.append(ChunkProblem(seq, f"chunk {seq} is unreadable: {exc}"))
                return
            yield chunk

    def export_events(self, session_id: str) -> str:
        """The session's events as a JSON array, as rrweb-player and other rrweb tools load it
        (`read_events(...).to_json()`: with the problems that cut it short, if any)."""
        return self.read_events(session_id).to_json()

    def storage_stats(self) -> dict[str, int]:
        """What the store holds against what it was sent: events, raw JSON bytes, stored bytes."""
        with self._read() as conn:
            events, raw = map(int, conn.execute(
                "SELECT COALESCE(SUM(n_events), 0), COALESCE(SUM(n_raw_bytes), 0) FROM sessions").fetchone())
            chunk_bytes = int(conn.execute("SELECT COALESCE(SUM(length(data)), 0) FROM chunks").fetchone()[0])
            blob_bytes = int(conn.execute("SELECT COALESCE(SUM(length(data)), 0) FROM blobs").fetchone()[0])
        return {"events": events, "raw_bytes": raw, "chunk_bytes": chunk_bytes,
                "blob_bytes": blob_bytes, "stored_bytes": chunk_bytes + blob_bytes}

    def chunk_rows(self, session_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            return conn.rows("SELECT seq, t_first, t_last, n_events, codec, length(data) AS n_bytes FROM chunks"
                             " WHERE session_id = ? ORDER BY seq", [session_id])
