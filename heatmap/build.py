"""From a selection of pageviews to a finished heatmap: hits -> reference -> placed -> rendered.

This is the library call behind `sessionheat heatmap`; the web UI calls the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from plumbing.store import SessionStore
from plumbing.vocabulary import (
    BAND_KINDS,
    CLICK,
    DEAD,
    HEATMAP_KINDS,
    HIT_KINDS,
    MOVE,
    RAGE,
    SCROLL,
    counted,
)

from heatmap.placement import ElementStat, Placement, depth_on_reference, place_hits, reproject
from heatmap.reference import ReferenceLayout, choose_reference, load_reference
from heatmap.render import ElementOutline, render_band_map, render_difference_map, render_point_map, write_png
from heatmap.segment_reads import SegmentReads
from heatmap.segments import OriginChoice, Segment
from heatmap.states import (
    StatePanel,
    container_reach,
    photograph_states,
    place_on_panels,
    split_by_state,
    state_roots,
)

TRUSTED_SESSIONS = 100  # peers refuse to draw below about this many; we draw, and say so
OUTLINED_ELEMENTS = 8


class HeatmapError(ValueError):
    """Nothing to draw: the message says what was selected and why it came up empty."""


@dataclass
class Heatmap:
    kind: str
    segment: Segment
    reference: ReferenceLayout
    n_sessions: int
    n_pageviews: int
    image: np.ndarray
    placement: Placement | None = None  # point kinds
    marks: dict[str, int] = field(default_factory=dict)  # scroll: y where 75/50/25 % still were
    caution: str | None = None
    origin: OriginChoice | None = None  # which site a path-only URL was drawn from
    states: list[StatePanel] = field(default_factory=list)  # hits drawn on a photograph of their state

    @property
    def origin_note(self) -> str | None:
        """Set when pageviews of other sites sharing the path were set aside."""
        return self.origin.note() if self.origin else None

    def to_json(self) -> dict[str, Any]:
        placement = self.placement
        total = sum(e.hits for e in placement.elements) + placement.n_missing if placement else 0
        total += sum(e.hits for p in self.states if p.placement for e in p.placement.elements)
        return {
            "kind": self.kind, "segment": self.segment.label(), "url": self.segment.url,
            "n_sessions": self.n_sessions, "n_pageviews": self.n_pageviews, "caution": self.caution,
            "reference": {"session_id": self.reference.session_id, "pageview": self.reference.pageview,
                          "url": self.reference.url, "t": self.reference.t,
                          "viewport": list(self.reference.viewport),
                          "doc_size": list(self.reference.doc_size),
                          "moment": self.reference.moment_json()},
            "points": [{"x": round(p.x, 1), "y": round(p.y, 1), "element_key": p.element_key,
                        "session_id": p.session_id, "t": p.t, "kind": p.kind}
                       for p in placement.points] if placement else [],
            "elements": [e.as_json(total) for e in placement.elements] if placement else [],
            "not_on_layout": [self._absent_json(e, total) for e in placement.not_on_layout] if placement else [],
            "marks": self.marks,
            "states": [panel.as_json(total) for panel in self.states],
            **(self.origin.as_json() if self.origin else {"origin": None, "other_origins": []}),
            "origin_note": self.origin_note,
        }

    def _absent_json(self, stat: ElementStat, total: int) -> dict[str, Any]:
        """A not-on-this-layout row, saying when the reference pageview did show the element
        (before the moment photographed, or after it), if it ever did."""
        row = stat.as_json(total)
        row["seen_on_reference_at"] = self.reference.elsewhere.get(stat.element_key)
        return row

    def write(self, png: str | Path, json_path: str | Path | None = None) -> None:
        import json

        write_png(png, self.image)
        for panel in self.states:  # beside the base map: map.png, map-state-1.png, ...
            if panel.rendered is not None:
                side = Path(png).with_name(f"{Path(png).stem}-{panel.id}{Path(png).suffix or '.png'}")
                write_png(side, panel.rendered)
                panel.png = side.name
        if json_path:
            Path(json_path).write_text(json.dumps(self.to_json(), indent=1))


def _caution(n_sessions: int, origin: OriginChoice | None = None) -> str | None:
    """Everything the reader must not miss: a small sample, other sites set aside."""
    parts: list[str] = []
    if n_sessions < TRUSTED_SESSIONS:
        parts.append(f"only {counted(n_sessions, 'session')}: heatmaps need about "
                     f"{TRUSTED_SESSIONS} to trust")
    note = origin.note() if origin is not None else None
    if note:
        parts.append(note)
    return "; ".join(parts) or None


def _with_photograph_gaps(caution: str | None, ref: ReferenceLayout) -> str | None:
    """The caution, plus what the reference photograph cannot show (a canvas drawn blank)."""
    parts = ([caution] if caution else []) + [f"the reference shows {gap}" for gap in ref.unfaithful]
    return "; ".join(parts) or None


def _select(source: SegmentReads | SessionStore, segment: Segment, kind: str, origin: str | None = None
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], OriginChoice]:
    """Pageviews and hits of `kind`, keyed as the data allows (`heatmap.keys.settle_keys`: an
    id the page regenerates is not keyed on); `origin` forces the site (compare: both sides on one)."""
    if kind not in HEATMAP_KINDS:
        raise HeatmapError(f"unknown kind {kind!r}; one of {', '.join(HEATMAP_KINDS)}")
    reads = source if isinstance(source, SegmentReads) else SegmentReads(source)
    choice = reads.choice(segment, prefer=origin)
    pageviews = choice.pageviews
    if not pageviews:
        raise HeatmapError(f"no pageviews match {segment.label()}")
    hits = reads.hits(pageviews, kinds=HIT_KINDS[kind])
    if kind in (RAGE, DEAD):  # the hits table flags each click with both
        hits = [h for h in hits if h[kind]]
    return pageviews, reads.settled(pageviews, hits), choice


def _reference(reads: SegmentReads, pageviews: Sequence[Mapping[str, Any]], hits: list[dict[str, Any]],
               reference: str | None, browser: Any, also: Sequence[str] = ()) -> ReferenceLayout:
    if reference:
        own = [p for p in pageviews if p["session_id"] == reference]
        if not own:
            raise HeatmapError(f"reference session {reference} has no pageview in this selection")
        ref_id, ref_pv = reference, int(own[0]["index"])
    else:
        every_hit = reads.settled(pageviews, reads.hits(pageviews))
        ref_id, ref_pv = choose_reference(pageviews, every_hit, wanted=hits)
    return load_reference(reads.store, ref_id, ref_pv, hits, browser=browser, also=also)


def build_heatmap(store: SessionStore, segment: Segment, kind: str = CLICK, *,
                  reference: str | None = None, browser: Any = None) -> Heatmap:
    """Draw `kind` for the pageviews `segment` selects, on the reference layout."""
    reads = SegmentReads(store)
    pageviews, hits, origin = _select(reads, segment, kind)
    ref = _reference(reads, pageviews, hits, reference, browser, also=state_roots(hits))
    hits, panels = _states(store, ref, hits, kind, browser)
    n_sessions = len({p["session_id"] for p in pageviews})
    caution = _with_photograph_gaps(_caution(n_sessions, origin), ref)
    caption = (f"{segment.label()} | {counted(n_sessions, 'session')}, {counted(len(pageviews), 'pageview')}"
               f" | reference {ref.session_id}"
               f" at {ref.t / 1000:.1f} s")
    if kind in BAND_KINDS:
        values, marks = (_scroll_values if kind == SCROLL else _attention_values)(ref, pageviews, hits)
        image = render_band_map(ref.image, values, kind=kind, fold_y=ref.viewport[1], marks=marks,
                                caption=caption, caution=caution)
        _render_state_bands(panels, pageviews, kind, caution)
        return Heatmap(kind, segment, ref, n_sessions, len(pageviews), image, marks=marks, caution=caution,
                       origin=origin, states=panels)
    placement = place_hits(hits, ref.boxes)
    _merge_not_on_layout(placement, panels)
    if panels:
        on_panels = sum(len(p.placement.points) for p in panels if p.placement)
        caption += f" | {on_panels} on {counted(len(panels), 'state')}"
    if placement.n_missing:
        caption += f" | {placement.n_missing} not on this layout"
    points = np.array([(p.x, p.y) for p in placement.points], dtype=np.float64).reshape(-1, 2)
    outlines = [ElementOutline(*e.box, count=e.hits, label=e.label)
                for e in placement.elements[:OUTLINED_ELEMENTS] if e.box and kind != MOVE]
    outlines += _state_outlines(ref, panels)
    label = {MOVE: "mouse positions", RAGE: "rage clicks", DEAD: "dead clicks"}.get(kind, "clicks")
    image = render_point_map(ref.image, points, kind_label=label, outlines=outlines, caption=caption,
                             caution=caution)
    _render_state_points(panels, kind, label, caution)
    return Heatmap(kind, segment, ref, n_sessions, len(pageviews), image, placement, caution=caution,
                   origin=origin, states=panels)


# -- page states (heatmap/states.py): dialogs, popovers, menus, scrolling containers ---------------


def _states(store: SessionStore, ref: ReferenceLayout, hits: list[dict[str, Any]], kind: str, browser: Any
            ) -> tuple[list[dict[str, Any]], list[StatePanel]]:
    """(hits for the base map, panels): hits made in a state the base photograph does not show
    go on a photograph of that state; a group no moment shows goes back to the base map."""
    base, groups = split_by_state(hits, ref.boxes)
    if kind in BAND_KINDS:
        base = [h for h in base if h["kind"] != "container_max"]
        groups = [g for g in groups if g.kind == "container" and g.depths]
    if not groups:
        return base, []
    panels = photograph_states(store, groups, ref, browser=browser)
    shown = {id(p.group) for p in panels}
    for group in groups:
        if id(group) not in shown:
            base += group.hits
    place_on_panels(panels)
    return sorted(base, key=lambda h: (h["session_id"], h["t"])), panels


def _side_states(hits: list[dict[str, Any]], panels: Sequence[StatePanel]) -> tuple[list[dict[str, Any]], list[StatePanel]]:
    """One side of a compare: its hits for the base map, and the panels (photographed once for
    both sides) holding only its own hits, placed."""
    from dataclasses import replace

    mine = {id(h) for h in hits}
    on_panels = {id(h) for p in panels for h in p.group.hits}
    side = []
    for panel in panels:
        own = [h for h in panel.group.hits if id(h) in mine]
        if own:
            side.append(replace(panel, group=replace(panel.group, hits=own, depths=[]), placement=None,
                                rendered=None, png=None))
    place_on_panels(side)
    return [h for h in hits if id(h) not in on_panels], side


def _merge_not_on_layout(placement: Placement, panels: Sequence[StatePanel]) -> None:
    """The base placement's not-on-this-layout list, with what the panels could not place
    either: every hit is drawn once or listed once."""
    missing = {e.element_key: e for e in placement.not_on_layout}
    for panel in panels:
        for stat in panel.placement.not_on_layout if panel.placement else []:
            known = missing.get(stat.element_key)
            if known is None:
                missing[stat.element_key] = ElementStat(stat.element_key, stat.label, stat.tag, stat.hits,
                                                        set(stat.sessions), stat.rage, stat.dead)
            else:
                known.hits += stat.hits
                known.sessions |= stat.sessions
                known.rage += stat.rage
                known.dead += stat.dead
    placement.not_on_layout = sorted(missing.values(), key=lambda s: (-s.hits, s.element_key))


def _state_outlines(ref: ReferenceLayout, panels: Sequence[StatePanel]) -> list[ElementOutline]:
    """On the base map, each state it shows the place of (a scrolling list: its clicks are drawn
    on its own panel, against its whole content), outlined with the panel's count and name."""
    out = []
    for panel in panels:
        box = ref.boxes.get(panel.group.key)
        if box is not None and panel.placement is not None:
            out.append(ElementOutline(*box, count=len(panel.placement.points),
                                      label=f"drawn on panel {panel.id}"))
    return out


def _state_caption(panel: StatePanel) -> str:
    return (f"{panel.group.title} | photographed in {panel.session_id} at {panel.t / 1000:.1f} s"
            f" ({panel.why})")


def _render_state_points(panels: Sequence[StatePanel], kind: str, label: str, caution: str | None) -> None:
    for panel in panels:
        placement = panel.placement
        if placement is None:  # not placed yet (heatmap.states.place_on_panels): nothing to draw
            continue
        points = np.array([(p.x, p.y) for p in placement.points], dtype=np.float64).reshape(-1, 2)
        outlines = [ElementOutline(*e.box, count=e.hits, label=e.label)
                    for e in placement.elements[:OUTLINED_ELEMENTS] if e.box and kind != MOVE]
        caption = _state_caption(panel)
        if placement.n_missing:
            caption += f" | {placement.n_missing} not on it"
        panel.rendered = render_point_map(panel.image, points, kind_label=label, outlines=outlines,
                                          caption=caption, caution=caution)


def _render_state_bands(panels: Sequence[StatePanel], pageviews: Sequence[Mapping[str, Any]], kind: str,
                        caution: str | None) -> None:
    """Scroll depth inside each container, against its own content."""
    for panel in panels:
        panel.values = container_reach(panel, pageviews)
        fold = int(panel.root[1] + panel.visible[1]) if panel.visible[1] else None
        panel.rendered = render_band_map(panel.image, panel.values, kind="scroll", fold_y=fold,
                                         marks=_reach_marks(panel.values),
                                         caption=_state_caption(panel) + f" | {counted(len(pageviews), 'pageview')}",
                                         caution=caution)


def build_compare(store: SessionStore, a: Segment, b: Segment, kind: str = CLICK, *,
                  reference: str | None = None, browser: Any = None) -> tuple[Heatmap, Heatmap, np.ndarray]:
    """Two segments on one reference layout, and the difference of their shares (A - B)."""
    if kind in BAND_KINDS:
        raise HeatmapError("compare draws point kinds (click, move, rage, dead)")
    reads = SegmentReads(store)
    site = _common_origin(reads, a, b)
    reads.hits([*reads.choice(a, site).pageviews, *reads.choice(b, site).pageviews])  # both sides in one read
    pv_a, hits_a, origin_a = _select(reads, a, kind, site)
    pv_b, hits_b, origin_b = _select(reads, b, kind, site)
    both = [*hits_a, *hits_b]
    ref = _reference(reads, [*pv_a, *pv_b], both, reference, browser, also=state_roots(both))
    _, panels = _states(store, ref, both, kind, browser)  # photographed once, for both sides
    maps = []
    at = f"reference {ref.session_id} at {ref.t / 1000:.1f} s"
    for seg, pvs, hits, origin in ((a, pv_a, hits_a, origin_a), (b, pv_b, hits_b, origin_b)):
        hits, side_panels = _side_states(hits, panels)
        placement = place_hits(hits, ref.boxes)
        _merge_not_on_layout(placement, side_panels)
        _render_state_points(side_panels, kind, "clicks", _caution(len({p["session_id"] for p in pvs}), origin))
        n = len({p["session_id"] for p in pvs})
        points = np.array([(p.x, p.y) for p in placement.points], dtype=np.float64).reshape(-1, 2)
        caption = f"{seg.label()} | {counted(n, 'session')}, {counted(len(pvs), 'pageview')} | {at}"
        if placement.n_missing:
            caption += f" | {placement.n_missing} not on this layout"
        image = render_point_map(ref.image, points, caption=caption, caution=_caution(n, origin))
        maps.append(Heatmap(kind, seg, ref, n, len(pvs), image, placement, caution=_caution(n, origin),
                            origin=origin, states=side_panels))
    pa = np.array([(p.x, p.y) for p in maps[0].placement.points]).reshape(-1, 2)  # type: ignore[union-attr]
    pb = np.array([(p.x, p.y) for p in maps[1].placement.points]).reshape(-1, 2)  # type: ignore[union-attr]
    diff = render_difference_map(ref.image, pa, pb, label_a=a.label(), label_b=b.label(),
                                 caption=f"{kind}: share of each segment's own total, A - B | {at}",
                                 caution=compare_caution(maps[0], maps[1]))
    return maps[0], maps[1], diff


def compare_caution(a: Heatmap, b: Heatmap) -> str | None:
    """The difference map's caution: a small side makes the difference as untrustworthy."""
    parts = [f"{name}: {hm.caution}" for name, hm in (("A", a), ("B", b)) if hm.caution]
    return "; ".join(parts) or None


def compare_to_json(a: Heatmap, b: Heatmap) -> dict[str, Any]:
    """Both sides of a compare (points, element tables, not on this layout) and, per element,
    each side's share of its own total and their difference (A - B), biggest change first."""
    sides = {"a": a.to_json(), "b": b.to_json()}
    merged: dict[str, dict[str, Any]] = {}
    for name, data in sides.items():
        for e in data["elements"]:
            row = merged.setdefault(e["element_key"], {
                "element_key": e["element_key"], "label": e["label"], "tag": e["tag"], "box": e["box"],
                "a_clicks": 0, "a_share": 0.0, "b_clicks": 0, "b_share": 0.0})
            row[f"{name}_clicks"], row[f"{name}_share"] = e["clicks"], e["share"]
    for row in merged.values():
        row["delta"] = round(row["a_share"] - row["b_share"], 4)
    return {"kind": a.kind, "reference": sides["a"]["reference"], "caution": compare_caution(a, b),
            "a": sides["a"], "b": sides["b"],
            "difference": sorted(merged.values(),
                                 key=lambda r: (-abs(r["delta"]), -(r["a_clicks"] + r["b_clicks"])))}


def write_compare(out_png: str | Path, a: Heatmap, b: Heatmap, diff: np.ndarray,
                  json_path: str | Path | None = None) -> list[Path]:
    """Write the difference to `out_png`, each side beside it (-a.png, -b.png), and optionally the
    JSON of both; returns the paths written, difference first."""
    import json

    out_png = Path(out_png)
    written = [write_png(out_png, diff)]
    for name, hm in (("a", a), ("b", b)):
        side = out_png.with_name(f"{out_png.stem}-{name}{out_png.suffix or '.png'}")
        hm.write(side)
        written.append(side)
    if json_path:
        Path(json_path).write_text(json.dumps(compare_to_json(a, b), indent=1))
        written.append(Path(json_path))
    return written


def compare_pageviews(store: SessionStore, a: Segment, b: Segment) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pageviews each side of a compare draws (`build_compare`): both from one site."""
    reads = SegmentReads(store)
    site = _common_origin(reads, a, b)
    return reads.choice(a, prefer=site).pageviews, reads.choice(b, prefer=site).pageviews


def _common_origin(reads: SegmentReads, a: Segment, b: Segment) -> str | None:
    """The one site both sides of a compare are drawn from: most pageviews over both."""
    counts: dict[str, int] = {}
    for seg in (a, b):
        choice = reads.choice(seg)
        if choice.origin is None:
            continue
        for o, n in {**choice.others, choice.origin: len(choice.pageviews)}.items():
            counts[o] = counts.get(o, 0) + n
    return min(counts, key=lambda o: (-counts[o], o)) if len(counts) > 1 else None


def _scroll_values(ref: ReferenceLayout, pageviews: Sequence[Mapping[str, Any]], hits: list[dict[str, Any]]
                   ) -> tuple[np.ndarray, dict[str, int]]:
    """Share of pageviews whose viewport bottom reached each reference row, measured through
    elements; a pageview without a recorded position saw the fold."""
    height = ref.image.shape[0]
    depth = depth_on_reference(hits, ref.boxes)
    fold = float(ref.viewport[1])
    depths = np.array([depth.get((p["session_id"], p["index"]), fold) for p in pageviews], dtype=np.float64)
    rows = np.arange(height, dtype=np.float64)
    reach = (depths[None, :] >= rows[:, None]).mean(axis=1) if len(depths) else np.zeros(height)
    return reach, _reach_marks(reach)


def _reach_marks(reach: np.ndarray) -> dict[str, int]:
    """Rows where 75, 50 and 25 % of pageviews still were."""
    marks = {}
    for share in (75, 50, 25):
        below = np.nonzero(reach < share / 100)[0]
        if len(below):
            marks[f"{share}%"] = int(below[0])
    return marks


def _attention_values(ref: ReferenceLayout, pageviews: Sequence[Mapping[str, Any]], hits: list[dict[str, Any]]
                      ) -> tuple[np.ndarray, dict[str, int]]:
    """Seconds per pageview each reference row spent inside the viewport."""
    height = ref.image.shape[0]
    seconds = np.zeros(height + 1, dtype=np.float64)
    pairs: dict[tuple[str, int, int], dict[str, dict[str, Any]]] = {}
    for hit in hits:
        pairs.setdefault((hit["session_id"], hit["pageview"], hit["t"]), {})[hit["kind"]] = hit
    for pair in pairs.values():
        top, bottom = pair.get("view_top"), pair.get("view_bottom")
        if not top or not bottom:
            continue
        box_top, box_bottom = ref.boxes.get(top["element_key"]), ref.boxes.get(bottom["element_key"])
        if box_top is None or box_bottom is None:
            continue
        y0 = int(max(0, reproject(box_top, 0, top["rel_y"])[1]))
        y1 = int(min(height, reproject(box_bottom, 0, bottom["rel_y"])[1]))
        if y1 > y0:
            seconds[y0] += top["dwell_ms"] / 1000
            seconds[y1] -= top["dwell_ms"] / 1000
    per_row = np.maximum(np.cumsum(seconds)[:height], 0.0)  # float sums can dip below 0 by 1e-16
    return per_row / max(1, len(pageviews)), {}
