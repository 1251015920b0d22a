"""Canvas drawings recorded and replayed: a chart on a 2D canvas, one inside a shadow root.

The recorder photographs each canvas when it first appears, at each pointerdown and click, and
every second while it is being drawn on (recorder/record.js, "canvas snapshots"); the replay lays
canvases out as replaced elements again and shows, at each moment, the last picture taken at or
before it (replay/canvas.js). Pictures are lossless WebP, so the replayed canvas matches the live
pixels exactly here; a pixel counts as different past 32 of 255 in a channel, and at most 0.1 % of
the canvas may differ (room for a browser that resamples an edge; a missing drawing or the state
of another click differs on 1.5-60 %).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import ASSETS, AssetServer

from plumbing.vocabulary import TAG_CANVAS

import heatmap
from heatmap import Segment
from recorder import SessionStore, record
from replay import open_session

CLICK_XS = (100, 260, 410)  # viewport x of three bars; y = 250 is inside each
PIXEL_SHARE = 0.001


def differing_share(png_a: bytes, png_b: bytes) -> float:
    a = cv2.imdecode(np.frombuffer(png_a, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)
    b = cv2.imdecode(np.frombuffer(png_b, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)
    assert a.shape == b.shape
    return float((np.abs(a - b).max(axis=2) > 32).mean())


def record_chart(store, url, browser, *, canvas=True):
    """Hover and click three bars (each click selects its bar, the hover draws a tooltip), move to
    the next quarter, click below; returns the session id and the live canvas pixels just before
    each bar click and at the end, as (clip, png) pairs."""
    live = []
    with record(url, store=store, browser=browser, evidence=True, canvas=canvas) as session:
        page = session.page
        page.wait_for_timeout(200)
        chart = page.locator("#chart").bounding_box()
        clip = {"x": chart["x"], "y": chart["y"], "width": chart["width"], "height": chart["height"]}
        for x in CLICK_XS:
            page.mouse.move(x, 250)
            page.wait_for_timeout(50)
            live.append(page.screenshot(clip=clip))
            page.mouse.click(x, 250)
            page.wait_for_timeout(100)
        page.click("#next")
        page.click("#below")
        page.wait_for_timeout(100)
        spark = page.locator("spark-line").bounding_box()
        end = (page.screenshot(clip=clip), page.screenshot(clip=spark))
    return session.id, clip, live, end, spark


def test_the_replay_shows_each_clicks_canvas_as_the_visitor_saw_it(asset_server, browser, tmp_path):
    store = SessionStore(tmp_path / "s.db")
    session_id, clip, live, end, spark = record_chart(store, asset_server.url("canvas_chart.html"), browser)
    notes = [e for e in store.read_events(session_id).events
             if e["type"] == 5 and e["data"]["tag"] == TAG_CANVAS]
    pictures = [n for n in notes if n["data"]["payload"]["kind"] == "2d"]
    assert pictures and all(n["data"]["payload"]["url"].startswith("data:image/") for n in pictures)
    assert [n["data"]["payload"]["url"] for n in notes if n["data"]["payload"]["kind"] == "masked"] == [None]
    with open_session(store, session_id, browser=browser) as rp:
        clicks = rp.live_clicks()
        assert len(clicks) == len(CLICK_XS) + 2
        found = rp.resolve([(c.t, c.node_id) for c in clicks])
        assert all(max(abs(a - b) for a, b in zip(c.box, (f.box.x, f.box.y, f.box.w, f.box.h))) <= 1
                   for c, f in zip(clicks, found)), [(c.box, f.box) for c, f in zip(clicks, found)]
        assert all(f.problem is None for f in found), [f.problem for f in found]
        shares = []
        for click, pixels in zip(clicks, live):
            rp.seek(click.t)
            with rp.painting():
                shares.append(differing_share(pixels, rp.page.screenshot(clip=clip)))
        rp.seek(rp.duration)
        with rp.painting():
            end_shares = (differing_share(end[0], rp.page.screenshot(clip=clip)),
                          differing_share(end[1], rp.page.screenshot(clip=spark)))
        # the canvas inside a [data-sessionheat-mask] element is not photographed, and the replay says so
        assert [u["detail"] for u in rp.unfaithful()] == ["masked canvas drawing is not recorded"]
        assert rp.evaluate_in_document("(d) => d.getElementById('secret').style.backgroundImage") == ""
    assert max(shares) <= PIXEL_SHARE, f"share of canvas pixels differing at each click: {shares}"
    assert max(end_shares) <= PIXEL_SHARE, f"chart and shadow-root sparkline at the end: {end_shares}"


def test_each_moment_shows_its_own_picture_not_the_last_one(asset_server, browser, tmp_path):
    """Seeking back and forth: every click's moment keeps its own picture (the selected bar differs)."""
    store = SessionStore(tmp_path / "s.db")
    session_id, clip, live, _, _ = record_chart(store, asset_server.url("canvas_chart.html"), browser)
    with open_session(store, session_id, browser=browser) as rp:
        clicks = rp.live_clicks()[:len(CLICK_XS)]
        for k in (2, 0, 1):
            rp.seek(clicks[k].t)
            with rp.painting():
                replayed = rp.page.screenshot(clip=clip)
            assert differing_share(live[k], replayed) <= PIXEL_SHARE
            assert differing_share(live[(k + 1) % 3], replayed) > 10 * PIXEL_SHARE  # they do differ


def test_switched_off_the_layout_stays_exact_and_the_replay_and_heatmap_say_so(asset_server, browser, tmp_path):
    """Without capture the canvas is blank in the replay, but still laid out as a replaced element
    (the replay frame runs no scripts, where a canvas would otherwise be a 100 %-wide box)."""
    store = SessionStore(tmp_path / "s.db")
    session_id, _, _, _, _ = record_chart(store, asset_server.url("canvas_chart.html"), browser, canvas=False)
    assert not [e for e in store.read_events(session_id).events
                if e["type"] == 5 and e["data"]["tag"] == TAG_CANVAS]
    with open_session(store, session_id, browser=browser) as rp:
        clicks = rp.live_clicks()
        found = rp.resolve([(c.t, c.node_id) for c in clicks])
        offsets = [max(abs(a - b) for a, b in zip(c.box, (f.box.x, f.box.y, f.box.w, f.box.h)))
                   for c, f in zip(clicks, found)]
        assert max(offsets) <= 1, offsets
        assert found[0].problem == "canvas drawing is not recorded (canvas capture was off)"
        assert found[-1].problem is None  # the button below is faithful
        rp.seek(rp.duration)
        gaps = [u for u in rp.unfaithful() if u["kind"] == "canvas"]
        assert len(gaps) == 3  # the chart, the sparkline inside a shadow root, the masked one
    heatmap.index_sessions(store, browser=browser)
    built = heatmap.build_heatmap(store, Segment(url="/canvas_chart.html"), "click", browser=browser)
    assert "3 canvases: canvas drawing is not recorded (canvas capture was off)" in (built.caution or "")


@pytest.mark.parametrize("canvas", [True, False])
def test_a_recorded_chart_heatmap_has_no_canvas_caution_only_when_captured(asset_server, browser, tmp_path, canvas):
    store = SessionStore(tmp_path / "s.db")
    record_chart(store, asset_server.url("canvas_chart.html"), browser, canvas=canvas)
    heatmap.index_sessions(store, browser=browser)
    built = heatmap.build_heatmap(store, Segment(url="/canvas_chart.html"), "click", browser=browser)
    assert ("canvas capture was off" in (built.caution or "")) is not canvas
    assert "1 canvas: masked canvas drawing is not recorded" in (built.caution or "") or not canvas


def test_a_canvas_tainted_by_another_origins_image_is_said_to_be_unrecorded(asset_server, browser, tmp_path):
    """A canvas that drew a cross-origin image cannot be read: the replay says so, it does not
    pass the last readable picture off as what the visitor saw."""
    image = asset_server.url("dot.svg").replace("127.0.0.1", "localhost")  # another origin
    (tmp_path / "tainted.html").write_text(
        "<!doctype html><body><canvas id=c width=100 height=50></canvas><script>"
        "const c = document.getElementById('c').getContext('2d'); c.fillRect(0, 0, 10, 10);"
        f"const img = new Image(); img.onload = () => {{ c.drawImage(img, 0, 0); document.title = 'drawn'; }};"
        f" img.src = {image!r};</script>", encoding="utf-8")
    server = AssetServer(tmp_path)
    store = SessionStore(tmp_path / "s.db")
    try:
        with record(server.url("tainted.html"), store=store, browser=browser) as session:
            session.page.wait_for_function("document.title === 'drawn'")
            session.page.mouse.click(50, 20)
            session.page.wait_for_timeout(200)
        kinds = [e["data"]["payload"]["kind"] for e in store.read_events(session.id).events
                 if e["type"] == 5 and e["data"]["tag"] == TAG_CANVAS]
        with open_session(store, session.id, browser=browser) as rp:
            rp.seek(rp.duration)
            gaps = [u["detail"] for u in rp.unfaithful() if u["kind"] == "canvas"]
    finally:
        server.close()
    assert kinds[-1] == "tainted 2d"
    assert gaps == ["tainted 2d canvas drawing is not recorded"]


@pytest.fixture
def snippet_rig(tmp_path):
    from test_snippet import _rig

    yield from _rig(tmp_path, ASSETS)


@pytest.mark.parametrize("canvas", ["", "false"], ids=["snippet default", "data-canvas=false"])
def test_the_snippet_records_canvas_pictures_unless_switched_off(snippet_rig, browser, canvas):
    from snippet_pages import wait_until_sent

    snippet_rig.use(**({"canvas": canvas} if canvas else {}))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(snippet_rig.site.url("canvas_chart.html"))
        page.wait_for_function("() => window.sessionheat && window.sessionheat.sessionId")
        page.mouse.click(260, 250)
        wait_until_sent(page)
    finally:
        context.close()
    (session,) = snippet_rig.store.list_sessions()
    notes = [e["data"]["payload"] for e in snippet_rig.store.read_events(session["id"]).events
             if e["type"] == 5 and e["data"]["tag"] == TAG_CANVAS]
    if canvas == "false":
        assert notes == []
    else:  # drawn before the snippet loaded, found by its first sweep: the chart, the sparkline in a
        # shadow root, the masked one
        assert {n["kind"] for n in notes} == {"2d", "masked"}
        assert len({n["id"] for n in notes if n["url"]}) == 2
