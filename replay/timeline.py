"""A session's events as a timeline: where to cut for a moment, what the visitor did, and when.

Pure Python, no browser: the replay page is told *which event index* to stop after, so moments that
share a millisecond (a click and the DOM changes its handler made) are told apart.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from plumbing.events import POINTER_ACTIONS, EventType, IncrementalSource
from plumbing.store import origin_of
from plumbing.vocabulary import TAG_IMAGE_LOAD, TAG_LIVE_CLICK

# rrweb throttles scroll events (100 ms by default, trailing): the position a click really had can
# arrive in the next scroll event, emitted just after the click.
SCROLL_THROTTLE_MS = 100


@dataclass(frozen=True)
class PointerAction:
    """A click, double click, context menu or tap on one element (vocabulary.POINTER_ACTION_KINDS),
    and where it is in the event stream: a moment a replay can cut at. `t` in ms since the
    session's first event."""

    t: int
    kind: str
    node_id: int
    x: float | None  # viewport px, as recorded
    y: float | None
    index: int  # position of the event in the session's events


Interaction = PointerAction  # the public name `replay.Interaction`


@dataclass(frozen=True)
class LiveClick:
    """Test evidence written by the recorder: the box a click's element had on the live page."""

    t: int
    node_id: int
    box: tuple[float, float, float, float]
    scroll: tuple[float, float]
    index: int


class Timeline:
    """Indexes over one session's sorted events."""

    def __init__(self, events: list[dict[str, Any]]):
        self.events = events
        self.t0 = events[0]["timestamp"] if events else 0
        self.times = [e["timestamp"] - self.t0 for e in events]
        self.fulls = [i for i, e in enumerate(events) if e["type"] == EventType.FULL_SNAPSHOT]
        # For each scroll event: the index of the previous scroll of the same node within the same
        # full snapshot (-1 if none), so `scroll_hints` looks only at the few events near a cut.
        self._prev_scroll: dict[int, int] = {}
        last: dict[int, int] = {}
        for i, e in enumerate(events):
            if e["type"] == EventType.FULL_SNAPSHOT:
                last = {}
            elif _is_scroll(e):
                sid = e["data"]["id"]
                self._prev_scroll[i] = last.get(sid, -1)
                last[sid] = i

    @property
    def duration(self) -> int:
        return int(self.times[-1]) if self.times else 0

    def replayable(self) -> bool:
        """A replay needs a full snapshot to build the first document from."""
        return bool(self.fulls)

    def cut_at(self, t: float) -> int:
        """Index of the last event at or before `t` (never before the first full snapshot)."""
        index = bisect.bisect_right(self.times, t) - 1
        return max(index, self.fulls[0]) if self.fulls else index

    def cut_for(self, t: float, node_id: int | None = None) -> int:
        """Where "the moment of the interaction at `t` with `node_id`" is in the event stream.

        An interaction's own handler changes the DOM within the same millisecond; the visitor saw
        the page as it was when the event fired. So if an event at `t` names `node_id` (a mouse
        interaction, or our click evidence), cut right after the first such event; otherwise after
        every event at `t`.
        """
        if node_id is not None:
            lo = bisect.bisect_left(self.times, t)
            hi = bisect.bisect_right(self.times, t)
            for i in range(lo, hi):
                if _names_node(self.events[i], node_id):
                    return max(i, self.fulls[0]) if self.fulls else i
        return self.cut_at(t)

    def scroll_hints(self, cut: int) -> dict[int, dict[str, float]]:
        """Scroll positions the visitor already had at `cut` but rrweb emitted only after it.

        A throttled scroll emission that follows its predecessor within the throttle window is a
        trailing one: the scrolling behind it began before the window closed. When such an emission
        lands within one window after the cut, its position is the better guess for the cut.
        """
        t = self.times[cut]
        hints: dict[int, dict[str, float]] = {}
        for i in range(cut + 1, len(self.events)):
            if self.times[i] - t > SCROLL_THROTTLE_MS + 20:
                break
            e = self.events[i]
            if e["type"] == EventType.FULL_SNAPSHOT:
                break
            if i not in self._prev_scroll:
                continue
            sid = e["data"]["id"]
            previous = self._prev_scroll[i]  # the last emission of `sid` at or before the cut
            while previous > cut:
                previous = self._prev_scroll[previous]
            if sid not in hints and previous >= 0 \
                    and self.times[i] - self.times[previous] <= SCROLL_THROTTLE_MS + 20:
                hints[sid] = {"x": e["data"]["x"], "y": e["data"]["y"]}
        return hints

    def interactions(self) -> list[PointerAction]:
        """Clicks, double clicks, context menus and taps, in order."""
        out = []
        for i, e in enumerate(self.events):
            if e["type"] != EventType.INCREMENTAL_SNAPSHOT:
                continue
            d = e["data"]
            if d.get("source") != IncrementalSource.MOUSE_INTERACTION:
                continue
            kind = POINTER_ACTIONS.get(d.get("type"))
            if kind is None or d.get("id", -1) < 0:
                continue
            out.append(PointerAction(int(self.times[i]), kind, d["id"], d.get("x"), d.get("y"), i))
        return out

    def live_clicks(self) -> list[LiveClick]:
        """The recorder's click evidence (sessions recorded with `evidence=True`)."""
        out = []
        for i, e in enumerate(self.events):
            if e["type"] == EventType.CUSTOM and e["data"].get("tag") == TAG_LIVE_CLICK:
                p = e["data"].get("payload") or {}
                if isinstance(p.get("id"), int) and isinstance(p.get("box"), list):
                    out.append(LiveClick(int(self.times[i]), p["id"], tuple(p["box"]),
                                         tuple(p.get("scroll") or (0, 0)), i))
        return out

    def pointer(self) -> list[tuple[float, float, float]]:
        """(t, x, y) of every recorded pointer position, in viewport px, by the time it was there."""
        track = []
        for i, e in enumerate(self.events):
            if e["type"] != EventType.INCREMENTAL_SNAPSHOT:
                continue
            d = e["data"]
            source = d.get("source")
            if source in (IncrementalSource.MOUSE_MOVE, IncrementalSource.TOUCH_MOVE,
                          IncrementalSource.DRAG):
                for p in d.get("positions") or []:
                    track.append((self.times[i] + p.get("timeOffset", 0), p["x"], p["y"]))
            elif source == IncrementalSource.MOUSE_INTERACTION and isinstance(d.get("x"), (int, float)):
                track.append((self.times[i], d["x"], d["y"]))
        track.sort(key=lambda p: p[0])
        return track

    def page_origins(self) -> set[str]:
        """The http(s) origins the recorded pages came from: all that a replay of them may fetch from."""
        return {origin_of(e["data"]["href"]) for e in self.events
                if e["type"] == EventType.META and e["data"]["href"].startswith(("http:", "https:"))}

    def activity_times(self) -> list[float]:
        """Times at which something visible happened (any event but a bare custom tag; an image
        arriving is visible)."""
        return [self.times[i] for i, e in enumerate(self.events)
                if e["type"] != EventType.CUSTOM or e["data"].get("tag") == TAG_IMAGE_LOAD]


def _is_scroll(event: dict[str, Any]) -> bool:
    return (event["type"] == EventType.INCREMENTAL_SNAPSHOT
            and event["data"].get("source") == IncrementalSource.SCROLL)


def _names_node(event: dict[str, Any], node_id: int) -> bool:
    d = event.get("data") or {}
    if event["type"] == EventType.INCREMENTAL_SNAPSHOT:
        return d.get("source") == IncrementalSource.MOUSE_INTERACTION and d.get("id") == node_id
    if event["type"] == EventType.CUSTOM and d.get("tag") == TAG_LIVE_CLICK:
        return (d.get("payload") or {}).get("id") == node_id
    return False
