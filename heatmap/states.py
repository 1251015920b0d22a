"""Page states: hits made inside an open overlay or a scrolling container, drawn on a photograph of
the page in that state, each state a panel of its own beside the base map.

The base map is one moment of the reference pageview, usually with no dialog open and every list
scrolled to its top. A click on a dialog's button, a menu's item or a list item the visitor had
scrolled to has an element that photograph does not show. The index knows in which state each
hit was made (heatmap/page_state.js: `state_key`, the open overlay holding the element;
`container_key`, the scrolling container holding it). Here:

  - hits are grouped by state: an overlay the base photograph does not show (a dialog that was
    closed then) makes a group; hits inside a scrolling container make a group per container,
    wherever it is, since the container's content is what they are placed against;
  - each group is photographed at a moment its state was on screen: in the reference pageview
    (its own moments, then the moments of the group's hits there), else in the pageviews of
    the selection that hold most of the group's hits, at their hits' moments;
  - an overlay's panel is the full-page photograph cropped to the overlay; a container's panel is
    the container laid out unclipped, its whole content at full size; both with a margin of the
    page around them;
  - the group's hits are placed on the panel through their elements, as on the base map; what
    the panel does not show is listed as not on this layout.

Scroll depth inside a container: each pageview's deepest scroll of it (`container_max` hits,
named by the element at its visible bottom edge) placed on the container's content; a pageview
that never scrolled it saw its visible height.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plumbing.assets import page_script

from heatmap.placement import Box, Placement, place_hits, reproject

PANEL_MARGIN = 24  # px of the page around a state's panel: where on the page it sat, room for labels
MAX_MOMENTS_PER_SESSION = 8  # candidate moments tried in one replay
MAX_OTHER_SESSIONS = 2  # sessions replayed beyond the reference's to find a state on screen


@dataclass
class StateGroup:
    """Hits made in one state of the page."""

    kind: str  # "overlay" or "container"
    key: str  # element key of the overlay / container
    label: str
    overlay_kind: str  # dialog, popover, menu, listbox, drawer; "list" for containers
    hits: list[dict[str, Any]] = field(default_factory=list)
    depths: list[dict[str, Any]] = field(default_factory=list)  # container_max rows (scroll maps)

    @property
    def title(self) -> str:
        what = {"list": "scrolling container"}.get(self.overlay_kind, self.overlay_kind)
        return f"{what} '{self.label}'" if self.label else f"{what} {self.key}"


@dataclass
class StatePanel:
    """One state photographed: the crop of the page that shows it and where its elements are."""

    id: str  # "state-1"...: also the PNG's suffix
    group: StateGroup
    session_id: str
    pageview: int
    t: int
    why: str
    offset: tuple[float, float]  # the crop's top-left in the photograph's document px
    image: np.ndarray  # BGR, the crop
    boxes: dict[str, Box | None]  # element key -> box in the crop's px
    root: Box = Box(0.0, 0.0, 0.0, 0.0)  # the overlay / the unclipped container, in the crop's px
    visible: tuple[float, float] = (0.0, 0.0)  # containers: their own visible size on the page
    placement: Placement | None = None
    values: np.ndarray | None = None  # scroll maps: share of pageviews per content row
    rendered: np.ndarray | None = None
    png: str | None = None  # file name, once written

    def as_json(self, total: int) -> dict[str, Any]:
        g, p = self.group, self.placement
        return {
            "id": self.id, "kind": g.kind, "state": g.overlay_kind, "key": g.key, "label": g.label,
            "title": g.title, "hits": len(g.hits), "sessions": len({h["session_id"] for h in g.hits}),
            "photo": {"session_id": self.session_id, "pageview": self.pageview, "t": self.t, "why": self.why,
                      "offset": [round(v, 1) for v in self.offset],
                      "size": [int(self.image.shape[1]), int(self.image.shape[0])]},
            "box": [round(v, 1) for v in self.root],  # the state's own element on the panel
            "png": self.png,
            "points": [{"x": round(pt.x, 1), "y": round(pt.y, 1), "element_key": pt.element_key,
                        "session_id": pt.session_id, "t": pt.t, "kind": pt.kind} for pt in p.points] if p else [],
            "elements": [e.as_json(total) for e in p.elements] if p else [],
            "not_on_layout": [e.as_json(total) for e in p.not_on_layout] if p else [],
            **({"pageviews_scrolled": len(g.depths)} if g.kind == "container" and self.values is not None else {}),
        }


def state_photo_js() -> str:
    return page_script("heatmap", "state_photo.js")


def state_roots(hits: Iterable[Mapping[str, Any]]) -> list[str]:
    """Keys of every overlay and container the hits were made in (to look for on the base photo)."""
    keys: dict[str, None] = {}
    for h in hits:
        for column in ("state_key", "container_key"):
            if h.get(column):
                keys[h[column]] = None
    return list(keys)


def split_by_state(hits: Iterable[dict[str, Any]], base_boxes: Mapping[str, Box | None]
                   ) -> tuple[list[dict[str, Any]], list[StateGroup]]:
    """(hits for the base map, groups for panels). A scrolling container always makes a group:
    its hits go on its content (one inside an overlay, a dropdown listbox that scrolls, is
    photographed while that overlay is open). An overlay the base photograph shows (open at that
    moment, or always there, like a fixed sidebar) is part of the base layout; one it does not
    show makes a group."""
    base: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], StateGroup] = {}
    for h in hits:
        overlay = h.get("state_key")
        if h.get("container_key"):  # (the index records only containers inside the overlay, if any)
            group = groups.setdefault(("container", h["container_key"]), StateGroup(
                "container", h["container_key"], "", "list"))
        elif overlay and base_boxes.get(overlay) is None:
            group = groups.setdefault(("overlay", overlay), StateGroup(
                "overlay", overlay, h.get("state_label") or "", h.get("state_kind") or "dialog"))
        else:
            base.append(h)
            continue
        if h.get("kind") == "container_max":
            group.depths.append(h)
        else:
            group.hits.append(h)
    ordered = sorted(groups.values(), key=lambda g: (-len(g.hits) - len(g.depths), g.kind, g.key))
    return base, ordered


def _query(group: StateGroup) -> list[dict[str, str]]:
    keys: dict[str, Mapping[str, Any]] = {}
    for h in [*group.hits, *group.depths]:
        if h.get("element_key"):
            keys.setdefault(h["element_key"], h)
    return [{"key": k, "tag": h.get("tag") or "", "label": h.get("label") or ""} for k, h in keys.items()]


def _sessions_to_try(group: StateGroup, reference: tuple[str, int]) -> list[tuple[str, list[tuple[int, str]]]]:
    """(session id, [(t, why)]) in the order to try: the reference session first (the base
    photograph's moment, then the moments of the group's own hits in its pageview), then the
    sessions holding most of the group's hits, at those hits' moments."""
    by_session: dict[str, list[dict[str, Any]]] = {}
    for h in [*group.hits, *group.depths]:
        by_session.setdefault(h["session_id"], []).append(h)
    ref_id, ref_pv = reference
    order = [ref_id] + [s for s, _ in Counter({s: len(v) for s, v in by_session.items()}).most_common()
                        if s != ref_id][:MAX_OTHER_SESSIONS]
    plans = []
    for sid in order:
        own = sorted(by_session.get(sid, []), key=lambda h: h["t"])
        if sid == ref_id:
            own = [h for h in own if h["pageview"] == ref_pv]
        moments = {max(0, int(h["t"]) - 1): f"before {h['kind']} on '{(h.get('label') or '')[:40]}'"
                   for h in own if h["kind"] != "container_max"}
        moments.update({int(h["t"]): "deepest scroll of the container" for h in own if h["kind"] == "container_max"})
        picked = sorted(moments.items())
        if len(picked) > MAX_MOMENTS_PER_SESSION:  # an even sample, first and last kept
            step = (len(picked) - 1) / (MAX_MOMENTS_PER_SESSION - 1)
            picked = [picked[round(i * step)] for i in range(MAX_MOMENTS_PER_SESSION)]
        plans.append((sid, picked))
    return plans


def photograph_states(store: Any, groups: Sequence[StateGroup], reference: Any, *, browser: Any = None
                      ) -> list[StatePanel]:
    """A panel per group whose state some moment shows (groups no moment shows are left out: the
    caller draws their hits as it would without states). Replays the reference session once for
    all groups, then other sessions only for the groups still without a photograph."""
    from heatmap.reference import locate_keys_js

    script = (f"(doc, arg) => ({state_photo_js()})(doc, arg, {locate_keys_js()})")
    panels: dict[int, StatePanel] = {}
    plans = {i: _sessions_to_try(g, (reference.session_id, reference.pageview)) for i, g in enumerate(groups)}
    sessions: list[str] = [reference.session_id]
    for plan in plans.values():
        for sid, _ in plan:
            if sid not in sessions:
                sessions.append(sid)
    for sid in sessions:
        todo = [i for i in range(len(groups)) if i not in panels and any(s == sid for s, _ in plans[i])]
        if not todo:
            continue
        _photograph_in_session(store, sid, [(i, groups[i], dict(plans[i])[sid]) for i in todo], reference,
                               script, panels, browser)
    ordered = [panels[i] for i in sorted(panels)]
    for n, panel in enumerate(ordered, 1):
        panel.id = f"state-{n}"
    return ordered


def _photograph_in_session(store: Any, session_id: str, wanted: list[tuple[int, StateGroup, list[tuple[int, str]]]],
                           reference: Any, script: str, panels: dict[int, StatePanel], browser: Any) -> None:

    from replay import open_session
    from replay.video import decode_png

    views = {p["index"]: p for p in store.pageviews(session_id)}
    with open_session(store, session_id, browser=browser) as rp:
        def look(t: int, group: StateGroup, query: list[dict[str, str]]) -> dict[str, Any]:
            rp.seek(t)
            found = rp.evaluate_in_document(script, {"op": "open", "kind": group.kind, "key": group.key,
                                                     "wanted": query})
            rp.evaluate_in_document(script, {"op": "close"})
            return found

        for index, group, moments in wanted:
            query = _query(group)
            weight = Counter(h.get("element_key") for h in group.hits)
            if session_id == reference.session_id:  # the base photograph's own moment first
                moments = [(reference.t, "the base map's moment"), *[m for m in moments if m[0] != reference.t]]
            best: tuple[tuple[int, int], int, str] | None = None
            for t, why in moments:
                found = look(t, group, query)
                if not found.get("found"):
                    continue
                shown = {q["key"] for q, b in zip(query, found["boxes"]) if b}
                score = (sum(weight[k] for k in shown), len(shown))
                if best is None or score > best[0]:
                    best = (score, t, why)
                if score[1] == len(query):
                    break  # everything is on it: no need to look further
            if best is None:
                continue
            _, t, why = best
            rp.seek(t)
            found = rp.evaluate_in_document(script, {"op": "open", "kind": group.kind, "key": group.key,
                                                     "wanted": query})
            try:
                if not found.get("found"):
                    continue
                # Only the state's part of the whole-document photograph: it is all the panel shows.
                rx, ry, rw, rh = found["root"]
                if group.kind == "overlay":  # a fixed drawer is as tall as the whole-document
                    rh = min(rh, rp.viewport()[1])  # photo's frame: keep what a visitor saw of it
                doc_w, doc_h = (int(v) for v in found["doc"])
                x0, y0 = max(0, int(np.floor(rx)) - PANEL_MARGIN), max(0, int(np.floor(ry)) - PANEL_MARGIN)
                x1 = min(doc_w, int(np.ceil(rx + rw)) + PANEL_MARGIN)
                y1 = min(doc_h, int(np.ceil(ry + rh)) + PANEL_MARGIN)
                if x1 <= x0 or y1 <= y0:
                    continue
                png = rp.screenshot(full_page=True, region=(x0, y0, x1 - x0, y1 - y0))
            finally:
                rp.evaluate_in_document(script, {"op": "close"})
            photo = decode_png(png)
            boxes = {q["key"]: Box(b[0] - x0, b[1] - y0, b[2], b[3]) if b else None
                     for q, b in zip(query, found["boxes"])}
            if found.get("opened"):
                why += "; opened for the photograph (a replay does not record open popovers)"
            if not group.label and found.get("label"):
                group.label = found["label"]
            pageview = max((i for i, v in views.items() if v["t_start"] <= t), default=0)
            panels[index] = StatePanel("", group, session_id, pageview, t, why, (float(x0), float(y0)),
                                       photo, boxes,
                                       root=Box(rx - x0, ry - y0, rw, rh),
                                       visible=(float(found["visible"][0]), float(found["visible"][1])))


def place_on_panels(panels: Sequence[StatePanel]) -> None:
    """Place each panel's hits on it, through their elements."""
    for panel in panels:
        panel.placement = place_hits(panel.group.hits, panel.boxes)


def container_reach(panel: StatePanel, pageviews: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Share of the selection's pageviews that reached each row of the container's content: each
    pageview's deepest scroll placed through the element at its visible bottom edge (or, when
    that element is not on the panel, as the same share of the content); a pageview that never
    scrolled it saw its visible height."""
    height = panel.image.shape[0]
    top, content = panel.root[1], panel.root[3] or float(height)
    deepest: dict[tuple[str, int], float] = {}
    for row in panel.group.depths:
        box = panel.boxes.get(row.get("element_key") or "")
        if box is not None:
            _, y = reproject(box, 0.0, row.get("rel_y") or 0.0)
        elif row.get("y") and row.get("doc_h"):
            y = top + content * float(row["y"]) / float(row["doc_h"])
        else:
            continue
        pv = (row["session_id"], row["pageview"])
        deepest[pv] = max(deepest.get(pv, 0.0), y)
    fold = top + (panel.visible[1] or content)
    depths = np.array([deepest.get((p["session_id"], p["index"]), fold) for p in pageviews], dtype=np.float64)
    rows = np.arange(height, dtype=np.float64)
    return (depths[None, :] >= rows[:, None]).mean(axis=1) if len(depths) else np.zeros(height)
