"""What a visitor did in one session, as the entries of the session page's timeline.

Read from the session's rrweb events alone (cheap, no browser), with labels and rage / dead flags
from the hits table when the session has been indexed. Input values never appear here: they are
masked at record time, and the timeline only says *where* someone typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plumbing.events import POINTER_ACTIONS, EventType, IncrementalSource
from plumbing.vocabulary import (
    CLICK,
    CONTEXTMENU,
    DBLCLICK,
    ROUTE_KINDS_STARTING_PAGEVIEW,
    TAG_ANNOTATION,
    TAG_IDENTIFY,
    TAG_ROUTE,
    TAG_SET_PROPERTIES,
    TAP,
)

# How the timeline says each pointer action (vocabulary.POINTER_ACTION_KINDS): taps too, since a
# timeline tells what the visitor did, not what a click map counts.
ACTION_LABELS = {CLICK: "Click", DBLCLICK: "Double click", CONTEXTMENU: "Right click", TAP: "Tap"}
INPUT_MERGE_MS = 2000  # keystrokes into one field this close together are one "typed" entry
LABEL_CHARS = 60
SNAPSHOT_WAIT_MS = 3000  # a page's full snapshot follows its Meta event within this
ROUTE_RENDER_MS = 1000  # a route change's own DOM change follows its route event within this


@dataclass
class TimelineEntry:
    """One moment on the timeline: `t` in ms since the session's first event."""

    t: int
    kind: str  # pageview click rage dead input annotation conversion properties damage
    label: str
    detail: str = ""
    replayable: bool = True  # False past the damage: the player cannot go there
    url: str = ""  # a pageview's URL, shown wrapping at its separators

    @property
    def clock(self) -> str:
        return format_clock(self.t)


def format_clock(ms: int) -> str:
    """m:ss.s (or h:mm:ss), as a timeline reads."""
    seconds = max(0, ms) / 1000
    minutes, seconds = divmod(seconds, 60)
    if minutes >= 60:
        hours, minutes = divmod(int(minutes), 60)
        return f"{hours}:{minutes:02d}:{int(seconds):02d}"
    return f"{int(minutes)}:{seconds:04.1f}"


class _NodeIndex:
    """rrweb node ids to their serialized nodes, as of the events applied so far (one page load).

    Never changes the events themselves (they are also what the player is given): nodes added by
    mutations and text changes are kept beside them.
    """

    def __init__(self) -> None:
        self.nodes: dict[int, dict[str, Any]] = {}
        self.added: dict[int, list[dict[str, Any]]] = {}  # parent id -> children added later
        self.texts: dict[int, str] = {}  # text node id -> its changed text

    def reset(self, root: dict[str, Any]) -> None:
        self.nodes, self.added, self.texts = {}, {}, {}
        self.add(root)

    def add(self, node: dict[str, Any]) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, dict):
                if isinstance(n.get("id"), int):
                    self.nodes[n["id"]] = n
                stack.extend(n.get("childNodes") or [])

    def apply_mutation(self, data: dict[str, Any]) -> None:
        for add in data.get("adds") or []:
            node = add.get("node") if isinstance(add, dict) else None
            if isinstance(node, dict):
                self.add(node)
                if isinstance(add.get("parentId"), int):
                    self.added.setdefault(add["parentId"], []).append(node)
        for change in data.get("texts") or []:
            if isinstance(change, dict) and isinstance(change.get("id"), int):
                self.texts[change["id"]] = str(change.get("value") or "")

    def text_of(self, node: dict[str, Any], budget: int = 200) -> str:
        """The visible text under a node, trimmed, without scripts and styles."""
        parts: list[str] = []
        stack = [node]
        while stack and sum(map(len, parts)) <= budget:
            n = stack.pop()
            if not isinstance(n, dict):
                continue
            if n.get("type") == 3 and not n.get("isStyle"):
                parts.append(self.texts.get(n.get("id"), str(n.get("textContent") or "")))  # type: ignore[arg-type]
                continue
            if n.get("type") == 2 and str(n.get("tagName", "")).lower() in ("script", "style", "noscript"):
                continue
            children = [*(n.get("childNodes") or []), *self.added.get(n.get("id"), [])]  # type: ignore[arg-type]
            stack.extend(reversed(children))
        return " ".join(" ".join(parts).split())

    def describe(self, node_id: Any) -> str:
        """A short human name for an element: its text, or what names a field (never its value)."""
        node = self.nodes.get(node_id) if isinstance(node_id, int) else None
        if not node or node.get("type") != 2:
            return "an element"
        tag = str(node.get("tagName") or "element").lower()
        attrs = node.get("attributes") or {}
        name = ""
        for attr in ("aria-label", "data-testid", "name", "placeholder", "title", "alt", "id"):
            value = attrs.get(attr)
            if isinstance(value, str) and value.strip():
                name = value.strip()
                break
        if tag not in ("input", "textarea", "select"):
            name = self.text_of(node) or name
        if len(name) > LABEL_CHARS:
            name = name[: LABEL_CHARS - 1] + "…"
        return f"{tag} “{name}”" if name else tag


def _pageview_moments(events: list[dict[str, Any]], t0: int) -> dict[tuple[int, str | None], int]:
    """Where the player shows each pageview: (its start, its URL) -> the moment to jump to.

    A page load starts at its Meta event, but the page is only on screen from the full snapshot
    that follows it. A client-side route change (pushState / popstate) has no snapshot at all: it
    is on screen once the DOM change it made is applied, the first mutation after its route event
    (the recorder emits the route event inside pushState, before the page's own code renders).
    Moving a route change to the next snapshot put every tab of a page at the next page's load.
    """
    moments: dict[tuple[int, str | None], int] = {}
    for i, event in enumerate(events):
        etype, data = event.get("type"), event.get("data") or {}
        t = int(event["timestamp"] - t0)
        if etype == EventType.META:
            shown = _first_after(events, i, t0, SNAPSHOT_WAIT_MS, _is_snapshot, _is_meta)
            href = data.get("href") if isinstance(data.get("href"), str) else None
            moments[(t, href)] = moments[(t, None)] = t if shown is None else shown
        elif etype == EventType.CUSTOM and data.get("tag") == TAG_ROUTE:
            payload = data.get("payload")
            if not (isinstance(payload, dict) and payload.get("kind") in ROUTE_KINDS_STARTING_PAGEVIEW
                    and isinstance(payload.get("href"), str)):
                continue
            shown = _first_after(events, i, t0, ROUTE_RENDER_MS, _is_mutation, _ends_route_render)
            moments[(t, payload["href"])] = t if shown is None else shown
            moments.setdefault((t, None), moments[(t, payload["href"])])
    return moments


def _first_after(events: list[dict[str, Any]], i: int, t0: int, within_ms: int,
                 wanted: Any, stop: Any) -> int | None:
    """The time of the first event after events[i] that is `wanted`, unless `stop` comes first."""
    t_from = events[i]["timestamp"]
    for j in range(i + 1, len(events)):  # not a slice: a long SPA session has many route events
        event = events[j]
        if event["timestamp"] - t_from > within_ms or stop(event):
            return None
        if wanted(event):
            return int(event["timestamp"] - t0)
    return None


def _is_snapshot(event: dict[str, Any]) -> bool:
    return event.get("type") == EventType.FULL_SNAPSHOT


def _is_meta(event: dict[str, Any]) -> bool:
    return event.get("type") == EventType.META


def _is_mutation(event: dict[str, Any]) -> bool:
    return (event.get("type") == EventType.INCREMENTAL_SNAPSHOT
            and (event.get("data") or {}).get("source") == IncrementalSource.MUTATION)


def _ends_route_render(event: dict[str, Any]) -> bool:
    """A new page, another route change or a new click: what follows is no longer this render."""
    data = event.get("data") or {}
    return (event.get("type") in (EventType.META, EventType.FULL_SNAPSHOT)
            or (event.get("type") == EventType.CUSTOM and data.get("tag") == TAG_ROUTE)
            or (event.get("type") == EventType.INCREMENTAL_SNAPSHOT
                and data.get("source") == IncrementalSource.MOUSE_INTERACTION
                and data.get("type") in POINTER_ACTIONS))


def build_timeline(
    events: list[dict[str, Any]], pageviews: Sequence[Mapping[str, Any]],
    clicks_from_index: list[dict[str, Any]] | None = None, damage: str | None = None,
    conversion: tuple[int, str] | None = None,
) -> list[TimelineEntry]:
    """The session's timeline entries in time order.

    `clicks_from_index` are the session's click hits when it was indexed (their labels and rage /
    dead flags win over what the events alone say); `damage` says why the events stop early;
    `conversion` is when (epoch ms) the session first reached a goal of its site, and which.
    """
    t0 = events[0]["timestamp"] if events else 0
    end = int(events[-1]["timestamp"] - t0) if events else 0
    indexed = {(int(h["t"]), h.get("node_id")): h for h in clicks_from_index or []}
    entries: list[TimelineEntry] = []
    starts = _pageview_moments(events, t0)
    for index, pv in enumerate(pageviews):
        size = f"{pv['width']}×{pv['height']}" if pv.get("width") else ""
        t = int(pv["t_start"])
        t_next = int(pageviews[index + 1]["t_start"]) if index + 1 < len(pageviews) else None
        t = starts.get((t, str(pv["url"])), starts.get((t, None), t))
        if t_next is not None and t > t_next:  # never past the next page's own moment
            t = int(pv["t_start"])
        entries.append(TimelineEntry(t, "pageview", f"Page {pv['url']}", size,
                                     replayable=damage is None or t <= end, url=str(pv["url"])))
    nodes = _NodeIndex()
    typing: dict[int, TimelineEntry] = {}  # node id -> its open "typed" entry
    last_properties: dict[str, Any] = {}
    for event in events:
        etype, data = event.get("type"), event.get("data") or {}
        t = int(event["timestamp"] - t0)
        if etype == EventType.FULL_SNAPSHOT:
            nodes.reset(data.get("node") or {})
            typing.clear()
        elif etype == EventType.INCREMENTAL_SNAPSHOT:
            source = data.get("source")
            if source == IncrementalSource.MUTATION:
                nodes.apply_mutation(data)
            elif source == IncrementalSource.MOUSE_INTERACTION and data.get("type") in POINTER_ACTIONS:
                node_id = data.get("id")
                hit = indexed.get((t, node_id))
                what = (hit or {}).get("label") or ""
                what = f"“{what[:LABEL_CHARS]}”" if what else nodes.describe(node_id)
                flags = [text for key, text in (("rage", "rage click"),
                                                ("dead", "dead click: nothing happened"))
                         if hit and hit.get(key)]
                kind = "rage" if hit and hit.get("rage") else "dead" if hit and hit.get("dead") else "click"
                flag = "; ".join(flags)
                action = ACTION_LABELS[POINTER_ACTIONS[data["type"]]]
                entries.append(TimelineEntry(t, kind, f"{action} on {what}", flag))
            elif source == IncrementalSource.INPUT:
                node_id = data.get("id")
                open_entry = typing.get(node_id)  # type: ignore[arg-type]
                if open_entry is not None and t - open_entry.t <= INPUT_MERGE_MS:
                    continue
                node = nodes.nodes.get(node_id)  # type: ignore[arg-type]
                attrs = (node or {}).get("attributes") or {}
                verb = "Changed" if attrs.get("type") in ("checkbox", "radio") or \
                    str((node or {}).get("tagName", "")).lower() == "select" else "Typed in"
                entry = TimelineEntry(t, "input", f"{verb} {nodes.describe(node_id)}", "value masked")
                typing[node_id] = entry  # type: ignore[index]
                entries.append(entry)
        elif etype == EventType.CUSTOM:
            tag, payload = data.get("tag"), data.get("payload")
            if tag == TAG_ANNOTATION:
                name = payload.get("name") if isinstance(payload, dict) else payload
                detail = ""
                if isinstance(payload, dict) and payload.get("data"):
                    detail = str(payload["data"])[:120]
                entries.append(TimelineEntry(t, "annotation", f"Annotation: {name}", detail))
            elif tag in (TAG_SET_PROPERTIES, TAG_IDENTIFY) and isinstance(payload, dict):
                if payload == last_properties.get(tag):
                    continue  # a site that tags every page load says the same thing each time
                last_properties[tag] = payload
                keys = ", ".join(sorted(map(str, (payload.get("properties") or {}) if tag == TAG_IDENTIFY
                                            else payload)))[:120]
                label = "Identified visitor" if tag == TAG_IDENTIFY else "Properties set"
                entries.append(TimelineEntry(t, "properties", label, keys))
    if conversion is not None and events:
        at = max(0, int(conversion[0] - t0))
        entries.append(TimelineEntry(at, "conversion", f"Converted: reached goal {conversion[1]}",
                                     replayable=damage is None or at <= end))
    if damage:
        entries.append(TimelineEntry(end, "damage", "Recording damaged: the replay stops here", damage))
    order = {"pageview": 0, "damage": 9}
    entries.sort(key=lambda e: (e.t, order.get(e.kind, 5)))
    return entries
