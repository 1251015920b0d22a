"""The tables, and the migrations that bring an older store up to them."""

from __future__ import annotations

import re
import sqlite3
import zlib

from plumbing.conversions import (
    note_named_events,
)
from plumbing.page_paths import page_path
from plumbing.sql_dialect import SqlConnection
from plumbing.store.codec import (
    _named_events,
    decode_chunk,
)

SCHEMA_VERSION = 3


TABLES = """
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
    "user" TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logins (
    hash TEXT PRIMARY KEY,                    -- sha256 of the login id the cookie carries
    "user" TEXT NOT NULL,                     -- '' for the one-time local link's admin
    expires_at INTEGER NOT NULL,              -- epoch s
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Replay assets (plumbing/store/replay_assets.py): bodies by content, and which URL of which
-- site answered with which body, so a replay anywhere reads them from the store.
CREATE TABLE IF NOT EXISTS assets (
    hash TEXT PRIMARY KEY,                    -- sha256 of the body
    encoding TEXT NOT NULL DEFAULT '',        -- '' as fetched, or zlib
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS asset_urls (
    site TEXT NOT NULL,                       -- the sessions' `site`: each site's answers apart
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,                    -- JSON object
    hash TEXT NOT NULL REFERENCES assets (hash),
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (site, url)
);
CREATE INDEX IF NOT EXISTS asset_urls_by_hash ON asset_urls (hash);
-- Per session, the rrweb node ids whose values the site's masking policy hides (form fields, or
-- only password fields), so a value sent in a later chunk than its field is still masked.
CREATE TABLE IF NOT EXISTS masked_nodes (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    node_id INTEGER NOT NULL,
    PRIMARY KEY (session_id, node_id)
) WITHOUT ROWID;
"""



# The store's own tables keyed by a session (delete_session, prune and migrate act on them), read
# from the schema above: never whatever else shares the database and has a `session_id` column.
SESSION_TABLES: tuple[str, ...] = tuple(
    match.group(1) for statement in re.split(r"(?=CREATE )", TABLES)
    if (match := re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", statement)) and match.group(1) != "sessions"
    and re.search(r"^\s*session_id\s", statement, re.M))


def postgres_tables() -> str:
    """The same tables in PostgreSQL's types: epoch ms need 64 bits, REAL is single precision
    there, BLOB is BYTEA, and a session's properties are JSONB (a JSON object, nothing else)."""
    text = TABLES.replace("WITHOUT ROWID", "")
    text = text.replace("properties TEXT NOT NULL DEFAULT '{}'", "properties JSONB NOT NULL DEFAULT '{}'")
    text = re.sub(r"\bINTEGER\b", "BIGINT", text)
    text = re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)
    return re.sub(r"\bBLOB\b", "BYTEA", text)


# Writing a session's index mark over an older one, in both dialects.
INDEXED_UPSERT = (" ON CONFLICT (session_id) DO UPDATE SET n_events = excluded.n_events,"
                  " indexed_at = excluded.indexed_at, problem = excluded.problem")

# The hits table's columns in the order writers give them.
HIT_COLUMNS = (
    "session_id", "pageview", "t", "kind", "node_id", "element_key", "selector", "label", "tag",
    "interactive", "rage", "dead", "x", "y", "rel_x", "rel_y", "box_x", "box_y", "box_w",
    "box_h", "doc_w", "doc_h", "viewport_w", "viewport_h", "scroll_y", "dwell_ms", "key_context",
    *("state_key", "state_label", "state_kind", "container_key"),  # the page's state at the hit
)


def migrate(conn: sqlite3.Connection) -> None:
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


def needs_named_events(conn: sqlite3.Connection) -> bool:
    """A store written before event goals: it has sessions, but no record of their custom events."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return "chunks" in tables and "named_events" not in tables


def blob_text(conn: SqlConnection, digest: str) -> str:
    """A string the codec moved to the blobs table; ValueError if it is not there."""
    row = conn.execute("SELECT data FROM blobs WHERE hash = ?", (digest,)).fetchone()
    if row is None:
        raise ValueError(f"blob {digest[:12]}… is missing")
    return zlib.decompress(row[0]).decode("utf-8")


def backfill_named_events(conn: SqlConnection) -> None:
    """Note the custom events of every stored chunk, once, so event goals see older sessions too
    (SQLite only: no PostgreSQL store predates event goals)."""
    conn.execute("BEGIN IMMEDIATE")
    for session_id, codec, data in conn.execute("SELECT session_id, codec, data FROM chunks").fetchall():
        try:
            events = decode_chunk(codec, data, lambda digest: blob_text(conn, digest))
        except ValueError:
            continue
        note_named_events(conn, session_id, _named_events(events))
    conn.execute("COMMIT")
