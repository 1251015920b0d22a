"""Replay fidelity on a real third-party front end: an MkDocs Material site built from PyPI packages.

Drawer and search opened by hidden checkboxes, content tabs styled through `:checked`, an
auto-hiding sticky header, a scrolling table of contents, hover styles and a web font: every clicked
element must replay within 1 px of where the live page had it, on a phone, a tablet and a desktop.
"""

from __future__ import annotations

import pytest

from bench.docsite import FONT_FAMILY, build_docs, docs_journey, serve_folder
from recorder import JourneyPlan, SessionStore, record_journeys
from replay import open_session

VIEWPORTS = [(1280, 800), (820, 1180), (390, 844)]


@pytest.fixture(scope="module")
def docs_sessions(tmp_path_factory, browser):
    root = tmp_path_factory.mktemp("docs")
    server = serve_folder(build_docs(root))
    store = SessionStore(root / "docs.db")
    try:
        plans = [JourneyPlan(server.url, viewport) for viewport in VIEWPORTS]
        runs = record_journeys(plans, docs_journey, store=store, evidence=True, browser=browser)
        assert not [r.error for r in runs if r.error]
        yield store, runs
    finally:
        store.close()
        server.close()


def test_material_clicks_replay_within_one_pixel(docs_sessions, browser):
    store, runs = docs_sessions
    total, misses = 0, []
    for run in runs:
        with open_session(store, run.session_id, browser=browser) as rp:
            live = rp.live_clicks()
            assert len(live) >= 12
            for click, found in zip(live, rp.resolve([(c.t, c.node_id) for c in live])):
                total += 1
                off = max(abs(a - b) for a, b in zip(click.box, (found.box.x, found.box.y, found.box.w,
                                                                   found.box.h))) if found.box else 1e9
                if off > 1:
                    misses.append((run.viewport, click.t, found.tag, click.box, found.box))
            assert not rp.guard.missing, rp.guard.missing
            font = rp.page.evaluate("() => window.__shDriver.replayer.iframe.contentDocument.fonts"
                                    f".check('16px {FONT_FAMILY}')")
            assert font, "the site's web font must load in the replay (it is served cross-origin there)"
    assert total >= 45
    assert not misses, f"{len(misses)}/{total} off by more than 1 px: {misses[:4]}"


def test_the_drawer_opened_by_a_hidden_checkbox_is_open_in_the_replay(docs_sessions, browser):
    store, runs = docs_sessions
    phone = runs[VIEWPORTS.index((390, 844))]
    with open_session(store, phone.session_id, browser=browser) as rp:
        first_page = [c for c in rp.live_clicks() if c.t < rp.pageviews[1].t_start and c.box[2] > 0]
        drawer_click = first_page[-1]  # the nav link inside the opened drawer
        rp.seek(drawer_click.t)
        checked = rp.page.evaluate("() => window.__shDriver.replayer.iframe.contentDocument"
                                   ".getElementById('__drawer').checked")
        box = rp.element_box(drawer_click.node_id)
    assert checked
    assert box is not None and 0 <= box.x < 390 and box.w > 0  # on screen, not off to the side
    assert max(abs(a - b) for a, b in zip(drawer_click.box, (box.x, box.y, box.w, box.h))) <= 1
