"""The collector killed (SIGKILL) and restarted while a page keeps recording: nothing acknowledged is
lost, and the page's retries fill the gap."""

from __future__ import annotations

import re
from typing import Any

from collector_helpers import ServeProcess, free_port
from conftest import ASSETS
from snippet_pages import SnippetSite, snippet_tag, wait_until_sent

from plumbing.store import SessionStore

from sessionheat.web import add_site

CHUNK_URL = re.compile(r"/api/v1/sessions/([A-Za-z0-9_-]+)/chunks/(\d+)")


def test_acknowledged_chunks_survive_a_killed_collector_and_retries_fill_the_gap(browser, tmp_path):
    db = tmp_path / "loss.db"
    acked: set[int] = set()

    def on_response(response: Any) -> None:
        match = CHUNK_URL.search(response.url)
        if match and response.status == 202:
            acked.add(int(match.group(2)))

    with SnippetSite(ASSETS) as site:
        with SessionStore(db) as store:
            key = add_site(store, "staging", [site.origin])
        server = ServeProcess(db, free_port(), tmp_path / "serve.log").start()
        site.tag = snippet_tag(server.url, key, flush_ms="250")
        context = browser.new_context()
        page = context.new_page()
        page.on("response", on_response)
        try:
            page.goto(site.url("second.html"))  # adds a list item every 100 ms: a steady stream
            page.wait_for_timeout(1500)
            server.kill()
            acked_before_kill = set(acked)
            page.click("#hello")  # recorded while nothing listens
            page.wait_for_timeout(2500)
            assert page.evaluate("() => window.sessionheat.pending()") >= 3, "chunks wait for a retry"
            server.start()
            page.wait_for_timeout(1000)
            wait_until_sent(page, timeout=45)
            sid = page.evaluate("() => window.sessionheat.sessionId")
            made = page.evaluate(f"() => +sessionStorage.getItem('sessionheat:{key}:seq')")
        finally:
            context.close()
            server.stop()

    assert len(acked_before_kill) >= 3
    with SessionStore(db) as store:
        stored = {row["seq"] for row in store.chunk_rows(sid)}
        assert acked_before_kill <= stored and acked <= stored
        assert set(range(made)) <= stored, "every chunk the page made is stored"
        assert stored == set(range(max(stored) + 1)), "with no gap (a last one may come on close)"
        read = store.read_events(sid)
        assert read.complete, read.problems
        assert any(e["type"] == 3 and e["data"]["source"] == 2 for e in read.events)
        assert store.get_session(sid)["n_chunks"] == len(stored), "each stored once"
