"""A session's events as JSON text, written a few hundred events at a time.

One `json.dumps` over a large session (tens of MB) is one C call that holds the GIL from start to
end, so even from a worker thread it stalled the event loop, and every other request, for the
whole of it. Pieces of `PIECE_EVENTS` events each take about a millisecond, between which the
loop gets its turn; streamed as they are made, the whole text is never held in memory at once.
Freeing such a session is the same story (70 ms in one call for 30 MB): `release` does it in steps.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from plumbing import json_text
from plumbing.events import EventType

PIECE_EVENTS = 300


def _piece(events: list[dict[str, Any]]) -> bytes:
    """Compact JSON of `events` without its brackets, as UTF-8. A lone surrogate (a page can hold
    broken text) has no UTF-8 form: such a piece is written with \\u escapes, which read back the same."""
    text = json.dumps(events, separators=(",", ":"), ensure_ascii=False)[1:-1]
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(events, separators=(",", ":"))[1:-1].encode("ascii")


def json_pieces(events: list[dict[str, Any]]) -> Iterator[bytes]:
    """The events as one JSON array, in pieces: joined, they are byte for byte what
    `json.dumps(events, separators=(",", ":"), ensure_ascii=False)` writes (as UTF-8)."""
    yield b"["
    for start in range(0, len(events), PIECE_EVENTS):
        yield (b"," if start else b"") + _piece(events[start:start + PIECE_EVENTS])
    yield b"]"


_gc_pauses = 0
_gc_pause_lock = threading.Lock()
_gc_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a whole session is read, looked at and `release`d.

    Building the events of a large session, each young collection moved thousands of new objects
    up, and every 50th walked up to a million of them: 100-200 ms with the GIL held, a stall for
    every request. Objects freed by `release` never reach the collector; nested and concurrent
    pauses count, and the last one out switches collection back on."""
    global _gc_pauses, _gc_was_enabled
    with _gc_pause_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_pause_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def release(events: list[Any]) -> None:
    """Empty `events` a slice at a time, so that freeing millions of objects never holds the GIL
    for longer than a slice takes."""
    while events:
        del events[-PIECE_EVENTS * 4:]


def script_safe(piece: bytes) -> bytes:
    """JSON text safe inside <script type="application/json">: recorded text cannot close the tag."""
    return piece.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")


@dataclass
class PackedEvents:
    """A session's events as JSON text for the player, packed chunk by chunk, with what the
    player document needs to know about them: its Meta events and its first and last moments."""

    pieces: list[bytes] = field(default_factory=list)  # script-safe JSON, one chunk each, no brackets
    metas: list[dict[str, Any]] = field(default_factory=list)
    first_ts: float | None = None
    last_ts: float | None = None

    @property
    def duration(self) -> int:
        return int(self.last_ts - self.first_ts) if self.first_ts is not None and self.last_ts is not None else 0

    def json_array(self) -> Iterator[bytes]:
        yield b"["
        for i, piece in enumerate(self.pieces):
            yield b"," + piece if i else piece
        yield b"]"


def pack_for_player(chunks: Iterable[list[dict[str, Any]]]) -> PackedEvents:
    """Pack each chunk as soon as it is decoded, so its objects die young: holding a whole large
    session as objects made the garbage collector walk them all, 100-200 ms at a time, with the
    GIL held. Each chunk is put in time order (the player sorts the whole again)."""
    packed = PackedEvents()
    for chunk in chunks:
        if not chunk:
            continue
        chunk.sort(key=lambda e: e["timestamp"])
        packed.metas += [e for e in chunk if e["type"] == EventType.META]
        first, last = chunk[0]["timestamp"], chunk[-1]["timestamp"]
        packed.first_ts = first if packed.first_ts is None else min(packed.first_ts, first)
        packed.last_ts = last if packed.last_ts is None else max(packed.last_ts, last)
        packed.pieces.append(script_safe(json_text.dumps(chunk)[1:-1]))
    return packed
