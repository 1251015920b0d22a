"""The session store: the only package that knows the schema.

Events are stored as compressed, append-only chunks and never rewritten; everything else (session
summary columns, pageviews, hits) is derived from them and can be rebuilt. Writing the same
`(session_id, seq)` twice is a no-op, so a client that retries never duplicates anything.

One module per concern: `schema` (tables, migrations), `codec` (chunks, blobs), `ingest`,
`queries` (the session list), `filters` (the one filter model), `reading` (events back out),
`hits`, `sites`, `team`, `bulk`, `replay_assets`, `retention` (prune), `moving` (copy_store); `backends` and
plumbing/sql_dialect.py hold what differs between SQLite and PostgreSQL; `SessionStore` is all of them on one connection.
"""

from __future__ import annotations

from pathlib import Path

from plumbing.page_paths import page_path
from plumbing.store.bulk import BulkLoading
from plumbing.store.codec import (
    BLOB_LITERAL,
    BLOB_MIN_CHARS,
    BLOB_REF,
    CODEC,
    CODEC_BLOBS,
    EncodedChunk,
    _extract_blobs,
    _extract_blobs_text,
    decode_chunk,
    encode_events,
)
from plumbing.store.filters import SESSION_SORTS, URL_RARE_SHARE, SessionFilter
from plumbing.store.formats import day_ms, new_session_id, origin_of
from plumbing.store.hits import HitQueries
from plumbing.store.ingest import IMPORT_CHUNK_EVENTS, Ingest
from plumbing.store.moving import CopyReport, copy_store
from plumbing.store.queries import SessionQueries
from plumbing.store.reading import EventReading
from plumbing.store.replay_assets import ReplayAssets
from plumbing.store.retention import PruneReport, Retention
from plumbing.store.rows import (
    ChunkOutcome,
    ChunkProblem,
    ChunkWrite,
    FieldGuard,
    ListedSession,
    PageviewRow,
    Row,
    SessionEvents,
    SessionPage,
    SessionRow,
    StoreError,
)
from plumbing.store.schema import SCHEMA_VERSION
from plumbing.store.sites import SITE_POLICY, SiteRegistry
from plumbing.store.team import TeamRegistry
from plumbing.vocabulary import SESSION_ID_RE


class SessionStore(Ingest, SessionQueries, EventReading, HitQueries, SiteRegistry, TeamRegistry, BulkLoading,
                   Retention, ReplayAssets):
    """A store of recorded sessions. Safe to share between threads of one process."""

    def __init__(self, location: str | Path):
        super().__init__(location)
        folder = self.path.with_name(self.path.name + ".assets")  # a SQLite store's, before assets moved in
        if self.backend_name == "sqlite" and folder.is_dir():
            self.adopt_asset_folder(folder)


__all__ = [
    "BLOB_LITERAL", "BLOB_MIN_CHARS", "BLOB_REF", "CODEC", "CODEC_BLOBS", "IMPORT_CHUNK_EVENTS",
    "SCHEMA_VERSION", "SESSION_ID_RE", "SESSION_SORTS", "SITE_POLICY", "URL_RARE_SHARE",
    "ChunkOutcome", "ChunkProblem", "ChunkWrite", "CopyReport", "EncodedChunk", "PruneReport", "FieldGuard", "ListedSession", "PageviewRow", "Row",
    "SessionEvents", "SessionFilter", "SessionPage", "SessionRow", "SessionStore", "StoreError", "_extract_blobs", "_extract_blobs_text",
    "copy_store", "day_ms", "decode_chunk", "encode_events", "new_session_id", "origin_of", "page_path",
]
