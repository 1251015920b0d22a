"""The session store: the only module that knows the SQLite schema.

Events are stored as compressed, append-only chunks and never rewritten; everything else (session
summary columns, pageviews, hits) is derived from them and can be rebuilt. Writing the same
`(session_id, seq)` twice is a no-op, so a client that retries never duplicates anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from itertools import accumulate, compress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from plumbing import json_text
from plumbing.conversions import (
    Goal,
    first_conversion,
    note_named_events,
    property_terms,
    refresh_converted,
    site_goals,
)
from plumbing.devices import classify_device
from plumbing.events import EventType, events_problem
from plumbing.page_paths import page_path
from plumbing.traffic import visit_properties
from plumbing.vocabulary import (
    CHANNEL,
    CONVERTED,
    POINTER_ACTION_KINDS,
    ROUTE_KINDS_STARTING_PAGEVIEW,
    SESSION_ID_RE,
    SESSION_ID_RULE,
    TAG_ANNOTATION,
    TAG_IDENTIFY,
    TAG_ROUTE,
    TAG_SET_PROPERTIES,
    TAG_VISIT,
)

SCHEMA_VERSION = 3
SITE_POLICY = ("record_inputs", "max_session_events", "max_session_bytes", "remember_visitors")  # `set_site`
CODEC = "json+zlib"  # a chunk's events as compressed JSON
CODEC_BLOBS = "json+zlib+blobs"  # the same, with long strings moved to the blobs table
BLOB_MIN_CHARS = 1024  # strings this long (inlined stylesheets, images) are stored once, by hash
BLOB_REF = "$sh_blob"  # {"$sh_blob": sha256} stands for a string in the blobs table
BLOB_LITERAL = "$sh_lit"  # escapes a recorded object that happens to look like a reference
IMPORT_CHUNK_EVENTS = 500

_TABLES = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL DEFAULT '',
    started_at TEXT,            -- ISO 8601 UTC of the first event
    ended_at TEXT,              -- ISO 8601 UTC of the last event seen so far
    duration_ms INTEGER NOT NULL DEFAULT 0,
    first_ts INTEGER,           -- epoch ms of the first event
    last_ts INTEGER,            -- epoch ms of the last event
    user_agent TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '',          -- desktop / tablet / mobile
    viewport_w INTEGER,
    viewport_h INTEGER,
    entry_url TEXT,
    properties TEXT NOT NULL DEFAULT '{}',    -- JSON object
    n_events INTEGER NOT NULL DEFAULT 0,
    n_chunks INTEGER NOT NULL DEFAULT 0,
    n_bytes INTEGER NOT NULL DEFAULT 0,       -- compressed bytes stored
    n_raw_bytes INTEGER NOT NULL DEFAULT 0,   -- JSON bytes received
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (first_ts);
-- The session list's sort orders, each with the id as tie-break, for keyset pagination.
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions (first_ts, id);
CREATE INDEX IF NOT EXISTS sessions_by_duration ON sessions (duration_ms, id);
CREATE INDEX IF NOT EXISTS sessions_by_events ON sessions (n_events, id);
CREATE INDEX IF NOT EXISTS sessions_by_viewport ON sessions (viewport_w, viewport_h);
CREATE TABLE IF NOT EXISTS chunks (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    seq INTEGER NOT NULL,
    t_first INTEGER NOT NULL,   -- epoch ms
    t_last INTEGER NOT NULL,
    n_events INTEGER NOT NULL,
    codec TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS pageviews (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    "index" INTEGER NOT NULL,
    url TEXT NOT NULL,
    ts_start INTEGER NOT NULL,  -- epoch ms
    t_start INTEGER NOT NULL,   -- ms since the session's first event
    t_end INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    page_path TEXT,  -- page_path(url): what a heatmap's --url is matched on, indexed
    PRIMARY KEY (session_id, "index")
);
CREATE INDEX IF NOT EXISTS pageviews_page_path ON pageviews (page_path);
-- "Sessions that visited a URL": the list's URL filter scans this (smaller than the table).
CREATE INDEX IF NOT EXISTS pageviews_url ON pageviews (url, session_id);
-- Derived from chunks by `sessionheat index`; thrown away and rebuilt at will.
CREATE TABLE IF NOT EXISTS hits (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    pageview INTEGER NOT NULL,
    t INTEGER NOT NULL,         -- ms since the session's first event
    kind TEXT NOT NULL,         -- click dblclick contextmenu move input view_top view_bottom view_max
    node_id INTEGER,            -- rrweb id in that pageview
    element_key TEXT,           -- CSS selector naming the element across layouts (ids allowed)
    selector TEXT,              -- the same built without any id
    key_context TEXT,           -- JSON: keyed ancestor, ids element_key relies on (heatmap/keys.py settles them)
    label TEXT,
    tag TEXT,
    interactive INTEGER NOT NULL DEFAULT 0,
    rage INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0,
    x REAL, y REAL,             -- document px in that session
    rel_x REAL, rel_y REAL,     -- 0..1 inside the element's box
    box_x REAL, box_y REAL, box_w REAL, box_h REAL,
    doc_w REAL, doc_h REAL,
    viewport_w INTEGER, viewport_h INTEGER,
    scroll_y REAL,
    dwell_ms INTEGER,           -- view_* rows: how long the viewport stayed there
    -- The page's state at the hit (heatmap/page_state.js): the open overlay (dialog, popover,
    -- menu, drawer) and the scrolling container holding the element; a heatmap draws such hits
    -- on a photograph of that state. container_max rows: a container's deepest scroll.
    state_key TEXT, state_label TEXT, state_kind TEXT, container_key TEXT
);
CREATE INDEX IF NOT EXISTS hits_session ON hits (session_id, pageview);
CREATE INDEX IF NOT EXISTS hits_key ON hits (element_key);
-- Which sessions hold rage or dead clicks (the session list filters and badges on them).
CREATE INDEX IF NOT EXISTS hits_rage ON hits (session_id) WHERE rage = 1;
CREATE INDEX IF NOT EXISTS hits_dead ON hits (session_id) WHERE dead = 1;
CREATE TABLE IF NOT EXISTS indexed (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id),
    n_events INTEGER NOT NULL,  -- events the hits were computed from
    indexed_at TEXT NOT NULL,
    problem TEXT                -- why indexing stopped early, if it did
);
CREATE TABLE IF NOT EXISTS blobs (
    hash TEXT PRIMARY KEY,      -- sha256 of the UTF-8 string
    data BLOB NOT NULL          -- zlib-compressed UTF-8
);
CREATE TABLE IF NOT EXISTS sites (
    name TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    origins TEXT NOT NULL DEFAULT '[]',       -- JSON array of allowed origins
    created_at TEXT NOT NULL,
    record_inputs INTEGER NOT NULL DEFAULT 0, -- 1: keep what visitors type (passwords never)
    max_session_events INTEGER,               -- caps on one session; NULL: the collector's default
    max_session_bytes INTEGER,
    remember_visitors INTEGER NOT NULL DEFAULT 0 -- 1: the snippet keeps a visitor note (new / returning)
);
-- A site's goals (plumbing/conversions.py), by the sessions' `site`: a collector site's name, or
-- the origin `record()` stores.
CREATE TABLE IF NOT EXISTS goals (
    site TEXT NOT NULL,
    goal TEXT NOT NULL,                       -- url:PATH or event:NAME
    PRIMARY KEY (site, goal)
) WITHOUT ROWID;
-- The custom events each session fired (sessionheat.event, session.annotate): what event goals match.
CREATE TABLE IF NOT EXISTS named_events (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    ts INTEGER NOT NULL,                      -- epoch ms
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS named_events_by_session ON named_events (session_id, name);
-- The team: who may read recordings (see sessionheat/web/auth.py). Secrets are stored hashed.
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,                       -- viewer / admin
    password_hash TEXT,                       -- argon2id; NULL: signs in only through the SSO proxy
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    hash TEXT PRIMARY KEY,                    -- sha256 of the token
    user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logins (
    hash TEXT PRIMARY KEY,                    -- sha256 of the login id the cookie carries
    user TEXT NOT NULL,                       -- '' for the one-time local link's admin
    expires_at INTEGER NOT NULL,              -- epoch s
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Per session, the rrweb node ids whose values the site's masking policy hides (form fields, or
-- only password fields), so a value sent in a later chunk than its field is still masked.
CREATE TABLE IF NOT EXISTS masked_nodes (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    node_id INTEGER NOT NULL,
    PRIMARY KEY (session_id, node_id)
) WITHOUT ROWID;
"""


class StoreError(ValueError):
    """Input the store refuses; the message says why, and nothing was written."""


@dataclass(frozen=True)
class ChunkProblem:
    seq: int
    reason: str


@dataclass
class SessionEvents:
    """A session's events as far as they can be read, and what stopped the reading."""

    session_id: str
    events: list[dict[str, Any]]
    problems: list[ChunkProblem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems

    def to_json(self) -> str:
        """The events as one JSON array: the export, as rrweb-player and other rrweb tools load it."""
        return json.dumps(self.events, separators=(",", ":"), ensure_ascii=False)


class ChunkOutcome(str, Enum):
    """What `append_chunks` did with one chunk."""

    STORED = "stored"
    DUPLICATE = "duplicate"  # that (session, seq) already holds these very events: a retry
    CONFLICT = "conflict"  # that (session, seq) already holds other events
    FOREIGN = "foreign"  # the session was started by another site
    OVER_EVENTS = "over_events"  # the chunk would take its session past `ChunkWrite.max_events`
    OVER_BYTES = "over_bytes"  # ... past `ChunkWrite.max_raw_bytes`


@dataclass(frozen=True)
class FieldGuard:
    """Masking of a chunk that depends on its session's earlier chunks (see sessionheat.web.masking).

    The store keeps, per session, the node ids whose values the site's policy masks. A chunk
    declares the ids it introduces and asks about the ids whose values it holds without having
    introduced them; the answer is read in the write transaction, so it covers every chunk
    committed before.
    """

    declared: frozenset[int]
    asked: frozenset[int]
    mask: Callable[[frozenset[int] | None], bool]  # mask these asked ids' values in the chunk's
    # events (None: all of them, as an earlier chunk is missing); True if anything changed
    canonical: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # events with every value
    # this guard could mask masked: a retry and the stored chunk are compared that way


@dataclass(frozen=True)
class ChunkWrite:
    """One chunk for `append_chunks`, with what the sender says about its session."""

    session_id: str
    seq: int
    events: list[dict[str, Any]]
    site: str = ""
    user_agent: str = ""
    viewport: tuple[int, int] | None = None
    raw_json: str | None = None  # the events' JSON text as received, if the caller has it
    max_events: int = 0  # caps on the whole session (0: none), checked in the write transaction
    max_raw_bytes: int = 0
    guard: FieldGuard | None = None


SESSION_SORTS = {"started": "first_ts", "duration": "duration_ms", "events": "n_events"}


@dataclass
class SessionFilter:
    """What the session list narrows to; everything unset matches every session."""

    url: str | None = None  # some pageview's URL contains this text
    since_ms: int | None = None  # started at or after (epoch ms)
    until_ms: int | None = None  # started before (epoch ms)
    device: str | None = None  # desktop / tablet / mobile
    viewport: tuple[int, int] | None = None  # exact width x height
    properties: dict[str, str] = field(default_factory=dict)  # all must match, as strings
    goals: tuple[Goal, ...] = ()  # when given, `converted` in `properties` is answered by these
    rage: bool = False  # has at least one rage click (indexed sessions only)
    dead: bool = False  # has at least one dead click (indexed sessions only)
    min_duration_ms: int | None = None


@dataclass
class SessionPage:
    """One page of the session list, with opaque cursors to the pages beside it."""

    sessions: list[dict[str, Any]]
    next_cursor: str | None
    prev_cursor: str | None


def _encode_cursor(value: Any, session_id: str) -> str:
    raw = json.dumps([value, session_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[Any, str]:
    """(sort value, session id) from a cursor; StoreError for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, session_id = json.loads(raw)
    except Exception:
        raise StoreError("not a page cursor") from None
    if not isinstance(session_id, str) or isinstance(value, bool) or not isinstance(value, int) \
            or not -2**63 <= value < 2**63:  # past SQLite's integers: not one of ours
        raise StoreError("not a page cursor")
    return value, session_id


URL_RARE_SHARE = 0.01  # below this share of pageviews, a URL filter starts from the pageviews


def _filter_sql(filters: SessionFilter, url_share: float | None = None) -> tuple[list[str], list[Any]]:
    """WHERE terms (ANDed) and their parameters for a session filter over `sessions s`.

    `url_share` (the share of pageviews whose URL matches) picks the plan for the URL filter: a
    common URL is checked session by session in list order, which stops as soon as a page is full;
    a rare one starts from the few matching pageviews instead of probing every session.
    """
    terms = ["s.first_ts IS NOT NULL"]  # a session that sent no event yet has nothing to show
    params: list[Any] = []
    if filters.url:
        if url_share is not None and url_share < URL_RARE_SHARE:
            terms.append("s.id IN (SELECT p.session_id FROM pageviews p WHERE instr(p.url, ?) > 0)")
            params.append(filters.url)
        else:
            terms.append("EXISTS (SELECT 1 FROM pageviews p WHERE p.session_id = s.id"
                         " AND instr(p.url, ?) > 0)")
            params.append(filters.url)
    if filters.since_ms is not None:
        terms.append("s.first_ts >= ?")
        params.append(int(filters.since_ms))
    if filters.until_ms is not None:
        terms.append("s.first_ts < ?")
        params.append(int(filters.until_ms))
    if filters.device:
        terms.append("s.device = ?")
        params.append(filters.device)
    if filters.viewport:
        terms.append("s.viewport_w = ? AND s.viewport_h = ?")
        params += [int(filters.viewport[0]), int(filters.viewport[1])]
    property_sql, property_params = property_terms(filters.properties, filters.goals)
    terms += property_sql
    params += property_params
    if filters.rage:
        terms.append("EXISTS (SELECT 1 FROM hits h WHERE h.session_id = s.id AND h.rage = 1)")
    if filters.dead:
        terms.append("EXISTS (SELECT 1 FROM hits h WHERE h.session_id = s.id AND h.dead = 1)")
    if filters.min_duration_ms:
        terms.append("s.duration_ms >= ?")
        params.append(int(filters.min_duration_ms))
    return terms, params


def _properties(raw: str | None) -> dict[str, Any]:
    """A session's stored properties; a damaged value reads as none rather than failing a page."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _event_name(payload: Any) -> str | None:
    """The name of a custom event a page fired (a `TAG_ANNOTATION` payload), if it has one."""
    name = payload.get("name") if isinstance(payload, dict) else None
    return name if isinstance(name, str) and name else None


def _named_events(events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(epoch ms, name) of each custom event a page fired among `events` (what event goals match)."""
    named = []
    for event in events:
        data = event.get("data") if event.get("type") == EventType.CUSTOM else None
        name = _event_name(data.get("payload")) if isinstance(data, dict) and data.get("tag") == TAG_ANNOTATION else None
        if name:
            named.append((int(event["timestamp"]), name))
    return named


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lowercased as browsers compare origins; '' for a bare path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""


def day_ms(day: str, *, end: bool = False) -> int:
    """Where a YYYY-MM-DD day starts (UTC, epoch ms), or with `end` where the next one starts: the
    bounds of a date filter whose since and until days are both inclusive. ValueError if no date."""
    d = date.fromisoformat(day)
    start = datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000
    return int(start + (86_400_000 if end else 0))


def _new_site_key() -> str:
    return "shk_" + secrets.token_urlsafe(18)


def new_session_id() -> str:
    """Never starting with "-": an id is typed as a command-line argument (`sessionheat export ID`),
    where it would be taken for an option."""
    while True:
        session_id = secrets.token_urlsafe(12)
        if not session_id.startswith("-"):
            return session_id


def _iso(ts_ms: float | None) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class EncodedChunk:
    codec: str
    data: bytes
    raw_size: int  # bytes of the events as JSON, before anything was taken out
    blobs: dict[str, str]  # hash -> long string, to store once in the blobs table


def _extract_blobs(value: Any, blobs: dict[str, str]) -> Any:
    if isinstance(value, str):
        if len(value) < BLOB_MIN_CHARS:
            return value
        try:
            digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 blob can hold it, so it stays inline
            return value
        blobs[digest] = value
        return {BLOB_REF: digest}
    if isinstance(value, list):
        return [_extract_blobs(v, blobs) for v in value]
    if isinstance(value, dict):
        out = {k: _extract_blobs(v, blobs) for k, v in value.items()}
        return {BLOB_LITERAL: out} if len(value) == 1 and (BLOB_REF in value or BLOB_LITERAL in value) else out
    return value


def _extract_blobs_text(raw: str, blobs: dict[str, str]) -> str:
    """The JSON text `raw` with each long string value swapped for a blob reference, as
    `_extract_blobs` does to the parsed events. Walking every value of a recorder's batch cost
    about 0.1 s per MB, on the core the recorded page needs; this reads only the long strings.
    Keys are left alone (the walker does not move them), and a string is measured decoded.
    The caller checks first that no recorded object looks like a reference."""
    parts = _blank_escapes(raw).split('"')  # odd parts: strings (keys too), at the same places in raw
    if len(parts) % 2 == 0:
        raise ValueError("unterminated string")
    long = list(compress(range(1, len(parts), 2), map(BLOB_MIN_CHARS.__le__, map(len, parts[1::2]))))
    if not long:
        return raw
    ends = list(accumulate(map(len, parts)))  # part i spans ends[i-1] + i .. ends[i] + i
    out: list[str] = []
    last = 0
    for i in long:
        start, end = ends[i - 1] + i - 1, ends[i] + i  # its opening and closing quote
        if parts[i + 1].lstrip().startswith(":"):  # a key: the walker leaves keys alone
            continue
        value = json.loads(raw[start:end + 1])
        if len(value) < BLOB_MIN_CHARS:  # long only escaped
            continue
        try:
            digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:  # a lone surrogate stays inline, as in _extract_blobs
            continue
        blobs[digest] = value
        out += [raw[last:start], '{"', BLOB_REF, '":"', digest, '"}']
        last = end + 1
    out.append(raw[last:])
    return "".join(out)


def _restore_blobs(value: Any, lookup: Any) -> Any:
    """`value` with every blob reference replaced by its string, changed in place (it was just
    decoded): rebuilding every list and dict of a session's events cost more than reading it."""
    if isinstance(value, dict) and len(value) == 1:
        if BLOB_REF in value:
            return lookup(value[BLOB_REF])
        if BLOB_LITERAL in value:
            value = value[BLOB_LITERAL]
            for k, v in value.items():
                if isinstance(v, (dict, list)):
                    value[k] = _restore_blobs(v, lookup)
            return value
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                value[k] = _restore_blobs(v, lookup)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list)):
                value[i] = _restore_blobs(v, lookup)
    return value


def _blank_escapes(raw: str) -> str:
    """JSON text with escaped backslashes and quotes blanked to same-length filler: what lies
    between two quotes of the result is one string's text, at the same place in `raw`."""
    return raw.replace("\\\\", "__").replace('\\"', "__")


def _utf8(text: str, value: Any) -> bytes:
    """`text` (the JSON of `value`) as UTF-8. A lone surrogate (a page can hold broken text) cannot
    be UTF-8: then the JSON is written with \\u escapes instead, which read back the same."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def encode_events(events: list[dict[str, Any]], raw_json: str | None = None) -> EncodedChunk:
    """Compress a chunk. Long strings (the site's inlined CSS, repeated in every page's snapshot
    and every visitor's session) go to the blobs table once; that is most of what a session weighs.

    `raw_json` is the events' JSON text when the caller has it (the collector keeps what it
    received), which spares dumping the events again.
    """
    raw = _json(events) if raw_json is None else raw_json
    raw_bytes = _utf8(raw, events)
    blobs: dict[str, str] = {}
    if BLOB_REF not in raw and BLOB_LITERAL not in raw:  # nothing recorded looks like a reference
        try:
            body = _extract_blobs_text(raw, blobs)
            if not blobs:
                return EncodedChunk(CODEC, zlib.compress(raw_bytes, 6), len(raw_bytes), {})
            return EncodedChunk(CODEC_BLOBS, zlib.compress(body.encode("utf-8"), 6), len(raw_bytes), blobs)
        except (UnicodeEncodeError, ValueError):  # a lone surrogate kept inline, text that is not JSON
            blobs = {}
    body = _extract_blobs(events, blobs)
    return EncodedChunk(CODEC_BLOBS, zlib.compress(_utf8(_json(body), body), 6), len(raw_bytes), blobs)


# A blob reference as `encode_events` writes it. In JSON text this can only be an object (a quote
# inside a string is escaped), so where no escaped literal is about, swapping each for its string's
# JSON before parsing is exact, and cheaper than walking every event afterwards.
_BLOB_REF_TEXT = re.compile(rb'\{\s*"' + re.escape(BLOB_REF.encode()) + rb'"\s*:\s*"([0-9a-f]{64})"\s*\}')
_BLOB_LITERAL_TEXT = f'"{BLOB_LITERAL}"'.encode()


def decode_chunk(codec: str, data: bytes, blob: Any = None) -> list[dict[str, Any]]:
    """Events of a stored chunk; `blob(hash) -> str` resolves strings moved to the blobs table."""
    if codec not in (CODEC, CODEC_BLOBS):
        raise ValueError(f"unknown codec {codec!r}")
    raw = zlib.decompress(data)
    if codec == CODEC:
        events = json_text.loads(raw)
    elif blob is None:
        raise ValueError("this chunk needs the blobs table to decode")
    elif _BLOB_LITERAL_TEXT not in raw:
        inlined = _BLOB_REF_TEXT.sub(lambda m: json_text.dumps(blob(m.group(1).decode("ascii"))), raw)
        events = json_text.loads(inlined)
    else:
        events = _restore_blobs(json_text.loads(raw), blob)
    if not isinstance(events, list):
        raise ValueError("chunk does not hold a list of events")
    return events


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
    conn: sqlite3.Connection, session_id: str, site: str, user_agent: str,
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


class SessionStore:
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
        self._migrate(conn)
        before_named_events = self._needs_named_events(conn)
        conn.executescript(_TABLES)
        if before_named_events:
            self._backfill_named_events(conn)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """Bring a store written by an older version up to this schema (new columns, with defaults)."""
        site_columns = {row[1] for row in conn.execute("PRAGMA table_info(sites)")}
        if site_columns and "record_inputs" not in site_columns:  # version 2: no per-site policy
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ALTER TABLE sites ADD COLUMN record_inputs INTEGER NOT NULL DEFAULT 0")
            conn.execute("ALTER TABLE sites ADD COLUMN max_session_events INTEGER")
            conn.execute("ALTER TABLE sites ADD COLUMN max_session_bytes INTEGER")
            conn.execute("COMMIT")
        if site_columns and "remember_visitors" not in site_columns:  # version 3: no visitor notes
            conn.execute("ALTER TABLE sites ADD COLUMN remember_visitors INTEGER NOT NULL DEFAULT 0")
        hit_columns = {row[1] for row in conn.execute("PRAGMA table_info(hits)")}
        if hit_columns and "state_key" not in hit_columns:  # hits that knew no page state
            conn.execute("BEGIN IMMEDIATE")
            for column in ("state_key", "state_label", "state_kind", "container_key"):
                conn.execute(f"ALTER TABLE hits ADD COLUMN {column} TEXT")
            conn.execute("COMMIT")
        if hit_columns and "key_context" not in hit_columns:  # hits indexed before key contexts
            conn.execute("ALTER TABLE hits ADD COLUMN key_context TEXT")  # `index --rebuild` fills it
        columns = {row[1] for row in conn.execute("PRAGMA table_info(pageviews)")}
        if columns and "page_path" not in columns:  # version 1: pages matched by scanning URLs
            conn.create_function("sessionheat_page_path", 1, page_path, deterministic=True)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ALTER TABLE pageviews ADD COLUMN page_path TEXT")
            conn.execute("UPDATE pageviews SET page_path = sessionheat_page_path(url)")
            conn.execute("COMMIT")

    @staticmethod
    def _needs_named_events(conn: sqlite3.Connection) -> bool:
        """A store written before event goals: it has sessions, but no record of their custom events."""
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return "chunks" in tables and "named_events" not in tables

    def _backfill_named_events(self, conn: sqlite3.Connection) -> None:
        """Note the custom events of every stored chunk, once, so event goals see older sessions too."""
        conn.execute("BEGIN IMMEDIATE")
        for session_id, codec, data in conn.execute("SELECT session_id, codec, data FROM chunks").fetchall():
            try:
                events = decode_chunk(codec, data, self._blob)
            except ValueError:
                continue
            note_named_events(conn, session_id, _named_events(events))
        conn.execute("COMMIT")

    # -- plumbing -------------------------------------------------------------------------------

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

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    def __enter__(self) -> "SessionStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------

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
        with self._write() as conn:
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
        with self._write() as conn:
            return [self._append(conn, write, chunk) for write, chunk in zip(writes, encoded)]

    def _append(self, conn: sqlite3.Connection, write: ChunkWrite,
                encoded: EncodedChunk | None) -> ChunkOutcome:
        session = conn.execute("SELECT site, n_events, n_raw_bytes FROM sessions WHERE id = ?",
                               (write.session_id,)).fetchone()
        if session is not None and session[0] != write.site:
            return ChunkOutcome.FOREIGN
        stored = session and conn.execute("SELECT codec, data FROM chunks WHERE session_id = ? AND seq = ?",
                                          (write.session_id, write.seq)).fetchone()
        if stored:
            return ChunkOutcome.DUPLICATE if self._same_chunk(stored, write) else ChunkOutcome.CONFLICT
        if encoded is None:
            assert write.guard is not None
            changed = write.guard.mask(self._masked_of_asked(conn, write))
            encoded = encode_events(write.events, None if changed else write.raw_json)
        n_events, n_raw_bytes = session[1:] if session else (0, 0)
        if write.max_events and n_events + len(write.events) > write.max_events:
            return ChunkOutcome.OVER_EVENTS
        if write.max_raw_bytes and n_raw_bytes + encoded.raw_size > write.max_raw_bytes:
            return ChunkOutcome.OVER_BYTES
        _insert_session(conn, write.session_id, write.site, write.user_agent, write.viewport)
        self._insert_chunk(conn, write.session_id, write.seq, write.events, encoded)
        if write.guard and write.guard.declared:
            conn.execute("INSERT OR IGNORE INTO masked_nodes (session_id, node_id)"
                         " SELECT ?, value FROM json_each(?)",
                         (write.session_id, json.dumps(sorted(write.guard.declared))))
        self._fold_into_session(conn, write.session_id, write.events, encoded)
        return ChunkOutcome.STORED

    def _same_chunk(self, stored: tuple[str, bytes], write: ChunkWrite) -> bool:
        """Whether the stored chunk holds `write`'s events: a retry. Values the guard may have
        masked differently since (its session knew less or more then) are compared masked."""
        try:
            events = decode_chunk(stored[0], stored[1], self._blob)
        except ValueError:  # a damaged stored chunk: never overwritten, so a conflict
            return False
        if events == write.events:
            return True
        if write.guard is None or not write.guard.asked:
            return False
        write.guard.mask(None)
        return write.guard.canonical(events) == write.events

    @staticmethod
    def _masked_of_asked(conn: sqlite3.Connection, write: ChunkWrite) -> frozenset[int] | None:
        """Which ids the chunk asks about its session masks; None (mask them all) while an earlier
        chunk is missing, since that one may hold the declaration."""
        assert write.guard is not None
        earlier = conn.execute("SELECT COUNT(*) FROM chunks WHERE session_id = ? AND seq < ?",
                               (write.session_id, write.seq)).fetchone()[0]
        if earlier < write.seq:
            return None
        rows = conn.execute("SELECT node_id FROM masked_nodes WHERE session_id = ? AND node_id IN"
                            " (SELECT value FROM json_each(?))",
                            (write.session_id, json.dumps(sorted(write.guard.asked)))).fetchall()
        return frozenset(row[0] for row in rows)

    def _insert_chunk(self, conn: sqlite3.Connection, session_id: str, seq: int,
                      events: list[dict[str, Any]], encoded: EncodedChunk) -> bool:
        stamps = [e["timestamp"] for e in events]
        cur = conn.execute(
            "INSERT OR IGNORE INTO chunks (session_id, seq, t_first, t_last, n_events, codec, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, seq, int(min(stamps)), int(max(stamps)), len(events), encoded.codec,
             encoded.data),
        )
        if cur.rowcount == 0:
            return False
        for digest, text in encoded.blobs.items():
            conn.execute("INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)",
                         (digest, zlib.compress(text.encode("utf-8"), 6)))
        return True

    def _fold_into_session(
        self, conn: sqlite3.Connection, session_id: str, events: list[dict[str, Any]],
        encoded: EncodedChunk,
    ) -> None:
        row = conn.execute(
            "SELECT first_ts, last_ts, properties, viewport_w, entry_url, user_agent, site FROM sessions"
            " WHERE id = ?", (session_id,),
        ).fetchone()
        first_ts, last_ts, props_json, viewport_w, entry_url, user_agent, site = row
        stamps = [e["timestamp"] for e in events]
        first_ts = int(min(stamps) if first_ts is None else min(first_ts, min(stamps)))
        last_ts = int(max(stamps) if last_ts is None else max(last_ts, max(stamps)))
        try:
            properties = json.loads(props_json)
            assert isinstance(properties, dict)
        except Exception:  # a damaged row must not stop new data
            properties = {}

        marks: list[tuple[int, str, int | None, int | None]] = []  # (ts, url, w, h)
        named: list[tuple[int, str]] = []  # (ts, name) of custom events fired: see _named_events
        for event in events:
            etype, data = event["type"], event.get("data") or {}
            if etype == EventType.META:
                marks.append((int(event["timestamp"]), data["href"], int(data["width"]), int(data["height"])))
            elif etype == EventType.CUSTOM:
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
        conn.execute(
            "UPDATE sessions SET first_ts = ?, last_ts = ?, started_at = ?, ended_at = ?,"
            " duration_ms = ?, properties = ?, n_events = n_events + ?, n_chunks = n_chunks + 1,"
            " n_bytes = n_bytes + ?, n_raw_bytes = n_raw_bytes + ? WHERE id = ?",
            (first_ts, last_ts, _iso(first_ts), _iso(last_ts), last_ts - first_ts,
             json.dumps(properties, sort_keys=True), len(events), len(encoded.data), encoded.raw_size,
             session_id),
        )
        self._rebuild_pageviews(conn, session_id, marks, first_ts, last_ts)
        note_named_events(conn, session_id, named)
        # `converted` can change only with a new page or custom event, and never back from yes
        # (set_goals redoes every session when the goals change).
        if properties.get(CONVERTED) != "yes" and (named or marks or CONVERTED not in properties):
            goals = site_goals(conn, site)
            if goals:
                refresh_converted(conn, site, goals, session_id)

    def _rebuild_pageviews(
        self, conn: sqlite3.Connection, session_id: str,
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
        if self.get_session(session_id) is not None:
            return session_id, False
        self.create_session(session_id, site=site, properties=properties)
        with self._write() as conn:
            for seq, start in enumerate(range(0, len(events), IMPORT_CHUNK_EVENTS)):
                batch = events[start:start + IMPORT_CHUNK_EVENTS]
                encoded = encode_events(batch)
                self._insert_chunk(conn, session_id, seq, batch, encoded)
                self._fold_into_session(conn, session_id, batch, encoded)
        return session_id, True

    def set_properties(self, session_id: str, properties: dict[str, Any]) -> None:
        with self._write() as conn:
            row = conn.execute("SELECT properties FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise KeyError(session_id)
            merged = {**json.loads(row[0] or "{}"), **properties}
            conn.execute("UPDATE sessions SET properties = ? WHERE id = ?",
                         (json.dumps(merged, sort_keys=True), session_id))

    def delete_session(self, session_id: str) -> bool:
        """Remove a session and all that was derived from it (False: there was none). Blobs stay:
        other sessions may share them."""
        derived = [name for name in self.db.table_names()  # every table keyed by a session: one
                   if name != "sessions" and "session_id" in self.db[name].columns_dict]  # added later too
        with self._write() as conn:
            for table in derived:
                conn.execute(f"DELETE FROM [{table}] WHERE session_id = ?", (session_id,))
            return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

    def next_seq(self, session_id: str) -> int:
        row = self.db.conn.execute(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM chunks WHERE session_id = ?", (session_id,)
        ).fetchone()
        return int(row[0])

    # -- reading --------------------------------------------------------------------------------

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        rows = list(self._session_rows("WHERE s.id = ?", (session_id,)))
        return rows[0] if rows else None

    def list_sessions(self, *, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
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
        terms, params = _filter_sql(filters, self._url_share(filters.url))
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
        with self._lock:
            cur = self.db.conn.execute(sql, [*params, limit + 1])
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur.fetchall()]
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            rows.reverse()
        for row in rows:
            row["properties"] = _properties(row["properties"])
        key = SESSION_SORTS[sort]
        first = _encode_cursor(rows[0][key], rows[0]["id"]) if rows else None
        last = _encode_cursor(rows[-1][key], rows[-1]["id"]) if rows else None
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
        terms, params = _filter_sql(filters, self._url_share(filters.url))
        sql = f"SELECT 1 FROM sessions s WHERE {' AND '.join(terms)} LIMIT ?"
        deadline = None if budget_ms is None else time.perf_counter() + budget_ms / 1000
        n = 0
        with self._lock:
            conn = self.db.conn
            if deadline is not None:
                conn.set_progress_handler(lambda: int(time.perf_counter() > deadline), 2000)
            try:
                for _ in conn.execute(sql, [*params, cap + 1]):
                    n += 1
            except sqlite3.OperationalError as exc:
                if "interrupt" not in str(exc):
                    raise
                return n, False
            finally:
                conn.set_progress_handler(None, 0)
        return n, n <= cap

    def _url_share(self, url: str | None) -> float | None:
        """Share of pageviews whose URL contains `url` (one scan of the URL index), remembered
        for a few seconds, since the list asks for the page and its count together."""
        if not url:
            return None
        now = time.monotonic()
        remembered = self._url_shares.get(url)
        if remembered and now - remembered[0] < 10:
            return remembered[1]
        with self._lock:
            total, hits = self.db.conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(instr(url, ?) > 0), 0)"
                " FROM pageviews INDEXED BY pageviews_url", (url,)).fetchone()
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
        with self._lock:
            return [(int(w), int(h), int(n)) for w, h, n in self.db.conn.execute(sql, (limit,))]

    def session_flags(self, session_id: str) -> dict[str, Any]:
        """Whether a session was indexed (and from how many events), and its rage / dead hits."""
        with self._lock:
            row = self.db.conn.execute(
                "SELECT n_events, indexed_at, problem FROM indexed WHERE session_id = ?", (session_id,)
            ).fetchone()
            cur = self.db.conn.execute(
                "SELECT pageview, t, kind, node_id, label, selector, rage, dead FROM hits"
                f" WHERE session_id = ? AND kind IN ({', '.join('?' * len(POINTER_ACTION_KINDS))})"
                " ORDER BY t", (session_id, *POINTER_ACTION_KINDS))
            names = [d[0] for d in cur.description]
            clicks = [dict(zip(names, r)) for r in cur.fetchall()]
        if row is None:
            return {"indexed": False, "clicks": []}
        return {"indexed": True, "indexed_events": row[0], "indexed_at": row[1],
                "problem": row[2], "clicks": clicks}

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
        hit_cols = self.HIT_COLUMNS
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
                "INSERT OR REPLACE INTO indexed (session_id, n_events, indexed_at, problem)"
                " SELECT id, n_events, ?, NULL FROM sessions WHERE id = ?",
                ((now, session_id) for session_id in indexed))

    def _session_rows(self, clause: str, params: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
        sql = (
            "SELECT s.*, (SELECT COUNT(*) FROM pageviews p WHERE p.session_id = s.id) AS n_pageviews"
            f" FROM sessions s {clause}"
        )
        with self._lock:
            cur = self.db.conn.execute(sql, params)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        for row in rows:
            record = dict(zip(names, row))
            record["properties"] = _properties(record["properties"])
            yield record

    def pageviews(self, session_id: str) -> list[dict[str, Any]]:
        return list(self.db.query(
            'SELECT * FROM pageviews WHERE session_id = ? ORDER BY "index"', [session_id]
        ))

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
        if self.get_session(session_id) is None:
            raise KeyError(f"no session {session_id!r}")
        with self._lock:
            rows = self.db.conn.execute(
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

    def _blob(self, digest: str) -> str:
        row = self.db.conn.execute("SELECT data FROM blobs WHERE hash = ?", (digest,)).fetchone()
        if row is None:
            raise ValueError(f"blob {digest[:12]}… is missing")
        return zlib.decompress(row[0]).decode("utf-8")

    def export_events(self, session_id: str) -> str:
        """The session's events as a JSON array, as rrweb-player and other rrweb tools load it
        (`read_events(...).to_json()`: with the problems that cut it short, if any)."""
        return self.read_events(session_id).to_json()

    def storage_stats(self) -> dict[str, int]:
        """What the store holds against what it was sent: events, raw JSON bytes, stored bytes."""
        conn = self.db.conn
        events, raw = conn.execute(
            "SELECT COALESCE(SUM(n_events), 0), COALESCE(SUM(n_raw_bytes), 0) FROM sessions").fetchone()
        chunk_bytes = conn.execute("SELECT COALESCE(SUM(length(data)), 0) FROM chunks").fetchone()[0]
        blob_bytes = conn.execute("SELECT COALESCE(SUM(length(data)), 0) FROM blobs").fetchone()[0]
        return {"events": events, "raw_bytes": raw, "chunk_bytes": chunk_bytes,
                "blob_bytes": blob_bytes, "stored_bytes": chunk_bytes + blob_bytes}

    def chunk_rows(self, session_id: str) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT seq, t_first, t_last, n_events, codec, length(data) AS n_bytes FROM chunks"
            " WHERE session_id = ? ORDER BY seq", [session_id]
        ))

    # -- hits (derived) -------------------------------------------------------------------------

    HIT_COLUMNS = (
        "session_id", "pageview", "t", "kind", "node_id", "element_key", "selector", "label", "tag",
        "interactive", "rage", "dead", "x", "y", "rel_x", "rel_y", "box_x", "box_y", "box_w",
        "box_h", "doc_w", "doc_h", "viewport_w", "viewport_h", "scroll_y", "dwell_ms", "key_context",
        *("state_key", "state_label", "state_kind", "container_key"),  # the page's state at the hit
    )

    def replace_hits(self, session_id: str, hits: Iterable[dict[str, Any]], *, n_events: int,
                     problem: str | None = None) -> int:
        """Swap a session's hits for freshly resolved ones, in one transaction."""
        cols = self.HIT_COLUMNS
        flags = ("interactive", "rage", "dead")
        rows = [tuple(session_id if c == "session_id" else int(bool(h.get(c))) if c in flags else h.get(c)
                      for c in cols) for h in hits]
        with self._write() as conn:
            conn.execute("DELETE FROM hits WHERE session_id = ?", (session_id,))
            conn.executemany(
                f"INSERT INTO hits ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
            conn.execute(
                "INSERT OR REPLACE INTO indexed (session_id, n_events, indexed_at, problem)"
                " VALUES (?, ?, ?, ?)", (session_id, n_events, _now_iso(), problem))
        return len(rows)

    def sessions_to_index(self, *, rebuild: bool = False) -> list[str]:
        """Sessions never indexed, or that received events since (oldest first)."""
        if rebuild:
            sql = "SELECT id FROM sessions WHERE n_events > 0 ORDER BY first_ts"
        else:
            sql = ("SELECT s.id FROM sessions s LEFT JOIN indexed i ON i.session_id = s.id"
                   " WHERE s.n_events > 0 AND (i.n_events IS NULL OR i.n_events < s.n_events)"
                   " ORDER BY s.first_ts")
        with self._lock:
            return [r[0] for r in self.db.conn.execute(sql)]

    def hits(self, pageviews: Iterable[tuple[str, int]], kinds: Iterable[str] | None = None
             ) -> list[dict[str, Any]]:
        """Hits of the given (session_id, pageview index) pairs, in time order."""
        pairs = list(pageviews)
        if not pairs:
            return []
        kind_list = list(kinds) if kinds is not None else None
        out: list[dict[str, Any]] = []
        with self._lock:
            self.db.conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (session_id TEXT, pageview INT)")
            self.db.conn.execute("DELETE FROM wanted")
            self.db.conn.executemany("INSERT INTO wanted VALUES (?, ?)", pairs)
            sql = ("SELECT h.* FROM hits h JOIN wanted w ON w.session_id = h.session_id"
                   " AND w.pageview = h.pageview")
            params: list[Any] = []
            if kind_list is not None:
                sql += f" WHERE h.kind IN ({', '.join('?' * len(kind_list))})"
                params = kind_list
            cur = self.db.conn.execute(sql + " ORDER BY h.session_id, h.t", params)
            names = [d[0] for d in cur.description]
            out = [dict(zip(names, row)) for row in cur]
        return out

    def hit_key_contexts(self, pageviews: Iterable[tuple[str, int]]) -> list[str]:
        """The distinct `key_context` values (JSON, see heatmap/keys.py) of these (session_id,
        pageview) pairs' hits: what a map weighs whether an id is stable on."""
        pairs = list(pageviews)
        if not pairs:
            return []
        with self._lock:
            self.db.conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (session_id TEXT, pageview INT)")
            self.db.conn.execute("DELETE FROM wanted")
            self.db.conn.executemany("INSERT INTO wanted VALUES (?, ?)", pairs)
            return [r[0] for r in self.db.conn.execute(
                "SELECT DISTINCT h.key_context FROM hits h JOIN wanted w ON w.session_id = h.session_id"
                " AND w.pageview = h.pageview WHERE h.key_context IS NOT NULL")]

    def find_pageviews(
        self, *, device: str | None = None, viewport_w: tuple[int, int] | None = None,
        since_ms: int | None = None, until_ms: int | None = None,
        properties: dict[str, str] | None = None, path: str | None = None, goals: tuple[Goal, ...] = (),
    ) -> list[dict[str, Any]]:
        """Pageviews joined with their session's segment columns.

        `viewport_w` is an inclusive (min, max) width range; `since_ms`/`until_ms` bound the
        session start (epoch ms); `properties` must all match (as strings; `converted` by `goals`
        when given, see plumbing/conversions.py); `path` keeps the pageviews whose `page_path` is
        `page_path(path)` (hosts are the caller's to compare).
        """
        sql = ["SELECT p.*, s.device, s.viewport_w AS session_viewport_w, s.viewport_h AS"
               " session_viewport_h, s.first_ts, s.started_at, s.properties FROM pageviews p"
               " JOIN sessions s ON s.id = p.session_id WHERE 1"]
        params: list[Any] = []
        if path is not None:
            sql.append("AND p.page_path = ?")
            params.append(page_path(path))
        if device:
            sql.append("AND s.device = ?")
            params.append(device)
        if viewport_w:
            sql.append("AND p.width BETWEEN ? AND ?")
            params += list(viewport_w)
        if since_ms is not None:
            sql.append("AND s.first_ts >= ?")
            params.append(since_ms)
        if until_ms is not None:
            sql.append("AND s.first_ts < ?")
            params.append(until_ms)
        property_sql, property_params = property_terms(properties or {}, goals)
        sql += [f"AND {term}" for term in property_sql]
        params += property_params
        with self._lock:
            cur = self.db.conn.execute(" ".join(sql) + ' ORDER BY s.first_ts, p."index"', params)
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur]
        for row in rows:
            row["properties"] = _properties(row["properties"])
        return rows

    # -- sites (collector keys) -----------------------------------------------------------------

    def set_wal_autocheckpoint(self, pages: int) -> None:
        """How many WAL pages a commit may leave before it checkpoints itself (0: never; SQLite's
        default is 1000). The collector sets 0 and checkpoints from another connection, so no
        acknowledgement waits for a checkpoint's fsyncs."""
        with self._lock:
            self.db.conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

    def list_sites(self) -> list[dict[str, Any]]:
        """Every site with its key, allowed origins and policy (the collector caches this)."""
        with self._lock:
            cur = self.db.conn.execute(
                "SELECT name, key, origins, created_at, record_inputs, max_session_events,"
                " max_session_bytes, remember_visitors,"
                " (SELECT json_group_array(goal) FROM goals g WHERE g.site = sites.name)"
                " FROM sites ORDER BY name")
            rows = cur.fetchall()
        return [{"name": name, "key": key, "origins": json.loads(origins), "created_at": created,
                 "record_inputs": bool(record_inputs), "max_session_events": max_events,
                 "max_session_bytes": max_bytes, "remember_visitors": bool(remember),
                 "goals": sorted(json.loads(goals))}
                for name, key, origins, created, record_inputs, max_events, max_bytes, remember, goals in rows]

    def site_origins(self) -> dict[str, list[str]]:
        """Each registered site's name with the origins it may send from (`*`: any)."""
        return {site["name"]: site["origins"] for site in self.list_sites()}

    def add_site(self, name: str, origins: Iterable[str], **policy: Any) -> str:
        """Register a site allowed to send events; returns its new key. `policy`: see `set_site`.

        A session's site tells a replay how far to trust it (`plumbing.addresses.vouched_origins`):
        `record()` stores an origin, `import_events` "import", the Python API "". A collector site
        is named otherwise, so its sessions can never pass for one of those trusted paths.
        """
        if not name or "://" in name or name == "import":
            raise StoreError(f"{name!r} cannot name a site: it must be non-empty, not \"import\", "
                             "and not contain \"://\" (those mark sessions recorded or imported here)")
        key = _new_site_key()
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM sites WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"a site named {name!r} already exists")
            conn.execute(
                "INSERT INTO sites (name, key, origins, created_at) VALUES (?, ?, ?, ?)",
                (name, key, json.dumps(sorted(set(origins))), _now_iso()),
            )
            self._set_policy(conn, name, policy)
        return key

    def set_site(self, name: str, **policy: Any) -> None:
        """Change a site's policy: `record_inputs` and `remember_visitors` (bool),
        `max_session_events` and `max_session_bytes` (an int, 0 for no cap, None for the
        collector's default)."""
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM sites WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"no site named {name!r}")
            self._set_policy(conn, name, policy)

    @staticmethod
    def _set_policy(conn: sqlite3.Connection, name: str, policy: dict[str, Any]) -> None:
        unknown = policy.keys() - set(SITE_POLICY)
        if unknown:
            raise StoreError(f"unknown site setting {sorted(unknown)[0]!r}")
        for column, value in policy.items():  # column names come from SITE_POLICY only
            conn.execute(f"UPDATE sites SET {column} = ? WHERE name = ?",
                         (int(value) if value is not None else None, name))

    def remove_site(self, name: str) -> int:
        """Stop accepting a site's key; its sessions stay. Returns how many sessions it has here."""
        with self._write() as conn:
            if conn.execute("DELETE FROM sites WHERE name = ?", (name,)).rowcount == 0:
                raise StoreError(f"no site named {name!r}")
            conn.execute("DELETE FROM goals WHERE site = ?", (name,))  # its sessions keep `converted`
            return conn.execute("SELECT COUNT(*) FROM sessions WHERE site = ?", (name,)).fetchone()[0]

    def rotate_site_key(self, name: str) -> str:
        """Give a site a new key (the old one, leaked or shared too widely, is refused from now on)."""
        key = _new_site_key()
        with self._write() as conn:
            if conn.execute("UPDATE sites SET key = ? WHERE name = ?", (key, name)).rowcount == 0:
                raise StoreError(f"no site named {name!r}")
        return key

    # -- goals (plumbing/conversions.py) --------------------------------------------------------

    def set_goals(self, site: str, goals: Iterable[Goal]) -> None:
        """Name a site's goals (replacing those it had; none: it names none), and write `converted`
        into every session of that site by them, those recorded before included. `site` is what
        the sessions store: a collector site's name, or the origin `record()` stores."""
        with self._write() as conn:
            conn.execute("DELETE FROM goals WHERE site = ?", (site,))
            conn.executemany("INSERT OR IGNORE INTO goals (site, goal) VALUES (?, ?)",
                             [(site, str(goal)) for goal in goals])
            refresh_converted(conn, site, site_goals(conn, site))

    def goals(self, site: str) -> tuple[Goal, ...]:
        with self._lock:
            return site_goals(self.db.conn, site)

    def conversion(self, session_id: str, goals: Iterable[Goal] | None = None) -> tuple[int, Goal] | None:
        """When (epoch ms) the session first reached a goal (`goals`, else its site's), and which."""
        with self._lock:
            conn = self.db.conn
            if goals is None:
                row = conn.execute("SELECT site FROM sessions WHERE id = ?", (session_id,)).fetchone()
                goals = site_goals(conn, row[0]) if row else ()
            return first_conversion(conn, session_id, tuple(goals))

    # -- heatmap explorer (web UI) --------------------------------------------------------------

    def page_counts(self) -> list[tuple[str, int]]:
        """Every page (`page_path`) with its number of pageviews, read from the page-path index."""
        with self._lock:
            return [(path, n) for path, n in self.db.conn.execute(
                "SELECT page_path, COUNT(*) FROM pageviews GROUP BY page_path")]

    def index_marks(self, session_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """(events indexed, when) per session that has been indexed: what a cached heatmap of
        these sessions was drawn from, so a newly indexed session shows it is stale."""
        ids = list(dict.fromkeys(session_ids))
        marks: dict[str, tuple[int, str]] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                batch = ids[start:start + 500]
                cur = self.db.conn.execute(
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
        with self._lock:
            cur = self.db.conn.execute(
                "SELECT session_id, pageview, t, kind, label, tag, rage, dead FROM hits"
                f" WHERE element_key = ? AND kind IN ({', '.join('?' * len(kind_list))})"
                " ORDER BY session_id, t", [element_key, *kind_list])
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur]
        return [r for r in rows if (r["session_id"], r["pageview"]) in wanted]

    def change_marker(self) -> tuple[int, int]:
        """A value that differs whenever anything in the store changed since it was last taken:
        writes through this store (total changes) or any other connection (`data_version`).
        Lets a reader keep what it derived until the data moves, without re-reading it."""
        with self._lock:
            conn = self.db.conn
            return int(conn.execute("PRAGMA data_version").fetchone()[0]), int(conn.total_changes)

    def recent_properties(self, limit: int = 2000) -> list[dict[str, Any]]:
        """The properties of the newest `limit` sessions: what segments people are likely to ask
        for, read from an index, however large the store."""
        with self._lock:
            rows = self.db.conn.execute(
                "SELECT properties FROM sessions ORDER BY first_ts DESC LIMIT ?", (limit,)).fetchall()
        return [_properties(raw) for (raw,) in rows]

    # -- the team: users, API tokens, logins (policy lives in sessionheat/web/auth.py) ----------

    def setting(self, name: str, make: Any) -> str:
        """A server-wide value (the cookie-signing secret), made by `make()` on first use and then
        shared by every process on this store, so restarts and sibling processes agree."""
        with self._write() as conn:
            row = conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
            if row is not None:
                return str(row[0])
            value = str(make())
            conn.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, value))
            return value

    def add_user(self, name: str, role: str, password_hash: str | None) -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"a user named {name!r} already exists")
            conn.execute("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                         (name, role, password_hash, _now_iso()))

    def get_user(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.db.conn.execute(
                "SELECT name, role, password_hash, created_at FROM users WHERE name = ?", (name,)).fetchone()
        return dict(zip(("name", "role", "password_hash", "created_at"), row)) if row else None

    def list_users(self) -> list[dict[str, Any]]:
        """Every user with its role and how many API tokens it holds (never a secret)."""
        with self._lock:
            rows = self.db.conn.execute(
                "SELECT u.name, u.role, u.password_hash IS NOT NULL, u.created_at,"
                " (SELECT COUNT(*) FROM api_tokens t WHERE t.user = u.name) FROM users u ORDER BY u.name"
            ).fetchall()
        return [{"name": n, "role": r, "password": bool(p), "created_at": c, "tokens": t}
                for n, r, p, c, t in rows]

    def count_users(self) -> int:
        with self._lock:
            return int(self.db.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def update_user(self, name: str, *, password_hash: str | None = None, role: str | None = None) -> None:
        """Change a user's password or role; either way its logins end (a changed password must
        lock out whoever had the old one)."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
                raise StoreError(f"no user named {name!r}")
            if password_hash is not None:
                conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))
            if role is not None:
                conn.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))
            conn.execute("DELETE FROM logins WHERE user = ?", (name,))

    def remove_user(self, name: str) -> None:
        """A user, its API tokens and its logins, gone at once."""
        with self._write() as conn:
            if conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise StoreError(f"no user named {name!r}")
            conn.execute("DELETE FROM api_tokens WHERE user = ?", (name,))
            conn.execute("DELETE FROM logins WHERE user = ?", (name,))

    def add_api_token(self, user: str, token_hash: str, label: str = "") -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (user,)).fetchone() is None:
                raise StoreError(f"no user named {user!r}")
            conn.execute("INSERT INTO api_tokens (hash, user, label, created_at) VALUES (?, ?, ?, ?)",
                         (token_hash, user, label, _now_iso()))

    def revoke_api_tokens(self, user: str) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM api_tokens WHERE user = ?", (user,)).rowcount

    def user_for_api_token(self, token_hash: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.db.conn.execute(
                "SELECT u.name, u.role FROM api_tokens t JOIN users u ON u.name = t.user WHERE t.hash = ?",
                (token_hash,)).fetchone()
        return {"name": row[0], "role": row[1]} if row else None

    def add_login(self, login_hash: str, user: str, expires_at: int) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM logins WHERE expires_at < ?", (int(time.time()),))
            conn.execute("INSERT INTO logins (hash, user, expires_at, created_at) VALUES (?, ?, ?, ?)",
                         (login_hash, user, expires_at, _now_iso()))

    def login(self, login_hash: str) -> dict[str, Any] | None:
        """The login's user and role while it lasts (user '' is the one-time link's admin)."""
        with self._lock:
            row = self.db.conn.execute(
                "SELECT l.user, l.expires_at, u.role FROM logins l LEFT JOIN users u ON u.name = l.user"
                " WHERE l.hash = ?", (login_hash,)).fetchone()
        if row is None or row[1] < time.time() or (row[0] and row[2] is None):
            return None
        return {"user": row[0], "role": row[2] or "admin", "expires_at": row[1]}

    def end_login(self, login_hash: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM logins WHERE hash = ?", (login_hash,))

