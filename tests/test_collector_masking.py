"""Server-side masking: what the collector stores of typed values, whatever the page sent."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from collector_helpers import T_NOW, ThreadServer, meta

from plumbing.store import SessionStore

from sessionheat.web import add_site, create_app
from sessionheat.web.masking import mask_chunk

SHOP = "http://shop.test"
SECRET = "typed-password-123"
STARS = "*" * len(SECRET)


def el(node_id: int, tag: str, children: list | None = None, **attributes: str) -> dict:
    return {"type": 2, "id": node_id, "tagName": tag, "attributes": attributes, "childNodes": children or []}


def form_snapshot(t: int = T_NOW + 1) -> dict:
    body = el(3, "body", [
        el(10, "input", type="text", value=SECRET),
        el(11, "input", type="password", value=SECRET),
        el(12, "textarea", [{"type": 3, "id": 13, "textContent": SECRET}]),
        el(14, "select", [el(15, "option", selected="true", value="gold")]),
        el(16, "input", type="submit", value="Sign up"),
        el(17, "input", type="text", **{"data-rr-is-password": "true", "value": SECRET}),
    ])
    return {"type": 2, "timestamp": t, "data": {"node": {"type": 0, "id": 1, "childNodes": [
        el(2, "html", [body])]}, "initialOffset": {"left": 0, "top": 0}}}


def typed(node_id: int, text: str = SECRET, t: int = T_NOW + 5) -> dict:
    return {"type": 3, "timestamp": t, "data": {"source": 5, "id": node_id, "text": text, "isChecked": False}}


def mutation(t: int = T_NOW + 6, **parts: list) -> dict:
    return {"type": 3, "timestamp": t, "data": {"source": 0, **{k: parts.get(k, []) for k in (
        "adds", "removes", "texts", "attributes")}}}


def masked(events: list[dict], record_inputs: bool) -> str:
    events = copy.deepcopy(events)
    mask_chunk(events, record_inputs=record_inputs)
    return json.dumps(events)


def test_a_masking_site_masks_every_value_a_visitor_types_or_chooses():
    events = [meta(href=SHOP + "/"), form_snapshot(), typed(10), typed(99),
              mutation(adds=[{"parentId": 3, "nextId": None, "node": el(20, "input", value=SECRET)}],
                       attributes=[{"id": 10, "attributes": {"value": SECRET}}],
                       texts=[{"id": 13, "value": SECRET}])]
    out = masked(events, record_inputs=False)
    assert SECRET not in out and STARS in out
    assert '"Sign up"' in out, "a button's value is the page's, not the visitor's"
    assert '"selected"' not in out, "which option was chosen is masked too"


def test_a_site_recording_inputs_keeps_text_but_never_passwords():
    events = [meta(href=SHOP + "/"), form_snapshot(), typed(10, "kept"), typed(11), typed(17),
              mutation(attributes=[{"id": 10, "attributes": {"type": "password"}}]), typed(10, t=T_NOW + 9)]
    out = json.loads(masked(events, record_inputs=True))
    texts = [e["data"]["text"] for e in out if e["type"] == 3 and e["data"]["source"] == 5]
    assert texts == ["****", STARS, STARS, STARS], "a field that ever was a password stays masked"
    inputs = {n["id"]: n["attributes"].get("value") for n in out[1]["data"]["node"]["childNodes"][0]
              ["childNodes"][0]["childNodes"]}
    assert inputs[11] == STARS and inputs[17] == STARS and inputs[12] is None


@pytest.fixture
def served(store_location):
    store = SessionStore(store_location)
    keys = {"masks": add_site(store, "masks", [SHOP]),
            "records": add_site(store, "records", [SHOP], record_inputs=True)}
    with ThreadServer(create_app(store)) as server, httpx.Client(base_url=server.url) as client:
        def post(site: str, sid: str, seq: int, events: list[dict]) -> httpx.Response:
            return client.post(f"/api/v1/sessions/{sid}/chunks/{seq}", json={"events": events},
                               headers={"X-Sessionheat-Site": keys[site]})
        yield store, post
    store.close()


def stored_texts(store: SessionStore, sid: str) -> list[str]:
    return [e["data"]["text"] for e in store.read_events(sid).events
            if e["type"] == 3 and e["data"]["source"] == 5]


def test_a_password_introduced_in_an_earlier_chunk_is_masked_in_later_ones(served):
    store, post = served
    assert post("records", "record-0001", 0, [meta(href=SHOP + "/"), form_snapshot()]).status_code == 202
    assert post("records", "record-0001", 1, [typed(10, "hello"), typed(11)]).status_code == 202
    assert post("masks", "masking-0001", 0, [meta(href=SHOP + "/"), form_snapshot()]).status_code == 202
    assert post("masks", "masking-0001", 1, [
        typed(10), mutation(texts=[{"id": 13, "value": SECRET}, {"id": 3, "value": "page text"}])
    ]).status_code == 202
    assert stored_texts(store, "record-0001") == ["hello", STARS]
    assert stored_texts(store, "masking-0001") == [STARS]
    assert "page text" in store.export_events("masking-0001"), "text outside fields is the page's"
    assert SECRET not in store.export_events("masking-0001")


def test_a_chunk_ahead_of_a_missing_one_masks_what_it_cannot_place_and_its_retry_is_a_duplicate(served):
    store, post = served
    early = [typed(10, "hello", t=T_NOW + 50), typed(11, t=T_NOW + 51)]
    assert post("records", "record-0002", 1, early).status_code == 202  # chunk 0 not there yet
    assert post("records", "record-0002", 0, [meta(href=SHOP + "/"), form_snapshot()]).status_code == 202
    assert stored_texts(store, "record-0002") == ["*****", STARS]
    again = post("records", "record-0002", 1, early)
    assert again.status_code == 202 and again.json()["duplicate"] is True
    other = post("records", "record-0002", 1, [typed(10, "longer", t=T_NOW + 50), typed(11, t=T_NOW + 51)])
    assert other.status_code == 409, "a different payload under that number is still a conflict"
