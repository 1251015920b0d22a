"""Who may read recordings, tried as an attacker and as a person would: the route walk, Host checks
(DNS rebinding), the login flow in a real Chromium, CSRF and roles, throttling, API tokens, the SSO
proxy, the player's grant, a collector-only process, and the one-time local link.

Real uvicorn on 127.0.0.1, real SQLite files, real Chromium; nothing mocked.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from collector_helpers import ROOT, TEAM, ServeProcess, ThreadServer, free_port, page_events
from starlette.routing import Mount, Route

from plumbing.store import SessionStore

from sessionheat.web import AccessPolicy, create_app
from sessionheat.web.access import PUBLIC_ROUTES
from sessionheat.web.auth import LOGIN_CHECK_S, LOGIN_COOKIE, add_user, new_api_token

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "access"
SID = "access-session-01"
SECRET_TEXT = "Ada Secretname"  # recorded text that must never reach someone not logged in
JSON = {"Accept": "application/json"}


def recorded(store: SessionStore) -> None:
    events = page_events()
    events[1]["data"]["node"]["childNodes"].append({"type": 3, "textContent": SECRET_TEXT, "id": 99})
    store.import_events(events, session_id=SID)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ThreadServer, SessionStore]]:
    store = SessionStore(tmp_path / "s.db")
    recorded(store)
    add_user(store, "alice", "admin", "correct horse battery staple")
    add_user(store, "bob", "viewer", "bobs password")
    with ThreadServer(create_app(store)) as server:
        yield server, store
    store.close()


def concrete_path(route: Any) -> str:
    """A request path for a route, its parameters filled with plausible values."""
    values = {"session_id": SID, "seq": "0", "ext": "png", "key": "k" * 16, "name": "map.png",
              "job": "index", "path": "ui.css"}
    path = route.path + ("/ui.css" if isinstance(route, Mount) else "")
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], path)


def test_every_route_but_the_public_ones_needs_a_login(served):
    server, _ = served
    app_routes = server.server.config.app.routes
    names = {route.name for route in app_routes}
    # The public list is pinned: a route made public must be named here on purpose.
    assert names & PUBLIC_ROUTES == {"snippet", "health", "collector_chunk", "collector_preflight",
                                     "static", "favicon", "rrweb_player_js", "rrweb_player_css",
                                     "login", "login_link"}
    checked = 0
    for route in app_routes:
        methods = sorted(route.methods - {"HEAD"}) if isinstance(route, Route) else ["GET"]
        for method in methods:
            r = httpx.request(method, server.url + concrete_path(route), headers=JSON, timeout=30)
            checked += 1
            guarded = r.status_code == 401 and "log in first" in r.text
            assert guarded == (route.name not in PUBLIC_ROUTES), (route.name, method, r.status_code, r.text[:200])
            assert SECRET_TEXT not in r.text and SID not in r.text or route.name in PUBLIC_ROUTES
    assert checked >= 20
    # A person's browser is sent to the login page instead, and comes back after it.
    r = httpx.get(f"{server.url}/sessions/{SID}?t=5", headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=%2Fsessions%2F{SID}%3Ft%3D5"


def test_a_rebound_host_name_is_refused_before_any_route_runs(served):
    server, _ = served
    port = server.url.rsplit(":", 1)[1]
    for path in (f"/sessions/{SID}/events.json", "/sessions", "/snippet.js", "/api/v1/health"):
        r = httpx.get(server.url + path, headers={**TEAM, "Host": f"attacker.example:{port}"})
        assert r.status_code == 421, (path, r.status_code)
        assert "attacker.example" in r.json()["error"] and "--allowed-host" in r.json()["error"]
        assert SECRET_TEXT not in r.text
    ok = httpx.get(f"{server.url}/sessions/{SID}/events.json", headers={**TEAM, "Host": f"localhost:{port}"})
    assert ok.status_code == 200 and ok.json()[0]["type"] == 4


def test_allowed_host_names_are_the_loopback_the_bound_address_and_those_given():
    policy = AccessPolicy.for_listener("0.0.0.0", ["tools.example", "*.corp.example"])
    assert all(policy.host_allowed(h) for h in ("127.0.0.1", "localhost", "::1", "tools.example",
                                                 "sessionheat-player.localhost", "ui.corp.example"))
    assert not any(policy.host_allowed(h) for h in ("attacker.example", "corp.example.evil", "0.0.0.0"))
    assert AccessPolicy.for_listener("10.1.2.3").host_allowed("10.1.2.3")
    assert AccessPolicy.for_listener("0.0.0.0", ["*"]).host_allowed("anything.example")


def test_logging_in_and_out_in_a_browser(served, browser):
    server, _ = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/sessions")
        assert page.url.startswith(f"{server.url}/login?next=")
        assert SID not in page.content()
        page.fill("#login-name", "alice")
        page.fill("#login-password", "wrong password")
        with page.expect_response(lambda r: r.url.endswith("/login")) as answer:
            page.click("button[type=submit]")
        assert answer.value.status == 401
        assert "do not match" in page.inner_text("[role=alert]")
        page.fill("#login-password", "correct horse battery staple")
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/sessions")
        assert SID in page.content() and "alice (admin)" in page.inner_text("header")
        page.screenshot(path=str(ARTIFACTS / "logged-in.png"))
        cookie = next(c for c in context.cookies() if c["name"] == LOGIN_COOKIE)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert page.evaluate("document.cookie") == ""  # scripts cannot read it
        events = page.evaluate(f"fetch('/sessions/{SID}/events.json').then(r => r.status)")
        assert events == 200

        page.click("text=Log out")
        page.wait_for_url(f"{server.url}/login")
        page.goto(f"{server.url}/sessions")
        assert "/login" in page.url and SID not in page.content()
        # The cookie taken before logging out is worth nothing now, in this process or another.
        stolen = httpx.get(f"{server.url}/sessions/{SID}/events.json", headers=JSON,
                           cookies={LOGIN_COOKIE: cookie["value"]})
        assert stolen.status_code == 401
    finally:
        context.close()


def login_cookie(server: ThreadServer, name: str, password: str) -> httpx.Cookies:
    r = httpx.post(server.url + "/login", data={"name": name, "password": password, "next": "/heatmaps"})
    assert r.status_code == 303 and r.headers["location"] == "/heatmaps", r.text
    return r.cookies


def csrf_of(server: ThreadServer, cookies: httpx.Cookies) -> str:
    html = httpx.get(server.url + "/heatmaps", cookies=cookies).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_forms_need_the_csrf_token_and_indexing_needs_an_admin(served):
    server, store = served
    alice = login_cookie(server, "alice", "correct horse battery staple")
    token = csrf_of(server, alice)
    index = server.url + "/heatmaps/index"
    missing = httpx.post(index, cookies=alice, data={"next": "/heatmaps"})
    assert missing.status_code == 403 and "CSRF" in missing.json()["error"]
    forged = httpx.post(index, cookies=alice, data={"csrf_token": "x" * 24})
    assert forged.status_code == 403
    cross = httpx.post(index, cookies=alice, data={"csrf_token": token},
                       headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and "another site" in cross.json()["error"]
    huge = httpx.post(index, cookies=alice, content=b"csrf_token=" + b"a" * (1 << 20),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413
    bob = login_cookie(server, "bob", "bobs password")
    viewer = httpx.post(index, cookies=bob, data={"csrf_token": csrf_of(server, bob)})
    assert viewer.status_code == 403 and "viewer" in viewer.json()["error"]
    assert store.sessions_to_index() == [SID]  # nothing above started any work
    # A token of one login is no token of another.
    swapped = httpx.post(index, cookies=bob, data={"csrf_token": token})
    assert swapped.status_code == 403


def test_failed_logins_are_throttled_per_account(served):
    server, _ = served
    for _ in range(5):
        r = httpx.post(server.url + "/login", data={"name": "alice", "password": "guess"})
        assert r.status_code == 401
    r = httpx.post(server.url + "/login", data={"name": "alice", "password": "correct horse battery staple"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 60
    assert LOGIN_COOKIE not in r.cookies


def test_api_tokens_read_until_their_user_is_removed(served):
    server, store = served
    token = new_api_token(store, "bob", "a script")
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.get(f"{server.url}/sessions/{SID}/events.json", headers=headers)
    assert r.status_code == 200
    raw = b"".join(p.read_bytes() for p in Path(store.path).parent.glob("s.db*"))
    assert token.encode() not in raw
    wrong = httpx.get(f"{server.url}/sessions", headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401
    store.remove_user("bob")
    deadline = time.monotonic() + LOGIN_CHECK_S + 5
    while httpx.get(f"{server.url}/sessions", headers=headers).status_code != 401:
        assert time.monotonic() < deadline, "a removed user's token still reads"
        time.sleep(0.2)


def test_an_sso_proxy_names_the_user_only_from_its_own_address(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    recorded(store)
    add_user(store, "dana", "admin", None)
    trusting = create_app(store, access=AccessPolicy(trusted_proxies=frozenset({"127.0.0.1"})))
    with ThreadServer(trusting) as server:
        r = httpx.get(server.url + "/sessions", headers={"X-Forwarded-User": "carol"})
        assert r.status_code == 200 and SID in r.text and "carol (viewer)" in r.text
        r = httpx.get(server.url + "/sessions", headers={"X-Forwarded-User": "dana"})
        assert "dana (admin)" in r.text
    other = SessionStore(tmp_path / "other.db")
    recorded(other)
    with ThreadServer(create_app(other)) as server:  # no proxy trusted: the header is just text
        r = httpx.get(server.url + "/sessions", headers={"X-Forwarded-User": "dana", **JSON})
        assert r.status_code == 401
    store.close()
    other.close()


def test_the_player_on_its_own_origin_opens_with_a_grant_for_that_session_only(served):
    server, store = served
    page = httpx.get(f"{server.url}/sessions/{SID}", headers=TEAM).text
    src = re.search(r'<iframe[^>]+src="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert src.startswith("http://sessionheat-player.localhost:") and "grant=" in src
    port = server.url.rsplit(":", 1)[1]
    player_host = {"Host": f"sessionheat-player.localhost:{port}"}
    path = src.split(port, 1)[1]
    granted = httpx.get(server.url + path, headers=player_host)
    assert granted.status_code == 200 and "events" in granted.text
    bare = httpx.get(server.url + re.sub(r"&grant=[^&]+", "", path), headers={**player_host, **JSON})
    assert bare.status_code == 401
    other = store.import_events(page_events(), session_id="access-session-02")[0]
    elsewhere = httpx.get(server.url + path.replace(SID, other), headers={**player_host, **JSON})
    assert elsewhere.status_code == 401
    tampered = httpx.get(server.url + re.sub(r"grant=(\d+)", lambda m: f"grant={int(m.group(1)) + 9999}", path),
                         headers={**player_host, **JSON})
    assert tampered.status_code == 401


def test_a_collector_only_process_serves_visitors_and_refuses_every_read(tmp_path):
    db = tmp_path / "c.db"
    store = SessionStore(db)
    recorded(store)
    add_user(store, "alice", "admin", "pw")
    token = new_api_token(store, "alice")
    key = store.add_site("staging", ["http://127.0.0.1:1"])
    store.close()
    server = ServeProcess(db, free_port(), tmp_path / "serve.log", "--role", "collector").start()
    try:
        assert httpx.get(server.url + "/snippet.js").status_code == 200
        chunk = httpx.post(f"{server.url}/api/v1/sessions/collector-only-1/chunks/0",
                           json={"events": page_events()}, headers={"X-Sessionheat-Site": key})
        assert chunk.status_code == 202, chunk.text
        auth = {"Authorization": f"Bearer {token}"}
        for path in ("/", "/sessions", f"/sessions/{SID}", f"/sessions/{SID}/player",
                     f"/sessions/{SID}/events.json", "/heatmaps", "/heatmaps/map.png?url=/",
                     "/heatmaps/jobs/index", "/login", "/static/ui.css"):
            r = httpx.get(server.url + path, headers=auth)
            assert r.status_code == 404, (path, r.status_code)
            assert SECRET_TEXT not in r.text
        assert httpx.post(server.url + "/heatmaps/index", headers=auth).status_code in (404, 405)
    finally:
        server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "collector only" in log and "login/link" not in log


def test_the_one_time_local_link_logs_in_once_while_no_user_exists(tmp_path):
    db = tmp_path / "fresh.db"
    SessionStore(db).close()
    log_path = tmp_path / "serve.log"
    server = ServeProcess(db, free_port(), log_path, team=False).start()
    try:
        link = re.search(r"(http://\S+/login/link\?token=\S+)", log_path.read_text()).group(1)
        first = httpx.get(link)
        assert first.status_code == 303 and first.headers["location"] == "/sessions"
        assert httpx.get(server.url + "/sessions", cookies=first.cookies).status_code == 200
        again = httpx.get(link)
        assert again.status_code == 403 and LOGIN_COOKIE not in again.cookies
        guess = httpx.get(server.url + "/login/link?token=" + "A" * 32)
        assert guess.status_code == 403
    finally:
        server.stop()


def test_the_ui_will_not_listen_on_a_public_address_while_nobody_can_log_in(tmp_path):
    db = tmp_path / "fresh.db"
    done = subprocess.run([sys.executable, "-m", "sessionheat", "serve", "--db", str(db),
                           "--host", "0.0.0.0", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 1
    assert "sessionheat users add NAME --role admin" in done.stderr
    collector = subprocess.run([sys.executable, "-m", "sessionheat", "users", "list", "--json",
                                "--db", str(db)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert json.loads(collector.stdout) == []
