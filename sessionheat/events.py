"""The rrweb event vocabulary and the shape checks every way in (import, collector) shares.

Numbers are rrweb 2.x's (`@rrweb/types`); our own custom-event tags live here too, so the recorder,
the store and the heatmap agree on them.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any


class EventType(IntEnum):
    DOM_CONTENT_LOADED = 0
    LOAD = 1
    FULL_SNAPSHOT = 2
    INCREMENTAL_SNAPSHOT = 3
    META = 4
    CUSTOM = 5
    PLUGIN = 6


class IncrementalSource(IntEnum):
    MUTATION = 0
    MOUSE_MOVE = 1
    MOUSE_INTERACTION = 2
    SCROLL = 3
    VIEWPORT_RESIZE = 4
    INPUT = 5
    TOUCH_MOVE = 6
    MEDIA_INTERACTION = 7
    STYLE_SHEET_RULE = 8
    CANVAS_MUTATION = 9
    FONT = 10
    LOG = 11
    DRAG = 12
    STYLE_DECLARATION = 13
    SELECTION = 14
    ADOPTED_STYLE_SHEET = 15
    CUSTOM_ELEMENT = 16


class MouseInteraction(IntEnum):
    MOUSE_UP = 0
    MOUSE_DOWN = 1
    CLICK = 2
    CONTEXT_MENU = 3
    DBL_CLICK = 4
    FOCUS = 5
    BLUR = 6
    TOUCH_START = 7
    TOUCH_MOVE_DEPARTED = 8
    TOUCH_END = 9
    TOUCH_CANCEL = 10


# Custom-event tags (rrweb `{type: 5, data: {tag, payload}}`) written by our in-page code.
TAG_SET_PROPERTIES = "sessionheat.set"  # payload: {key: value}, merged into the session's properties
TAG_IDENTIFY = "sessionheat.identify"  # payload: {user_id, properties}
TAG_ROUTE = "sessionheat.route"  # payload: {href, kind: push|replace|pop}; push/pop start a pageview
TAG_ANNOTATION = "sessionheat.annotation"  # payload: {name, data}; marks a moment on the timeline
TAG_SCROLL = "sessionheat.scroll"  # payload: {x, y}: the window's scroll, when a click outran `scroll`
TAG_LIVE_CLICK = "sessionheat.click"  # payload: the live box of what a click hit (test evidence)

ROUTE_KINDS_STARTING_PAGEVIEW = frozenset({"push", "pop"})

# A timestamp outside these bounds (epoch ms, 2000..2100) is not a recording, it is an error.
MIN_TIMESTAMP_MS = 946_684_800_000
MAX_TIMESTAMP_MS = 4_102_444_800_000


def event_problem(event: Any) -> str | None:
    """Why `event` is not an rrweb event we can store, or None if it is one.

    Checked before anything is written, so a refused batch leaves the store untouched.
    """
    if not isinstance(event, dict):
        return f"an event must be a JSON object, not {type(event).__name__}"
    etype = event.get("type")
    if isinstance(etype, bool) or not isinstance(etype, int):
        return "an event needs an integer 'type'"
    if etype not in EventType._value2member_map_:
        return f"unknown event type {etype}"
    ts = event.get("timestamp")
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        return "an event needs a numeric 'timestamp' (ms since the epoch)"
    if not MIN_TIMESTAMP_MS <= ts <= MAX_TIMESTAMP_MS:
        return f"timestamp {ts} is not a plausible epoch time in ms"
    data = event.get("data")
    if etype in (EventType.DOM_CONTENT_LOADED, EventType.LOAD):
        return None if data is None or isinstance(data, dict) else "'data' must be an object"
    if not isinstance(data, dict):
        return f"event type {etype} needs a 'data' object"
    if etype == EventType.META:
        if not isinstance(data.get("href"), str):
            return "a Meta event needs data.href"
        for key in ("width", "height"):
            if isinstance(data.get(key), bool) or not isinstance(data.get(key), (int, float)):
                return f"a Meta event needs a numeric data.{key}"
    elif etype == EventType.FULL_SNAPSHOT:
        if not isinstance(data.get("node"), dict):
            return "a FullSnapshot event needs data.node"
    elif etype == EventType.INCREMENTAL_SNAPSHOT:
        source = data.get("source")
        if isinstance(source, bool) or not isinstance(source, int):
            return "an IncrementalSnapshot event needs an integer data.source"
    elif etype == EventType.CUSTOM:
        if not isinstance(data.get("tag"), str):
            return "a Custom event needs a string data.tag"
    return None


def events_problem(events: Any) -> str | None:
    """Why `events` is not a list of rrweb events, naming the first bad one, or None."""
    if not isinstance(events, list):
        return f"expected a JSON array of rrweb events, got {type(events).__name__}"
    for i, event in enumerate(events):
        problem = event_problem(event)
        if problem:
            return f"event {i}: {problem}"
    return None
