"""A path-only heatmap URL never mixes sites: pageviews of several origins sharing a path (the demo,
a staging copy on another port) are narrowed to the origin with most pageviews, and the others
are named with how to choose them. Synthetic sessions, real SQLite."""

from __future__ import annotations

import pytest

from heatmap import Segment
from heatmap.build import _caution, _select

T0 = 1_790_000_000_000
DEMO, STAGING = "http://127.0.0.1:46051", "http://127.0.0.1:54939"


def _session(store, origin: str, path: str, n: int) -> str:
    events = [{"type": 4, "data": {"href": origin + path, "width": 1280, "height": 800},
               "timestamp": T0 + n},
              {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []}}, "timestamp": T0 + n + 5}]
    sid, _ = store.import_events(events, session_id=f"s-{origin[-5:]}-{n}")
    store.replace_hits(sid, [{"pageview": 0, "t": 5, "kind": "click", "element_key": "#cta",
                              "x": 10, "y": 10, "rel_x": 0.5, "rel_y": 0.5}], n_events=2)
    return sid


@pytest.fixture
def two_sites(store):
    demo = [_session(store, DEMO, "/" if i % 2 else "/index.html", i) for i in range(4)]
    staging = [_session(store, STAGING, "/", 10 + i) for i in range(2)]
    return store, demo, staging


def test_path_only_url_keeps_the_origin_with_most_pageviews_and_names_the_others(two_sites):
    store, demo, staging = two_sites
    choice = Segment(url="/index.html").select_one_origin(store)
    assert {p["session_id"] for p in choice.pageviews} == set(demo)  # `/` is `/index.html`
    assert choice.origin == DEMO and choice.others == {STAGING: 2}
    note = choice.note()
    assert DEMO in note and STAGING in note and f"not {STAGING} (2)" in note and "full URL" in note
    assert f"{STAGING}/index.html" in note
    assert choice.as_json() == {"origin": DEMO, "other_origins": [{"origin": STAGING, "pageviews": 2}]}
    # The library's selection (what build_heatmap and build_compare draw) is the same one.
    pageviews, hits, origin = _select(store, Segment(url="/index.html"), "click")
    assert {p["session_id"] for p in pageviews} == set(demo) and len(hits) == 4
    assert origin.note() == note and note in _caution(4, origin)
    assert {p["session_id"] for p in Segment(url="/").select(store)} == set(demo)


def test_full_url_or_a_preference_chooses_the_other_site(two_sites):
    store, demo, staging = two_sites
    full = Segment(url=STAGING + "/index.html").select_one_origin(store)
    assert {p["session_id"] for p in full.pageviews} == set(staging) and full.note() is None
    preferred = Segment(url="/").select_one_origin(store, prefer=STAGING)
    assert {p["session_id"] for p in preferred.pageviews} == set(staging)
    assert preferred.others == {DEMO: 4}


def test_one_site_needs_no_note(store):
    ids = [_session(store, DEMO, "/", i) for i in range(2)]
    choice = Segment(url="/").select_one_origin(store)
    assert {p["session_id"] for p in choice.pageviews} == set(ids)
    assert choice.note() is None and choice.others == {}


def test_the_explorer_selects_a_compare_as_build_compare_draws_it(store):
    # Variant A was visited on the demo origin, variant B mostly on staging: alone, B would keep
    # staging; a compare draws both sides from the site with most pageviews over both (demo),
    # where B has one pageview. The explorer's cache key must come from what is really drawn.
    from heatmap import compare_pageviews
    from sessionheat.web.heatmap_cache import select
    from sessionheat.web.heatmap_request import MapRequest

    def visit(origin, n, variant):
        events = [{"type": 4, "data": {"href": origin + "/", "width": 1280, "height": 800}, "timestamp": T0 + n},
                  {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []}}, "timestamp": T0 + n + 5}]
        return store.import_events(events, session_id=f"v-{origin[-5:]}-{n}", properties={"variant": variant})[0]

    a_demo = {visit(DEMO, i, "A") for i in range(3)}
    b_staging = {visit(STAGING, 10 + i, "B") for i in range(3)}
    b_demo = {visit(DEMO, 20, "B")}
    seg_a, seg_b = Segment(url="/", properties={"variant": "A"}), Segment(url="/", properties={"variant": "B"})
    assert {p["session_id"] for p in seg_b.select(store)} == b_staging  # alone: staging
    drawn_a, drawn_b = compare_pageviews(store, seg_a, seg_b)
    assert {p["session_id"] for p in drawn_a} == a_demo and {p["session_id"] for p in drawn_b} == b_demo
    request = MapRequest(url="/", segment=("variant=A",), compare=True, vs_segment=("variant=B",))
    chosen = select(store, request)
    assert (chosen.a, chosen.b) == (drawn_a, drawn_b)
