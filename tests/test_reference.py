"""The reference layout's moment: a pageview changes while it is open (a form is submitted and
replaced by its thank-you message, a dialog opens and closes), so the reference is photographed at
the moment that shows the most of what the heatmap's hits hit, not at the pageview's end.

Visits are recorded ONCE for the module (real Chromium, the demo site, click evidence), indexed:

    ref     sign-up page: fills email and password, submits; the form gives way to "Thanks"
    other   sign-up page: clicks "Create account" on the empty form (errors, the form stays)
    modal   home page: opens the demo dialog, closes it, then clicks the CTA
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from recorded_visits import Visit, record_visits
from rrweb_tree import node_id_by_attr

from plumbing.events import EventType
from plumbing.vocabulary import TAG_IMAGE_LOAD, TAG_LIVE_CLICK

import heatmap
from heatmap import Heatmap, Segment
from heatmap.reference import Moment, best_moment, candidate_moments, locate_keys_js
from recorder import SessionStore, record
from replay import open_session

DESKTOP = (1280, 800)
SUBMIT = "[data-demo-id=signup-submit]"
SIGNUP = "/signup.html"


@dataclass
class Recorded:
    store: SessionStore
    ids: dict[str, str]
    browser: Any

    def build(self, url: str, reference: str, kind: str = "click") -> Heatmap:
        return heatmap.build_heatmap(self.store, Segment(url=url, viewport_w=DESKTOP[0]), kind,
                                     reference=self.ids[reference], browser=self.browser)


def _ref(page: Any) -> None:
    page.locator("[data-demo-id=signup-email]").click()
    page.locator("[data-demo-id=signup-email]").fill("ada@example.com")
    page.locator("[data-demo-id=signup-password]").click()
    page.locator("[data-demo-id=signup-password]").fill("correct horse battery")
    page.locator(SUBMIT).click(position={"x": 30, "y": 10})
    page.get_by_role("heading", name="Thanks for signing up!").wait_for()
    page.wait_for_timeout(300)


def _other(page: Any) -> None:
    box = page.locator(SUBMIT).bounding_box()
    page.locator(SUBMIT).click(position={"x": box["width"] - 20, "y": box["height"] - 8})
    page.locator("#su-email-error").filter(has_text="valid").wait_for()
    page.wait_for_timeout(200)


def _modal(page: Any) -> None:
    page.wait_for_timeout(300)
    page.locator("[data-demo-id=modal-open]").click()
    page.locator("[data-demo-id=modal-close]").wait_for()
    page.wait_for_timeout(300)
    page.locator("[data-demo-id=modal-close]").click()
    page.wait_for_timeout(300)
    page.locator("[data-demo-id=cta]").click()
    page.wait_for_url("**/signup.html*")
    page.wait_for_load_state()


VISITS = {
    "ref": ("signup.html", _ref),
    "other": ("signup.html", _other),
    "modal": ("index.html", _modal),
}


@pytest.fixture(scope="module")
def rec(browser, demo_server, tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("reference") / "demo.db")
    ids = record_visits(store, browser, {
        name: Visit(demo_server.url_for(path, imgdelay=0, variant="A", banner="none", promo="0"), act,
                    viewport=DESKTOP, properties={"who": name}, evidence=True, settle_ms=100)
        for name, (path, act) in VISITS.items()})
    yield Recorded(store, ids, browser)
    store.close()


def live_clicks(store: SessionStore, session_id: str) -> list[dict[str, Any]]:
    """The recorder's evidence per click: the node hit and its live box (document px)."""
    events = store.read_events(session_id).events
    t0 = events[0]["timestamp"]
    return [{"t": e["timestamp"] - t0, "id": e["data"]["payload"]["id"], "box": tuple(e["data"]["payload"]["box"])}
            for e in events if e["type"] == EventType.CUSTOM and e["data"].get("tag") == TAG_LIVE_CLICK]


def inside(box: Any, x: float, y: float, slack: float = 0.5) -> bool:
    bx, by, bw, bh = box
    return bx - slack <= x <= bx + bw + slack and by - slack <= y <= by + bh + slack


def submit_hits(rec: Recorded, name: str) -> list[dict]:
    return [h for h in rec.store.hits([(rec.ids[name], 0)], kinds=("click",)) if h["tag"] == "button"
            and h["label"].startswith("Create")]


# -- the bug: a form submitted on the reference ------------------------------------------------


def test_submit_click_of_another_session_lands_on_the_button_of_a_submitted_reference(rec):
    (theirs,) = submit_hits(rec, "other")
    (own,) = submit_hits(rec, "ref")
    key = own["element_key"]
    assert theirs["element_key"] == key
    hm = rec.build(SIGNUP, "ref")
    ref = hm.reference
    box = ref.boxes[key]
    assert box is not None
    assert key not in {e.element_key for e in hm.placement.not_on_layout}
    # The reference pageview ends on its thank-you message (the form hidden): the photograph is
    # of the moment before the visitor submitted.
    end = max(ref.moments, key=lambda m: m.t)
    assert end.why == "end of pageview" and ref.t < end.t
    assert end.found_hits < max(m.found_hits for m in ref.moments)  # the end lacks the form
    assert ref.moment.startswith("before click on") and "Create account" in ref.moment
    placed = {(p.session_id, p.t): p for p in hm.placement.points}
    for hit in (theirs, own):
        point = placed[(hit["session_id"], hit["t"])]
        assert inside(box, point.x, point.y), (point, box)
    # Bottom-right and top-left clicks keep their place inside the button.
    assert placed[(theirs["session_id"], theirs["t"])].x > placed[(own["session_id"], own["t"])].x
    # The box is the button as the reference visitor's live page had it when they clicked it
    # (the page did not scroll: document px are the photograph's px).
    live = [c for c in live_clicks(rec.store, rec.ids["ref"]) if c["id"] == own["node_id"]]
    assert live and np.allclose(box, live[-1]["box"], atol=2), (box, live)
    # ... and the photograph shows the button there: the primary button's indigo fills the box,
    # where the end of the pageview (the "Thanks" card) would show white.
    x, y, w, h = (int(round(v)) for v in box)
    inner = ref.image[y + 4:y + h - 4, x + 4:x + w - 4].reshape(-1, 3).astype(int)  # BGR
    indigo = (inner[:, 0] > inner[:, 2] + 60) & (inner[:, 1] < 160)
    assert indigo.mean() > 0.6, inner.mean(axis=0)


def test_reference_visitor_own_clicks_all_land(rec):
    own = rec.store.hits([(rec.ids["ref"], 0)], kinds=("click",))
    assert len(own) == 3  # email, password, submit
    hm = rec.build(SIGNUP, "ref")
    placed = {(p.session_id, p.t) for p in hm.placement.points}
    assert {(h["session_id"], h["t"]) for h in own} <= placed
    assert not hm.placement.not_on_layout


def test_json_states_the_moment_and_when_an_absent_element_was_seen(rec):
    hm = rec.build(SIGNUP, "ref")
    data = json.loads(json.dumps(hm.to_json()))
    moment = data["reference"]["moment"]
    assert moment["t"] == data["reference"]["t"] == hm.reference.t
    assert "Create account" in moment["why"]
    chosen = [c for c in moment["candidates"] if c["t"] == moment["t"]]
    assert chosen and chosen[0]["found_hits"] == max(c["found_hits"] for c in moment["candidates"])
    # The other way round: with "other" as reference (its form never goes), the reference visitor's
    # clicks all land too; nothing is listed.
    flipped = rec.build(SIGNUP, "other")
    assert not flipped.placement.not_on_layout
    assert len(flipped.placement.points) == len(rec.store.hits(
        [(rec.ids[n], 0) for n in ("ref", "other")], kinds=("click",)))


# -- a dialog over the page --------------------------------------------------------------------


def test_elements_under_an_open_modal_get_no_box_and_the_open_modal_is_not_photographed(rec):
    sid = rec.ids["modal"]
    clicks = rec.store.hits([(sid, 0)], kinds=("click",))
    labels = [h["label"] for h in clicks]
    assert labels[0].endswith("Watch demo") and labels[1] == "×" and labels[2] == "Start free trial"
    query = [{"key": h["element_key"], "tag": h["tag"], "label": h["label"]} for h in clicks]
    with open_session(rec.store, sid, browser=rec.browser) as rp:
        rp.seek(clicks[1]["t"] - 1)  # the dialog is open
        under = rp.evaluate_in_document(locate_keys_js(), query)
        rp.seek(clicks[2]["t"] - 1)  # closed again
        after = rp.evaluate_in_document(locate_keys_js(), query)
    assert under["blocked"] and not after["blocked"]
    assert under["boxes"][0] is None and under["boxes"][2] is None  # under the dialog's backdrop
    assert under["boxes"][1] is not None  # the dialog's own close button
    assert after["boxes"][0] is not None and after["boxes"][2] is not None and after["boxes"][1] is None
    # On the home page's map with this reference, the photograph is taken with the dialog closed:
    # it shows two of the three clicked elements, the open dialog only one.
    hm = rec.build("/index.html", "modal")
    assert hm.reference.t != clicks[1]["t"] - 1 and hm.reference.t >= clicks[2]["t"] - 1
    assert hm.reference.boxes[clicks[1]["element_key"]] is None
    assert hm.reference.elsewhere[clicks[1]["element_key"]] == clicks[1]["t"] - 1
    # The dialog's close click is drawn on a photograph of the open dialog (heatmap/states.py),
    # not listed as not on this layout.
    assert not hm.placement.not_on_layout
    (panel,) = hm.states
    assert panel.group.kind == "overlay" and panel.session_id == sid
    assert [p.element_key for p in panel.placement.points] == [clicks[1]["element_key"]]


def test_an_image_still_on_its_way_is_not_on_the_photograph_until_it_arrives(demo_server, browser, store):
    # On a phone the demo's hero image is as wide as the page: on its way it has a width and no
    # height, which no photograph shows and no click can be placed in.
    url = demo_server.url + "index.html?imgdelay=1500&banner=none&promo=0&variant=A"
    with record(url, store=store, browser=browser, viewport=(390, 844)) as session:
        session.page.wait_for_timeout(2500)
    query = [{"key": "[data-demo-id=hero-image]", "tag": "img", "label": ""}]
    (hero,) = node_id_by_attr(store.read_events(session.id).events, "data-demo-id", "hero-image")
    with open_session(store, session.id, browser=browser) as rp:
        arrivals = {e["data"]["payload"]["id"]: t for t, e in zip(rp.timeline.times, rp.timeline.events)
                    if e["type"] == EventType.CUSTOM and e["data"]["tag"] == TAG_IMAGE_LOAD}
        # Just before the hero's own arrival: its source is set by then. (Earlier, when the page was
        # snapshotted before its lazy loader ran, the visitor's page showed the alt text: so does
        # the replay, rightly.)
        rp.seek(arrivals[hero] - 1)
        before = rp.evaluate_in_document(locate_keys_js(), query)["boxes"][0]
        rp.seek(max(arrivals.values()))  # after all did
        after = rp.evaluate_in_document(locate_keys_js(), query)["boxes"][0]
    assert before is None
    assert after is not None and after[2] > 300 and after[3] > 100


# -- pure helpers ------------------------------------------------------------------------------


def test_candidate_moments_are_just_before_own_actions_plus_the_end():
    view = {"t_start": 100, "t_end": 5000}
    own = [{"t": 900, "kind": "click", "label": "Accept"}, {"t": 901, "kind": "input", "label": "email"},
           {"t": 100, "kind": "click", "label": "x"}, {"t": 2000, "kind": "move", "label": "y"},
           {"t": 7000, "kind": "click", "label": "late"}]
    assert candidate_moments(view, own) == [
        (100, "before click on 'x'"), (899, "before click on 'Accept'"), (900, "before input on 'email'"),
        (4999, "end of pageview")]
    # Typing into one field is one moment (its first keystroke); another field is another.
    typing = [{"t": 200 + i, "kind": "input", "label": "e", "element_key": "#e"} for i in range(20)]
    typing.append({"t": 300, "kind": "input", "label": "p", "element_key": "#p"})
    assert [t for t, _ in candidate_moments(view, typing)] == [199, 299, 4999]
    many = [{"t": 200 + i, "kind": "input" if i % 2 else "click", "label": "e", "element_key": "#e"}
            for i in range(500)]
    got = candidate_moments(view, many)
    assert len(got) <= 48 and got[-1] == (4999, "end of pageview") and got[0][0] == 199
    # The session's last pageview includes its last event.
    assert candidate_moments(view, [], last=True) == [(5000, "end of pageview")]


def test_best_moment_weighs_hits_then_keys_and_ties_go_to_the_later_moment():
    a, b, c = Moment(10, "a", 5, 2), Moment(20, "b", 5, 2), Moment(30, "c", 4, 3)
    assert best_moment([a, b, c]) is b
    assert best_moment([a, Moment(5, "d", 5, 3)]).why == "d"


def test_choose_reference_prefers_the_layout_that_has_the_clicked_elements():
    from heatmap.reference import choose_reference

    pvs = [{"session_id": s, "index": 0, "width": 1280, "first_ts": i} for i, s in enumerate("abc")]
    # a and b share a shape (no promo); c is taller: it has the promo most clicks went to.
    hits = [{"session_id": "a", "pageview": 0, "element_key": "#cta", "doc_h": 3000, "kind": "click"},
            {"session_id": "b", "pageview": 0, "element_key": "#cta", "doc_h": 3000, "kind": "click"},
            {"session_id": "c", "pageview": 0, "element_key": "#promo", "doc_h": 3200, "kind": "click"},
            {"session_id": "c", "pageview": 0, "element_key": "#promo", "doc_h": 3200, "kind": "click"},
            {"session_id": "c", "pageview": 0, "element_key": "#cta", "doc_h": 3200, "kind": "move"}]
    assert choose_reference(pvs, hits) == ("a", 0)  # the commonest shape, as before
    assert choose_reference(pvs, hits, wanted=[h for h in hits if h["kind"] == "click"]) == ("c", 0)
    # Equal coverage: the commonest shape wins again.
    assert choose_reference(pvs, hits, wanted=[hits[0]]) == ("a", 0)


def test_a_reference_not_yet_indexed_takes_its_moments_from_the_recorded_clicks(rec):
    from heatmap.reference import OWN_KINDS, load_reference

    class Unindexed:
        """The store, as if the reference session had no hits of its own yet."""

        def __getattr__(self, name: str) -> Any:
            return getattr(rec.store, name)

        def hits(self, pageviews: Any, kinds: Any = None) -> list[dict]:
            return [] if tuple(kinds or ()) == OWN_KINDS else rec.store.hits(pageviews, kinds)

    (theirs,) = submit_hits(rec, "other")
    ref = load_reference(Unindexed(), rec.ids["ref"], 0, [theirs], browser=rec.browser)
    assert ref.moment.startswith("before click") and len(ref.moments) == 4  # 3 clicks + the end
    assert ref.boxes[theirs["element_key"]] is not None
