"""Recorded content must not make a replay fetch from inside the network (issue 18, finding 3).

A site key is public: anyone can send a session whose pages claim to come from an internal address.
The indexer's and the replay's Chromium, and the players in a viewer's browser, must not fetch from
there unless the origin is vouched for (see `plumbing.addresses`). Everything here is real: real
Chromium, real loopback servers that count what reaches them, real SQLite.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from collector_helpers import T_NOW, click

from plumbing.store import ChunkWrite, SessionStore

from heatmap import index_session
from recorder import record
from replay import AssetCache, open_session
from sessionheat.web import add_site

SECRET = b"\x89PNG internal admin secret"


class CountingServer:
    """A loopback HTTP server standing in for something inside the network: it counts every request,
    answers `SECRET` or, with `redirect_to`, a 302 there."""

    def __init__(self, redirect_to: str | None = None, page: bytes = b"") -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                outer.requests.append(self.path)
                if redirect_to and self.path.startswith("/moved"):
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = page if self.path in ("/", "/page.html") and page else SECRET
                self.send_response(200)
                self.send_header("Content-Type", "text/html" if body is page else "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.httpd.server_port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def internal() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


def page_with_image(href: str, src: str, t: int = T_NOW) -> list[dict]:
    """A Meta event claiming `href` and a snapshot with one <img src=...>, then a click on it."""
    img = {"type": 2, "tagName": "img", "attributes": {"id": "secret", "src": src, "width": "40",
                                                       "height": "40"}, "childNodes": [], "id": 5}
    doc = {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "tagName": "html", "attributes": {}, "id": 2, "childNodes": [
            {"type": 2, "tagName": "head", "attributes": {}, "childNodes": [], "id": 3},
            {"type": 2, "tagName": "body", "attributes": {}, "childNodes": [img], "id": 4}]}]}
    return [{"type": 4, "timestamp": t, "data": {"href": href, "width": 800, "height": 600}},
            {"type": 2, "timestamp": t + 1, "data": {"node": doc, "initialOffset": {"left": 0, "top": 0}}},
            click(t + 500, node=5)]


def collector_session(store: SessionStore, site: str, events: list[dict], session_id: str = "evil-session-1") -> str:
    """Store `events` as the snippet's collector would for `site` (a registered site's name)."""
    store.append_chunks([ChunkWrite(session_id, 0, events, site=site, viewport=(800, 600))])
    return session_id


def kept_assets(store: SessionStore) -> list[bytes]:
    """Every asset body the store keeps for replays (plumbing/store/replay_assets.py), unpacked."""
    with store._read() as conn:
        rows = conn.execute("SELECT u.site, u.url FROM asset_urls u").fetchall()
    return [store.replay_asset(site, url)[2] for site, url in rows]


def test_a_collector_session_cannot_make_the_indexer_or_a_replay_fetch_from_inside(browser, store, internal):
    add_site(store, "evil", ["*"])
    sid = collector_session(store, "evil", page_with_image(
        internal.origin + "/", internal.origin + "/internal/admin-secret.png"))

    result = index_session(store, sid, browser=browser)
    assert result.problem is None and result.kinds.get("click") == 1  # the session itself still indexes
    with open_session(store, sid, browser=browser) as rp:
        rp.seek(rp.duration)
        rp.page.wait_for_timeout(300)
        blocked = dict(rp.guard.blocked)
        kinds = {u["kind"] for u in rp.unfaithful()}

    assert internal.requests == [], "the replay reached an internal address"
    assert not [body for body in kept_assets(store) if SECRET in body]
    assert blocked.get(internal.origin, 0) >= 1, blocked
    assert "blocked" in kinds


def local_session(store: SessionStore, origin: str, events: list[dict], session_id: str) -> str:
    """Store `events` as `recorder.record()` does: the session's site is the origin it recorded."""
    store.create_session(session_id, site=origin, viewport=(800, 600))
    store.append_chunk(session_id, 0, events)
    return session_id


def test_a_vouched_origin_cannot_redirect_a_replay_inside(browser, store, internal):
    front = CountingServer(redirect_to=internal.origin + "/internal/admin-secret.png",
                           page=b"<html><body><img id='i' src='/moved.png' width=40 height=40></body></html>")
    try:
        with record(front.origin + "/page.html", store=store, browser=browser) as session:
            session.page.wait_for_timeout(200)
        internal.requests.clear()  # the live page followed the redirect; the replay must not
        with open_session(store, session.id, browser=browser) as rp:
            rp.seek(rp.duration)
            rp.page.wait_for_timeout(300)
            blocked, missing = dict(rp.guard.blocked), dict(rp.guard.missing)
    finally:
        front.close()
    assert "/moved.png" in front.requests  # the vouched origin itself was reached...
    assert internal.requests == []  # ...but not where it pointed
    assert blocked.get(internal.origin) == 1, blocked
    assert "blocked" in missing[front.origin + "/moved.png"]


def test_each_sites_assets_are_kept_apart(browser, store, asset_server):
    url = asset_server.url("dot.svg")
    cache = AssetCache.for_store(store)
    cache.put(url, (200, {"content-type": "image/png"}, b"site a's answer"), "a")
    later = AssetCache.for_store(SessionStore(store.location))  # another process
    assert later.get(url, "a") == (200, {"content-type": "image/png"}, b"site a's answer")
    assert later.get(url, "b") is None and later.get(url) is None

    # End to end: a site that lists the origin fetches for itself, never reading another site's copy.
    add_site(store, "shop", [asset_server.origin])
    events = page_with_image(asset_server.url("page.html"), asset_server.url("dot.svg"))
    local = local_session(store, asset_server.origin, events, "local-session-1")
    shop = collector_session(store, "shop", events, "shop-session-1")
    fetched = {}
    for sid in (local, shop):
        with open_session(store, sid, browser=browser) as rp:
            rp.seek(rp.duration)
            rp.page.wait_for_timeout(200)
            fetched[sid] = rp.guard.fetched
            assert not rp.guard.blocked
    assert fetched == {local: 1, shop: 1}
    with store._read() as conn:
        sites = {row[0] for row in conn.execute("SELECT site FROM asset_urls").fetchall()}
    assert len(sites) == 3  # "a", the local session's origin, and "shop"


def test_players_do_not_list_unvouched_internal_origins(browser, store, internal):
    from collector_helpers import ThreadServer, team_get

    from sessionheat.web import create_app

    add_site(store, "evil", ["*"])
    evil = collector_session(store, "evil", page_with_image(internal.origin + "/", internal.origin + "/x.png"))
    local = local_session(store, internal.origin, page_with_image(internal.origin + "/", internal.origin + "/x.png"),
                          "local-session-1")
    offline = {sid: player_csp(store, sid) for sid in (evil, local)}
    with ThreadServer(create_app(store)) as server:
        served = {sid: team_get(f"{server.url}/sessions/{sid}/player").headers["content-security-policy"]
                  for sid in (evil, local)}
    for csp in (offline, served):
        assert internal.origin not in csp[evil], csp[evil]
        assert f"img-src data: blob: {internal.origin}" in csp[local]  # vouched: record() stored it
    # Writing the vouched session's player fetched its image once, to inline it; the other's, nothing.
    assert internal.requests == ["/x.png"]


def player_csp(store: SessionStore, session_id: str) -> str:
    import html
    import re
    import tempfile

    from replay import write_player_html

    with tempfile.TemporaryDirectory() as folder:
        text = write_player_html(store, session_id, Path(folder) / "p.html").read_text(encoding="utf-8")
    return html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1))
