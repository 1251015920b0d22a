"""Interactions from a real recorded session: clicks with scroll, rage and unanswered clicks."""

from __future__ import annotations

import random

from plumbing.events import EventType
from plumbing.vocabulary import TAG_LIVE_CLICK

from demo import load_journey
from heatmap.interactions import extract_interactions
from recorder import record


def test_rage_clicks_on_a_heading_are_rage_and_unanswered(browser, demo_server, store):
    rage = load_journey("rage")
    url = demo_server.url + "index.html?variant=A&banner=tall&promo=1&imgdelay=0"
    with record(url, store=store, browser=browser, viewport=(390, 844), evidence=True) as session:
        rage(session.page, random.Random(3))
        session.page.wait_for_timeout(1100)  # past the dead-click window
        session.page.locator("#cta-main").click()  # a click that navigates: answered
        session.page.wait_for_load_state()
    events = store.read_events(session.id).events
    found = extract_interactions(events)
    clicks = [i for i in found if i.kind == "click"]
    assert len(clicks) >= 4
    *burst, cta = clicks
    assert all(c.rage and c.no_reaction for c in burst)
    assert not cta.rage and not cta.no_reaction
    # Document coordinates agree with what the live page measured for each click.
    live = [e["data"]["payload"] for e in events
            if e["type"] == EventType.CUSTOM and e["data"]["tag"] == TAG_LIVE_CLICK]
    assert len(live) == len(clicks)
    for click, truth in zip(clicks, live):
        assert click.node_id == truth["id"]
        assert abs(click.scroll_y - truth["scroll"][1]) < 1
        assert truth["box"][1] - 1 <= click.doc_y <= truth["box"][1] + truth["box"][3] + 1
    assert {c.pageview for c in burst} == {0} and cta.pageview == 0
    assert found[-1].pageview == 0 or any(e["type"] == EventType.META for e in events[1:])


def meta(t):
    return {"type": 4, "timestamp": t, "data": {"href": "http://h/", "width": 800, "height": 600}}


def snap(t):
    return {"type": 2, "timestamp": t, "data": {"node": {"id": 1, "type": 0, "childNodes": []},
                                                 "initialOffset": {"left": 0, "top": 100}}}


def click(t, x, y, node=5):
    return {"type": 3, "timestamp": t, "data": {"source": 2, "type": 2, "id": node, "x": x, "y": y}}


def test_clicks_far_apart_or_slow_are_not_rage():
    t = 1_790_000_000_000
    events = [meta(t), snap(t + 1), click(t + 100, 10, 10), click(t + 300, 200, 10), click(t + 500, 10, 300),
              click(t + 3000, 50, 50), click(t + 4100, 50, 50), click(t + 5200, 50, 50),
              {"type": 3, "timestamp": t + 5300, "data": {"source": 0, "adds": [], "removes": [],
                                                          "texts": [], "attributes": []}}]
    clicks = [i for i in extract_interactions(events) if i.kind == "click"]
    assert not any(c.rage for c in clicks)
    assert [c.no_reaction for c in clicks] == [True, True, True, True, True, False]
    assert clicks[0].doc_y == 110 and clicks[0].t == 100


def test_scroll_on_the_document_moves_later_clicks():
    t = 1_790_000_000_000
    events = [meta(t), snap(t + 1), {"type": 3, "timestamp": t + 10, "data": {"source": 3, "id": 1, "x": 0,
                                                                               "y": 900}},
              {"type": 3, "timestamp": t + 11, "data": {"source": 3, "id": 42, "x": 0, "y": 50}},
              click(t + 20, 5, 5)]
    found = extract_interactions(events)
    assert [i.kind for i in found] == ["scroll", "click"]
    assert found[-1].doc_y == 905  # the inner scroller (id 42) does not move the document


def test_keystrokes_into_one_field_share_one_answer_until_a_click_or_another_field():
    from heatmap.index import typing_runs
    from heatmap.interactions import Interaction

    def item(kind, node, pageview=0):
        return Interaction(kind, pageview, 0, 0.0, node, None, None, 0, 0, 1280, 800)

    items = [item("input", 7), item("input", 7), item("move", 3), item("input", 7),  # one run
             item("input", 8),                                                        # another field
             item("click", 7), item("input", 8),                                      # a click ends it
             item("input", 8, pageview=1)]                                            # a new page too
    assert typing_runs(items) == [0, 0, 2, 0, 4, 5, 6, 7]
