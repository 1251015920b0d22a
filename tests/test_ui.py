"""The UI skeleton: every page is served with its security headers, and static files load."""

from __future__ import annotations

import re

from collector_helpers import ThreadServer, page_events, team_get

from sessionheat.web import create_app


def test_pages_carry_a_strict_content_security_policy(store) -> None:
    store.append_chunk("session-ui-0001", 0, page_events())
    with ThreadServer(create_app(store)) as server:
        home = team_get(server.url + "/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"].endswith("/sessions")
        for path in ("/sessions", "/heatmaps"):
            r = team_get(server.url + path)
            assert r.status_code == 200, path
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "session-ui-0001" in team_get(server.url + "/sessions").text
        css = team_get(server.url + "/static/ui.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_the_favicon_is_served_and_linked(store) -> None:
    """Browsers ask for /favicon.ico on every visit; a 404 there is noise in every log."""
    with ThreadServer(create_app(store)) as server:
        ico = team_get(server.url + "/favicon.ico")
        assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
        assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO directory
        html = team_get(server.url + "/sessions").text
        icons = re.findall(r'<link rel="[^"]*icon" href="([^"]+)"', html)
        assert icons, "the page links no icon (or links it in a way this test no longer reads)"
        for href in icons:
            r = team_get(href if href.startswith("http") else server.url + href)
            assert r.status_code == 200 and r.headers["content-type"].startswith("image/"), href
        assert "favicon.svg" in html


def test_url_breaks_escapes_and_breaks_only_at_separators() -> None:
    """The filter returns markup: a URL is untrusted text, so only our <wbr> may be HTML."""
    from sessionheat.web.pages import url_breaks

    html = str(url_breaks('http://x.test/a"b/<script>?q=1&r=2#top'))
    assert html == ("http://x.test<wbr>/a&#34;b<wbr>/&lt;script&gt;<wbr>?q=1<wbr>&amp;r=2<wbr>#top")
    assert str(url_breaks(None)) == "" and str(url_breaks("/p?x")) == "/p<wbr>?x"
    assert str(url_breaks("http://x.test/" + "a" * 300)).endswith("a…")


def test_the_main_navigation_marks_the_area_of_every_page(store) -> None:
    """Each area's pages, errors included, say which area they are in (aria-current)."""
    store.append_chunk("session-ui-0001", 0, page_events())
    current = re.compile(r'<nav aria-label="Main">.*?</nav>', re.S)
    with ThreadServer(create_app(store)) as server:
        for path, area, status in (
            ("/sessions", "Sessions", 200), ("/sessions/session-ui-0001", "Sessions", 200),
            ("/sessions/no-such-session", "Sessions", 404), ("/sessions?since=yesterday", "Sessions", 400),
            ("/heatmaps", "Heatmaps", 200), ("/heatmaps?kind=nope", "Heatmaps", 400),
            ("/heatmaps/element", "Heatmaps", 400), ("/heatmaps/element?element=x", "Heatmaps", 400),
        ):
            r = team_get(server.url + path)
            assert r.status_code == status, path
            nav = current.search(r.text)
            assert nav, path
            marked = re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]+)</a>', nav.group(0))
            assert marked == [area], (path, marked)
