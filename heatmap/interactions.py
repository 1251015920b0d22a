"""Interactions read straight from a session's rrweb events: clicks, moves, scrolls, inputs.

Everything here comes from the event stream alone (no replay), so it is cheap; what needs the
layout (which element, where it was) is added by the index through the replay.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from plumbing.events import POINTER_ACTIONS, EventType, IncrementalSource
from plumbing.vocabulary import (
    CLICK,
    CLICK_KINDS,
    INPUT,
    MOVE,
    ROUTE_KINDS_STARTING_PAGEVIEW,
    SCROLL,
    TAG_ROUTE,
    TAG_SCROLL,
    TAG_TOP_LAYER,
)

# rrweb's codes of the pointer actions a click map counts (not a tap: see vocabulary.CLICK_KINDS)
CLICK_CODES = {code: kind for code, kind in POINTER_ACTIONS.items() if kind in CLICK_KINDS}
RAGE_MIN_CLICKS = 3
RAGE_WINDOW_MS = 1000
RAGE_RADIUS_PX = 30
DEAD_WINDOW_MS = 1000
MOVE_SAMPLE_MS = 100


@dataclass
class PageInteraction:
    """One thing the visitor did (a click, a move, a scroll, an input) as the events alone tell it,
    with the page's scroll and viewport at that moment: what the index resolves into a hit."""

    kind: str  # vocabulary.CLICK_KINDS, MOVE, SCROLL or INPUT
    pageview: int  # index into the session's pageviews
    t: int  # ms since the session's first event
    ts: float  # epoch ms
    node_id: int | None  # rrweb id of the target, meaningful within its pageview only
    x: float | None  # viewport px (clicks, moves)
    y: float | None
    scroll_x: float
    scroll_y: float
    viewport_w: int
    viewport_h: int
    rage: bool = False
    no_reaction: bool = False  # nothing changed after it: dead if the element is not a control

    @property
    def doc_x(self) -> float | None:
        return None if self.x is None else self.x + self.scroll_x

    @property
    def doc_y(self) -> float | None:
        return None if self.y is None else self.y + self.scroll_y


Interaction = PageInteraction  # the public name `heatmap.Interaction`


@dataclass
class _PageState:
    index: int = -1
    document_id: int | None = None
    scroll_x: float = 0.0
    scroll_y: float = 0.0
    width: int = 0
    height: int = 0


def extract_interactions(events: list[dict[str, Any]], *, move_sample_ms: int = MOVE_SAMPLE_MS
                         ) -> list[PageInteraction]:
    """Every interaction in time order, with the page's scroll and viewport at that moment.

    Pageviews are counted as the store counts them: a Meta event or a push/pop route change.
    """
    if not events:
        return []
    t0 = events[0]["timestamp"]
    page = _PageState()
    out: list[PageInteraction] = []
    last_move = -math.inf

    def make(kind: str, ts: float, node_id: int | None, x: float | None, y: float | None) -> PageInteraction:
        return PageInteraction(kind, page.index, int(round(ts - t0)), ts, node_id, x, y, page.scroll_x,
                           page.scroll_y, page.width, page.height)

    for event in events:
        etype, data, ts = event["type"], event.get("data") or {}, event["timestamp"]
        if etype == EventType.META:
            page = _PageState(page.index + 1, None, 0.0, 0.0, int(data["width"]), int(data["height"]))
        elif etype == EventType.FULL_SNAPSHOT:
            page.document_id = data["node"].get("id")
            offset = data.get("initialOffset") or {}
            page.scroll_x, page.scroll_y = offset.get("left", 0) or 0, offset.get("top", 0) or 0
        elif etype == EventType.CUSTOM and data.get("tag") == TAG_ROUTE:
            if (data.get("payload") or {}).get("kind") in ROUTE_KINDS_STARTING_PAGEVIEW:
                page.index += 1
        elif etype == EventType.CUSTOM and data.get("tag") == TAG_SCROLL:
            payload = data.get("payload") or {}
            page.scroll_x, page.scroll_y = payload.get("x", 0), payload.get("y", 0)
        elif etype == EventType.INCREMENTAL_SNAPSHOT:
            source = data.get("source")
            if source == IncrementalSource.MOUSE_INTERACTION and data.get("type") in CLICK_CODES:
                out.append(make(CLICK_CODES[data["type"]], ts, data.get("id"), data.get("x"), data.get("y")))
            elif source in (IncrementalSource.MOUSE_MOVE, IncrementalSource.TOUCH_MOVE):
                for pos in data.get("positions") or []:
                    at = ts + (pos.get("timeOffset") or 0)
                    if at - last_move >= move_sample_ms:
                        last_move = at
                        out.append(make(MOVE, at, pos.get("id"), pos.get("x"), pos.get("y")))
            elif source == IncrementalSource.SCROLL:
                if data.get("id") == page.document_id:
                    page.scroll_x, page.scroll_y = data.get("x", 0), data.get("y", 0)
                    out.append(make(SCROLL, ts, data.get("id"), None, None))
            elif source == IncrementalSource.VIEWPORT_RESIZE:
                page.width, page.height = int(data.get("width", page.width)), int(data.get("height", page.height))
            elif source == IncrementalSource.INPUT:
                out.append(make(INPUT, ts, data.get("id"), None, None))
    out.sort(key=lambda i: i.ts)
    flag_rage_clicks(out)
    flag_unanswered_clicks(out, events)
    return out


def _doc_point(click: PageInteraction) -> tuple[float, float]:
    x, y = click.doc_x, click.doc_y
    assert x is not None and y is not None, "only clicks with a position are compared"
    return x, y


def flag_rage_clicks(interactions: Iterable[PageInteraction]) -> None:
    """Rage: at least 3 clicks within 1 s, within a small radius, on one page."""
    clicks = [i for i in interactions if i.kind == CLICK and i.x is not None]
    for start, first in enumerate(clicks):
        burst = [first]
        for later in clicks[start + 1:]:
            if later.ts - first.ts > RAGE_WINDOW_MS or later.pageview != first.pageview:
                break
            if math.dist(_doc_point(first), _doc_point(later)) <= RAGE_RADIUS_PX:
                burst.append(later)
        if len(burst) >= RAGE_MIN_CLICKS:
            for click in burst:
                click.rage = True


def _is_reaction(event: dict[str, Any]) -> bool:
    etype, data = event["type"], event.get("data") or {}
    if etype in (EventType.META, EventType.FULL_SNAPSHOT):
        return True  # a navigation
    if etype == EventType.CUSTOM:  # a popover or dialog opening or closing changes no attribute rrweb sees
        return data.get("tag") in (TAG_ROUTE, TAG_TOP_LAYER)
    if etype == EventType.INCREMENTAL_SNAPSHOT:
        return data.get("source") in (IncrementalSource.MUTATION, IncrementalSource.INPUT,
                                      IncrementalSource.SCROLL, IncrementalSource.MEDIA_INTERACTION)
    return False


def flag_unanswered_clicks(interactions: Iterable[PageInteraction], events: list[dict[str, Any]]) -> None:
    """Mark clicks after which the page did nothing for a second: no DOM change, navigation,
    input or scroll. Whether that makes a dead click depends on the element (see the index)."""
    reactions = [e["timestamp"] for e in events if _is_reaction(e)]
    for click in interactions:
        if click.kind not in CLICK_KINDS:
            continue
        lo = bisect_right(reactions, click.ts)
        hi = bisect_left(reactions, click.ts + DEAD_WINDOW_MS)
        click.no_reaction = lo >= hi
