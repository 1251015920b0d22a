"""Ingest: chunks in, folded into their session row, pageviews and named events in the same transaction."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from plumbing.conversions import (
    Goal,
    note_named_events,
    refresh_converted,
    site_goals,
)
from plumbing.devices import classify_device
from plumbing.events import EventType, events_problem
from plumbing.page_paths import page_path
from plumbing.sql_dialect import SqlConnection
from plumbing.store.codec import (
    EncodedChunk,
    _event_name,
    compressed_blob,
    decode_chunk,
    encode_events,
)
from plumbing.store.connection import StoreConnection
from plumbing.store.formats import (
    _iso,
    _now_iso,
    _properties,
    new_session_id,
)
from plumbing.store.rows import (
    ChunkOutcome,
    ChunkWrite,
    StoreError,
)
from plumbing.store.schema import SESSION_TABLES, blob_text
from plumbing.traffic import visit_properties
from plumbing.vocabulary import (
    CHANNEL,
    CONVERTED,
    ROUTE_KINDS_STARTING_PAGEVIEW,
    SESSION_ID_RE,
    SESSION_ID_RULE,
    TAG_ANNOTATION,
    TAG_IDENTIFY,
    TAG_ROUTE,
    TAG_SET_PROPERTIES,
    TAG_VISIT,
)

IMPORT_CHUNK_EVENTS = 500
BLOB_QUERY_HASHES = 500  # hashes looked up in one query (SQLite binds at most 32,766 values)


def _check_chunk(session_id: Any, seq: Any, events: Any) -> None:
    """Refuse, with the reason, a chunk the store must not hold."""
    if not isinstance(session_id, str) or not SESSION_ID_RE.match(session_id):
        raise StoreError(SESSION_ID_RULE)
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**31:
        raise StoreError("a chunk number is an integer from 0 to 2^31-1")
    problem = events_problem(events)
    if problem:
        raise StoreError(problem)
    if not events:
        raise StoreError("a chunk holds at least one event")


def _insert_session(
    conn: SqlConnection, session_id: str, site: str, user_agent: str,
    viewport: tuple[int, int] | None, properties: dict[str, Any] | None = None,
) -> None:
    """Create the session row unless it exists (what is known up front never overwrites)."""
    width, height = viewport or (None, None)
    conn.execute(
        "INSERT OR IGNORE INTO sessions (id, site, user_agent, device, viewport_w, viewport_h,"
        " properties, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (session_id, site, user_agent, classify_device(width, user_agent), width, height,
         json.dumps(properties or {}, sort_keys=True), _now_iso()),
    )


def _insert_blobs(conn: SqlConnection, blobs: dict[str, str]) -> None:
    """Store the blobs the store does not hold yet. Most are there already (a site's stylesheet is
    in every snapshot of every visit), and compressing each again only to have the insert ignore
    it cost the collector milliseconds per snapshot."""
    digests = sorted(blobs)
    for start in range(0, len(digests), BLOB_QUERY_HASHES):
        part = digests[start:start + BLOB_QUERY_HASHES]
        present = {row[0] for row in conn.execute(
            f"SELECT hash FROM blobs WHERE hash IN ({', '.join('?' * len(part))})", part).fetchall()}
        missing = [(digest, compressed_blob(blobs[digest])) for digest in part if digest not in present]
        if missing:
            conn.executemany("INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)", missing)


# Plain ints: folding compares every event's type, and an enum member costs a lookup each time.
_META, _CUSTOM = int(EventType.META), int(EventType.CUSTOM)

# What folding a chunk into its session reads of the session row.
_FOLDED = "first_ts, last_ts, properties, viewport_w, entry_url, user_agent, site"


class Ingest(StoreConnection):
    """Writing sessions: chunks, imports, properties, deletion."""

    def create_session(
        self,
        session_id: str | None = None,
        *,
        site: str = "",
        user_agent: str = "",
        viewport: tuple[int, int] | None = None,
        properties: dict[str, Any] | None = None,
    ) -> str:
        """Register a session before its first chunk, with what the recorder knows up front."""
        session_id = session_id or new_session_id()
        if not SESSION_ID_RE.match(session_id):
            raise StoreError(SESSION_ID_RULE)
        with self._write() as conn:
            _insert_session(conn, session_id, site, user_agent, viewport, properties)
        return session_id

    def append_chunk(self, session_id: str, seq: int, events: list[dict[str, Any]],
                     raw_json: str | None = None) -> bool:
        """Store one chunk durably. False if `(session_id, seq)` was already stored (a retry).

        The session row, its pageviews and properties are updated in the same transaction.
        `raw_json`: the events' JSON text as received, if the caller has it (see encode_events).
        """
        _check_chunk(session_id, seq, events)
        encoded = encode_events(events, raw_json)
        self._store_blobs(encoded)
        with self._write() as conn:
            self._backend.lock_sessions(conn, [session_id])
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, created_at) VALUES (?, ?)", (session_id, _now_iso())
            )
            if not self._insert_chunk(conn, session_id, seq, events, encoded):
                return False
            self._fold_into_session(conn, session_id, events, encoded)
        return True

    def append_chunks(self, writes: list[ChunkWrite], *, checked: bool = False) -> list[ChunkOutcome]:
        """Store several chunks in one durable transaction (group commit), one outcome each.

        One fsync for many chunks is what lets the collector keep up with many senders. Every write
        is checked before anything is written; a refusal raises StoreError and writes nothing.
        A chunk whose `(session_id, seq)` is stored already is a DUPLICATE if it holds the same
        events (a client retry after a lost acknowledgement) and a CONFLICT otherwise; a chunk for
        a session that another site started is FOREIGN; one that would take its session past the
        write's caps is OVER_EVENTS or OVER_BYTES (decided here, so concurrent chunks of a session
        cannot both slip under a cap). None of those writes anything.
        `checked=True` says the caller has already run these very checks (the collector does, before
        queueing), so the writer's transaction does not pay for them twice.
        """
        if not checked:
            for write in writes:
                _check_chunk(write.session_id, write.seq, write.events)
        # Chunks whose masking waits on the session's state are encoded once it is known.
        encoded = [None if write.guard and write.guard.asked else encode_events(write.events, write.raw_json)
                   for write in writes]
        for chunk in encoded:
            if chunk is not None:
                self._store_blobs(chunk)
        with self._write() as conn:
            self._backend.lock_sessions(conn, [write.session_id for write in writes])
            goals: dict[str, tuple[Goal, ...]] = {}  # per site, read once per transaction
            return [self._append(conn, write, chunk, goals) for write, chunk in zip(writes, encoded)]

    def _store_blobs(self, encoded: EncodedChunk) -> None:
        """PostgreSQL: store a chunk's blobs ahead of its transaction, committed on their own. Many
        collectors write the same blobs (a site's stylesheet is in every snapshot): held to the
        end of a batch's transaction, two batches taking them in other orders would deadlock. The
        chunk's transaction checks for them again (`_insert_blobs`), and stores any that `prune`
        swept in between (it waits for the chunks in flight, see backends.PRUNE_LOCK). A blob
        whose chunk then fails is unreferenced, and `prune` removes it. SQLite has one writer at a
        time, and stores them with the chunk only."""
        if self.dialect.name == "sqlite" or not encoded.blobs:
            return
        with self._read() as conn:
            _insert_blobs(conn, encoded.blobs)

    def _append(self, conn: SqlConnection, write: ChunkWrite, encoded: EncodedChunk | None,
                goals: dict[str, tuple[Goal, ...]]) -> ChunkOutcome:
        session = conn.one(f"SELECT site, n_events, n_raw_bytes, {_FOLDED} FROM sessions WHERE id = ?",
                           (write.session_id,))
        if session is not None and session[0] != write.site:
            return ChunkOutcome.FOREIGN
        if session is not None and encoded is None and (stored := self._stored_chunk(conn, write)):
            # Settled before masking it by the session's state, which a retry would not need.
            return ChunkOutcome.DUPLICATE if self._same_chunk(conn, stored, write) else ChunkOutcome.CONFLICT
        if encoded is None:
            assert write.guard is not None
            changed = write.guard.mask(self._masked_of_asked(conn, write))
            encoded = encode_events(write.events, None if changed else write.raw_json)
        n_events, n_raw_bytes = session[1:3] if session else (0, 0)
        over = None
        if write.max_events and n_events + len(write.events) > write.max_events:
            over = ChunkOutcome.OVER_EVENTS
        elif write.max_raw_bytes and n_raw_bytes + encoded.raw_size > write.max_raw_bytes:
            over = ChunkOutcome.OVER_BYTES
        if over is not None:  # a chunk stored already is a retry (or a conflict) all the same
            earlier = self._stored_chunk(conn, write) if session is not None else None
            if earlier is None:
                return over
            return ChunkOutcome.DUPLICATE if self._same_chunk(conn, earlier, write) else ChunkOutcome.CONFLICT
        if session is None:
            _insert_session(conn, write.session_id, write.site, write.user_agent, write.viewport)
        if not self._insert_chunk(conn, write.session_id, write.seq, write.events, encoded):
            # Stored before (a retry: inserting first spares every new chunk a lookup), or by
            # another writer just now.
            theirs = self._stored_chunk(conn, write)
            if theirs is None:  # cannot be: an insert ignored over a chunk that is not there
                raise StoreError(f"chunk {write.seq} of session {write.session_id} was neither stored nor found")
            return ChunkOutcome.DUPLICATE if self._same_chunk(conn, theirs, write) else ChunkOutcome.CONFLICT
        if write.guard and write.guard.declared:
            conn.execute("INSERT OR IGNORE INTO masked_nodes (session_id, node_id)"
                         f" SELECT ?, v FROM ({self.dialect.int_array()}) AS declared",
                         (write.session_id, json.dumps(sorted(write.guard.declared))))
        self._fold_into_session(conn, write.session_id, write.events, encoded,
                                session[3:] if session else None, goals)
        return ChunkOutcome.STORED

    @staticmethod
    def _stored_chunk(conn: SqlConnection, write: ChunkWrite) -> tuple[str, bytes] | None:
        """The codec and data of the chunk stored under `write`'s number, if there is one."""
        row = conn.one("SELECT codec, data FROM chunks WHERE session_id = ? AND seq = ?",
                       (write.session_id, write.seq))
        return None if row is None else (row[0], row[1])

    @staticmethod
    def _same_chunk(conn: SqlConnection, stored: tuple[str, bytes], write: ChunkWrite) -> bool:
        """Whether the stored chunk holds `write`'s events: a retry. Values the guard may have
        masked differently since (its session knew less or more then) are compared masked."""
        try:
            events = decode_chunk(stored[0], stored[1], lambda digest: blob_text(conn, digest))
        except ValueError:  # a damaged stored chunk: never overwritten, so a conflict
            return False
        if events == write.events:
            return True
        if write.guard is None or not write.guard.asked:
            return False
        write.guard.mask(None)
        return write.guard.canonical(events) == write.events

    @staticmethod
    def _masked_of_asked(conn: SqlConnection, write: ChunkWrite) -> frozenset[int] | None:
        """Which ids the chunk asks about its session masks; None (mask them all) while an earlier
        chunk is missing, since that one may hold the declaration."""
        assert write.guard is not None
        earlier = conn.execute("SELECT COUNT(*) FROM chunks WHERE session_id = ? AND seq < ?",
                               (write.session_id, write.seq)).fetchone()[0]
        if earlier < write.seq:
            return None
        rows = conn.execute("SELECT node_id FROM masked_nodes WHERE session_id = ? AND node_id IN"
                            f" (SELECT v FROM ({conn.dialect.int_array()}) AS asked)",
                            (write.session_id, json.dumps(sorted(write.guard.asked)))).fetchall()
        return frozenset(row[0] for row in rows)

    def _insert_chunk(self, conn: SqlConnection, session_id: str, seq: int,
                      events: list[dict[str, Any]], encoded: EncodedChunk) -> bool:
        inserted = conn.run(
            "INSERT OR IGNORE INTO chunks (session_id, seq, t_first, t_last, n_events, codec, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, seq, encoded.t_first, encoded.t_last, len(events), encoded.codec, encoded.data),
        )
        if inserted == 0:
            return False
        if encoded.blobs:
            _insert_blobs(conn, encoded.blobs)  # on PostgreSQL, stored already: only checked
        return True

    def _fold_into_session(
        self, conn: SqlConnection, session_id: str, events: list[dict[str, Any]],
        encoded: EncodedChunk, row: tuple[Any, ...] | None = None,
        goals_of: dict[str, tuple[Goal, ...]] | None = None,
    ) -> None:
        """Update the session row, its pageviews and named events with a stored chunk. `row`: the
        session's `_FOLDED` columns when the caller has just read them; `goals_of`: sites' goals
        read before in this transaction."""
        if row is None:
            row = conn.execute(f"SELECT {_FOLDED} FROM sessions WHERE id = ?", (session_id,)).fetchone()
        first_ts, last_ts, props_json, viewport_w, entry_url, user_agent, site = row
        was_first = first_ts
        first_ts = encoded.t_first if first_ts is None else int(min(first_ts, encoded.t_first))
        last_ts = encoded.t_last if last_ts is None else int(max(last_ts, encoded.t_last))
        properties = _properties(props_json)  # a damaged row must not stop new data

        marks: list[tuple[int, str, int | None, int | None]] = []  # (ts, url, w, h)
        named: list[tuple[int, str]] = []  # (ts, name) of custom events fired: see _named_events
        for event in events:
            etype = event["type"]
            if etype != _META and etype != _CUSTOM:  # most events: moves, mutations, scrolls
                continue
            data = event.get("data") or {}
            if etype == _META:
                marks.append((int(event["timestamp"]), data["href"], int(data["width"]), int(data["height"])))
            else:
                payload = data.get("payload")
                if data["tag"] == TAG_SET_PROPERTIES and isinstance(payload, dict):
                    properties.update(payload)
                elif data["tag"] == TAG_IDENTIFY and isinstance(payload, dict):
                    properties["user_id"] = payload.get("user_id")
                    if isinstance(payload.get("properties"), dict):
                        properties.update(payload["properties"])
                elif data["tag"] == TAG_ANNOTATION and (name := _event_name(payload)):
                    named.append((int(event["timestamp"]), name))
                elif data["tag"] == TAG_VISIT and CHANNEL not in properties:  # the first visit only;
                    for key, value in visit_properties(payload).items():  # what a page set wins
                        properties.setdefault(key, value)
                elif (data["tag"] == TAG_ROUTE and isinstance(payload, dict)
                      and payload.get("kind") in ROUTE_KINDS_STARTING_PAGEVIEW
                      and isinstance(payload.get("href"), str)):
                    marks.append((int(event["timestamp"]), payload["href"], None, None))
        if marks and viewport_w is None:
            metas = [m for m in marks if m[2] is not None]
            if metas:
                viewport_w = metas[0][2]
                conn.execute(
                    "UPDATE sessions SET viewport_w = ?, viewport_h = ?, device = ? WHERE id = ?",
                    (metas[0][2], metas[0][3], classify_device(metas[0][2], user_agent), session_id),
                )
        conn.run(
            "UPDATE sessions SET first_ts = ?, last_ts = ?, started_at = ?, ended_at = ?,"
            " duration_ms = ?, properties = ?, n_events = n_events + ?, n_chunks = n_chunks + 1,"
            " n_bytes = n_bytes + ?, n_raw_bytes = n_raw_bytes + ? WHERE id = ?",
            (first_ts, last_ts, _iso(first_ts), _iso(last_ts), last_ts - first_ts,
             json.dumps(properties, sort_keys=True), len(events), len(encoded.data), encoded.raw_size,
             session_id),
        )
        if marks or was_first != first_ts:
            self._rebuild_pageviews(conn, session_id, marks, first_ts, last_ts)
        else:  # the same pages from the same start: only the last one lasts longer
            conn.run('UPDATE pageviews SET t_end = ? WHERE session_id = ? AND "index" ='
                     ' (SELECT MAX("index") FROM pageviews WHERE session_id = ?)',
                     (last_ts - first_ts, session_id, session_id))
        if named:
            note_named_events(conn, session_id, named)
        # `converted` can change only with a new page or custom event, and never back from yes
        # (set_goals redoes every session when the goals change).
        if properties.get(CONVERTED) != "yes" and (named or marks or CONVERTED not in properties):
            if goals_of is None:
                goals = site_goals(conn, site)
            elif site in goals_of:
                goals = goals_of[site]
            else:
                goals = goals_of[site] = site_goals(conn, site)
            if goals:
                refresh_converted(conn, site, goals, session_id)

    def _rebuild_pageviews(
        self, conn: SqlConnection, session_id: str,
        marks: list[tuple[int, str, int | None, int | None]], first_ts: int, last_ts: int,
    ) -> None:
        """Renumber pageviews by start time: chunks may arrive out of order from the collector."""
        old = conn.execute(
            "SELECT ts_start, url, width, height FROM pageviews WHERE session_id = ?", (session_id,)
        ).fetchall()
        if not marks and not old:
            return
        views = sorted({*map(tuple, old), *marks}, key=lambda m: m[0])
        conn.execute("DELETE FROM pageviews WHERE session_id = ?", (session_id,))
        width = height = None
        rows = []
        for index, (ts, url, w, h) in enumerate(views):
            width, height = (w, h) if w is not None else (width, height)  # a route keeps its size
            end = views[index + 1][0] if index + 1 < len(views) else last_ts
            rows.append((session_id, index, url, ts, ts - first_ts, end - first_ts, width, height,
                         page_path(url)))
        if rows:
            entry = rows[0][2]
            conn.execute("UPDATE sessions SET entry_url = ? WHERE id = ?", (entry, session_id))
        conn.executemany(
            'INSERT INTO pageviews (session_id, "index", url, ts_start, t_start, t_end, width, height,'
            " page_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows,
        )

    def import_events(
        self, events: Any, *, session_id: str | None = None, site: str = "import",
        properties: dict[str, Any] | None = None,
    ) -> tuple[str, bool]:
        """Store a whole rrweb event list as a new session: (session id, False if already there).

        The id defaults to a hash of the events, so importing the same file twice is a no-op.
        Everything is checked first and written in one transaction: a refusal leaves no trace.
        """
        if isinstance(events, dict) and "events" in events:
            events = events["events"]
        problem = events_problem(events)
        if problem:
            raise StoreError(problem)
        if not events:
            raise StoreError("no events to import")
        if session_id is None:
            raw = json.dumps(events, separators=(",", ":"), ensure_ascii=False).encode()
            session_id = "imp-" + hashlib.sha256(raw).hexdigest()[:20]
        if self.has_session(session_id):
            return session_id, False
        self.create_session(session_id, site=site, properties=properties)
        with self._write() as conn:
            self._backend.lock_sessions(conn, [session_id])
            for seq, start in enumerate(range(0, len(events), IMPORT_CHUNK_EVENTS)):
                batch = events[start:start + IMPORT_CHUNK_EVENTS]
                encoded = encode_events(batch)
                self._insert_chunk(conn, session_id, seq, batch, encoded)
                self._fold_into_session(conn, session_id, batch, encoded)
        return session_id, True

    def set_properties(self, session_id: str, properties: dict[str, Any]) -> None:
        with self._write() as conn:
            self._backend.lock_sessions(conn, [session_id])
            row = conn.execute("SELECT properties FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise KeyError(session_id)
            merged = {**_properties(row[0]), **properties}
            conn.execute("UPDATE sessions SET properties = ? WHERE id = ?",
                         (json.dumps(merged, sort_keys=True), session_id))

    def delete_session(self, session_id: str) -> bool:
        """Remove a session and all that was derived from it (False: there was none). Blobs stay:
        other sessions may share them."""
        with self._write() as conn:
            for table in SESSION_TABLES:  # every table keyed by a session, read from the schema
                conn.execute(f'DELETE FROM "{table}" WHERE session_id = ?', (session_id,))
            return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

    def next_seq(self, session_id: str) -> int:
        with self._read() as conn:
            row = conn.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM chunks WHERE session_id = ?", (session_id,)
            ).fetchone()
        return int(row[0])
