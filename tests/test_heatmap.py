"""Heatmaps end to end: real Chromium, the demo site, SQLite; checked on data and on pixels.

A handful of scripted visits are recorded ONCE for the module (with click evidence: what each
click really hit and its live box), indexed, and then drawn on different reference layouts:

    a      variant A, no banner, no promo, desktop: clicks the CTA near its top-left corner
    b      variant B (CTA far lower), tall banner, promo, desktop: clicks the promo button,
           wheels down to the footer, then clicks the CTA near its bottom-right corner
    hero   variant A, tall banner, promo, desktop: the rage journey (3 fast clicks on the hero
           title, never scrolls)
    phone  variant B, short banner, no promo, 390 px: taps the CTA

The demo server (session-scoped) outlives recording, indexing and every build: replays load
the page's images from the recorded origin.
"""

from __future__ import annotations

import json
import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from plumbing.events import EventType
from plumbing.vocabulary import TAG_LIVE_CLICK

import heatmap
from demo import load_journey
from heatmap import LEGEND_HEIGHT, Heatmap, Segment, depth_on_reference
from recorder import SessionStore, record

DESKTOP = (1280, 800)
PHONE = (390, 844)
LAZY_LOADED = ("() => Array.from(document.querySelectorAll('img.lazy'))"
               ".every(i => i.classList.contains('loaded'))")
RAGE_SEED = 3  # the rage journey with this seed keeps the banner, aims at the title, clicks 3 times
CTA = "[data-demo-id=cta]"
PROMO = "[data-demo-id=promo-cta]"
INDEX = "/index.html"


@dataclass
class Recorded:
    store: SessionStore
    ids: dict[str, str]  # name -> session id
    raw_db: Path  # a copy of the store taken before indexing, for the CLI
    browser: Any
    built: dict[tuple, Heatmap] = field(default_factory=dict)

    def build(self, segment: Segment, kind: str = "click", reference: str | None = None) -> Heatmap:
        """build_heatmap, memoised: each build replays its reference (about a second)."""
        key = (repr(segment), kind, reference)
        if key not in self.built:
            self.built[key] = heatmap.build_heatmap(self.store, segment, kind, reference=reference,
                                                    browser=self.browser)
        return self.built[key]

    def hits(self, name: str, kinds: tuple[str, ...] = ("click",), pageview: int = 0) -> list[dict]:
        return self.store.hits([(self.ids[name], pageview)], kinds=kinds)


def _settle(page: Any) -> None:
    page.wait_for_function(LAZY_LOADED)  # lazy images shift the layout: click once it is still
    page.wait_for_timeout(100)


def _visit_a(page: Any) -> None:
    _settle(page)
    page.locator(CTA).click(position={"x": 12, "y": 8})
    page.wait_for_url("**/signup.html*")
    page.wait_for_load_state()


def _visit_b(page: Any) -> None:
    _settle(page)
    page.locator(PROMO).click(position={"x": 20, "y": 10})
    page.mouse.move(640, 400)
    for _ in range(14):  # far past the bottom: the footer is on screen
        page.mouse.wheel(0, 450)
        page.wait_for_timeout(70)
    page.wait_for_timeout(500)  # held there
    assert page.evaluate("scrollY + innerHeight >= document.documentElement.scrollHeight - 1")
    box = page.locator(CTA).bounding_box()
    page.locator(CTA).click(position={"x": box["width"] - 12, "y": box["height"] - 8})
    page.wait_for_url("**/signup.html*")
    page.wait_for_load_state()


def _visit_hero(page: Any) -> None:
    _settle(page)
    load_journey("rage")(page, random.Random(RAGE_SEED))


def _visit_phone(page: Any) -> None:
    _settle(page)
    page.locator(CTA).click()
    page.wait_for_url("**/signup.html*")
    page.wait_for_load_state()


VISITS = {
    "a": ({"variant": "A", "banner": "none", "promo": "0"}, DESKTOP, _visit_a),
    "b": ({"variant": "B", "banner": "tall", "promo": "1"}, DESKTOP, _visit_b),
    "hero": ({"variant": "A", "banner": "tall", "promo": "1"}, DESKTOP, _visit_hero),
    "phone": ({"variant": "B", "banner": "short", "promo": "0"}, PHONE, _visit_phone),
}


@pytest.fixture(scope="module")
def rec(browser, demo_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("heatmap")
    store = SessionStore(tmp / "demo.db")
    ids = {}
    for name, (profile, viewport, visit) in VISITS.items():
        url = demo_server.url_for("index.html", imgdelay=0, **profile)
        with record(url, store=store, browser=browser, viewport=viewport, evidence=True,
                    properties={"who": name}) as session:
            visit(session.page)
            session.page.wait_for_timeout(100)
        assert not session.errors, session.errors
        ids[name] = session.id
    raw_db = tmp / "raw.db"
    with sqlite3.connect(store.path) as src, sqlite3.connect(raw_db) as dst:
        src.backup(dst)
    results = heatmap.index_sessions(store, browser=browser)
    assert sorted(r.session_id for r in results) == sorted(ids.values())
    assert not [r for r in results if r.problem or r.n_unresolved], [r.as_json() for r in results]
    yield Recorded(store, ids, raw_db, browser)
    store.close()


# -- helpers -----------------------------------------------------------------------------------


def live_clicks(store: SessionStore, session_id: str) -> list[dict[str, Any]]:
    """The recorder's evidence: per click, the node hit, its live box and the document point."""
    events = store.read_events(session_id).events
    t0 = events[0]["timestamp"]
    out = []
    for e in events:
        if e["type"] == EventType.CUSTOM and e["data"].get("tag") == TAG_LIVE_CLICK:
            p = e["data"]["payload"]
            out.append({"t": e["timestamp"] - t0, "id": p["id"], "box": tuple(p["box"]),
                        "x": p["x"] + p["scroll"][0], "y": p["y"] + p["scroll"][1]})
    return out


def evidence_for(store: SessionStore, hit: dict[str, Any]) -> dict[str, Any]:
    """The live click a click hit came from: same node, nearest in time."""
    same = [c for c in live_clicks(store, hit["session_id"]) if c["id"] == hit["node_id"]]
    assert same, f"no evidence for {hit}"
    best = min(same, key=lambda c: abs(c["t"] - hit["t"]))
    assert abs(best["t"] - hit["t"]) <= 50
    return best


def inside(box: tuple[float, float, float, float], x: float, y: float, slack: float = 0.5) -> bool:
    bx, by, bw, bh = box
    return bx - slack <= x <= bx + bw + slack and by - slack <= y <= by + bh + slack


def page_of(hm: Heatmap) -> np.ndarray:
    """The page part of a rendered map (below the legend), cut to the reference's width."""
    ref = hm.reference.image
    return hm.image[LEGEND_HEIGHT:LEGEND_HEIGHT + ref.shape[0], :ref.shape[1]]


def desktop_index(**properties: str) -> Segment:
    return Segment(url=INDEX, viewport_w=DESKTOP[0], properties=dict(properties))


# -- re-projection through elements ------------------------------------------------------------


@pytest.mark.parametrize("reference", ["a", "b"])
def test_cta_clicks_from_both_variants_land_on_the_cta_of_either_reference(rec, reference):
    (hit_a,) = rec.hits("a")
    hit_b = rec.hits("b")[-1]
    assert hit_a["element_key"] == hit_b["element_key"] == "#cta-main"
    live_a, live_b = evidence_for(rec.store, hit_a), evidence_for(rec.store, hit_b)
    # The premise: variant B really moved the CTA far down, so raw x/y would miss it.
    assert live_b["box"][1] - live_a["box"][1] > 1000
    assert not inside(live_a["box"], live_b["x"], live_b["y"])
    assert not inside(live_b["box"], live_a["x"], live_a["y"])

    hm = rec.build(desktop_index(), reference=rec.ids[reference])
    assert hm.reference.session_id == rec.ids[reference]
    box = hm.reference.boxes["#cta-main"]
    # The reference box is the CTA as that visitor's live page had it.
    own = live_a if reference == "a" else live_b
    assert np.allclose(box, own["box"], atol=2), (box, own["box"])
    placed = {(p.session_id, p.t): p for p in hm.placement.points if p.element_key == "#cta-main"}
    for hit, live in ((hit_a, live_a), (hit_b, live_b)):
        point = placed[(hit["session_id"], hit["t"])]
        assert inside(box, point.x, point.y), (point, box)
        # ... at the same place inside the element the visitor clicked.
        lx, ly, lw, lh = live["box"]
        expect = (box[0] + (live["x"] - lx) / lw * box[2], box[1] + (live["y"] - ly) / lh * box[3])
        assert abs(point.x - expect[0]) <= 2 and abs(point.y - expect[1]) <= 2, (point, expect)
    # Top-left-ish and bottom-right-ish clicks stay apart on the reference.
    pa, pb = placed[(rec.ids["a"], hit_a["t"])], placed[(rec.ids["b"], hit_b["t"])]
    assert pb.x - pa.x > box[2] / 2 and pb.y > pa.y
    cta = next(e for e in hm.placement.elements if e.element_key == "#cta-main")
    assert cta.hits == 2 and cta.sessions == {rec.ids["a"], rec.ids["b"]}


def test_promo_click_is_not_on_a_no_promo_layout_and_never_drawn(rec):
    (promo,) = [h for h in rec.hits("b") if h["label"] == "Claim 30% off"]
    key = promo["element_key"]
    hm = rec.build(desktop_index(), reference=rec.ids["a"])
    assert hm.reference.boxes.get(key) is None
    missing = {e.element_key: e for e in hm.placement.not_on_layout}
    assert key in missing and missing[key].hits == 1 and missing[key].sessions == {rec.ids["b"]}
    assert key not in {e.element_key for e in hm.placement.elements}
    assert not [p for p in hm.placement.points if p.element_key == key]
    data = json.loads(json.dumps(hm.to_json()))
    assert [e["element_key"] for e in data["not_on_layout"]] == [key]
    assert data["not_on_layout"][0]["clicks"] == 1 and data["not_on_layout"][0]["box"] is None
    assert key not in {p["element_key"] for p in data["points"]}
    # Nothing is drawn where the promo click was in its own (raw) document coordinates.
    x, y = int(promo["x"]), int(promo["y"])
    window = (slice(y - 25, y + 25), slice(x - 25, x + 25))
    assert np.array_equal(page_of(hm)[window], hm.reference.image[window])
    # On a layout that has the promo, the same key is found and drawn.
    on_b = rec.build(desktop_index(), reference=rec.ids["b"])
    assert on_b.reference.boxes.get(key) is not None
    assert [p for p in on_b.placement.points if p.element_key == key]
    assert not on_b.placement.not_on_layout


# -- rage and dead clicks ----------------------------------------------------------------------


def test_three_fast_clicks_on_the_hero_title_are_rage_and_dead(rec):
    clicks = rec.hits("hero")
    assert len(clicks) == 3
    assert {h["tag"] for h in clicks} == {"h1"}
    assert all(h["rage"] and h["dead"] and not h["interactive"] for h in clicks)
    for hit in clicks:  # the evidence agrees: the live page's click hit the title
        live = evidence_for(rec.store, hit)
        assert inside(live["box"], live["x"], live["y"])
    key = clicks[0]["element_key"]
    assert {h["element_key"] for h in clicks} == {key}
    # A click that navigates is neither.
    assert not any(h["rage"] or h["dead"] for s in ("a", "b", "phone") for h in rec.hits(s))

    hm = rec.build(desktop_index(), reference=rec.ids["a"])
    title = next(e for e in hm.placement.elements if e.element_key == key)
    assert (title.hits, title.rage, title.dead) == (3, 3, 3)
    assert all(e.rage == 0 and e.dead == 0 for e in hm.placement.elements if e.element_key != key)
    table = {e["element_key"]: e for e in hm.to_json()["elements"]}
    assert (table[key]["rage"], table[key]["dead"]) == (3, 3)
    for kind in ("rage", "dead"):
        only = rec.build(desktop_index(), kind, reference=rec.ids["a"])
        assert len(only.placement.points) == 3
        assert {p.session_id for p in only.placement.points} == {rec.ids["hero"]}
        assert [e.element_key for e in only.placement.elements] == [key]
        box = only.reference.boxes[key]
        assert all(inside(box, p.x, p.y) for p in only.placement.points)


# -- scroll depth ------------------------------------------------------------------------------


def test_scroll_depth_is_measured_against_elements_on_a_shorter_reference(rec):
    (deep_b,) = rec.hits("b", ("view_max",))
    (deep_hero,) = rec.hits("hero", ("view_max",))
    footer_key = deep_b["element_key"]
    assert "footer" in footer_key  # b's viewport bottom ended in the footer
    hm = rec.build(desktop_index(), "scroll", reference=rec.ids["a"])
    ref = hm.reference
    # The premise: b's and hero's layouts are taller than the reference's.
    assert deep_b["doc_h"] - ref.doc_size[1] > 200
    footer = ref.boxes[footer_key]
    assert footer is not None and footer[1] + footer[3] >= ref.doc_size[1] - 2
    hits = rec.store.hits([(rec.ids[n], 0) for n in ("a", "b", "hero")], kinds=("view_max",))
    depth = depth_on_reference(hits, ref.boxes)
    assert depth[(rec.ids["b"], 0)] >= footer[1] + footer[3] / 2
    assert depth[(rec.ids["hero"], 0)] < footer[1]
    # The hero-only visitor had a tall banner above the page: their viewport bottom (800 px into
    # their document) sat on content that is well higher on the banner-less reference.
    assert deep_hero["y"] == pytest.approx(DESKTOP[1], abs=2)
    assert depth[(rec.ids["hero"], 0)] < deep_hero["y"] - 100
    assert hm.n_pageviews == 3
    reach_at_footer = sum(d >= footer[1] for d in depth.values()) / hm.n_pageviews
    assert reach_at_footer == pytest.approx(1 / 3)
    marks = hm.marks
    assert set(marks) == {"75%", "50%", "25%"}
    assert marks["75%"] <= marks["50%"] <= marks["25%"]
    assert marks["25%"] >= footer[1]  # a quarter of the pageviews still saw the footer
    assert marks["75%"] < footer[1]
    # On the picture: the footer rows are tinted as reached when b is selected, and not when
    # only variant A's visitors (a, hero: neither went past the features) are; rows everyone saw
    # are tinted alike.
    shallow = rec.build(desktop_index(variant="A"), "scroll", reference=rec.ids["a"])
    assert shallow.n_pageviews == 2 and shallow.reference.session_id == ref.session_id
    row = int(footer[1] + footer[3] / 2)
    assert all(abs(row - y) > 5 for y in [*marks.values(), *shallow.marks.values()])
    assert np.abs(page_of(hm)[row].astype(int) - page_of(shallow)[row].astype(int)).mean() > 10
    assert np.array_equal(page_of(hm)[100], page_of(shallow)[100])


# -- segments ----------------------------------------------------------------------------------


def test_segments_select_the_right_sessions(rec):
    ids = rec.ids

    def sessions(segment: Segment) -> set[str]:
        return {p["session_id"] for p in segment.select(rec.store)}

    assert sessions(Segment(url=INDEX)) == set(ids.values())
    assert sessions(Segment(url=INDEX, properties={"variant": "B"})) == {ids["b"], ids["phone"]}
    assert sessions(Segment(url=INDEX, viewport_w=PHONE[0])) == {ids["phone"]}
    assert sessions(desktop_index()) == {ids["a"], ids["b"], ids["hero"]}
    assert sessions(desktop_index(variant="B")) == {ids["b"]}
    assert sessions(Segment(url="/signup.html")) == {ids["a"], ids["b"], ids["phone"]}
    assert all(p["url"].split("?")[0].endswith("/signup.html")
               for p in Segment(url="/signup.html").select(rec.store))

    hm = rec.build(Segment(url=INDEX, properties={"variant": "B"}), reference=ids["b"])
    assert hm.n_sessions == 2 and hm.n_pageviews == 2
    assert {p.session_id for p in hm.placement.points} == {ids["b"], ids["phone"]}
    phone = rec.build(Segment(url=INDEX, viewport_w=PHONE[0]))
    assert phone.reference.session_id == ids["phone"] and phone.reference.viewport[0] == PHONE[0]
    assert {p.session_id for p in phone.placement.points} == {ids["phone"]}
    (tap,) = phone.placement.points
    assert tap.element_key == "#cta-main" and inside(phone.reference.boxes["#cta-main"], tap.x, tap.y)
    with pytest.raises(heatmap.HeatmapError):
        rec.build(desktop_index(variant="C"))


# -- pixels ------------------------------------------------------------------------------------


def test_rendered_png_is_the_reference_plus_legend_with_heat_only_where_clicks_were(rec, tmp_path):
    hm = rec.build(desktop_index(), reference=rec.ids["a"])
    ref = hm.reference
    height, width = ref.image.shape[:2]
    assert (width, height) == (int(ref.doc_size[0]), int(ref.doc_size[1]))
    assert hm.image.shape == (LEGEND_HEIGHT + height, width, 3)
    png, js = tmp_path / "click.png", tmp_path / "click.json"
    hm.write(png, js)
    assert np.array_equal(cv2.imread(str(png), cv2.IMREAD_COLOR), hm.image)
    assert json.loads(js.read_text())["points"]

    page = page_of(hm).astype(int)
    background = ref.image.astype(int)
    points = hm.placement.points
    assert len(points) == 5  # a's CTA, b's CTA, hero's 3 (b's promo is not on this layout)
    for p in points:
        y, x = int(p.y), int(p.x)
        assert np.abs(page[y - 2:y + 3, x - 2:x + 3] - background[y - 2:y + 3, x - 2:x + 3]).mean() > 20
    # Far from every point and every outlined element (and its badge), the page is untouched.
    yy, xx = np.mgrid[0:height, 0:width]
    far = np.ones((height, width), bool)
    for p in points:
        far &= (xx - p.x) ** 2 + (yy - p.y) ** 2 > 80 ** 2
    for e in hm.placement.elements:
        x0, y0, w, h = e.box
        far &= ~((xx > x0 - 12) & (xx < x0 + max(w, 300) + 12) & (yy > y0 - 30) & (yy < y0 + h + 12))
    assert far.mean() > 0.8
    assert np.array_equal(page[far], background[far])
    assert (page[~far] != background[~far]).any()


# -- CLI ---------------------------------------------------------------------------------------


def invoke_cli(*args: str) -> Any:
    """CliRunner in a thread of its own: the module's sync Playwright owns this thread's event
    loop, and the CLI starts its own Playwright, as it would in a fresh process."""
    from sessionheat.cli import main

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main, list(args)).result()


def test_cli_index_then_heatmap_writes_png_and_json(rec, tmp_path):
    db = str(rec.raw_db)
    result = invoke_cli("index", "--db", db, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "indexed 4 sessions" in result.output
    out_png, out_json = tmp_path / "map.png", tmp_path / "map.json"
    result = invoke_cli("heatmap", "--db", db, "--url", INDEX, "--kind", "click", "--viewport", "1280x800",
                        "--out", str(out_png), "--json", str(out_json))
    assert result.exit_code == 0, result.output
    data = json.loads(out_json.read_text())
    assert {"points", "elements", "not_on_layout"} <= set(data)
    ref_w, ref_h = data["reference"]["doc_size"]
    assert cv2.imread(str(out_png)).shape == (LEGEND_HEIGHT + int(ref_h), int(ref_w), 3)
    for p in data["points"]:
        assert {"x", "y", "element_key", "session_id", "t"} <= set(p)
        assert 0 <= p["x"] <= ref_w and 0 <= p["y"] <= ref_h
    # The CLI's own index agrees with the module's: every desktop click of the index page is
    # either placed or listed as not on this layout, none dropped.
    copy = SessionStore(rec.raw_db)
    try:
        desktop = [rec.ids[n] for n in ("a", "b", "hero")]
        clicks = copy.hits([(s, 0) for s in desktop], kinds=("click",))
    finally:
        copy.close()
    assert {(h["session_id"], h["t"]) for h in clicks} == {
        (h["session_id"], h["t"]) for s in ("a", "b", "hero") for h in rec.hits(s)}
    placed = sum(e["clicks"] for e in data["elements"])
    missing = sum(e["clicks"] for e in data["not_on_layout"])
    assert placed == len(data["points"]) and placed + missing == len(clicks) == 6
    assert {p["session_id"] for p in data["points"]} <= set(desktop)
    cta = next(e for e in data["elements"] if e["element_key"] == "#cta-main")
    assert cta["clicks"] == 2 and cta["sessions"] == 2


def test_a_reused_replay_page_indexes_each_session_as_a_fresh_page_does(rec, tmp_path):
    """Index workers replay session after session on one page; nothing of one session (node ids,
    styles, scroll, viewport, hover, allowed origins) may change another's hits. The order mixes
    viewports and variants, and the scrolled-to-the-footer visit comes first."""
    from heatmap.index import index_session
    from replay import ReplayPage

    db = tmp_path / "reuse.db"
    with sqlite3.connect(rec.raw_db) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    store = SessionStore(db)
    order = ["b", "phone", "hero", "a"]

    def all_hits(name: str) -> list[dict]:
        sid = rec.ids[name]
        rows = store.hits([(sid, p["index"]) for p in store.pageviews(sid)])
        return sorted(rows, key=lambda h: json.dumps(h, sort_keys=True))

    try:
        with ReplayPage(rec.browser) as page:
            for name in order:
                result = index_session(store, rec.ids[name], page=page)
                assert not result.problem and not result.n_unresolved, result.as_json()
            assert page.sessions == len(order)
        reused = {name: all_hits(name) for name in order}
        for name in order:  # each on a page of its own
            index_session(store, rec.ids[name], browser=rec.browser)
        fresh = {name: all_hits(name) for name in order}
    finally:
        store.close()
    for name in order:
        assert reused[name], f"{name}: no hits"
        assert reused[name] == fresh[name], name


# -- compare -----------------------------------------------------------------------------------


def caution_strip(image: np.ndarray) -> bool:
    """The legend holds the amber caution box."""
    from heatmap.render_legend import CAUTION_FILL

    return bool((image[:LEGEND_HEIGHT] == CAUTION_FILL).all(axis=2).sum() > 2000)


def test_compare_writes_both_sides_the_difference_and_json_with_cautions(rec, tmp_path):
    a, b, diff = heatmap.build_compare(rec.store, desktop_index(variant="A"), desktop_index(variant="B"),
                                       reference=rec.ids["a"], browser=rec.browser)
    assert a.caution and b.caution and "only 2 sessions" in a.caution
    assert caution_strip(diff) and caution_strip(a.image) and caution_strip(b.image)
    written = heatmap.write_compare(tmp_path / "ab.png", a, b, diff, tmp_path / "ab.json")
    assert [p.name for p in written] == ["ab.png", "ab-a.png", "ab-b.png", "ab.json"]
    data = json.loads((tmp_path / "ab.json").read_text())
    assert data["reference"]["session_id"] == rec.ids["a"]
    assert "A: only 2 sessions" in data["caution"] and "B: only 1 session:" in data["caution"]
    for side, hm in (("a", a), ("b", b)):
        assert {"points", "elements", "not_on_layout"} <= set(data[side])
        assert len(data[side]["points"]) == len(hm.placement.points)
    assert [e["element_key"] for e in data["b"]["not_on_layout"]] == [
        e.element_key for e in b.placement.not_on_layout]  # b's promo: not on a's layout
    cta = next(r for r in data["difference"] if r["element_key"] == "#cta-main")
    assert cta["a_clicks"] == 1 and cta["b_clicks"] == 1
    assert cta["delta"] == pytest.approx(cta["a_share"] - cta["b_share"], abs=1e-4)
    deltas = [abs(r["delta"]) for r in data["difference"]]
    assert deltas == sorted(deltas, reverse=True)


def test_cli_compare_names_its_files_writes_json_and_cautions(rec, tmp_path):
    out, js = tmp_path / "cmp.png", tmp_path / "cmp.json"
    result = invoke_cli("heatmap", "--db", str(rec.store.path), "--url", INDEX, "--viewport", "1280x800",
                        "--segment", "variant=A", "--compare", "variant=B", "--reference", rec.ids["a"],
                        "--out", str(out), "--json", str(js))
    assert result.exit_code == 0, result.output
    for path in (out, tmp_path / "cmp-a.png", tmp_path / "cmp-b.png", js):
        assert path.exists() and str(path) in result.stdout
    assert rec.ids["a"] in result.stdout
    assert "caution (A): only 2 sessions" in result.stderr and "caution (B): only 1 session" in result.stderr
    assert set(json.loads(js.read_text())) >= {"a", "b", "difference"}
