"""The collector over real HTTP on 127.0.0.1: what it stores, and every way it refuses."""

from __future__ import annotations

import gzip
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass

import collector_helpers
import httpx
import pytest
from collector_helpers import T_NOW, ThreadServer, click, snapshot

from plumbing.store import SessionStore
from plumbing.vocabulary import TAG_VISIT

from sessionheat.web import Limits, add_site, create_app
from sessionheat.web.payload import Refusal, gunzip_limited

SHOP = "http://shop.test:8080"
LIMITS = Limits(max_body=64 * 1024, max_json=512 * 1024, max_events=1000)


def meta(t: int = T_NOW, href: str = SHOP + "/a") -> dict:
    return collector_helpers.meta(t, href)


def page_events(t: int = T_NOW, href: str = SHOP + "/a") -> list[dict]:
    return collector_helpers.page_events(t, href)


@dataclass
class Served:
    store: SessionStore
    key: str
    other_key: str
    client: httpx.Client

    def post(self, sid: str = "session-0001", seq: int | str = 0, body: object = None, *,
             key: str | None = None, origin: str | None = SHOP, raw: bytes | None = None,
             headers: dict[str, str] | None = None, params: dict[str, str] | None = None) -> httpx.Response:
        hdrs = {"X-Sessionheat-Site": self.key if key is None else key, **(headers or {})}
        if origin:
            hdrs["Origin"] = origin
        content = raw if raw is not None else json.dumps(
            {"events": page_events()} if body is None else body).encode()
        return self.client.post(f"/api/v1/sessions/{sid}/chunks/{seq}", content=content,
                                headers=hdrs, params=params)

    def counts(self) -> dict[str, int]:
        """Rows stored, through the store's public API (the same on either backend)."""
        ids = [s["id"] for s in self.store.list_sessions()]
        return {"sessions": len(ids), "chunks": sum(len(self.store.chunk_rows(i)) for i in ids),
                "pageviews": sum(len(self.store.pageviews(i)) for i in ids)}


@pytest.fixture
def served(store_location) -> Iterator[Served]:
    """The real app on loopback over a store on each backend (conftest's store_location)."""
    store = SessionStore(store_location)
    key = add_site(store, "shop", [SHOP + "/"])
    other = add_site(store, "blog", ["https://blog.test"])
    with ThreadServer(create_app(store, limits=LIMITS)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        yield Served(store, key, other, client)
    store.close()


def visit_event(t: int = T_NOW) -> dict:
    return {"type": 5, "timestamp": t, "data": {"tag": TAG_VISIT, "payload": {
        "href": SHOP + "/a?utm_source=news", "referrer": "https://t.co/x", "visitor": "returning",
        "first_seen": T_NOW - 86_400_000}}}


@pytest.mark.parametrize("remember", [False, True], ids=["keeps no notes", "keeps visitor notes"])
def test_the_answer_tells_the_snippet_the_sites_note_policy_and_a_site_without_gets_no_note(served, remember):
    served.store.set_site("shop", remember_visitors=remember)  # before the collector's first look
    r = served.post(body={"events": [*page_events(), visit_event()]})
    assert r.status_code == 202 and r.json()["visitors"] is remember
    props = served.store.get_session("session-0001")["properties"]
    assert props["channel"] == "campaign" and props["referrer_host"] == "t.co"
    assert ("visitor" in props, "first_seen" in props) == (remember, remember)
    assert ('"returning"' in served.store.export_events("session-0001")) is remember


def test_a_chunk_is_stored_with_its_session_and_acknowledged(served):
    r = served.post(body={"events": page_events(), "meta": {
        "userAgent": "Mozilla/5.0 (test)", "viewport": [390, 844], "version": "x"}})
    assert r.status_code == 202 and r.json() == {"ok": True, "stored": True, "duplicate": False,
                                                 "visitors": False}
    assert r.headers["access-control-allow-origin"] == SHOP
    session = served.store.get_session("session-0001")
    assert session["site"] == "shop" and session["user_agent"] == "Mozilla/5.0 (test)"
    assert (session["viewport_w"], session["device"], session["n_events"]) == (390, "mobile", 3)
    assert served.store.read_events("session-0001").events == page_events()


def test_gzip_bodies_by_header_or_query(served):
    body = gzip.compress(json.dumps({"events": page_events()}).encode())
    assert served.post(seq=0, raw=body, headers={"Content-Encoding": "gzip"}).status_code == 202
    r = served.post(seq=1, raw=body, params={"enc": "gzip"}, headers={"Content-Type": "text/plain"})
    assert r.status_code == 202 and served.counts()["chunks"] == 2


def test_the_key_may_come_in_the_query(served):
    r = served.post(key="", params={"site": served.key})
    assert r.status_code == 202


def test_a_retried_chunk_is_acknowledged_again_and_stored_once(served):
    assert served.post().status_code == 202
    before = (served.counts(), served.store.get_session("session-0001"))
    again = served.post()
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert (served.counts(), served.store.get_session("session-0001")) == before


def test_a_replayed_chunk_number_with_other_events_is_refused(served):
    assert served.post().status_code == 202
    before = served.store.export_events("session-0001")
    r = served.post(body={"events": [click(T_NOW + 50)]})
    assert r.status_code == 409 and "already stored" in r.json()["error"]
    assert served.store.export_events("session-0001") == before


def test_a_session_cannot_be_continued_with_another_sites_key(served):
    assert served.post().status_code == 202
    r = served.post(seq=1, key=served.other_key, origin="https://blog.test",
                    body={"events": [click(T_NOW + 50)]})
    assert r.status_code == 403 and "another site" in r.json()["error"]
    assert served.counts()["chunks"] == 1


def _deep(n: int) -> bytes:
    return b'{"events": ' + b"[" * n + b"]" * n + b"}"


BOMB = gzip.compress(b" " * (50 * 1024 * 1024), 9)  # 50 MiB of spaces in ~50 KiB


@pytest.mark.parametrize("kwargs, status, reason", [
    ({"raw": b'{"events": [ {"type": 4,'}, 400, "not valid JSON"),
    ({"raw": b"\xff\xfe{}"}, 400, "not UTF-8"),
    ({"raw": b'{"events": [NaN]}'}, 400, "NaN"),
    ({"raw": b'{"events": [{"type": 4, "timestamp": 1e999, "data": {}}]}'}, 400, "out of range"),
    ({"raw": _deep(20_000)}, 400, "nested too deeply"),
    ({"body": [page_events()]}, 422, "JSON object"),
    ({"body": {"events": {"type": 4}}}, 422, "non-empty array"),
    ({"body": {"events": []}}, 422, "non-empty array"),
    ({"body": {"events": page_events(), "extra": 1}}, 422, "unknown body field"),
    ({"body": {"events": page_events(), "meta": {"viewport": "big"}}}, 422, "meta.viewport"),
    ({"body": {"events": page_events(), "meta": {"cookie": "x"}}}, 422, "unknown meta field"),
    ({"body": {"events": [{**meta(), "type": "4"}]}}, 422, "integer 'type'"),
    ({"body": {"events": [{**click(), "data": {"source": 2, "type": 2, "id": "7"}}]}}, 422, "data.id"),
    ({"body": {"events": [{**meta(), "data": {"href": 3, "width": 1, "height": 1}}]}}, 422, "href"),
    ({"body": {"events": [{**meta(), "secret": 1}]}}, 422, "unexpected event field"),
    ({"body": {"events": [meta(), {"type": 3, "timestamp": T_NOW, "data": {"source": 99}}]}}, 422,
     "event 1: unknown incremental source"),
    ({"body": {"events": [meta(t=12)]}}, 422, "plausible"),
    ({"body": {"events": [meta(t=T_NOW + 7 * 86400_000)]}}, 422, "too far from the server's clock"),
    ({"body": {"events": [meta(t=T_NOW - 365 * 86400_000)]}}, 422, "too far"),
    ({"raw": gzip.compress(json.dumps({"events": [meta()] * 1001}).encode()),
      "headers": {"Content-Encoding": "gzip"}}, 413, "at most 1000 events"),
    ({"raw": b"x" * (LIMITS.max_body + 1)}, 413, "larger than"),
    ({"raw": BOMB, "headers": {"Content-Encoding": "gzip"}}, 413, "inflates to more than"),
    ({"raw": gzip.compress(json.dumps({"events": page_events()}).encode())[:-12],
      "headers": {"Content-Encoding": "gzip"}}, 400, "truncated"),
    ({"raw": b"{}", "headers": {"Content-Encoding": "gzip"}}, 400, "not valid gzip"),
    ({"raw": b"{}", "headers": {"Content-Encoding": "br"}}, 415, "unsupported content encoding"),
    ({"headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415, "text/plain"),
    ({"key": "shk_not-a-key"}, 403, "unknown site key"),
    ({"key": "x" * 5000}, 403, "unknown site key"),
    ({"key": ""}, 401, "no site key"),
    ({"origin": "https://evil.test"}, 403, "not allowed for site 'shop'"),
    ({"origin": "null"}, 403, "not allowed"),
    ({"body": {"events": page_events(href="http://127.0.0.1:9997/")}}, 403,
     "page origin 'http://127.0.0.1:9997' is not one of this site's origins"),
    ({"body": {"events": [*page_events(), {"type": 5, "timestamp": T_NOW + 9, "data": {
        "tag": "sessionheat.route", "payload": {"href": "http://10.0.0.1/admin", "kind": "push"}}}]}},
     403, "page origin 'http://10.0.0.1'"),
    ({"body": {"events": page_events(href="file:///etc/passwd")}}, 403, "not an http(s) URL"),
    ({"body": {"events": page_events(href="javascript:alert(1)")}}, 403, "not an http(s) URL"),
    ({"sid": "short"}, 400, "session id"),
    ({"sid": "has.dots.in.it"}, 400, "session id"),
    ({"seq": -1}, 400, "chunk number"),
    ({"seq": "1e3"}, 400, "chunk number"),
    ({"seq": 2**31}, 400, "chunk number"),
], ids=lambda v: v if isinstance(v, (int, str)) else None)
def test_bad_input_is_refused_with_a_reason_and_nothing_is_stored(served, kwargs, status, reason):
    assert served.post(sid="session-keep", seq=0).status_code == 202
    before = served.counts()
    r = served.post(**kwargs)
    assert r.status_code == status, r.text
    assert reason in r.json()["error"]
    assert served.counts() == before
    if kwargs.get("origin", SHOP) != "null":  # the page may read why, so it stops retrying
        assert r.headers["access-control-allow-origin"] == kwargs.get("origin", SHOP)
    assert served.client.get("/api/v1/health").json()["ok"]  # and the server is still up


def test_a_streamed_oversize_body_is_cut_off(served):
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        for _ in range(100):
            yield b" " * 4096

    r = served.client.post("/api/v1/sessions/session-0001/chunks/0", content=chunks(),
                           headers={"X-Sessionheat-Site": served.key})
    assert r.status_code == 413 and served.counts()["chunks"] == 0


def test_a_gzip_bomb_is_never_inflated_in_full():
    bomb = gzip.compress(b"\0" * (256 * 1024 * 1024), 9)  # 256 MiB in 250 KiB
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(Refusal) as refused:
        gunzip_limited(bomb, 1024 * 1024)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert refused.value.status == 413
    assert peak < 8 * 1024 * 1024 and elapsed < 1.0, (peak, elapsed)


def test_any_origin_site_and_clients_without_origin(served, tmp_path):
    anywhere = add_site(served.store, "anywhere", ["*"])
    time.sleep(1.1)  # the key cache refreshes on an unknown key at most once a second
    assert served.post(key=anywhere, origin="https://whatever.test",
                       body={"events": page_events(href="https://whatever.test/x")}).status_code == 202
    refused = served.post(sid="session-0003", key=anywhere, origin="null")
    assert refused.status_code == 403 and "origin 'null' is not allowed" in refused.json()["error"]
    ftp = served.post(sid="session-0004", key=anywhere, body={"events": page_events(href="ftp://x.test/")})
    assert ftp.status_code == 403 and "not an http(s) URL" in ftp.json()["error"]
    assert served.post(sid="session-0002", origin=None).status_code == 202  # curl, a server...


def test_cors_preflight(served):
    r = served.client.options("/api/v1/sessions/session-0001/chunks/0", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-sessionheat-site, content-encoding"})
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == SHOP
    assert "X-Sessionheat-Site" in r.headers["access-control-allow-headers"]


def test_concurrent_senders_share_commits_and_lose_nothing(served):
    def sender(n: int) -> None:
        with httpx.Client(base_url=str(served.client.base_url), timeout=10) as client:
            for seq in range(20):
                events = [meta(T_NOW + seq * 10), snapshot(T_NOW + seq * 10 + 1)] if seq == 0 else \
                    [click(T_NOW + seq * 10 + k) for k in range(5)]
                r = client.post(f"/api/v1/sessions/sender-{n:04d}/chunks/{seq}",
                                json={"events": events}, headers={"X-Sessionheat-Site": served.key})
                assert r.status_code == 202, r.text

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert served.counts()["chunks"] == 160
    for n in range(8):
        read = served.store.read_events(f"sender-{n:04d}")
        assert read.complete and len(read.events) == 2 + 19 * 5


def test_the_snippet_is_served_compressed_with_an_etag(served):
    r = served.client.get("/snippet.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["content-type"].startswith("text/javascript")
    assert "sessionheat" in r.text and "rrweb" in r.text
    assert int(r.headers["content-length"]) < 120_000  # the gzipped transfer
    again = served.client.get("/snippet.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content
    plain = served.client.get("/snippet.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == r.text


def test_a_site_over_its_byte_budget_is_told_to_retry_later_and_others_are_not(store_location):
    store = SessionStore(store_location)
    key = add_site(store, "shop", [SHOP])
    other = add_site(store, "blog", ["https://blog.test"])
    body = json.dumps({"events": page_events()}).encode()
    blog_body = json.dumps({"events": page_events(href="https://blog.test/a")}).encode()
    limits = Limits(site_bytes_per_s=len(body) // 10, site_burst_bytes=2 * len(body))
    with ThreadServer(create_app(store, limits=limits)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        def post(sid: str, seq: int, site: str) -> httpx.Response:
            return client.post(f"/api/v1/sessions/{sid}/chunks/{seq}",
                               content=blog_body if site == other else body,
                               headers={"X-Sessionheat-Site": site})
        assert [post("session-0001", seq, key).status_code for seq in range(2)] == [202, 202]
        refused = post("session-0001", 2, key)
        assert refused.status_code == 429 and "bytes/s" in refused.json()["error"]
        assert int(refused.headers["retry-after"]) >= 1
        assert post("session-0002", 0, other).status_code == 202, "one site's flood is its own"
    assert len(store.chunk_rows("session-0001")) == 2 and len(store.chunk_rows("session-0002")) == 1
    assert store.next_seq("session-0001") == 2
    store.close()


def test_site_budget_refills_at_its_rate() -> None:
    from sessionheat.web.site_budget import SiteBudget

    now = [0.0]
    budget = SiteBudget(rate=100, burst=300, clock=lambda: now[0])
    assert budget.take("a", 300) == 0 and budget.take("a", 50) == 0.5
    now[0] += 0.5
    assert budget.take("a", 50) == 0
    assert budget.take("a", 1000) == 3.0, "larger than the burst: waits for a full bucket"
    now[0] += 3
    assert budget.take("a", 1000) == 0, "then passes, in debt"
    assert budget.take("b", 300) == 0, "sites have separate buckets"
    assert SiteBudget(rate=0, burst=0).take("a", 10**9) == 0
