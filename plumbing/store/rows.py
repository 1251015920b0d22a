"""Typed values the store takes and gives: chunk writes and outcomes, read results, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


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


@dataclass
class SessionPage:
    """One page of the session list, with opaque cursors to the pages beside it."""

    sessions: list[dict[str, Any]]
    next_cursor: str | None
    prev_cursor: str | None
