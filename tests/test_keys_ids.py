"""An id is a key only when the data says it is stable: the same id at the same place across
pageviews, whatever it looks like. An app that makes ids up on every render (`OOv33KY=`) shows a
new one at the same place each time: its elements are keyed without it. A meaningful id seen
identically in every session stays the key.

tests/assets/keys_regenerated.html gives two panels made-up ids on every load (letters, two
digits, "=": nothing the "looks generated" hint catches) and the checkout panel its name.
"""

from __future__ import annotations

import json

import pytest

import heatmap
from heatmap import Segment
from heatmap.keys import settle_keys, stable_ids
from recorder import SessionStore, record

PAGE = "keys_regenerated.html"
PLACE = "body > :nth-child(1 of div.panel)"


def hit(session: str, key: str, plain: str, ids: list, scope: str | None = None, plain_scope: str | None = None):
    return {"session_id": session, "pageview": 0, "element_key": key, "selector": plain,
            "key_context": json.dumps({"scope": scope, "plain_scope": plain_scope, "ids": ids})}


def test_an_id_seen_with_another_at_its_place_is_not_stable_and_one_that_moved_is():
    evidence = [
        hit("s1", "#OOv33KY\\= > button", f"{PLACE} > button", [["OOv33KY=", PLACE]], "#OOv33KY\\="),
        hit("s2", "#Qzt81mB\\= > button", f"{PLACE} > button", [["Qzt81mB=", PLACE]], "#Qzt81mB\\="),
        # a meaningful id a variant moves elsewhere: every place it was seen at shows only it
        hit("s1", "#cta", "main > a.cta", [["cta", "main > a.cta"]]),
        hit("s2", "#cta", "aside > a.cta", [["cta", "aside > a.cta"]]),
        hit("s3", "#once > button", "body > div.x > button", [["once", "body > div.x"]], "#once"),
        {"session_id": "s4", "pageview": 0, "element_key": "#legacy", "selector": "#legacy", "key_context": None},
    ]
    stable = stable_ids(evidence)
    assert stable == {"cta", "once"}  # "once": seen by one pageview, nothing contradicts it
    settled = settle_keys(evidence, stable)
    assert [h["element_key"] for h in settled] == [
        f"{PLACE} > button", f"{PLACE} > button", "#cta", "#cta", "#once > button", "#legacy"]
    assert [h.get("scope") for h in settled[:2]] == [None, None] and settled[4]["scope"] == "#once"
    assert evidence[0]["element_key"] == "#OOv33KY\\= > button"  # copies: the rows read are untouched


@pytest.fixture(scope="module")
def rec(browser, asset_server, tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("keys_ids") / "ids.db")
    ids = []
    for _ in range(2):
        with record(asset_server.url(PAGE), store=store, browser=browser, viewport=(1280, 800)) as session:
            session.page.wait_for_load_state()
            session.page.get_by_role("button", name="Choose a slot").click(position={"x": 8, "y": 8})
            session.page.get_by_role("button", name="Pay now").click(position={"x": 20, "y": 10})
            session.page.wait_for_timeout(100)
        assert not session.errors, session.errors
        ids.append(session.id)
    results = heatmap.index_sessions(store, browser=browser)
    assert not [r for r in results if r.problem], [r.as_json() for r in results]
    yield store, ids
    store.close()


def test_regenerated_ids_are_not_keys_and_a_constant_one_is(rec, browser):
    store, ids = rec
    slot = [next(h for h in store.hits([(sid, 0)], kinds=("click",)) if h["label"] == "Choose a slot")
            for sid in ids]
    assert slot[0]["element_key"] != slot[1]["element_key"], "the page makes up new ids on every load"
    assert slot[0]["selector"] == slot[1]["selector"] == f"{PLACE} > button"

    hm = heatmap.build_heatmap(store, Segment(url="/" + PAGE), "click", reference=ids[0], browser=browser)
    rows = {e.label: e for e in hm.placement.elements}
    assert not hm.placement.not_on_layout
    assert set(rows) == {"Choose a slot", "Pay now"}, [(e.label, e.element_key) for e in hm.placement.elements]
    chosen = rows["Choose a slot"]
    assert chosen.element_key == f"{PLACE} > button" and chosen.sessions == set(ids) and chosen.hits == 2
    pay = rows["Pay now"]
    assert pay.element_key == "#checkout > button" and pay.sessions == set(ids)
    for row in (chosen, pay):
        bx, by, bw, bh = row.box
        points = [p for p in hm.placement.points if p.element_key == row.element_key]
        assert len(points) == 2 and all(bx <= p.x <= bx + bw and by <= p.y <= by + bh for p in points)
