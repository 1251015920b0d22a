"""Replay with a real Chromium over recorded demo journeys: boxes, screenshots, video, player, damage."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest
from rrweb_tree import node_id_by_attr

from demo.job import plan_demo_visitors
from recorder import SessionStore, record, record_journeys
from replay import Box, frame_times, open_session, render_video, write_player_html

TOLERANCE_PX = 1.0


@pytest.fixture(scope="session")
def demo_sessions(tmp_path_factory, browser, demo_server):
    """Six demo visitors (3 viewports x 2 variants) recorded once, with live click boxes."""
    store = SessionStore(tmp_path_factory.mktemp("replay") / "demo.db")
    plans = plan_demo_visitors(demo_server.url, 6, seed=0)  # late images included
    runs = record_journeys(plans, None, store=store, evidence=True, browser=browser)
    yield store, plans, runs
    store.close()


def worst_offset(live: tuple[float, ...], box: Box | None) -> float:
    if box is None:
        return float("inf")
    return max(abs(a - b) for a, b in zip(live, (box.x, box.y, box.w, box.h)))


def test_every_clicked_element_replays_where_the_live_page_had_it(demo_sessions, browser):
    store, plans, runs = demo_sessions
    seen, misses, total = set(), [], 0
    for plan, run in zip(plans, runs):
        with open_session(store, run.session_id, browser=browser) as rp:
            live = rp.live_clicks()
            assert live, f"{run.session_id} recorded no click evidence ({run.error})"
            resolved = rp.resolve([(c.t, c.node_id) for c in live])
            for click, found in zip(live, resolved):
                total += 1
                off = worst_offset(click.box, found.box)
                if off > TOLERANCE_PX:
                    misses.append((run.session_id, plan.viewport, click.t, click.node_id, click.box, found))
            seen.add((plan.viewport, plan.properties["variant"]))
    assert len(seen) == 6, "the journeys must cover three viewports and both variants"
    assert total >= 30
    assert not misses, f"{len(misses)}/{total} clicked elements off by more than 1 px: {misses[:3]}"


def test_batch_answers_equal_one_seek_at_a_time_and_queries_keep_their_order(demo_sessions, browser):
    store, _, runs = demo_sessions
    with open_session(store, runs[0].session_id, browser=browser) as rp:
        live = rp.live_clicks()
        queries = [(c.t, c.node_id) for c in reversed(live)]  # asked backwards on purpose
        batch = rp.resolve(queries)
        assert [r.t for r in batch] == [q[0] for q in queries]
        naive = rp.resolve(queries, naive=True)
        assert [r.box for r in naive] == [r.box for r in batch]
        last = live[-1]
        rp.seek(last.t)
        single = rp.element_box(last.node_id)
        assert worst_offset(last.box, single) <= TOLERANCE_PX
        assert rp.viewport() == batch[0].viewport
        # element_at finds the clicked element (or its descendant) at the centre of its box
        at = rp.element_at(single.x + single.w / 2, single.y + single.h / 2)
        inside = rp.element_box(at)
        assert at is not None and single.contains(inside.x + 0.5, inside.y + 0.5)
        doc_w, doc_h = rp.document_size()
        assert doc_w >= rp.viewport()[0] and doc_h >= single.y + single.h


def test_node_ids_are_answered_within_their_own_page_load(demo_sessions, browser):
    store, _, runs = demo_sessions
    with open_session(store, runs[0].session_id, browser=browser) as rp:
        assert len(rp.pageviews) >= 3 and rp.pageviews[0].t_start <= 50
        first_click = rp.live_clicks()[0]
        rp.seek(rp.duration)  # the last page: the first page's nodes are gone or are others
        box_late = rp.element_box(first_click.node_id)
        # backwards: rebuilds the first page. resolve() asks for the moment of the click itself;
        # seek(t) would also apply the click handler's own DOM change made in the same millisecond.
        again = rp.resolve([(first_click.t, first_click.node_id)])[0]
        assert worst_offset(first_click.box, again.box) <= TOLERANCE_PX
        assert box_late is None or worst_offset(first_click.box, box_late) > TOLERANCE_PX \
            or rp.pageview_at(rp.duration).url == rp.pageviews[0].url


@pytest.fixture(scope="module")
def variant_pair(tmp_path_factory, browser, demo_server):
    """Two desktop visitors who differ only in the A/B variant, resting on the home page."""
    store = SessionStore(tmp_path_factory.mktemp("variants") / "v.db")
    ids = {}
    for variant in "AB":
        url = demo_server.url_for("index.html", variant=variant, banner="none", promo="0", imgdelay="0")
        with record(url, store=store, browser=browser, viewport=(1280, 800)) as session:
            session.page.wait_for_function("() => [...document.images].every(i => i.complete)")
            session.page.wait_for_timeout(1500)
        ids[variant] = session.id
    yield store, ids
    store.close()


def test_screenshots_of_two_variants_differ_where_the_layouts_differ(variant_pair, browser, tmp_path):
    store, ids = variant_pair
    shots, boxes = {}, {}
    for variant, sid in ids.items():
        events = store.read_events(sid).events
        with open_session(store, sid, browser=browser) as rp:
            rp.seek(1400)
            path = tmp_path / f"{variant}.png"
            rp.screenshot(path, full_page=True)
            shots[variant] = cv2.imread(str(path))
            boxes[variant] = {name: rp.element_box(node_id_by_attr(events, attr, value)[0])
                              for name, attr, value in (("card", "class", "hero-card"),
                                                        ("band", "class", "cta-band"),
                                                        ("header", "class", "site-header"),
                                                        ("quotes", "class", "quotes"))}
    a, b = shots["A"], shots["B"]
    assert a.shape[1] == b.shape[1] == 1280

    def crop(img, box, like=None):
        w, h = round((like or box).w), round((like or box).h)
        return img[round(box.y):round(box.y) + h, round(box.x):round(box.x) + w]

    def differing(x, y):  # share of pixels that really differ (sub-pixel text shifts do not count)
        assert x.shape == y.shape
        x, y = (cv2.GaussianBlur(i, (9, 9), 0).astype(int) for i in (x, y))
        return float((np.abs(x - y).max(axis=2) > 40).mean())

    # Where the layouts differ: the trial button sits in the hero card in A, in the blue band in B.
    card_b = crop(b, boxes["B"]["card"], like=boxes["A"]["card"])
    assert differing(crop(a, boxes["A"]["card"]), card_b) > 0.01
    band_b = crop(b, boxes["B"]["band"], like=boxes["A"]["band"])
    assert differing(crop(a, boxes["A"]["band"]), band_b) > 0.01
    # Elsewhere they match, even where one layout pushed the content down.
    for name in ("header", "quotes"):
        assert differing(crop(a, boxes["A"][name]), crop(b, boxes["B"][name], like=boxes["A"][name])) < 0.001, name


def test_video_has_the_planned_frames_size_and_skips_idle_time(demo_sessions, browser, tmp_path):
    store, _, runs = demo_sessions
    with open_session(store, runs[2].session_id, browser=browser) as rp:
        planned, _ = frame_times(rp.timeline, fps=4, speed=4)
        result = render_video(rp, tmp_path / "s.mp4", fps=4, speed=4)
        assert result.frames == len(planned) and result.frames >= rp.duration / 1000 - 1
        assert result.size == rp.viewport()
    video = cv2.VideoCapture(str(result.path))
    assert video.isOpened()
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == result.frames
    assert (int(video.get(cv2.CAP_PROP_FRAME_WIDTH)), int(video.get(cv2.CAP_PROP_FRAME_HEIGHT))) == result.size
    ok, frame = video.read()
    assert ok and frame.std() > 5  # a page, not a blank frame
    video.release()


def test_idle_stretches_are_cut_short(asset_server, browser, store):
    with record(asset_server.url("form.html"), store=store, browser=browser) as session:
        session.page.click("#submit")
        session.page.wait_for_timeout(6500)  # nothing happens on form.html for 6.5 s
        session.page.click("#email")
    from replay import Timeline

    timeline = Timeline(store.read_events(session.id).events)
    times, skipped = frame_times(timeline, fps=10, idle_ms=3000)
    assert skipped >= 4000
    assert len(times) < (timeline.duration - 4000) / 100 + 2
    assert times == sorted(times) and times[-1] <= timeline.duration


def test_html_player_plays_offline_from_a_file(demo_sessions, browser, tmp_path):
    store, _, runs = demo_sessions
    path = write_player_html(store, runs[0].session_id, tmp_path / "player.html")
    text = path.read_text()
    assert "<script src=" not in text  # everything inline
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.as_uri())
        page.wait_for_function("() => window.sessionPlayer && window.sessionPlayer.getReplayer()")
        page.evaluate("() => window.sessionPlayer.play()")
        page.wait_for_function("() => window.sessionPlayer.getReplayer().getCurrentTime() > 500")
        body = page.evaluate("() => window.sessionPlayer.getReplayer().iframe.contentDocument.body.innerText")
        assert "Brightdesk" in body
        sandbox = page.evaluate("() => window.sessionPlayer.getReplayer().iframe.getAttribute('sandbox')")
        assert "allow-scripts" not in sandbox
    finally:
        page.close()
    assert not errors


def copy_session(store: SessionStore, session_id: str, dest: Path) -> SessionStore:
    store.db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(store.path, dest)
    return SessionStore(dest)


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_damaged_session_replays_up_to_the_damage_and_says_so(demo_sessions, browser, tmp_path, damage):
    store, _, runs = demo_sessions
    sid = runs[0].session_id
    chunks = store.chunk_rows(sid)
    assert len(chunks) >= 4
    broken = len(chunks) // 2
    copy = copy_session(store, sid, tmp_path / "damaged.db")
    conn = sqlite3.connect(copy.path)
    if damage == "corrupt":
        conn.execute("UPDATE chunks SET data = x'789c0000' WHERE session_id = ? AND seq = ?", (sid, broken))
    else:
        conn.execute("DELETE FROM chunks WHERE session_id = ? AND seq = ?", (sid, broken))
    conn.commit()
    conn.close()
    try:
        with open_session(copy, sid, browser=browser) as rp:
            assert not rp.complete
            assert f"chunk {broken}" in rp.problems[0]
            assert rp.duration < chunks[-1]["t_last"] - chunks[0]["t_first"]
            readable = [c for c in rp.live_clicks()]
            assert readable, "no click survived before the damage: nothing would be checked below"
            rp.seek(rp.duration)  # the end of what survived
            resolved = rp.resolve([(c.t, c.node_id) for c in readable])
            assert len(resolved) == len(readable)
            for found, click in zip(resolved, readable):
                assert worst_offset(click.box, found.box) <= TOLERANCE_PX
    finally:
        copy.close()


def test_focus_that_moves_boxes_is_replayed_where_boxes_are_measured(asset_server, browser, store):
    # Measuring skips focus where the page's focus rules only paint; here they open a panel and
    # grow a field, so a click below the panel must still replay where the live page had it.
    with record(asset_server.url("focus_layout.html"), store=store, browser=browser,
                evidence=True) as session:
        session.page.click("#name")
        session.page.keyboard.type("Ada")
        session.page.click("#keep")
        session.page.click("#name")
    with open_session(store, session.id, browser=browser) as rp:
        live = rp.live_clicks()
        assert len(live) == 3
        assert live[1].box[1] > live[0].box[1] + 180  # the live click landed below the open panel
        found = rp.resolve([(c.t, c.node_id) for c in live])
    offsets = [worst_offset(c.box, r.box) for c, r in zip(live, found)]
    assert max(offsets) <= TOLERANCE_PX, offsets


def test_assets_fetched_once_are_kept_on_disk_for_later_replays(demo_sessions, browser, tmp_path):
    from replay import AssetCache

    store, _plans, runs = demo_sessions
    first = AssetCache(directory=tmp_path / "assets")
    loaded = "(d) => [...d.images].map(i => i.complete && i.naturalWidth > 0)"
    with open_session(store, runs[0].session_id, browser=browser, assets=first) as rp:
        assert rp.guard.fetched > 0 and not rp.guard.missing
        images = rp.evaluate_in_document(loaded)
    later = AssetCache(directory=tmp_path / "assets")  # another process, another day
    with open_session(store, runs[0].session_id, browser=browser, assets=later) as rp:
        assert rp.evaluate_in_document(loaded) == images
        assert rp.guard.fetched == 0 and not rp.guard.missing
    assert later.read_from_disk > 0 and any(images)
    torn = next((tmp_path / "assets").rglob("*.body"))
    torn.write_bytes(torn.read_bytes()[:-1])  # a body cut short is not served
    assert sum(AssetCache(directory=tmp_path / "assets").get(url, site) is None for site, url in first.responses) == 1


def test_a_closed_modal_dialog_leaves_the_page_under_it_reachable(asset_server, browser, store):
    # rrweb replays a modal dialog's closing by removing its open attribute, which leaves it in
    # the browser's top layer, invisible but catching every hit test on the page under it.
    with record(asset_server.url("dialog.html"), store=store, browser=browser, evidence=True) as session:
        session.page.click("#open")
        session.page.click("#close")
        session.page.click("#under")
    with open_session(store, session.id, browser=browser) as rp:
        under = rp.live_clicks()[-1]
        rp.seek(under.t)
        x, y, w, h = under.box
        assert rp.element_at(x + w / 2, y + h / 2) == under.node_id
        assert rp.evaluate_in_document("(d) => d.querySelectorAll('dialog:modal').length") == 0


def test_each_page_replays_in_its_own_document_mode(asset_server, browser, store):
    # The replay frame's document is reused from page to page: a quirks-mode page must not leave
    # the next, standards-mode page laid out in quirks mode (and the other way round).
    with record(asset_server.url("quirks.html"), store=store, browser=browser) as session:
        session.page.click("#next")
        session.page.wait_for_load_state()
        session.page.click("#email")
        session.page.go_back()
        session.page.wait_for_load_state()
        session.page.wait_for_timeout(300)
    with open_session(store, session.id, browser=browser) as rp:
        modes = []
        for full in rp.timeline.fulls:  # each page load's snapshot
            rp.seek(rp.timeline.times[full])
            modes.append(rp.evaluate_in_document("(d) => d.compatMode"))
    assert modes == ["BackCompat", "CSS1Compat", "BackCompat"]


def test_a_session_leaves_no_font_in_the_replay_page_for_the_next(asset_server, browser, store):
    from replay import ReplayPage

    with record(asset_server.url("font_api.html"), store=store, browser=browser) as first:
        first.page.click("#go")
    with record(asset_server.url("form.html"), store=store, browser=browser) as second:
        second.page.click("#email")
    families = "(d) => [...d.fonts].map(f => f.family.replace(/\"/g, ''))"
    with ReplayPage(browser) as page:
        with open_session(store, first.id, page=page) as rp:
            rp.seek(rp.duration)
            assert "ScriptAddedFace" in rp.evaluate_in_document(families)  # recorded and replayed
        with open_session(store, second.id, page=page) as rp:
            assert "ScriptAddedFace" not in rp.evaluate_in_document(families)


def test_a_last_probe_takes_the_replay_down_in_the_same_call(asset_server, browser, store):
    # The index asks one batch per session and then moves on; the batch's own page call empties
    # the frame, so the page is ready for the next session without a round trip of its own.
    from replay import ReplayError, ReplayPage

    with record(asset_server.url("form.html"), store=store, browser=browser) as session:
        session.page.click("#email")
    with ReplayPage(browser) as page:
        with open_session(store, session.id, page=page) as rp:
            click = rp.interactions()[0]
            [(tag, _)] = rp.probe([(click.t, click.node_id, None)], "(node) => node.tagName", last=True)
            assert tag == "INPUT"
            assert page.page.evaluate("() => window.__shDriver") is None
            assert page.page.evaluate("() => document.querySelector('iframe').contentDocument.childNodes.length") == 0
            with pytest.raises(ReplayError, match="taken down"):
                rp.seek(0)
        with open_session(store, session.id, page=page) as rp:  # the page takes the next one as usual
            assert rp.probe([], "(node) => 1", last=True) == []
            assert page.page.evaluate("() => window.__shDriver") is None
        with open_session(store, session.id, page=page) as rp:
            rp.seek(click.t)
            box = rp.element_box(click.node_id)
            assert rp.element_at(box.x + box.w / 2, box.y + box.h / 2) == click.node_id
        assert page.sessions == 3


def test_an_image_with_no_source_yet_shows_its_alt_text_in_the_replay_as_it_did_live(asset_server, browser, store):
    # A lazy image has no src until a script sets one; until then the visitor saw its alt text,
    # a line of text, and nothing was on its way. The image's arrival note (it does arrive, later)
    # must not make the replay hold it as loading, which would take that line away.
    with record(asset_server.url("late_src.html"), store=store, browser=browser, evidence=True) as session:
        session.page.click("#below")
        session.page.click("#load")
        session.page.wait_for_function("() => document.getElementById('pic').naturalHeight > 0")
        session.page.wait_for_timeout(100)
        session.page.click("#below")
    with open_session(store, session.id, browser=browser) as rp:
        before, _, after = rp.live_clicks()
        found = rp.resolve([(before.t, before.node_id), (after.t, after.node_id)])
    assert after.box[1] - before.box[1] > 40  # the picture (80 px) took the alt text's place
    assert worst_offset(before.box, found[0].box) <= TOLERANCE_PX
    assert worst_offset(after.box, found[1].box) <= TOLERANCE_PX


def test_a_click_made_while_an_image_was_still_loading_replays_where_it_was(demo_server, browser, store):
    # The demo's hero image arrives 1.5 s late, above the promo button on a phone: the first click
    # lands while it is on its way, the second after it pushed the button down. The replay has the
    # image at once (asset cache), so it must hold it back until the moment the visitor's arrived.
    url = demo_server.url + "index.html?imgdelay=1500&banner=none&promo=1&variant=A"
    with record(url, store=store, browser=browser, evidence=True, viewport=(390, 844)) as session:
        # Once the demo's lazy loader has given the image its source (before that, no picture is
        # on its way and the page shows the alt text: see the test above).
        session.page.wait_for_function("() => document.querySelector('[data-demo-id=hero-image]').src")
        session.page.click('[data-demo-id="promo-cta"]')
        session.page.wait_for_timeout(2500)
        session.page.click('[data-demo-id="promo-cta"]')
    with open_session(store, session.id, browser=browser) as rp:
        early, late = rp.live_clicks()
        found = rp.resolve([(early.t, early.node_id), (late.t, late.node_id)])
        rp.seek(early.t)
        hero = rp.evaluate_in_document("(d) => d.querySelector('[data-demo-id=hero-image]').getBoundingClientRect().height")
    assert late.box[1] - early.box[1] > 50  # the image moved the button between the two clicks
    assert hero == 0  # on its way at the first click: no size yet
    assert worst_offset(early.box, found[0].box) <= TOLERANCE_PX
    assert worst_offset(late.box, found[1].box) <= TOLERANCE_PX
