"""The sessions area of the UI, its list: filters, sorting and paging, driven as a person would
(real Chromium, real uvicorn, real SQLite), and the store's query path beneath it.

The session page and its player: test_ui_session_page.py; what a recording may not do in the UI:
test_ui_player_isolation.py. Screenshots land in tests/artifacts/ui/ (not committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from collector_helpers import ThreadServer, team_get, team_page
from ui_sessions_helpers import T0, apply_filters, listed_ids, serve_recorded_visits, shot, synthetic

from plumbing.store import SessionFilter, SessionStore, StoreError

from recorder import record
from sessionheat.web import create_app
from sessionheat.web.sessions_ui import ViewportChoices


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, browser: Any, demo_server: Any,
       asset_server: Any) -> Iterator[dict[str, Any]]:
    """A store with two recorded visits and some synthetic sessions, served by the real app."""
    with serve_recorded_visits(tmp_path_factory.mktemp("ui"), browser, demo_server, asset_server) as served:
        yield served


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


# -- the store's query path (no browser) -------------------------------------------------------


def _summaries(n: int) -> list[dict[str, Any]]:
    return [{"id": f"sess-{i:05d}", "first_ts": T0 + (i // 3) * 1000, "last_ts": T0 + (i // 3) * 1000 + i,
             "duration_ms": i % 7 * 1000, "n_events": i % 11, "device": "desktop", "viewport_w": 1280,
             "viewport_h": 800, "entry_url": "http://shop.test/", "properties": {"k": str(i % 2)}}
            for i in range(n)]


@pytest.mark.parametrize("sort", ["started", "duration", "events"])
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pages_cover_every_session_once_in_order(backend_store: SessionStore, sort: str,
                                                        descending: bool) -> None:
    store = backend_store  # on each backend
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


def test_url_filter_finds_rare_and_common_pages_alike(backend_store: SessionStore) -> None:
    store = backend_store  # on each backend
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


def test_summaries_need_only_an_id_and_a_start(backend_store: SessionStore) -> None:
    store = backend_store  # on each backend
    store.load_session_summaries([{"id": "bare-session", "first_ts": T0}])
    assert [r["id"] for r in store.query_sessions().sessions] == ["bare-session"]


def test_viewport_choices_are_counted_again_after_a_while_in_a_thread(backend_store: SessionStore) -> None:
    """The list's viewport counts scan every session: a page shows the last count, up to `ttl`
    seconds old, while a thread counts again."""
    store = backend_store
    store.load_session_summaries([{"id": "vp-00001", "first_ts": T0, "viewport_w": 1280, "viewport_h": 800}])
    now = [0.0]
    choices = ViewportChoices(store, ttl=30, clock=lambda: now[0])
    assert choices.get() == [(1280, 800, 1)]
    store.load_session_summaries([{"id": "vp-00002", "first_ts": T0, "viewport_w": 390, "viewport_h": 844}])
    now[0] = 29
    assert choices.get() == [(1280, 800, 1)] and choices.refresh is None, "fresh enough: not counted again"
    now[0] = 31
    assert choices.get() == [(1280, 800, 1)], "the last count, while a thread counts again"
    assert choices.refresh is not None
    choices.refresh.join(timeout=60)
    assert sorted(choices.get()) == [(390, 844, 1), (1280, 800, 1)]


def test_a_forged_cursor_is_refused(store: SessionStore, ui: dict[str, Any]) -> None:
    with pytest.raises(StoreError):
        store.query_sessions(after="bm90IGEgY3Vyc29y")
    r = team_get(ui["url"] + "/sessions?after=%27%3Bdrop")
    assert r.status_code == 400 and "not a page cursor" in r.text


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
