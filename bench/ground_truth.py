"""Ground truth for heatmap accuracy, read from sessions recorded with `record(..., evidence=True)`.

Per click, the recorder's evidence event (`sessionheat.click`) names the rrweb node the live page's
click really hit. The demo site marks every element a journey aims at with `data-demo-id`, so the
aimed element is the nearest ancestor-or-self of that node carrying one, found by walking the
recorded DOM (the FullSnapshot and the Mutation `adds` after it) up to the moment of the click.

The product never reads `data-demo-id`: only this benchmark does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plumbing.events import EventType, IncrementalSource
from plumbing.store import SessionStore
from plumbing.vocabulary import ROUTE_KINDS_STARTING_PAGEVIEW, TAG_LIVE_CLICK, TAG_ROUTE

DEMO_ATTR = "data-demo-id"
ELEMENT = 2  # rrweb serialized node type of an element


@dataclass(frozen=True)
class TruthClick:
    session_id: str
    pageview: int
    t: int  # ms since the session's first event (of the evidence event)
    node_id: int  # the node the live click hit
    demo_id: str | None  # the aimed element: nearest ancestor-or-self with data-demo-id
    x: float  # document px in that visitor's layout (clientX + scrollX): what peers draw
    y: float
    live_box: tuple[float, float, float, float]  # the hit node's live box, document px


class _Dom:
    """rrweb node id -> (parent id, attributes) for one page load, kept up to date."""

    def __init__(self) -> None:
        self.parent: dict[int, int | None] = {}
        self.attrs: dict[int, dict[str, Any]] = {}

    def add(self, node: dict[str, Any], parent: int | None) -> None:
        stack = [(node, parent)]
        while stack:
            current, up = stack.pop()
            nid = current.get("id")
            if nid is None:
                continue
            self.parent[nid] = up
            if current.get("type") == ELEMENT:
                self.attrs[nid] = dict(current.get("attributes") or {})
            for child in current.get("childNodes") or ():
                stack.append((child, nid))

    def mutate(self, data: dict[str, Any]) -> None:
        for add in data.get("adds") or ():
            self.add(add["node"], add.get("parentId"))
        for change in data.get("attributes") or ():
            attrs = self.attrs.setdefault(change["id"], {})
            for name, value in (change.get("attributes") or {}).items():
                if value is None:
                    attrs.pop(name, None)
                else:
                    attrs[name] = value

    def demo_id(self, node_id: int) -> str | None:
        seen = set()
        current: int | None = node_id
        while current is not None and current not in seen:
            seen.add(current)
            value = self.attrs.get(current, {}).get(DEMO_ATTR)
            if value:
                return str(value)
            current = self.parent.get(current)
        return None


def truth_clicks(store: SessionStore, session_id: str) -> Iterator[TruthClick]:
    """Every evidence click of a session, with the element it aimed at."""
    events = store.read_events(session_id).events
    if not events:
        return
    t0 = events[0]["timestamp"]
    pageview = -1  # counted in stream order, as the store counts them: a click that starts a
    dom = _Dom()   # route change belongs to the pageview it was made on
    for e in events:
        etype, data = e["type"], e.get("data") or {}
        if etype == EventType.META:
            pageview += 1
        elif etype == EventType.CUSTOM and data.get("tag") == TAG_ROUTE:
            if (data.get("payload") or {}).get("kind") in ROUTE_KINDS_STARTING_PAGEVIEW:
                pageview += 1
        elif etype == EventType.FULL_SNAPSHOT:
            dom = _Dom()
            dom.add(data["node"], None)
        elif etype == EventType.INCREMENTAL_SNAPSHOT and data.get("source") == IncrementalSource.MUTATION:
            dom.mutate(data)
        elif etype == EventType.CUSTOM and data.get("tag") == TAG_LIVE_CLICK:
            p = data.get("payload") or {}
            if not isinstance(p.get("id"), int) or not isinstance(p.get("box"), list):
                continue
            t = int(e["timestamp"] - t0)
            scroll = p.get("scroll") or (0, 0)
            yield TruthClick(session_id, max(0, pageview), t, p["id"],
                             dom.demo_id(p["id"]), p["x"] + scroll[0], p["y"] + scroll[1],
                             tuple(p["box"]))  # type: ignore[arg-type]


def inside(box: tuple[float, float, float, float] | None, x: float, y: float, slack: float = 1.0) -> bool:
    if box is None:
        return False
    bx, by, bw, bh = box
    return bx - slack <= x <= bx + bw + slack and by - slack <= y <= by + bh + slack
