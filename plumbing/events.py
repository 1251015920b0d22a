"""The rrweb event vocabulary and the shape checks every way in (import, collector) shares.

Numbers are rrweb 2.x's (`@rrweb/types`); our own custom-event tags are words of
`plumbing.vocabulary`, so the recorder, the store, the replay and the heatmap agree on them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, TypeGuard

from plumbing.vocabulary import CLICK, CONTEXTMENU, DBLCLICK, TAP


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


# Our word for each pointer action rrweb records (see vocabulary.POINTER_ACTION_KINDS).
POINTER_ACTIONS: dict[int, str] = {
    MouseInteraction.CLICK: CLICK,
    MouseInteraction.DBL_CLICK: DBLCLICK,
    MouseInteraction.CONTEXT_MENU: CONTEXTMENU,
    MouseInteraction.TOUCH_START: TAP,
}


# A timestamp outside these bounds (epoch ms, 2000..2100) is not a recording, it is an error.
MIN_TIMESTAMP_MS = 946_684_800_000
MAX_TIMESTAMP_MS = 4_102_444_800_000


EVENT_KEYS = frozenset({"type", "timestamp", "data", "delay"})  # `delay` is added by rrweb's Replayer
MAX_TAG_LENGTH = 200
MAX_PAGE_SIZE_PX = 1_000_000


_NUMBER_TYPES = frozenset({int, float})
# Plain ints and sets of ints: the collector checks every event of every chunk (these run millions
# of times a minute under load), and an enum member costs an attribute lookup each time.
_EVENT_TYPES = frozenset(map(int, EventType))
_SOURCES = frozenset(map(int, IncrementalSource))
_MOUSE_INTERACTIONS = frozenset(map(int, MouseInteraction))
_MOVE_SOURCES = frozenset({int(IncrementalSource.MOUSE_MOVE), int(IncrementalSource.TOUCH_MOVE),
                           int(IncrementalSource.DRAG)})
_INCREMENTAL, _META, _FULL = int(EventType.INCREMENTAL_SNAPSHOT), int(EventType.META), int(EventType.FULL_SNAPSHOT)
_CUSTOM, _PLUGIN = int(EventType.CUSTOM), int(EventType.PLUGIN)
_NO_DATA_NEEDED = frozenset({int(EventType.DOM_CONTENT_LOADED), int(EventType.LOAD)})
_POSITION_RULE = "each data.positions entry needs numeric x, y, timeOffset and an integer id"
# Exact type tests (JSON yields plain int/float/bool), inlined where a loop runs them per value.


def _is_int(value: Any) -> TypeGuard[int]:
    return type(value) is int


def _is_number(value: Any) -> TypeGuard[int | float]:
    return type(value) in _NUMBER_TYPES and value - value == 0  # false for inf and nan


def _moves_problem(data: dict[str, Any]) -> str | None:
    positions = data.get("positions")
    if type(positions) is not list:
        return "a move event needs a data.positions array"
    numbers = _NUMBER_TYPES
    for p in positions:
        if type(p) is not dict or type(p.get("id")) is not int:
            return _POSITION_RULE
        x: Any = p.get("x")
        y: Any = p.get("y")
        offset: Any = p.get("timeOffset")
        if not (type(x) in numbers and type(y) in numbers and type(offset) in numbers
                and x - x == 0 and y - y == 0 and offset - offset == 0):
            return _POSITION_RULE
    return None


def _mouse_interaction_problem(data: dict[str, Any]) -> str | None:
    if not _is_int(data.get("type")) or data["type"] not in _MOUSE_INTERACTIONS:
        return "a mouse interaction needs a known integer data.type"
    if not _is_int(data.get("id")):
        return "a mouse interaction needs an integer data.id"
    for key in ("x", "y"):  # absent (or null) for focus and blur
        if data.get(key) is not None and not _is_number(data[key]):
            return f"a mouse interaction's data.{key} must be a number"
    return None


def _scroll_problem(data: dict[str, Any]) -> str | None:
    if not (_is_int(data.get("id")) and _is_number(data.get("x")) and _is_number(data.get("y"))):
        return "a scroll event needs an integer data.id and numeric data.x, data.y"
    return None


def _viewport_resize_problem(data: dict[str, Any]) -> str | None:
    if not (_is_number(data.get("width")) and _is_number(data.get("height"))):
        return "a viewport resize needs numeric data.width and data.height"
    return None


def _input_problem(data: dict[str, Any]) -> str | None:
    if not _is_int(data.get("id")):
        return "an input event needs an integer data.id"
    if "text" in data and not isinstance(data["text"], str):
        return "an input event's data.text must be a string"
    if "isChecked" in data and not isinstance(data["isChecked"], bool):
        return "an input event's data.isChecked must be a boolean"
    return None


def _mutation_problem(data: dict[str, Any]) -> str | None:
    for key in ("adds", "removes", "texts", "attributes"):
        items = data.get(key)
        if not isinstance(items, list):
            return f"a mutation needs a data.{key} array"
        for item in items:
            if type(item) is not dict:
                return f"each data.{key} entry of a mutation must be an object"
    return None


# Strict shapes for the sources replay and the heatmap read; the others need only be objects.
_SOURCE_PROBLEMS = {
    int(IncrementalSource.MOUSE_MOVE): _moves_problem,
    int(IncrementalSource.TOUCH_MOVE): _moves_problem,
    int(IncrementalSource.DRAG): _moves_problem,
    int(IncrementalSource.MOUSE_INTERACTION): _mouse_interaction_problem,
    int(IncrementalSource.SCROLL): _scroll_problem,
    int(IncrementalSource.VIEWPORT_RESIZE): _viewport_resize_problem,
    int(IncrementalSource.INPUT): _input_problem,
    int(IncrementalSource.MUTATION): _mutation_problem,
}


def _incremental_problem(data: dict[str, Any]) -> str | None:
    source = data.get("source")
    if type(source) is not int:
        return "an IncrementalSnapshot event needs an integer data.source"
    if source not in _SOURCES:
        return f"unknown incremental source {source}"
    check = _SOURCE_PROBLEMS.get(source)
    return None if check is None else check(data)


def event_problem(event: Any) -> str | None:
    """Why `event` is not an rrweb event we can store, or None if it is one.

    Checked before anything is written, so a refused batch leaves the store untouched. Strict on
    what replay and the heatmap read (a stored event must never crash them), lenient elsewhere.
    """
    if not isinstance(event, dict):
        return f"an event must be a JSON object, not {type(event).__name__}"
    if not EVENT_KEYS.issuperset(event):
        return f"unexpected event field {sorted(map(str, event.keys() - EVENT_KEYS))[0]!r}"
    etype = event.get("type")
    if type(etype) is not int:
        return "an event needs an integer 'type'"
    if etype not in _EVENT_TYPES:
        return f"unknown event type {etype}"
    ts: Any = event.get("timestamp")
    if not (type(ts) in _NUMBER_TYPES and ts - ts == 0):
        return "an event needs a numeric 'timestamp' (ms since the epoch)"
    if not MIN_TIMESTAMP_MS <= ts <= MAX_TIMESTAMP_MS:
        return f"timestamp {ts} is not a plausible epoch time in ms"
    if "delay" in event and not _is_number(event["delay"]):
        return "an event's 'delay' must be a number"
    data = event.get("data")
    if etype == _INCREMENTAL:  # most events
        return _incremental_problem(data) if isinstance(data, dict) else f"event type {etype} needs a 'data' object"
    if etype in _NO_DATA_NEEDED:
        return None if data is None or isinstance(data, dict) else "'data' must be an object"
    if not isinstance(data, dict):
        return f"event type {etype} needs a 'data' object"
    if etype == _META:
        if not isinstance(data.get("href"), str):
            return "a Meta event needs data.href"
        for key in ("width", "height"):
            if not _is_number(data.get(key)) or not 0 <= data[key] <= MAX_PAGE_SIZE_PX:
                return f"a Meta event needs a numeric data.{key} from 0 to {MAX_PAGE_SIZE_PX}"
    elif etype == _FULL:
        node = data.get("node")
        if not isinstance(node, dict) or not _is_int(node.get("id")) or not _is_int(node.get("type")):
            return "a FullSnapshot event needs data.node with integer id and type"
        offset = data.get("initialOffset")
        if offset is not None and not (isinstance(offset, dict) and _is_number(offset.get("left"))
                                       and _is_number(offset.get("top"))):
            return "a FullSnapshot's data.initialOffset needs numeric left and top"
    elif etype == _CUSTOM:
        tag = data.get("tag")
        if not isinstance(tag, str) or not 0 < len(tag) <= MAX_TAG_LENGTH:
            return f"a Custom event needs a string data.tag of 1 to {MAX_TAG_LENGTH} characters"
    elif etype == _PLUGIN:
        if not isinstance(data.get("plugin"), str):
            return "a Plugin event needs a string data.plugin"
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
