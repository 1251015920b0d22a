"""What one session and one site may cost the collector: session caps, stalled uploads, slots."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
from collector_helpers import T_NOW, ThreadServer, click, page_events

from plumbing.store import ChunkOutcome, ChunkWrite, SessionStore

from sessionheat.web import Limits, add_site, create_app

SHOP = "http://shop.test"


def chunk(seq: int, n_clicks: int = 0) -> dict:
    events = page_events(href=SHOP + "/") if seq == 0 else []
    return {"events": events + [click(T_NOW + seq * 100 + k) for k in range(n_clicks)]}


def test_a_chunk_past_its_sessions_event_cap_is_refused_whole(store_location):
    store = SessionStore(store_location)
    key = add_site(store, "shop", [SHOP], max_session_events=10)
    with ThreadServer(create_app(store)) as server, httpx.Client(base_url=server.url) as client:
        def post(seq: int, n: int, sid: str = "capped-0001") -> httpx.Response:
            return client.post(f"/api/v1/sessions/{sid}/chunks/{seq}", json=chunk(seq, n),
                               headers={"X-Sessionheat-Site": key})

        assert post(0, 2).status_code == 202  # 5 events
        assert post(1, 5).status_code == 202  # 10: exactly the cap
        refused = post(2, 1)
        assert refused.status_code == 413
        assert "cap of 10 events (max_session_events of site 'shop')" in refused.json()["error"]
        assert post(1, 5).json()["duplicate"] is True, "a retry of a stored chunk is still acknowledged"
        assert post(0, 20, sid="capped-0002").status_code == 413, "a first chunk past the cap"
    assert store.get_session("capped-0001")["n_events"] == 10
    assert store.next_seq("capped-0001") == 2 and store.get_session("capped-0002") is None
    store.close()


def test_the_byte_cap_comes_from_limits_unless_the_site_sets_one(store_location):
    store = SessionStore(store_location)
    key = add_site(store, "shop", [SHOP])
    body = chunk(0, 50)
    size = len(json.dumps(body["events"], separators=(",", ":")))
    limits = Limits(max_session_bytes=int(size * 1.5))
    app = create_app(store, limits=limits)
    with ThreadServer(app) as server, httpx.Client(base_url=server.url) as client:
        def post(sid: str, seq: int) -> httpx.Response:
            return client.post(f"/api/v1/sessions/{sid}/chunks/{seq}", json=chunk(seq, 50),
                               headers={"X-Sessionheat-Site": key})

        assert post("bytes-0001", 0).status_code == 202
        refused = post("bytes-0001", 1)
        assert refused.status_code == 413 and "MiB of event data" in refused.json()["error"]
        store.set_site("shop", max_session_bytes=0)  # no cap for this site
        app.state.collector.sites._loaded = -float("inf")  # the key cache's refresh, now, not in 5 s
        assert post("bytes-0001", 1).status_code == 202
    store.close()


def test_concurrent_chunks_of_a_session_cannot_both_slip_under_its_cap(store_location):
    """The cap is checked in the transaction that stores: one group commit holds both chunks."""
    with SessionStore(store_location) as store:
        writes = [ChunkWrite("atomic-0001", seq, chunk(seq, 4)["events"], site="shop", max_events=11)
                  for seq in range(3)]
        outcomes = store.append_chunks(writes)
        assert outcomes == [ChunkOutcome.STORED, ChunkOutcome.STORED, ChunkOutcome.OVER_EVENTS]
        assert store.get_session("atomic-0001")["n_events"] == 11  # 7 + 4; 4 more would be 15


def _stall(port: int, key: str, n: int) -> socket.socket:
    """An upload that sends its headers and half its body, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall((f"POST /api/v1/sessions/stalled-{n:04d}/chunks/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"X-Sessionheat-Site: {key}\r\nContent-Type: text/plain\r\n"
                  "Content-Length: 1000\r\n\r\n").encode() + b'{"events": [' + b" " * 400)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """The whole response (all our answers are small JSON objects), or what came before a close."""
    data = b""
    try:
        while not data.endswith(b"}") and (part := sock.recv(4096)):
            data += part
    except (TimeoutError, ConnectionError):
        pass
    return data


def test_stalled_uploads_time_out_and_cannot_take_another_sites_slots(tmp_path):
    store = SessionStore(tmp_path / "stall.db")
    attacker = add_site(store, "attacker", ["*"])
    shop = add_site(store, "shop", [SHOP])
    limits = Limits(body_timeout_ms=1500, max_inflight=16, site_max_inflight=8)
    with ThreadServer(create_app(store, limits=limits)) as server, httpx.Client(base_url=server.url) as client:
        port = int(server.url.rsplit(":", 1)[1])
        started = time.monotonic()
        stalled = [_stall(port, attacker, n) for n in range(12)]  # more than the site's 8 slots
        try:
            time.sleep(0.3)  # all of them are being read now
            busy = client.post("/api/v1/sessions/attacker-0001/chunks/0", json=chunk(0),
                               headers={"X-Sessionheat-Site": attacker})
            assert busy.status_code == 429 and "uploads under way" in busy.json()["error"]
            other = client.post("/api/v1/sessions/shop-0001/chunks/0", json=chunk(0),
                                headers={"X-Sessionheat-Site": shop})
            assert other.status_code == 202, "another site's chunk goes through meanwhile"
            answers = [_answer(sock) for sock in stalled]
            elapsed = time.monotonic() - started
            timed_out = [a for a in answers if a.startswith(b"HTTP/1.1 408")]
            assert len(timed_out) >= 8, answers  # those that held slots; the rest got 429 at once
            assert all(a.startswith((b"HTTP/1.1 408", b"HTTP/1.1 429")) for a in answers), answers
            assert b"did not arrive within 1.5 s" in timed_out[0]
            assert elapsed < 6, elapsed
        finally:
            for sock in stalled:
                sock.close()
        freed = client.post("/api/v1/sessions/attacker-0002/chunks/0",
                            json={"events": page_events(href="https://any.test/")},
                            headers={"X-Sessionheat-Site": attacker})
        assert freed.status_code == 202, "the stalled uploads' slots are free again"
    assert {s["id"] for s in store.list_sessions()} == {"shop-0001", "attacker-0002"}
    store.close()


def test_many_stalled_uploads_in_parallel_leave_the_collector_answering(tmp_path):
    store = SessionStore(tmp_path / "stall.db")
    key = add_site(store, "attacker", ["*"])
    limits = Limits(body_timeout_ms=1000)
    with ThreadServer(create_app(store, limits=limits)) as server, httpx.Client(base_url=server.url) as client:
        port = int(server.url.rsplit(":", 1)[1])
        stalled: list[socket.socket] = []
        openers = [threading.Thread(target=lambda n=n: stalled.append(_stall(port, key, n)))
                   for n in range(80)]
        for t in openers:
            t.start()
        for t in openers:
            t.join()
        try:
            assert client.get("/api/v1/health", timeout=5).json()["ok"]
        finally:
            for sock in stalled:
                sock.close()
    store.close()


def test_a_store_from_before_site_policies_opens_with_the_defaults(tmp_path):
    import sqlite3

    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("CREATE TABLE sites (name TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
                 " origins TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL)")
    conn.execute("INSERT INTO sites VALUES ('old', 'shk_old', '[\"*\"]', '2024-01-01')")
    conn.commit()
    conn.close()
    with SessionStore(tmp_path / "old.db") as store:
        [site] = store.list_sites()
        assert (site["record_inputs"], site["max_session_events"], site["max_session_bytes"]) == \
            (False, None, None)
