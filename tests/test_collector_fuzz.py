"""Property: whatever JSON (or bytes) reaches the endpoint, no 5xx, and nothing invalid is stored."""

from __future__ import annotations

import json

import httpx
from collector_helpers import T_NOW, ThreadServer, click, meta, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumbing.events import events_problem
from plumbing.store import SessionStore, decode_chunk

from sessionheat.web import Limits, add_site, create_app
from sessionheat.web.payload import Refusal, parse_body, parse_body_members

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
# Events near the valid ones: a real template with one field swapped for arbitrary JSON, so the
# checks deep inside event shapes are exercised, not only the first one.
templates = st.sampled_from([meta(href="http://fuzz.test/a"), snapshot(), click(), {"type": 5, "timestamp": T_NOW, "data": {
    "tag": "sessionheat.set", "payload": {"variant": "B"}}}])


@st.composite
def near_events(draw: st.DrawFn) -> dict:
    event = json.loads(json.dumps(draw(templates)))
    target = event if draw(st.booleans()) else event["data"]
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(target)) | st.text(max_size=8))
        target[key] = draw(json_values | st.integers(min_value=-2**70, max_value=2**70))
    return event


bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"events": st.lists(near_events(), max_size=6)},
                          optional={"meta": json_values}),
    st.fixed_dictionaries({"events": json_values}),
)


def test_arbitrary_json_never_errors_and_never_stores_an_invalid_event(tmp_path):
    store = SessionStore(tmp_path / "fuzz.db")
    key = add_site(store, "fuzz", ["http://fuzz.test"])
    statuses: set[int] = set()
    with ThreadServer(create_app(store, limits=Limits(max_body=64 * 1024))) as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:

        @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=bodies, raw=st.none() | st.binary(max_size=200),
               sid=st.sampled_from(["fuzz-session-1", "fuzz-session-2"]),
               seq=st.integers(min_value=0, max_value=3))
        def post(body: object, raw: bytes | None, sid: str, seq: int) -> None:
            content = raw if raw is not None else json.dumps(body).encode()
            r = client.post(f"/api/v1/sessions/{sid}/chunks/{seq}", content=content,
                            headers={"X-Sessionheat-Site": key, "Origin": "http://fuzz.test"})
            statuses.add(r.status_code)
            assert r.status_code < 500, r.text
            assert r.status_code == 202 or r.json()["error"]

        post()
        assert client.get("/api/v1/health").status_code == 200
    assert 202 in statuses and 422 in statuses and 400 in statuses
    rows = store.db.conn.execute("SELECT codec, data FROM chunks").fetchall()
    assert rows
    for codec, data in rows:
        assert events_problem(decode_chunk(codec, data)) is None
    store.close()


@settings(max_examples=300, deadline=None)
@given(value=json_values, events=json_values, indent=st.sampled_from([None, 0, 2]),
       separators=st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :\t")]))
def test_the_member_parser_agrees_with_json_loads(value, events, indent, separators):
    body = {"meta": value, "events": events} if isinstance(value, dict) else value
    text = json.dumps(body, indent=indent, separators=separators, ensure_ascii=False)
    parsed, events_text = parse_body_members(text.encode())
    assert parsed == json.loads(text)
    if isinstance(body, dict):
        assert json.loads(events_text) == events
    fast, fast_events_text = parse_body(text.encode())  # orjson where it reads the same, else the above
    assert fast == parsed
    if isinstance(body, dict):
        assert json.loads(fast_events_text) == events


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='{}[]":,0123456789.eE+- \\nabtrufls\\\\', max_size=40))
def test_the_member_parser_refuses_what_json_loads_refuses(text):
    try:
        expected = json.loads(text)
    except ValueError:
        expected = Refusal
    except RecursionError:
        return
    for parse in (parse_body, parse_body_members):
        try:
            got = parse(text.encode())[0]
        except Refusal as refusal:
            got = Refusal
            if expected is not Refusal:  # stricter only about numbers JSON cannot hold (1e999)
                assert "out of range" in refusal.reason
                continue
        assert got == expected
