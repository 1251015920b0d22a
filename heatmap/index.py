"""`sessionheat index`: resolve every interaction of a session to the element it hit.

One replay per session, one forward pass through its events: clicks, inputs and sampled moves are
resolved through their rrweb node ids; scroll stops through the landmark at the viewport's top and
bottom edges. What comes out is the hits table, which is all a heatmap needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from plumbing.assets import page_script
from plumbing.store import SessionStore
from plumbing.vocabulary import CLICK_KINDS, INPUT, MOVE

from heatmap.interactions import Interaction, extract_interactions
from heatmap.keys import element_key_js, key_columns

if TYPE_CHECKING:  # Playwright and the replay page load only when indexing
    from replay import ReplayPage

MIN_DWELL_MS = 250  # a viewport position held shorter than this was passed through, not looked at
NODE_KINDS = {*CLICK_KINDS, INPUT, MOVE}


class ClusterError(Exception):
    """Indexing on a cluster cannot start: Dask is not installed, or its scheduler cannot be reached."""


@dataclass
class IndexResult:
    session_id: str
    n_hits: int = 0
    n_unresolved: int = 0  # interactions whose element was not in the replayed page
    problem: str | None = None
    kinds: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def view_anchor_js() -> str:
    return page_script("heatmap", "view_anchor.js")


def page_state_js() -> str:
    return page_script("heatmap", "page_state.js")


# -- the page's state at each hit (open overlays, scrolling containers) ----------------------------


def state_columns(probe: dict[str, Any]) -> dict[str, Any]:
    """The hits-table columns saying which state of the page a node hit was made in."""
    state = probe.get("state") or {}
    overlay, container = state.get("overlay") or {}, state.get("container") or {}
    return {"state_key": overlay.get("key"), "state_label": overlay.get("label"),
            "state_kind": overlay.get("kind"), "container_key": container.get("key")}


@dataclass
class ContainerStop:
    """The deepest a pageview scrolled one element (not the page): rrweb's element scroll events."""

    pageview: int
    t: int
    node_id: int
    scroll_y: float


def container_stops(events: list[dict[str, Any]], pageview_starts: list[tuple[int, int]]
                    ) -> list[ContainerStop]:
    """Per pageview and scrolled element (any scroll event naming another node than the page's
    document), the event where it was scrolled furthest down. `pageview_starts`: (index, t_start)."""
    from plumbing.events import EventType, IncrementalSource

    if not events:
        return []
    t0 = events[0]["timestamp"]
    starts = sorted(pageview_starts, key=lambda p: p[1])
    document_id: int | None = None
    deepest: dict[tuple[int, int], ContainerStop] = {}
    for event in events:
        etype, data = event["type"], event.get("data") or {}
        if etype == EventType.FULL_SNAPSHOT:
            document_id = (data.get("node") or {}).get("id")
        elif etype == EventType.INCREMENTAL_SNAPSHOT and data.get("source") == IncrementalSource.SCROLL:
            node = data.get("id")
            if node is None or node == document_id:
                continue
            t = int(round(event["timestamp"] - t0))
            pv = next((i for i, start in reversed(starts) if start <= t), starts[0][0] if starts else 0)
            y = float(data.get("y") or 0)
            if y <= 0:
                continue
            known = deepest.get((pv, node))
            if known is None or y > known.scroll_y:
                deepest[(pv, node)] = ContainerStop(pv, t, node, y)
    return sorted(deepest.values(), key=lambda s: s.t)


def container_row(stop: ContainerStop, probe: dict[str, Any] | None) -> dict[str, Any] | None:
    """A container_max row: how deep into a scrolling container's content a pageview got, named
    by the element at the container's visible bottom edge (rel_y inside it) and, failing that, as
    the share of its content: `y` (the visible bottom) and `doc_h` here are px of the
    container's content, not of the page."""
    scroller = ((probe or {}).get("state") or {}).get("scroller")
    if not scroller:
        return None
    anchor = scroller.get("anchor") or {}
    return {
        "pageview": stop.pageview, "t": stop.t, "kind": "container_max", "node_id": stop.node_id,
        "element_key": anchor.get("key"), "selector": anchor.get("key"), "label": anchor.get("label"),
        "tag": anchor.get("tag"), "rel_x": 0.5, "rel_y": anchor.get("rel_y"),
        "y": scroller.get("depth"), "doc_h": scroller.get("content"), "scroll_y": stop.scroll_y,
        **state_columns(probe or {}), "container_key": scroller.get("key"),
    }


def _rel(value: float | None, start: float, size: float) -> float:
    if value is None or size <= 0:
        return 0.5
    return (value - start) / size


def _node_row(inter: Interaction, found: dict[str, Any], doc: tuple[float, float]) -> dict[str, Any]:
    bx, by, bw, bh = found["box"]
    x, y = inter.doc_x, inter.doc_y
    return {
        "pageview": inter.pageview, "t": inter.t, "kind": inter.kind, "node_id": inter.node_id,
        **key_columns(found), "label": found["label"],
        "tag": found["tag"], "interactive": found["interactive"], "rage": inter.rage,
        "dead": inter.no_reaction and not found["interactive"],
        "x": x, "y": y, "rel_x": _rel(x, bx, bw), "rel_y": _rel(y, by, bh),
        "box_x": bx, "box_y": by, "box_w": bw, "box_h": bh, "doc_w": doc[0], "doc_h": doc[1],
        "viewport_w": inter.viewport_w, "viewport_h": inter.viewport_h, "scroll_y": inter.scroll_y,
    }


@dataclass
class ViewStop:
    """The viewport held still at one scroll position of a pageview."""

    pageview: int
    t: int
    scroll_y: float
    viewport_w: int
    viewport_h: int
    dwell_ms: int
    deepest: bool = False  # the furthest this pageview's viewport bottom went


def view_stops(interactions: Iterable[Interaction], pageview_ends: dict[int, int]) -> list[ViewStop]:
    """Scroll positions held at least MIN_DWELL_MS (attention), plus each pageview's deepest one
    (scroll depth: a quick fling to the footer still reached the footer)."""
    by_page: dict[int, list[Interaction]] = {}
    for inter in interactions:
        if inter.pageview >= 0:
            by_page.setdefault(inter.pageview, []).append(inter)
    stops: list[ViewStop] = []
    for pv, items in by_page.items():
        positions: list[tuple[int, float, int, int]] = []  # (t, scroll_y, vw, vh), on every change
        for inter in items:
            if not positions or positions[-1][1] != inter.scroll_y or positions[-1][3] != inter.viewport_h:
                positions.append((inter.t, inter.scroll_y, inter.viewport_w, inter.viewport_h))
        end = pageview_ends.get(pv, items[-1].t)
        deepest = max(range(len(positions)), key=lambda k: positions[k][1] + positions[k][3])
        for k, (t, sy, vw, vh) in enumerate(positions):
            dwell = (positions[k + 1][0] if k + 1 < len(positions) else max(end, t)) - t
            if dwell >= MIN_DWELL_MS or k == deepest:
                stops.append(ViewStop(pv, t, sy, vw, vh, dwell, k == deepest))
    return stops


def _view_rows(stop: ViewStop, top: dict[str, Any] | None, bottom: dict[str, Any] | None,
               doc: tuple[float, float]) -> list[dict[str, Any]]:
    """view_top/view_bottom pairs for attention (a held position), and view_max for scroll depth
    (the deepest position of the pageview, held or not)."""
    edges = []
    if stop.dwell_ms >= MIN_DWELL_MS:
        edges += [("view_top", top, stop.scroll_y), ("view_bottom", bottom, stop.scroll_y + stop.viewport_h)]
    if stop.deepest:
        edges.append(("view_max", bottom, stop.scroll_y + stop.viewport_h))
    rows = []
    for kind, found, y in edges:
        if not found:
            continue
        bx, by, bw, bh = found["box"]
        rows.append({
            "pageview": stop.pageview, "t": stop.t, "kind": kind, **key_columns(found),
            "label": found["label"], "tag": found["tag"],
            "x": stop.viewport_w / 2, "y": y, "rel_x": 0.5, "rel_y": found["rel_y"],
            "box_x": bx, "box_y": by, "box_w": bw, "box_h": bh, "doc_w": doc[0], "doc_h": doc[1],
            "viewport_w": stop.viewport_w, "viewport_h": stop.viewport_h, "scroll_y": stop.scroll_y,
            "dwell_ms": stop.dwell_ms,
        })
    return rows


def typing_runs(items: list[Interaction]) -> list[int]:
    """For each item, the index of the item whose answer it takes: its own, or for a keystroke
    that continues typing into the same field (no click in between, same pageview), the run's
    first keystroke. Every keystroke is an input event, and asking about each one cost a seek and
    a layout for the same field, named the same, in the same place."""
    out: list[int] = []
    run: int | None = None  # index of the current run's first keystroke
    for k, item in enumerate(items):
        if item.kind == INPUT:
            first = items[run] if run is not None else None
            if run is None or first is None or first.node_id != item.node_id or first.pageview != item.pageview:
                run = k
            out.append(run)
        else:
            if item.kind != MOVE:
                run = None
            out.append(k)
    return out


def node_interactions(interactions: Iterable[Interaction]) -> list[Interaction]:
    """The interactions resolved through the node they hit: clicks, inputs, sampled moves."""
    return [i for i in interactions if i.kind in NODE_KINDS and i.node_id is not None]


def replay_questions(items: list[Interaction]) -> tuple[list[int], list[int]]:
    """(asked, answered_by) for node interactions: the items the replay is asked about, and for
    every item the one whose answer it takes (see `typing_runs`)."""
    answered_by = typing_runs(items)
    return [k for k, first in enumerate(answered_by) if first == k], answered_by


def index_session(store: SessionStore, session_id: str, *, browser: Any = None,
                  page: "ReplayPage | None" = None) -> IndexResult:
    """Resolve one session's interactions through its replay and replace its hits.

    `page` (a `replay.ReplayPage`) replays on a page that has taken other sessions before, which
    is what makes indexing many sessions cheap; otherwise a fresh page is opened on `browser`.
    """
    from replay import ReplayError, open_session

    result = IndexResult(session_id)
    session = store.get_session(session_id)  # before the events: a chunk stored in between is
    if session is None:  # then replayed but not counted, and the session is indexed again later
        raise ValueError(f"no session {session_id!r} in this store")
    n_events = session.n_events
    read = store.read_events(session_id)
    if read.problems:
        result.problem = "; ".join(p.reason for p in read.problems)
    interactions = extract_interactions(read.events)
    node_items = node_interactions(interactions)
    ends = {p["index"]: p["t_end"] for p in store.pageviews(session_id)}
    starts = {p["index"]: p["t_start"] for p in store.pageviews(session_id)}
    stops = view_stops(interactions, ends)
    rows: list[dict[str, Any]] = []
    try:
        with open_session(store, session_id, browser=browser, page=page, read=read, at_start=False) as rp:
            points: list[tuple[float, int | None, tuple[float, float] | None]] = []
            for stop in stops:
                points += [(stop.t, None, (stop.viewport_w / 2, stop.scroll_y + 2)),
                           (stop.t, None, (stop.viewport_w / 2, stop.scroll_y + stop.viewport_h - 2))]
            # Elements, view anchors and page states in one pass (hit_probe.js).
            probe_js = (f"({page_script('heatmap', 'hit_probe.js')})"
                        f"({element_key_js()}, {view_anchor_js()}, {page_state_js()})")
            asked, answered_by = replay_questions(node_items)
            queries: list[tuple[float, int | None, tuple[float, float] | None]] = [
                (node_items[k].t, node_items[k].node_id, None) for k in asked]
            scrolled = container_stops(read.events, [(p, t) for p, t in starts.items()])
            inner: list[tuple[float, int | None, tuple[float, float] | None]] = [
                (c.t, c.node_id, None) for c in scrolled]
            answers = rp.probe(queries + points + inner, probe_js, last=True)
            found, anchors = dict(zip(asked, answers)), answers[len(asked):len(asked) + len(points)]
            for k, inter in enumerate(node_items):
                probe, doc = found[answered_by[k]]
                if probe is None:
                    result.n_unresolved += 1
                    continue
                rows.append({**_node_row(inter, probe, doc), **state_columns(probe)})
            for k, stop in enumerate(stops):
                (top, doc), (bottom, _) = anchors[2 * k], anchors[2 * k + 1]
                rows += _view_rows(stop, top, bottom, doc)
            for c, (probe, _) in zip(scrolled, answers[len(asked) + len(points):]):
                row = container_row(c, probe)
                if row is not None:
                    rows.append(row)
    except ReplayError as exc:
        result.problem = str(exc)
    for row in rows:
        result.kinds[row["kind"]] = result.kinds.get(row["kind"], 0) + 1
    result.n_hits = store.replace_hits(session_id, rows, n_events=n_events, problem=result.problem)
    return result


def replay_page(browser: Any, store: SessionStore) -> "ReplayPage":
    """An index worker's reused replay page, with the store's asset cache: assets live in the
    store, so workers (here or on another machine) share them and fetch an image once."""
    from replay import AssetCache, ReplayPage

    return ReplayPage(browser, assets=AssetCache.for_store(store))
