"""A key that matches nothing on the reference may be stood in for by an element of the same tag
and label only inside the keyed ancestor it was recorded in (the operation, the card, the row).

An API explorer (tests/assets/keys_operations.html, swagger-ui's shape): every operation block is
keyed by its id and has its own "Try it out", rendered only while the operation is expanded.
Real Chromium, real recordings on 127.0.0.1, a real SQLite file; recorded ONCE for the module:

    A      expands operation A, clicks its "Try it out"          (the reference)
    B, C   expand B (C), click their "Try it out"                 (absent from the reference)
    wrapA  a later release (?wrap=1) puts A's body in a section: the key path changes, the
           operation and the label do not; expands A, clicks its "Try it out"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from recorded_visits import Visit, record_visits

import heatmap
from heatmap import Heatmap, Segment
from recorder import SessionStore

DESKTOP = (1280, 800)
PAGE = "keys_operations.html"
TRY = "Try it out"


def _visit(op: str):
    def visit(page: Any) -> None:
        page.locator(f"#operations-pet-{op} .opblock-summary").click()
        page.locator(f"#operations-pet-{op} .try-out__btn").click(position={"x": 10, "y": 6})
        page.wait_for_timeout(150)
    return visit


VISITS = {"A": ("", _visit("A")), "B": ("", _visit("B")), "C": ("", _visit("C")), "wrapA": ("?wrap=1", _visit("A"))}


@dataclass
class Recorded:
    store: SessionStore
    ids: dict[str, str]
    hm: Heatmap


@pytest.fixture(scope="module")
def rec(browser, asset_server, tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("keys_scope") / "explorer.db")
    ids = record_visits(store, browser, {name: Visit(asset_server.url(PAGE + query), act, viewport=DESKTOP)
                                         for name, (query, act) in VISITS.items()})
    hm = heatmap.build_heatmap(store, Segment(url="/" + PAGE), "click", reference=ids["A"], browser=browser)
    yield Recorded(store, ids, hm)
    store.close()


def try_hits(rec: Recorded, name: str) -> list[dict]:
    return [h for h in rec.store.hits([(rec.ids[name], 0)], kinds=("click",)) if h["label"] == TRY]


def inside(box: Any, x: float, y: float) -> bool:
    bx, by, bw, bh = box
    return bx - 0.5 <= x <= bx + bw + 0.5 and by - 0.5 <= y <= by + bh + 0.5


def test_recorded_keys_name_their_operation(rec):
    for name, op in (("A", "A"), ("B", "B"), ("C", "C"), ("wrapA", "A")):
        (hit,) = try_hits(rec, name)
        assert hit["element_key"].startswith(f"#operations-pet-{op} > "), hit["element_key"]
    assert try_hits(rec, "wrapA")[0]["element_key"] != try_hits(rec, "A")[0]["element_key"]


def test_try_it_out_of_operations_the_reference_does_not_show_is_not_on_this_layout(rec):
    hm = rec.hm
    absent = {rec.ids["B"], rec.ids["C"]}
    drawn_from_absent = [p for p in hm.placement.points if p.session_id in absent and p.t in
                         {h["t"] for n in ("B", "C") for h in try_hits(rec, n)}]
    assert not drawn_from_absent, "a click on B's or C's 'Try it out' was drawn on another operation's"
    missing = {e.element_key: e for e in hm.placement.not_on_layout}
    for name in ("B", "C"):
        (hit,) = try_hits(rec, name)
        assert hit["element_key"] in missing and missing[hit["element_key"]].sessions == {rec.ids[name]}
    data = hm.to_json()
    assert {e["label"] for e in data["not_on_layout"]} == {TRY}
    assert sum(e["clicks"] for e in data["not_on_layout"]) == 2
    # the operations themselves are on the reference (collapsed): their summaries took the clicks
    summaries = {e.label: e for e in hm.placement.elements}
    assert {"GET /pet/A", "GET /pet/B", "GET /pet/C"} <= set(summaries)


def test_a_stand_in_inside_the_same_operation_still_takes_the_click(rec):
    hm = rec.hm
    (own,) = try_hits(rec, "A")
    box = hm.reference.boxes[own["element_key"]]
    assert box is not None
    wrapped = try_hits(rec, "wrapA")[0]
    assert hm.reference.boxes[wrapped["element_key"]] == box  # found by tag + label inside #operations-pet-A
    on_a = [p for p in hm.placement.points if p.t in (own["t"], wrapped["t"])
            and p.session_id in (rec.ids["A"], rec.ids["wrapA"])]
    assert len(on_a) == 2 and all(inside(box, p.x, p.y) for p in on_a)
    row = next(e for e in hm.to_json()["elements"] if e["element_key"] == own["element_key"])
    assert row["label"] == TRY and row["box"] is not None
