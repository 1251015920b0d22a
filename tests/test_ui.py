"""The UI skeleton: every page is served with its security headers, and static files load."""

from __future__ import annotations

from pathlib import Path

import httpx

from collector_helpers import ThreadServer, page_events
from sessionheat.web import create_app


def test_pages_carry_a_strict_content_security_policy(store) -> None:
    store.append_chunk("session-ui-0001", 0, page_events())
    with ThreadServer(create_app(store)) as server:
        home = httpx.get(server.url + "/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"].endswith("/sessions")
        for path in ("/sessions", "/heatmaps"):
            r = httpx.get(server.url + path)
            assert r.status_code == 200, path
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "session-ui-0001" in httpx.get(server.url + "/sessions").text
        css = httpx.get(server.url + "/static/ui.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
