"""The snippet in real Chromium against a running collector: what a site owner pastes, recorded."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from collector_helpers import ThreadServer
from conftest import ASSETS
from rrweb_tree import clicks, node_id_by_attr, types
from snippet_pages import SnippetSite, snippet_tag, wait_until_sent

from plumbing.events import EventType, IncrementalSource, events_problem
from plumbing.store import SessionStore
from plumbing.vocabulary import TAG_IMAGE_LOAD

from sessionheat.web import add_site, create_app

EMAIL = "alice.secret@example.com"
PASSWORD = "hunter2-Very-Secret"


@dataclass
class Rig:
    store: SessionStore
    site: SnippetSite
    server: ThreadServer
    key: str

    def use(self, **options: str) -> None:
        self.site.tag = snippet_tag(self.server.url, self.key, flush_ms="500", **options)


def _rig(tmp_path: Any, folder: Any) -> Iterator[Rig]:
    store = SessionStore(tmp_path / "snippet.db")
    with SnippetSite(folder) as site:
        key = add_site(store, "staging", [site.origin])
        server = ThreadServer(create_app(store))
        try:
            rig = Rig(store, site, server, key)
            rig.use()
            yield rig
        finally:
            server.close()
    store.close()


@pytest.fixture
def rig(tmp_path: Any) -> Iterator[Rig]:
    yield from _rig(tmp_path, ASSETS)


@pytest.fixture
def demo_rig(tmp_path: Any) -> Iterator[Rig]:
    from demo import SITE_DIR

    yield from _rig(tmp_path, SITE_DIR)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def only_session(store: SessionStore) -> dict[str, Any]:
    sessions = store.list_sessions()
    assert len(sessions) == 1, sessions
    return sessions[0]


def test_a_visitor_on_the_demo_site_is_recorded_end_to_end(demo_rig, page):
    page.goto(demo_rig.site.url("index.html"))
    page.wait_for_function("() => window.sessionheat && window.sessionheat.sessionId")
    sid = page.evaluate("() => window.sessionheat.sessionId")
    page.locator('a[href="signup.html"]:visible').first.click()
    page.wait_for_url("**/signup.html")
    assert page.evaluate("() => window.sessionheat.sessionId") == sid, "a navigation continues the session"
    page.click("#su-email")
    page.fill("#su-email", EMAIL)
    page.type("#su-password", PASSWORD)
    page.locator("#signup-form [type=submit]").click()
    wait_until_sent(page)
    page.context.close()
    assert not page.errors

    session = only_session(demo_rig.store)
    assert session["id"] == sid and session["site"] == "staging"
    assert session["user_agent"].startswith("Mozilla/") and session["viewport_w"] == 1280
    urls = [p["url"] for p in demo_rig.store.pageviews(sid)]
    assert urls == [demo_rig.site.url("index.html"), demo_rig.site.url("signup.html")]
    read = demo_rig.store.read_events(sid)
    assert read.complete, read.problems
    events = read.events
    assert events_problem(events) is None
    kinds = types(events)
    page_starts = [k for k in kinds if k in (EventType.META, EventType.FULL_SNAPSHOT)]
    assert page_starts == [EventType.META, EventType.FULL_SNAPSHOT] * 2  # a replayable stream
    assert kinds.index(EventType.META) <= kinds.index(EventType.INCREMENTAL_SNAPSHOT)
    assert len(clicks(events)) >= 3
    typed = [e for e in events if e["type"] == EventType.INCREMENTAL_SNAPSHOT
             and e["data"]["source"] == IncrementalSource.INPUT]
    assert typed, "typing is recorded, masked"
    # (the database file and its WAL both: a secret must be in neither)
    raw = b"".join(p.read_bytes() for p in demo_rig.store.path.parent.glob("snippet.db*"))
    for secret in (EMAIL, PASSWORD):
        assert secret.encode() not in raw
    from replay import open_session

    email_box = node_id_by_attr(events, "id", "su-email")[-1]
    with SessionStore(demo_rig.store.path) as store, \
            open_session(store, sid, browser=page.context.browser) as replayer:
        # At the submit click: 300 ms later the page swaps the form for a thank-you note, which
        # the recording holds too when its last chunk left after that.
        submit_t = [e["timestamp"] for e in events if e["type"] == EventType.INCREMENTAL_SNAPSHOT
                    and e["data"] in clicks(events)][-1]
        replayer.seek(submit_t - events[0]["timestamp"])
        box = replayer.element_box(email_box)
        assert box is not None and box.w > 50 and box.h > 10, "it replays: the form is there"


def test_a_snippet_started_on_a_loaded_page_records_it_and_times_its_images(rig, page):
    # Started after the page has loaded (a tag manager, a slow collector), rrweb takes its first
    # snapshot inside record() itself; the recorder's own bookkeeping must stand by then (once it
    # did not, which left rrweb stopped and the page unrecorded).
    page.goto(rig.site.url("late_snippet.html"))
    page.wait_for_function("() => window.sessionheat && window.sessionheat.sessionId")
    page.click("#add")
    # Not `complete`: that is set a task before the load event the recorder listens for.
    page.wait_for_function("() => window.picArrived === true")
    wait_until_sent(page)
    page.context.close()
    assert not page.errors
    events = rig.store.read_events(only_session(rig.store)["id"]).events
    assert [c["id"] for c in clicks(events)] == node_id_by_attr(events, "id", "add")
    added = [n for e in events if e["type"] == EventType.INCREMENTAL_SNAPSHOT and e["data"]["source"] == 0
             for n in e["data"].get("adds", []) if n["node"].get("attributes", {}).get("id") == "pic"]
    arrivals = [e["data"]["payload"] for e in events
                if e["type"] == EventType.CUSTOM and e["data"]["tag"] == TAG_IMAGE_LOAD]
    assert arrivals == [{"id": added[0]["node"]["id"], "ok": True}]


def test_page_api_and_block_and_mask_attributes(rig, page):
    page.goto(rig.site.url("snippet_api.html"))
    page.fill("#plain", "visible words")
    page.click("#who")
    wait_until_sent(page)
    page.context.close()
    session = only_session(rig.store)
    assert session["properties"] == {"variant": "B", "user_id": "user-42", "plan": "pro",
                                     "referrer_host": "", "channel": "direct"}  # (the site keeps no visitor notes)
    exported = rig.store.export_events(session["id"])
    assert "Public text" in exported
    assert "4111-2222" not in exported and "Alice Liddell" not in exported
    assert "visible words" not in exported  # inputs are masked by default
    assert '"sessionheat.annotation"' in exported and '"checkout"' in exported


SECRET = "typed-password-123"


def stored_bytes(store: SessionStore) -> bytes:
    """Everything the store holds: the database and WAL files as they are on disk, and every
    chunk and blob inflated (zlib would hide a secret from a plain search of the file)."""
    files = b"".join(p.read_bytes() for p in store.path.parent.glob(store.path.name + "*"))
    rows = store.db.conn.execute("SELECT data FROM chunks UNION ALL SELECT data FROM blobs").fetchall()
    return files + b"".join(zlib.decompress(data) for (data,) in rows)


@pytest.mark.parametrize("record_inputs", [False, True], ids=["site masks", "site records inputs"])
def test_the_sites_policy_masks_what_a_page_asking_to_record_inputs_sends(rig, page, record_inputs):
    rig.store.set_site("staging", record_inputs=record_inputs)  # before the collector's first look
    rig.use(mask_inputs="false")  # the page asks to record what is typed
    page.goto(rig.site.url("form.html"))
    page.fill("#email", SECRET)
    page.type("#password", SECRET)
    page.click("#submit")
    wait_until_sent(page)
    page.context.close()
    assert not page.errors
    sid = only_session(rig.store)["id"]
    typed = [e["data"] for e in rig.store.read_events(sid).events if e["type"] == EventType.INCREMENTAL_SNAPSHOT
             and e["data"]["source"] == IncrementalSource.INPUT]
    assert {d["text"] for d in typed if d["text"].strip("*")} == ({SECRET} if record_inputs else set())
    assert "*" * len(SECRET) in {d["text"] for d in typed}, "masked as rrweb does: one * per character"
    if record_inputs:
        email = node_id_by_attr(rig.store.read_events(sid).events, "id", "email")[-1]
        password = node_id_by_attr(rig.store.read_events(sid).events, "id", "password")[-1]
        assert [d["text"] for d in typed if d["id"] == email][-1] == SECRET
        on_password = [d["text"] for d in typed if d["id"] == password]
        assert on_password and all(not text.strip("*") for text in on_password), on_password
    else:
        assert SECRET.encode() not in stored_bytes(rig.store) + rig.store.export_events(sid).encode()


def test_the_page_works_as_before_when_the_collector_is_down(rig, page):
    page.goto(rig.site.url("form.html"))
    page.wait_for_function("() => window.sessionheat && window.sessionheat.sessionId")
    rig.server.close()
    page.fill("#email", EMAIL)
    page.click("#submit")
    assert page.locator("#done").is_visible()
    page.wait_for_timeout(1500)  # flushes fail and are retried in the background
    assert page.evaluate("() => window.sessionheat.pending()") >= 1
    page.click("#next")
    page.wait_for_url("**/second.html")
    page.click("#hello")
    assert page.locator("#hello").inner_text() == "clicked"
    assert not page.errors


def test_a_page_without_a_collector_at_all_works(rig, page):
    rig.site.tag = snippet_tag("http://127.0.0.1:9", rig.key)  # nothing listens there
    page.goto(rig.site.url("form.html"))
    page.click("#submit")
    assert page.locator("#done").is_visible() and not page.errors
    assert page.evaluate("() => typeof window.sessionheat") == "undefined"


def test_sampling_out_records_nothing_and_keeps_the_api(rig, page):
    rig.use(sample="0")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/api/v1/" in request.url else None)
    page.goto(rig.site.url("snippet_api.html"))
    page.click("#who")
    page.wait_for_timeout(1200)
    assert page.evaluate("() => window.sessionheat.pending()") == 0
    assert not sent and not page.errors and rig.store.list_sessions() == []


def test_a_refused_page_stops_retrying_and_stores_nothing(rig, page):
    with SessionStore(rig.store.path) as other:
        stranger = add_site(other, "elsewhere", ["https://elsewhere.test"])
    rig.site.tag = snippet_tag(rig.server.url, stranger, flush_ms="300")
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/chunks/" in r.url else None)
    page.goto(rig.site.url("second.html"))
    page.wait_for_timeout(2500)  # the key cache learns the new site within a second
    assert 403 in statuses
    assert page.evaluate("() => window.sessionheat.pending()") == 0, "a refusal is final: no retries"
    assert len(statuses) <= 12 and not page.errors
    assert rig.store.list_sessions() == []


def test_a_duplicated_tab_records_its_own_session_and_loses_nothing(rig, page):
    """A duplicated tab starts with a copy of the original's sessionStorage (same session id, same
    chunk numbers). Playwright cannot duplicate a tab, so the copy is made the same way: the
    original's sessionStorage is written into a new tab before the snippet runs."""
    page.goto(rig.site.url("form.html"))
    page.wait_for_function("() => window.sessionheat && window.sessionheat.sessionId")
    page.fill("#email", "first tab")
    wait_until_sent(page)
    original = page.evaluate("() => window.sessionheat.sessionId")
    copied = page.evaluate("() => JSON.stringify(Object.entries(sessionStorage))")
    copy = page.context.new_page()
    copy.errors = []
    copy.on("pageerror", lambda error: copy.errors.append(str(error)))
    copy.add_init_script(f"for (const [k, v] of {copied}) sessionStorage.setItem(k, v);")
    copy.goto(rig.site.url("form.html"))
    copy.wait_for_function("(sid) => window.sessionheat && window.sessionheat.sessionId !== sid",
                           arg=original)
    duplicate = copy.evaluate("() => window.sessionheat.sessionId")
    for tab in (copy, page):  # both tabs go on recording, each into its own session
        tab.click("#submit")
        wait_until_sent(tab)
    page.click("#next")
    page.wait_for_url("**/second.html")
    assert page.evaluate("() => window.sessionheat.sessionId") == original, "navigation keeps it"
    wait_until_sent(page)
    assert not page.errors and not copy.errors
    page.context.close()
    sessions = {s["id"]: s for s in rig.store.list_sessions()}
    assert set(sessions) == {original, duplicate}
    assert [p["url"] for p in rig.store.pageviews(original)] == [rig.site.url("form.html"),
                                                                rig.site.url("second.html")]
    assert [p["url"] for p in rig.store.pageviews(duplicate)] == [rig.site.url("form.html")]
    for sid in (original, duplicate):
        read = rig.store.read_events(sid)
        assert read.complete and events_problem(read.events) is None, read.problems
        assert len(clicks(read.events)) >= 1


def test_a_session_past_its_cap_stops_sending_instead_of_retrying(rig, page):
    rig.store.set_site("staging", max_session_events=40)
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/chunks/" in r.url else None)
    page.goto(rig.site.url("form.html"))
    page.wait_for_function("() => window.sessionheat && window.sessionheat.sessionId")
    for n in range(6):  # well past 40 events (one per key), over several chunks
        page.type("#email", f"visitor {n} ")
        page.wait_for_timeout(300)
    page.wait_for_function("() => window.sessionheat.pending() === 0", timeout=10_000)
    for _ in range(50):  # the page may be done before Playwright has told us of the last response
        if 413 in statuses:
            break
        page.wait_for_timeout(100)
    sent = len(statuses)
    for n in range(4):  # the visitor goes on; nothing more is sent for this session
        page.fill("#email", f"more {n}")
        page.wait_for_timeout(400)
    page.click("#next")
    page.wait_for_url("**/second.html")
    page.wait_for_timeout(800)
    assert statuses.count(413) == 1 and len(statuses) == sent, statuses
    assert not page.errors
    session = only_session(rig.store)
    assert 0 < session["n_events"] <= 40
    assert rig.store.read_events(session["id"]).complete, "what was stored replays"
