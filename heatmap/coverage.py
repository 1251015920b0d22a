"""What visitors use that no test touches: a page's elements ranked by visitors' clicks, each with
whether some test clicked it, drawn on the reference layout with the untested ones outlined.

The library call behind `sessionheat coverage`. Test sessions are those the pytest plugin tagged
with `test` (plumbing.vocabulary.PROP_TEST); every other session is a visitor's. Elements are
matched by their element key (heatmap/keys.py), so a test on another viewport or variant still
covers the element it clicked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from plumbing.store import SessionStore
from plumbing.vocabulary import CLICK_KINDS, PROP_TEST, Box, counted

from heatmap.build import HeatmapError
from heatmap.keys import settled_hits
from heatmap.placement import place_hits
from heatmap.reference import ReferenceLayout, choose_reference, load_reference
from heatmap.render import ElementOutline, render_point_map, write_png
from heatmap.segments import Segment

OUTLINED_UNTESTED = 8  # the hottest untested elements outlined on the map


@dataclass
class ElementCoverage:
    """One element visitors clicked, and the tests that clicked it too."""

    element_key: str
    label: str
    tag: str
    visitor_clicks: int
    visitor_sessions: int
    tests: list[str] = field(default_factory=list)  # node ids of the tests that clicked it
    box: Box | None = None  # on the reference layout; None when it is not on it

    @property
    def tested(self) -> bool:
        return bool(self.tests)

    def as_json(self) -> dict[str, Any]:
        return {"element_key": self.element_key, "label": self.label, "tag": self.tag,
                "visitor_clicks": self.visitor_clicks, "visitor_sessions": self.visitor_sessions,
                "tested": self.tested, "tests": self.tests,
                "box": [round(v, 1) for v in self.box] if self.box else None}


@dataclass
class Coverage:
    url: str
    visitors: Segment
    tests: Segment
    n_visitor_sessions: int
    n_test_sessions: int
    elements: list[ElementCoverage]  # most clicked by visitors first
    reference: ReferenceLayout
    image: np.ndarray
    n_unindexed: int = 0  # sessions of the selection left out, not indexed yet (indexed_only)

    @property
    def percent(self) -> float:
        """The share of visitors' clicks that landed on elements some test clicked, in percent."""
        total = sum(e.visitor_clicks for e in self.elements)
        return 100.0 * sum(e.visitor_clicks for e in self.elements if e.tested) / total if total else 100.0

    @property
    def untested(self) -> list[ElementCoverage]:
        return [e for e in self.elements if not e.tested]

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "visitors": self.visitors.label(), "tests": self.tests.label(),
                "n_visitor_sessions": self.n_visitor_sessions, "n_test_sessions": self.n_test_sessions,
                "percent": round(self.percent, 2),
                "n_elements": len(self.elements), "n_untested": len(self.untested),
                "elements": [e.as_json() for e in self.elements],
                "untested": [e.element_key for e in self.untested],
                "reference": {"session_id": self.reference.session_id, "pageview": self.reference.pageview,
                              "t": self.reference.t}}

    def write(self, png: str | Path | None = None, json_path: str | Path | None = None) -> None:
        if png:
            write_png(png, self.image)
        if json_path:
            Path(json_path).write_text(json.dumps(self.to_json(), indent=1))


def _pageviews(store: SessionStore, segment: Segment, *, tests: bool, origin: str | None = None,
               indexed_only: bool = False) -> tuple[list[dict[str, Any]], str | None, int]:
    """The segment's pageviews of test sessions (`tests`) or of visitors' sessions, from one site,
    and how many of their sessions were left out as not indexed yet (with `indexed_only`; else
    those refuse)."""
    choice = segment.select_one_origin(store, prefer=origin)
    rows = [p for p in choice.pageviews if (PROP_TEST in p["properties"]) == tests]
    unindexed = {p["session_id"] for p in rows} - set(store.index_marks(p["session_id"] for p in rows))
    if unindexed and not indexed_only:
        raise HeatmapError(f"{counted(len(unindexed), 'session')} of {segment.label()} not indexed yet: "
                           "run `sessionheat index` first")
    return [p for p in rows if p["session_id"] not in unindexed], choice.origin, len(unindexed)


def _clicks(store: SessionStore, pageviews: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    hits = store.hits([(p["session_id"], p["index"]) for p in pageviews], kinds=CLICK_KINDS)
    return settled_hits(store, pageviews, hits)


def build_coverage(store: SessionStore, url: str, *, tests: Segment | None = None,
                   visitors: Segment | None = None, browser: Any = None, indexed_only: bool = False
                   ) -> Coverage:
    """Which of the elements visitors click on `url` some test clicked too (see module doc).
    A session not indexed yet refuses, unless `indexed_only` leaves it out (and counts it: the
    explorer draws what is indexed and says what is not)."""
    visitors = visitors or Segment()
    tests = tests or Segment()
    visitors.url = tests.url = url
    visitor_views, origin, unindexed = _pageviews(store, visitors, tests=False, indexed_only=indexed_only)
    if not visitor_views:
        waiting = f"; {counted(unindexed, 'session')} not indexed yet" if unindexed else ""
        raise HeatmapError(f"no visitor's pageview of {visitors.label()} (sessions without a `{PROP_TEST}` "
                           f"property){waiting}")
    test_views, _, unindexed_tests = _pageviews(store, tests, tests=True, origin=origin, indexed_only=indexed_only)
    visitor_clicks = _clicks(store, visitor_views)
    if not visitor_clicks:
        raise HeatmapError(f"visitors made no click on {visitors.label()}")
    tested_by: dict[str, set[str]] = {}
    names = {p["session_id"]: str(p["properties"][PROP_TEST]) for p in test_views}
    for hit in _clicks(store, test_views):
        if hit.get("element_key"):
            tested_by.setdefault(hit["element_key"], set()).add(names[hit["session_id"]])

    ref_id, ref_pv = choose_reference(visitor_views, visitor_clicks, wanted=visitor_clicks)
    ref = load_reference(store, ref_id, ref_pv, visitor_clicks, browser=browser)
    placement = place_hits(visitor_clicks, ref.boxes)
    elements = [ElementCoverage(s.element_key, s.label, s.tag, s.hits, len(s.sessions),
                                sorted(tested_by.get(s.element_key, ())), s.box)
                for s in sorted([*placement.elements, *placement.not_on_layout],
                                key=lambda s: (-s.hits, s.element_key))]
    n_visitors = len({p["session_id"] for p in visitor_views})
    n_tests = len({p["session_id"] for p in test_views})
    result = Coverage(url, visitors, tests, n_visitors, n_tests, elements, ref, np.zeros((1, 1, 3), np.uint8),
                      n_unindexed=unindexed + unindexed_tests)
    outlines = [ElementOutline(*e.box, count=e.visitor_clicks, label=f"untested: {e.label}")
                for e in result.untested[:OUTLINED_UNTESTED] if e.box]
    points = np.array([(p.x, p.y) for p in placement.points], dtype=np.float64).reshape(-1, 2)
    caption = (f"{visitors.label()} | {counted(n_visitors, 'visitor session')}, "
               f"{counted(n_tests, 'test session')} | {result.percent:.0f}% of visitors' clicks on tested "
               f"elements | {counted(len(result.untested), 'element')} untested, outlined")
    result.image = render_point_map(ref.image, points, kind_label="visitors' clicks", outlines=outlines,
                                    caption=caption)
    return result
