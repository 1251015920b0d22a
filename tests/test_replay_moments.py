"""Replays at an interaction's moment show that moment: transitions as far along as they were, the
top layer as it stood, inner scrollers where they were. Real Chromium, pages from tests/assets."""

from __future__ import annotations

import cv2
import numpy as np

from heatmap.interactions import extract_interactions
from recorder import record
from replay import Box, open_session

TOLERANCE_PX = 1.0


def worst_offset(live: tuple[float, ...], box: Box | None) -> float:
    if box is None:
        return float("inf")
    return max(abs(a - b) for a, b in zip(live, (box.x, box.y, box.w, box.h)))


def click_mid_transition(page, row: str, hover_ms: int) -> None:
    """Hover the row, wait `hover_ms`, click its button where it is then. (Playwright's own click
    waits for the button to stop moving, which is the moment this test is not about.)"""
    box = page.locator(row).bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 4)  # over the row, right of where the button moves
    page.wait_for_timeout(hover_ms)
    b = page.locator(f"{row} #copy").bounding_box()
    page.mouse.click(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)


def red_height(png: bytes, column_x: int) -> int:
    """Height in px of the pure red run (the growing icon, as tall as wide) on screenshot column
    `column_x` (a column, since the focused button's outline may cover the icon's right edge)."""
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    line = img[:, column_x]
    red = (line[:, 2] > 200) & (line[:, 1] < 60) & (line[:, 0] < 60)
    return int(red.sum())


def test_a_click_130_ms_into_a_500_ms_hover_transition_replays_within_1_px(asset_server, browser, store):
    # The icon grows from 8 to 24 px over 500 ms while its row is hovered, and the button after it
    # moves with it. A replay that finishes the transition shows the button 16 px along where the
    # visitor had it some 7 px along.
    with record(asset_server.url("hover_transition.html"), store=store, browser=browser,
                evidence=True) as session:
        session.page.wait_for_timeout(200)
        click_mid_transition(session.page, "main > #op", 130)
        session.page.wait_for_timeout(600)  # long over: the next click sees it finished
        click_mid_transition(session.page, "main > #op", 0)
        session.page.mouse.move(5, 700)  # leave: the icon shrinks back
        session.page.wait_for_timeout(100)
        click_mid_transition(session.page, "#host #op", 130)  # the same inside a shadow root
        in_shadow = session.page.evaluate("() => window.shadowClicks")
    assert len(in_shadow) == 1
    with open_session(store, session.id, browser=browser) as rp:
        live = rp.live_clicks()
        assert len(live) == 3
        first_icon = live[0].box[0] - 24  # the button starts where the icon ends (main's padding: 24)
        assert 8 < first_icon < 24, first_icon  # live: caught mid-way (neither end)
        # The document's evidence names the shadow host; the button is what rrweb recorded.
        clicks = [c for c in rp.interactions() if c.kind == "click"]
        queries = [(c.t, c.node_id) for c in live[:2]] + [(clicks[2].t, clicks[2].node_id)]
        found = rp.resolve(queries)
        offsets = [worst_offset(c, r.box) for c, r in zip([c.box for c in live[:2]] + in_shadow, found)]
        assert max(offsets) <= TOLERANCE_PX, offsets
        # A picture of that moment shows the same progress (screenshots freeze, not finish, it).
        rp.seek(live[0].t)
        shot = rp.screenshot()
        assert abs(red_height(shot, 26) - first_icon) <= TOLERANCE_PX, (red_height(shot, 26), first_icon)


def test_a_transition_cancelled_before_its_end_is_not_replayed_on(asset_server, browser, store):
    # Hovered 130 ms, then left: the bar's transition (declared on :hover only) is cancelled and
    # the bar snaps back. A click 100 ms later sees it short; the replay must not go on growing it.
    with record(asset_server.url("hover_transition.html"), store=store, browser=browser,
                evidence=True) as session:
        page = session.page
        bar = page.locator("#bar").bounding_box()
        page.mouse.move(bar["x"] + 5, bar["y"] + 5)
        page.wait_for_timeout(130)
        page.mouse.move(5, 700)  # off the bar: cancelled
        page.wait_for_timeout(100)
        page.click("#after")
    with open_session(store, session.id, browser=browser) as rp:
        live = rp.live_clicks()
        assert len(live) == 1 and live[0].box[0] == 24 + 40  # live: the bar back at 40 px
        found = rp.resolve([(c.t, c.node_id) for c in live])
        assert worst_offset(live[0].box, found[0].box) <= TOLERANCE_PX


def test_clicks_inside_an_open_popover_and_a_modal_dialog_replay_within_1_px(asset_server, browser, store):
    # A popover opened by popovertarget or showPopover() changes no attribute rrweb sees, and a
    # dialog opened by showModal() only `open`: without notes the replay has no popover to click
    # in, and shows the dialog in the flow, not centred over an inert page.
    with record(asset_server.url("top_layer.html"), store=store, browser=browser, evidence=True) as session:
        page = session.page
        for selector in ("#menu-open", "#menu-first", "#menu-second",  # the last closes it
                         "#scripted-open", "#menu-first", "#terms-open", "#terms-read", "#terms-close",
                         "#behind"):
            page.click(selector)
            if selector in ("#menu-open", "#menu-first"):
                page.wait_for_timeout(1200)  # nothing else within a second: see the reaction below
        page.click("#tip-open")  # inside a shadow root
        page.click("#tip-ok")
        in_shadow = page.evaluate("() => window.shadowClicks")
    with open_session(store, session.id, browser=browser) as rp:
        live = rp.live_clicks()[:9]
        clicks = [c for c in rp.interactions() if c.kind == "click"]
        assert len(live) == 9 and len(clicks) == 11 and len(in_shadow) == 2
        # (The document's evidence names the shadow host; rrweb recorded the button inside.)
        found = rp.resolve([(c.t, c.node_id) for c in live] + [(c.t, c.node_id) for c in clicks[9:]])
        offsets = [worst_offset(box, r.box) for box, r in zip([c.box for c in live] + in_shadow, found)]
        assert max(offsets) <= TOLERANCE_PX, offsets

        def state_at(click):
            rp.seek(click.t)
            return rp.evaluate_in_document(
                "(d) => [d.querySelectorAll(':popover-open').length, d.querySelectorAll('dialog:modal').length]")

        behind = live[-1]
        x, y, w, h = behind.box
        assert state_at(live[1]) == [1, 0] and state_at(live[4]) == [1, 0]
        assert state_at(live[3]) == [0, 0]  # closed by the second button's handler
        assert state_at(live[6]) == [0, 1]
        assert rp.element_at(x + w / 2, y + h / 2) != behind.node_id  # covered: the page is inert
        assert state_at(behind) == [0, 0]
        assert rp.element_at(x + w / 2, y + h / 2) == behind.node_id
    # Opening a popover changes no attribute: only the note says the page answered the click.
    clicks = [i for i in extract_interactions(store.read_events(session.id).events) if i.kind == "click"]
    assert [c.no_reaction for c in clicks[:2]] == [False, True]  # "Menu" opened it; "First" did nothing


def test_a_click_that_outran_its_container_scroll_replays_within_1_px(asset_server, browser, store):
    # Chromium dispatches a container's `scroll` at the next frame (and rrweb samples them): a click
    # right after the container moved is recorded before any scroll event says where it went.
    with record(asset_server.url("scroll_container.html"), store=store, browser=browser,
                evidence=True) as session:
        page = session.page
        page.click("#item-3")  # scrolls its list as it is released
        page.wait_for_timeout(300)
        box = page.locator("#list").bounding_box()
        page.mouse.move(box["x"] + 100, box["y"] + 100)
        page.mouse.wheel(0, 700)  # a fast wheel, and a click right after it
        page.mouse.click(box["x"] + 100, box["y"] + 100)
    with open_session(store, session.id, browser=browser) as rp:
        live = rp.live_clicks()
        assert len(live) == 2
        assert live[0].box[3] == 40 and live[0].box[1] < 140  # live: item 3 (145 unscrolled) was pulled up
        # The moment of the click itself: its mousedown and mouseup can share its millisecond, and
        # the list moved between them (a query naming the node cuts at the first of them).
        rp.seek(live[0].t)
        assert worst_offset(live[0].box, rp.element_box(live[0].node_id)) <= TOLERANCE_PX
        assert rp.element_at(live[0].box[0] + 10, live[0].box[1] + 10) == live[0].node_id
        found = rp.resolve([(live[1].t, live[1].node_id)])  # the click right after the wheel
        assert worst_offset(live[1].box, found[0].box) <= TOLERANCE_PX


def red_pixels(png: bytes) -> int:
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return int(((img[:, :, 2] > 200) & (img[:, :, 1] < 60) & (img[:, :, 0] < 60)).sum())


def test_a_focus_ring_shows_in_the_replay_only_where_the_visitor_saw_one(asset_server, browser, store):
    # A clicked button takes focus without a ring (:focus-visible does not match); the replay's
    # scripted focus() would draw one. Tab moves focus with a ring, and the replay must keep it.
    with record(asset_server.url("focus_ring.html"), store=store, browser=browser, evidence=True) as session:
        page = session.page
        page.click("#first")
        page.wait_for_timeout(200)
        page.keyboard.press("Tab")  # to #second, ring shown
        page.wait_for_timeout(200)
        page.click("#host >> #inner")  # inside a shadow root, no ring
        page.wait_for_timeout(200)
    with open_session(store, session.id, browser=browser) as rp:
        live = rp.live_clicks()
        assert len(live) == 2

        def rings_at(t: float) -> tuple[int, list]:
            rp.seek(t)
            shown = rp.evaluate_in_document(
                "(d) => { const a = d.activeElement, inner = a && a.shadowRoot && a.shadowRoot.activeElement;"
                " const el = inner || a; return [el ? el.id : null, !!el && el.matches(':focus-visible')]; }")
            return red_pixels(rp.screenshot()), shown

        red, shown = rings_at(live[0].t + 100)
        assert shown == ["first", False] and red == 0, (red, shown)
        red, shown = rings_at(live[0].t + 300)  # after the Tab
        assert shown == ["second", True] and red > 100, (red, shown)
        red, shown = rings_at(live[1].t + 100)
        assert shown == ["inner", False] and red == 0, (red, shown)
