"""An id is a key only when the data says it is stable: the same id at the same place across
pageviews, whatever it looks like. An app that makes ids up on every render (`OOv33KY=`) shows a
new one at the same place each time: its elements are keyed without it. A meaningful id seen
identically in every session stays the key.

tests/assets/keys_regenerated.html gives two panels made-up ids on every load (letters, two
digits, "=": nothing the "looks generated" hint catches) and the checkout panel its name.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from recorded_visits import Visit, record_visits

import heatmap
from heatmap import Segment
from heatmap.keys import element_hits, settle_keys, stable_ids
from recorder import SessionStore

PAGE = "keys_regenerated.html"
PLACE = "body > section > :nth-child(1 of div.panel)"  # where the first panel is, said without ids
INSTEAD = "#shipping > :nth-child(1 of div.panel)"  # the same, from the nearest id that is not made up


def hit(session: str, key: str, ids: list, scope: str | None = None) -> dict:
    return {"session_id": session, "pageview": 0, "element_key": key, "selector": "(no id at all)",
            "key_context": json.dumps({"scope": scope, "ids": ids})}


SHIPPING = ["shipping", "body > section", "#shipping", "body > section"]


def test_an_id_seen_with_another_at_its_place_is_set_aside_and_one_that_moved_is_not():
    evidence = [
        hit("s1", "#OOv33KY\\= > button", [["OOv33KY=", PLACE, "#OOv33KY\\=", INSTEAD], SHIPPING], "#OOv33KY\\="),
        hit("s2", "#Qzt81mB\\= > button", [["Qzt81mB=", PLACE, "#Qzt81mB\\=", INSTEAD], SHIPPING], "#Qzt81mB\\="),
        # a meaningful id a variant moves elsewhere: every place it was seen at shows only it
        hit("s1", "#cta", [["cta", "main > a.cta", "#cta", "main > a.cta"]]),
        hit("s2", "#cta", [["cta", "aside > a.cta", "#cta", "aside > a.cta"]]),
        hit("s3", "#once > button", [["once", "body > div.x", "#once", "body > div.x"]], "#once"),
        # inside a shadow root whose host's id is made up: only that part changes
        hit("s1", "#h1X\\= >>> #inner", [["h1X=", "body > x-a", "#h1X\\=", "body > x-a"],
                                            ["inner", "body > x-a >>> b", "#inner", "b"]], "#h1X\\="),
        hit("s2", "#h2Y\\= >>> #inner", [["h2Y=", "body > x-a", "#h2Y\\=", "body > x-a"],
                                            ["inner", "body > x-a >>> b", "#inner", "b"]], "#h2Y\\="),
        {"session_id": "s4", "pageview": 0, "element_key": "#legacy", "selector": "#legacy", "key_context": None},
    ]
    stable = stable_ids(evidence)
    assert stable == {"shipping", "cta", "once", "inner"}  # "once": seen by one pageview, nothing contradicts it
    settled = settle_keys(evidence, stable)
    assert [h["element_key"] for h in settled] == [
        f"{INSTEAD} > button", f"{INSTEAD} > button", "#cta", "#cta", "#once > button",
        "body > x-a >>> #inner", "body > x-a >>> #inner", "#legacy"]
    assert [h["scope"] for h in settled[:2]] == [INSTEAD, INSTEAD] and settled[4]["scope"] == "#once"
    assert evidence[0]["element_key"] == "#OOv33KY\\= > button"  # copies: the rows read are untouched


@pytest.fixture(scope="module")
def rec(browser, asset_server, tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("keys_ids") / "ids.db")
    def pay(page: Any) -> None:
        page.get_by_role("button", name="Choose a slot").click(position={"x": 8, "y": 8})
        page.get_by_role("button", name="Pay now").click(position={"x": 20, "y": 10})

    visit = Visit(asset_server.url(PAGE), pay, settle_ms=100)
    ids = list(record_visits(store, browser, {"first": visit, "second": visit}).values())
    yield store, ids
    store.close()


def test_regenerated_ids_are_not_keys_and_a_constant_one_is(rec, browser):
    store, ids = rec
    slot = [next(h for h in store.hits([(sid, 0)], kinds=("click",)) if h["label"] == "Choose a slot")
            for sid in ids]
    assert slot[0]["element_key"] != slot[1]["element_key"], "the page makes up new ids on every load"
    assert slot[0]["selector"] == slot[1]["selector"] == f"{PLACE} > button"  # the key without any id

    hm = heatmap.build_heatmap(store, Segment(url="/" + PAGE), "click", reference=ids[0], browser=browser)
    rows = {e.label: e for e in hm.placement.elements}
    assert not hm.placement.not_on_layout
    assert set(rows) == {"Choose a slot", "Pay now"}, [(e.label, e.element_key) for e in hm.placement.elements]
    chosen = rows["Choose a slot"]
    assert chosen.element_key == f"{INSTEAD} > button" and chosen.sessions == set(ids) and chosen.hits == 2
    pay = rows["Pay now"]
    assert pay.element_key == "#checkout > button" and pay.sessions == set(ids)
    for row in (chosen, pay):
        bx, by, bw, bh = row.box
        points = [p for p in hm.placement.points if p.element_key == row.element_key]
        assert len(points) == 2 and all(bx <= p.x <= bx + bw and by <= p.y <= by + bh for p in points)
    # who clicked it (the explorer's element list) finds the clicks under the key the map shows
    pageviews = Segment(url="/" + PAGE).select(store)
    assert {h["session_id"] for h in element_hits(store, pageviews, chosen.element_key, ("click",))} == set(ids)


def test_a_store_indexed_before_key_contexts_gains_the_column_and_keeps_its_keys(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    SessionStore(path).close()
    with sqlite3.connect(path) as conn:  # as a store of the previous version left it
        conn.execute("ALTER TABLE hits DROP COLUMN key_context")
    with SessionStore(path) as store:
        assert "key_context" in {r[1] for r in store.db.conn.execute("PRAGMA table_info(hits)")}
        store.import_events([{"type": 4, "timestamp": 1_790_000_000_000,
                              "data": {"href": "http://h:1/", "width": 1280, "height": 800}}], session_id="old-session")
        store.replace_hits("old-session", [{"pageview": 0, "t": 0, "kind": "click", "element_key": "#cta",
                                    "selector": "#cta"}], n_events=1)
        (row,) = store.hits([("old-session", 0)])
        assert row["key_context"] is None
        assert settle_keys([row], frozenset())[0]["element_key"] == "#cta"  # until `index --rebuild`
