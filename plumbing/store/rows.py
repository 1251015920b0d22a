"""Typed values the store takes and gives: chunk writes and outcomes, read results, errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Self


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


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True, eq=False)
class Row(Mapping[str, Any]):
    """The store's typed rows: read their fields (`row.site`). Each is also a read-only mapping of
    the same names (`row["site"]`, `row.get(...)`, `dict(row)`, equal to a dict of them), for
    code written when rows were dicts."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The field names, in order (what `dict(row)` holds)."""
        known = _FIELD_NAMES.get(cls)
        if known is None:
            known = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
        return known

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], **given: Any) -> Self:
        """From a row read by name, with `given` values instead of the columns' (a parsed JSON
        column, say); columns the class lacks (a newer schema's) are left out."""
        return cls(**{name: columns[name] for name in cls.names() if name in columns and name not in given},
                   **given)

    def __getitem__(self, key: str) -> Any:
        if key not in self.names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())


@dataclass(frozen=True, eq=False)
class SessionRow(Row):
    """A recorded session as the store summarises it (`get_session`, `list_sessions`)."""

    id: str
    site: str = ""
    started_at: str | None = None  # ISO time of the first event
    ended_at: str | None = None
    duration_ms: int | None = None
    first_ts: int | None = None  # epoch ms of the first event
    last_ts: int | None = None
    user_agent: str = ""
    device: str | None = None  # desktop / tablet / mobile (plumbing.devices)
    viewport_w: int | None = None
    viewport_h: int | None = None
    entry_url: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    n_events: int = 0
    n_chunks: int = 0
    n_bytes: int = 0  # as stored (compressed, deduplicated)
    n_raw_bytes: int = 0  # as the recorder sent them
    created_at: str | None = None
    n_pageviews: int = 0


@dataclass(frozen=True, eq=False)
class PageviewRow(Row):
    """One page a session showed (`pageviews`): where, from when to when, at what size."""

    session_id: str
    index: int  # its place in the session, from 0
    url: str
    ts_start: int  # epoch ms
    t_start: int  # ms since the session's first event
    t_end: int
    width: int | None = None
    height: int | None = None
    page_path: str | None = None  # what page the URL shows (plumbing.page_paths)


@dataclass(frozen=True, eq=False)
class ListedSession(SessionRow):
    """A row of the session list (`query_sessions`): the session and what the list shows beside it."""

    n_rage: int = 0  # rage and dead clicks found by indexing
    n_dead: int = 0
    indexed_events: int | None = None  # events the index covered; None: not indexed
    index_problem: str | None = None


@dataclass
class SessionPage:
    """One page of the session list, with opaque cursors to the pages beside it."""

    sessions: list[ListedSession]
    next_cursor: str | None
    prev_cursor: str | None
