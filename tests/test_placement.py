"""Selecting pageviews by segment, storing hits, and placing them on a reference layout."""

from __future__ import annotations

import pytest

from heatmap.placement import depth_on_reference, place_hits
from heatmap.segments import Segment, SegmentError, url_matches

T0 = 1_790_000_000_000


def page(t, href, w=1280, h=800):
    return {"type": 4, "timestamp": t, "data": {"href": href, "width": w, "height": h}}


@pytest.fixture
def three_sessions(store):
    store.import_events([page(T0, "http://h:1/index.html?variant=A")], session_id="sess-a-desk",
                        properties={"variant": "A"})
    store.import_events([page(T0 + 5, "http://h:1/index.html?variant=B", 390, 844),
                         page(T0 + 9, "http://h:1/pricing.html", 390, 844)], session_id="sess-b-phone",
                        properties={"variant": "B"})
    store.import_events([page(T0 + 86_400_000 * 3, "http://h:1/")], session_id="sess-later-1",
                        properties={"variant": "B", "plan": "pro"})
    return store


def ids(rows):
    return sorted({r["session_id"] for r in rows})


def test_segments_select_the_right_pageviews(three_sessions):
    store = three_sessions
    # "/" and "/index.html" are one page; the query (variant flags) is ignored
    assert ids(Segment(url="/index.html").select(store)) == ["sess-a-desk", "sess-b-phone", "sess-later-1"]
    assert ids(Segment.parse(["variant=B"]).select(store)) == ["sess-b-phone", "sess-later-1"]
    assert ids(Segment.parse(["variant=B", "plan=pro"]).select(store)) == ["sess-later-1"]
    assert ids(Segment.parse(["viewport=390x844"]).select(store)) == ["sess-b-phone"]
    assert ids(Segment.parse(["device=desktop"]).select(store)) == ["sess-a-desk", "sess-later-1"]
    day = "2026-09-21"  # T0's day (UTC); the third session is three days later
    assert ids(Segment.parse([f"until={day}"]).select(store)) == ["sess-a-desk", "sess-b-phone"]
    assert ids(Segment.parse(["since=2026-09-22"]).select(store)) == ["sess-later-1"]
    pv = Segment.parse(["url=/pricing.html"]).select(store)
    assert [(r["session_id"], r["index"]) for r in pv] == [("sess-b-phone", 1)]


def test_bad_segments_say_how_to_write_them():
    with pytest.raises(SegmentError, match="key=value"):
        Segment.parse(["variant"])
    with pytest.raises(SegmentError, match="YYYY-MM-DD"):
        Segment.parse(["since=yesterday"])


def test_url_matching_ignores_query_and_port_only_when_asked():
    assert url_matches("/index.html", "http://127.0.0.1:9/index.html?variant=B#top")
    assert not url_matches("/index.html", "http://127.0.0.1:9/pricing.html")
    assert url_matches("http://127.0.0.1:9/", "http://127.0.0.1:9/?x")
    assert url_matches("/", "http://127.0.0.1:9/index.html") and url_matches("/docs/", "http://h/docs")
    assert not url_matches("http://127.0.0.1:8/", "http://127.0.0.1:9/")


def hit(session, key, rel=(0.5, 0.5), kind="click", t=0, **extra):
    return {"session_id": session, "pageview": 0, "t": t, "kind": kind, "element_key": key,
            "label": key, "tag": "a", "rel_x": rel[0], "rel_y": rel[1], **extra}


def test_hits_are_placed_through_their_element_and_missing_ones_listed(three_sessions):
    store = three_sessions
    store.replace_hits("sess-a-desk", [hit("sess-a-desk", "#cta", (0.25, 0.5), rage=1)], n_events=1)
    store.replace_hits("sess-b-phone", [hit("sess-b-phone", "#cta", (1.0, 0.0)),
                                        hit("sess-b-phone", "#promo", t=5)], n_events=2)
    assert store.sessions_to_index() == ["sess-later-1"]
    rows = store.hits([("sess-a-desk", 0), ("sess-b-phone", 0)], kinds=["click"])
    placed = place_hits(rows, {"#cta": (100, 200, 40, 10), "#promo": None})
    assert [(p.x, p.y) for p in placed.points] == [(110, 205), (140, 200)]
    assert [(e.element_key, e.hits, len(e.sessions), e.rage) for e in placed.elements] == [("#cta", 2, 2, 1)]
    assert [(e.element_key, e.hits) for e in placed.not_on_layout] == [("#promo", 1)]
    assert placed.n_missing == 1
    # re-indexing replaces, never appends
    store.replace_hits("sess-b-phone", [], n_events=2)
    assert len(store.hits([("sess-b-phone", 0)])) == 0


def test_scroll_depth_is_measured_against_elements():
    bottoms = [hit("s1", "#footer", (0, 0.5), kind="view_bottom", pageview=0),
               hit("s1", "#hero", (0, 1.0), kind="view_bottom", pageview=0),
               hit("s2", "#features", (0, 0.0), kind="view_bottom", pageview=0)]
    for b in bottoms:
        b["pageview"] = 0
    depth = depth_on_reference(bottoms, {"#footer": (0, 3000, 100, 200), "#hero": (0, 0, 100, 500),
                                         "#features": (0, 800, 100, 900)})
    assert depth == {("s1", 0): 3100, ("s2", 0): 800}
