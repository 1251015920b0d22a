"""The session page of the UI: the player, its timeline and marks, moments, downloads and damaged
recordings, driven as a person would (real Chromium, real uvicorn, real SQLite).

Screenshots land in tests/artifacts/ui/ (not committed).
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
from collector_helpers import ROOT, ThreadServer, click, meta, snapshot, team_cookies, team_page
from playwright.sync_api import expect
from ui_sessions_helpers import SECRET_NAME, T0, serve_recorded_visits, shot, synthetic

from plumbing.store import SessionStore
from plumbing.vocabulary import TAG_ANNOTATION, TAG_ROUTE

from recorder import record
from sessionheat.web import create_app
from sessionheat.web.session_timeline import build_timeline


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, browser: Any, demo_server: Any,
       asset_server: Any) -> Iterator[dict[str, Any]]:
    """A store with two recorded visits and some synthetic sessions, served by the real app."""
    with serve_recorded_visits(tmp_path_factory.mktemp("ui"), browser, demo_server, asset_server) as served:
        yield served


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
        # The player's progress bar marks the annotation in the timeline's colour (#b54708): the
        # tag reaches the player document from the vocabulary, through its config.
        expect(player.locator(f'[title="{TAG_ANNOTATION}"]').first).to_have_css("background-color",
                                                                                  "rgb(181, 71, 8)")
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


def test_the_timeline_shows_when_the_session_reached_its_sites_goal(ui: dict[str, Any]) -> None:
    from collector_helpers import team_get

    from plumbing.conversions import Goal

    store, sid = ui["store"], ui["ids"]["desktop"]
    site = store.get_session(sid)["site"]
    store.set_goals(site, [Goal("event", "checkout-started")])
    try:
        html = team_get(f"{ui['url']}/sessions/{sid}").text
    finally:
        store.set_goals(site, [])
    assert html.count("Converted: reached goal event:checkout-started") == 1
    assert 'class="tl-conversion"' in html and "swatch track-conversion" in html
    assert '<th scope="row">converted</th><td>yes</td>' in html  # its properties say so too
    after = team_get(f"{ui['url']}/sessions/{sid}").text  # no goal any more: neither
    assert "Converted:" not in after and '<th scope="row">converted</th>' not in after
