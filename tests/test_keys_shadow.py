"""Keys into shadow roots: a click inside a web component (the inner `button` of a custom
element's open shadow root, an icon slotted into it from inside another shadow root) gets a key
naming the path through the shadow hosts ("host key >>> key inside its shadow root"), counts for
the control around it across the boundary, is labelled with what the slots show, and is found
again on the reference (querySelectorAll does not cross shadow roots).

tests/assets/keys_shadow.html defines x-button (a `button` in its shadow root, with a prefix
slot and a default slot), x-icon (an svg in its shadow root) and x-card (a shadow root holding
an x-button: two shadow roots deep). Real Chromium, real recordings on 127.0.0.1, real SQLite.
"""

from __future__ import annotations

from typing import Any

import pytest

import heatmap
from heatmap import Segment
from heatmap.keys import element_key_js
from heatmap.reference import locate_keys_js
from recorder import SessionStore, record

PAGE = "keys_shadow.html"
SAVE = "#save >>> button.button"
SHARE = "#share >>> button.button"
PRO = 'x-card[data-heatmap="plan-pro"] >>> div.actions > x-button >>> button.button'
BASIC = 'x-card[data-heatmap="plan-basic"] >>> div.actions > x-button >>> button.button'

INNER = {  # JS expressions reaching the element a click lands on, and its control
    "save_icon": "document.querySelector('#save x-icon').shadowRoot.querySelector('circle')",
    "share_text": "document.querySelector('#share').shadowRoot.querySelector('.label')",
    "pro_button": ("document.querySelector('[data-heatmap=plan-pro]').shadowRoot.querySelector('x-button')"
                   ".shadowRoot.querySelector('button')"),
}
BUTTON_OF = {
    "save_icon": "document.querySelector('#save').shadowRoot.querySelector('button')",
    "share_text": "document.querySelector('#share').shadowRoot.querySelector('button')",
    "pro_button": INNER["pro_button"],
}
BOX = "(el) => { const r = el.getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY, r.width, r.height]; }"


def live_box(page: Any, name: str) -> list[float]:
    return page.evaluate(f"() => ({BOX})({BUTTON_OF[name]})")


def test_keys_cross_shadow_roots_and_are_found_again(browser, asset_server):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(asset_server.url(PAGE))
    found = page.evaluate("(js) => { const key = eval(js); return {" +
                          ", ".join(f"{k}: key({v})" for k, v in INNER.items()) + "}; }", element_key_js())
    assert found["save_icon"]["key"] == SAVE  # the icon's click counts for the button it is slotted into
    assert found["save_icon"]["label"] == "Save" and found["save_icon"]["interactive"]
    assert found["save_icon"]["tag"] == "button" and found["save_icon"]["scope"] == "#save"
    assert found["share_text"]["key"] == SHARE and found["share_text"]["label"] == "Share"
    assert found["pro_button"]["key"] == PRO and found["pro_button"]["label"] == "Choose"
    assert found["pro_button"]["scope"] == 'x-card[data-heatmap="plan-pro"]'
    for name, info in found.items():
        assert info["box"] == live_box(page, name), name
    wanted = [{"key": f["key"], "tag": f["tag"], "label": f["label"], "scope": f["scope"] or ""}
              for f in found.values()]
    located = page.evaluate("([js, w]) => eval(js)(document, w)", [locate_keys_js(), wanted])
    assert located["boxes"] == [live_box(page, name) for name in found]
    page.close()


def test_slotted_text_counts_for_the_box_around_it_and_modifier_classes_are_not_keys(browser, asset_server):
    """A click on text slotted into a component lands on the `slot` (no box of its own); the span
    around it has one. Its BEM modifier ("tag--neutral", "tag--success") changes on every click."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(asset_server.url(PAGE))
    key_of_slot = ("(js) => eval(js)(document.querySelector('#tag').shadowRoot.querySelector('slot'))")
    before = page.evaluate(key_of_slot, element_key_js())
    page.locator("#tag").click()
    assert page.evaluate("() => document.querySelector('#tag').shadowRoot.querySelector('.tag--success') !== null")
    after = page.evaluate(key_of_slot, element_key_js())
    assert before["key"] == after["key"] == "#tag >>> span.tag"
    assert before["tag"] == "span" and before["label"] == "Saves 20%"
    span = "document.querySelector('#tag').shadowRoot.querySelector('span')"
    assert before["box"] == page.evaluate(f"() => ({BOX})({span})") and before["box"][3] > 0
    page.close()


def _visit(cards: tuple[str, ...]):
    def visit(page: Any) -> None:
        page.locator("#save x-icon").click()  # on the icon, inside x-icon's shadow root
        page.locator("#share").get_by_text("Share").click()
        for card in cards:
            page.locator(f"[data-heatmap={card}] x-button").click(position={"x": 12, "y": 10})
        page.wait_for_timeout(100)
    return visit


@pytest.fixture(scope="module")
def rec(browser, asset_server, tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("keys_shadow") / "shadow.db")
    ids, boxes = [], {}
    for cards in (("plan-pro",), ("plan-basic", "plan-pro")):
        with record(asset_server.url(PAGE), store=store, browser=browser, viewport=(1280, 800)) as session:
            session.page.wait_for_load_state()
            _visit(cards)(session.page)
            boxes = {name: live_box(session.page, name) for name in BUTTON_OF}
        assert not session.errors, session.errors
        ids.append(session.id)
    results = heatmap.index_sessions(store, browser=browser)
    assert not [r for r in results if r.problem], [r.as_json() for r in results]
    yield store, ids, boxes
    store.close()


def test_recorded_clicks_inside_shadow_roots_are_keyed_and_placed(rec, browser):
    store, ids, boxes = rec
    clicks = [h for h in store.hits([(ids[1], 0)], kinds=("click",))]
    assert [(h["element_key"], h["label"], h["tag"]) for h in clicks] == [
        (SAVE, "Save", "button"), (SHARE, "Share", "button"), (BASIC, "Choose", "button"), (PRO, "Choose", "button")]
    hm = heatmap.build_heatmap(store, Segment(url="/" + PAGE), "click", reference=ids[0], browser=browser)
    assert not hm.placement.not_on_layout
    rows = {e.element_key: e for e in hm.placement.elements}
    assert set(rows) == {SAVE, SHARE, PRO, BASIC}
    for key, name in ((SAVE, "save_icon"), (SHARE, "share_text"), (PRO, "pro_button")):
        assert rows[key].sessions == set(ids)
        assert list(rows[key].box) == pytest.approx(boxes[name], abs=1), key  # the live page's box
        x, y, w, h = rows[key].box
        points = [p for p in hm.placement.points if p.element_key == key]
        assert len(points) == 2 and all(x <= p.x <= x + w and y <= p.y <= y + h for p in points)
    assert rows[BASIC].sessions == {ids[1]} and rows[BASIC].label == "Choose"
