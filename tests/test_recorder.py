"""Recording with a real Chromium into a real SQLite file."""

from __future__ import annotations

import json
import time

import pytest
from conftest import chromium_pids, kill_processes
from rrweb_tree import clicks, node_id_by_attr, types

from plumbing.events import EventType, IncrementalSource
from plumbing.store import new_session_id, origin_of
from plumbing.vocabulary import TAG_LIVE_CLICK, TAG_TOP_LAYER

from recorder import record
from recorder.contexts import ContextRecording
from recorder.session import RecordedSession, open_transport, recorder_init_script, stop_recording

EMAIL = "alice.secret@example.com"
PASSWORD = "hunter2-Very-Secret"


def test_journey_has_meta_snapshot_per_pageview_and_click_ids(browser, asset_server, store):
    with record(asset_server.url("form.html"), store=store, browser=browser) as session:
        session.page.click("#submit")
        session.page.click("#next")
        session.page.wait_for_url("**/second.html")
        session.page.click("#hello")
    events = store.read_events(session.id).events
    pageviews = store.pageviews(session.id)
    assert [p["url"].rsplit("/", 1)[1] for p in pageviews] == ["form.html", "second.html"]
    kinds = types(events)
    assert kinds.count(EventType.META) == 2 and kinds.count(EventType.FULL_SNAPSHOT) == 2
    for meta in (e for e in events if e["type"] == EventType.META):
        assert meta["data"]["width"] == 1280 and meta["data"]["height"] == 800
    # Each click's node id is the id the full snapshot gave the clicked element.
    clicked = [c["id"] for c in clicks(events)]
    assert clicked == [*node_id_by_attr(events, "id", "submit"), *node_id_by_attr(events, "id", "next"),
                       *node_id_by_attr(events, "id", "hello")]
    row = store.get_session(session.id)
    assert row["n_events"] == len(events) and row["n_pageviews"] == 2
    assert row["device"] == "desktop" and row["viewport_w"] == 1280
    assert row["entry_url"] == asset_server.url("form.html")


def test_typed_secrets_never_reach_the_database(browser, asset_server, store):
    with record(asset_server.url("form.html"), store=store, browser=browser) as session:
        session.page.fill("#email", EMAIL)
        session.page.type("#password", PASSWORD)
        session.page.click("#submit")
    exported = store.export_events(session.id)
    inputs = [e for e in json.loads(exported) if e["type"] == EventType.INCREMENTAL_SNAPSHOT
              and e["data"]["source"] == IncrementalSource.INPUT]
    assert inputs, "typing must still be recorded, masked"
    store.close()
    raw = b"".join(p.read_bytes() for p in store.path.parent.glob("sessions.db*"))
    for secret in (EMAIL, PASSWORD):
        assert secret not in exported
        assert secret.encode() not in raw


def test_unmasked_inputs_still_mask_passwords(browser, asset_server, store):
    with record(asset_server.url("form.html"), store=store, browser=browser, mask_inputs=False) as s:
        s.page.fill("#email", EMAIL)
        s.page.fill("#password", PASSWORD)
        s.page.click("#submit")
    exported = store.export_events(s.id)
    assert EMAIL in exported and PASSWORD not in exported


def test_chunks_arrive_while_the_session_runs(browser, asset_server, store):
    with record(asset_server.url("second.html"), store=store, browser=browser) as session:
        session.page.wait_for_timeout(1300)
        during = store.chunk_rows(session.id)
    assert len(during) >= 2, "events must be flushed at least once a second, not only at the end"


def test_spa_route_changes_are_pageviews_and_page_tags_properties(browser, asset_server, store):
    with record(asset_server.url("spa.html"), store=store, browser=browser,
                properties={"variant": "B"}) as session:
        session.page.click("#tab-a")
        session.page.click("#tab-b")
        session.page.go_back()
        session.page.wait_for_timeout(100)
    urls = [p["url"].rsplit("/", 1)[1] for p in store.pageviews(session.id)]
    assert urls == ["spa.html", "spa.html?tab=a", "spa.html?tab=b", "spa.html?tab=a"]
    props = store.get_session(session.id)["properties"]
    assert {k: props.pop(k) for k in ("plan", "variant")} == {"plan": "pro", "variant": "B"}
    assert props == {"referrer_host": "", "channel": "direct", "visitor": "new",  # the visit's own
                     "first_seen": store.get_session(session.id)["started_at"][:10]}


def test_amd_pages_and_blank_iframes_record(browser, asset_server, store):
    with record(asset_server.url("amd.html"), store=store, browser=browser) as session:
        session.page.click("#go")
        captured = session.page.evaluate("() => window.amdCaptured === true")
    assert not captured, "our rrweb must not register with the page's AMD loader"
    events = store.read_events(session.id).events
    assert EventType.FULL_SNAPSHOT in types(events) and clicks(events)


# Counts the iframes anything adds to the page (rrweb's taint check adds a hidden one for a pristine
# prototype); with `patch`, the page wraps Element.prototype.querySelector first, as some libraries do.
IFRAME_COUNTER = """
window.__iframesAdded = 0;
new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) => {
  if (n.nodeName === "IFRAME") window.__iframesAdded += 1;
}))).observe(document, {childList: true, subtree: true});
if (%s) {
  const original = Element.prototype.querySelector;
  Element.prototype.querySelector = function (selector) { return original.call(this, selector); };
}
"""


@pytest.mark.parametrize("patched", [False, True])
def test_a_pristine_page_costs_rrweb_no_iframe_a_patched_one_still_gets_it(browser, asset_server, store,
                                                                           patched):
    context = browser.new_context()
    try:
        context.add_init_script(script=IFRAME_COUNTER % ("true" if patched else "false"))
        recording = ContextRecording(context, store=store)
        page = context.new_page()
        page.goto(asset_server.url("form.html"))
        page.click("#submit")
        added = page.evaluate("() => window.__iframesAdded")
        recording.stop()
        recording.finish()
        recording.wait()
    finally:
        context.close()
    assert (added > 0) if patched else added == 0, added
    (session,) = recording.recorded
    events = store.read_events(session.id).events
    assert EventType.FULL_SNAPSHOT in types(events)
    assert [c["id"] for c in clicks(events)] == node_id_by_attr(events, "id", "submit")


def test_a_context_recording_keeps_the_user_agent_its_pages_note(browser, asset_server, store):
    # Each page notes its user agent ahead of its first batch (no round trip to ask it): here the
    # context's own, as a suite emulating a phone sets it. A second document notes it again.
    agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 sessionheat-test"
    context = browser.new_context(user_agent=agent)
    try:
        recording = ContextRecording(context, store=store)
        page = context.new_page()
        page.goto(asset_server.url("form.html"))
        page.goto(asset_server.url("form.html") + "?again")
        recording.stop()
        recording.finish()
        recording.wait()
    finally:
        context.close()
    (session,) = recording.recorded
    assert store.get_session(session.id)["user_agent"] == agent
    assert session.errors == [] and session.n_chunks >= 2


def test_a_popup_that_stays_on_about_blank_does_not_hold_the_test(browser, asset_server, store):
    # A window a script writes into never gets an http(s) address: the recording used to wait for one
    # in Playwright's page handler, and the test's own wait for the popup timed out.
    context = browser.new_context()
    try:
        recording = ContextRecording(context, store=store)
        page = context.new_page()
        page.goto(asset_server.url("form.html"))
        with page.expect_popup(timeout=10_000) as blank:
            page.evaluate("() => window.open('').document.write('<p>printed</p>')")
        with page.expect_popup(timeout=10_000) as addressed:
            page.evaluate("(url) => { window.open(url); }", asset_server.url("form.html") + "?popup")
        addressed.value.wait_for_load_state()
        addressed.value.click("#submit")
        blank.value.close()
        recording.stop()
        recording.finish()
        recording.wait()
    finally:
        context.close()
    entries = sorted(store.get_session(s.id)["entry_url"] for s in recording.recorded)
    assert entries == [asset_server.url("form.html"), asset_server.url("form.html") + "?popup"]


def test_a_recorder_started_on_a_loaded_page_notes_what_the_page_starts_with(browser, asset_server, store):
    # A popup's first page can load before the recorder is in it (ContextRecording starts it then),
    # as a page can before a snippet put in late: rrweb then takes its first snapshot inside record(),
    # and what the recorder notes once that snapshot is out must still be noted. Here: a modal
    # dialog already open, which the snapshot alone shows as a dialog in the page's flow.
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(asset_server.url("top_layer.html"))
        page.click("#terms-open")
        session = RecordedSession(id=new_session_id(), page=page, store=store)
        store.create_session(session.id, site=origin_of(page.url))
        cdp = open_transport(context, page, session._receive)
        cdp.send("Runtime.evaluate", {"expression": recorder_init_script()})
        stop_recording(page)
    finally:
        context.close()
    events = store.read_events(session.id).events
    assert EventType.FULL_SNAPSHOT in types(events)
    notes = [e["data"]["payload"] for e in events
             if e["type"] == EventType.CUSTOM and e["data"]["tag"] == TAG_TOP_LAYER]
    assert [(n["id"], n["open"], n["modal"]) for n in notes] == [(node_id_by_attr(events, "id", "terms")[0], True, True)]


def test_annotations_and_click_evidence(browser, asset_server, store):
    with record(asset_server.url("second.html"), store=store, browser=browser, evidence=True) as s:
        s.annotate("deploy", {"version": "1.2.3"})
        box = s.page.locator("#hello").bounding_box()
        s.page.click("#hello")
    events = store.read_events(s.id).events
    custom = {e["data"]["tag"]: e["data"]["payload"] for e in events if e["type"] == EventType.CUSTOM}
    assert custom["sessionheat.annotation"] == {"name": "deploy", "data": {"version": "1.2.3"}}
    live = custom[TAG_LIVE_CLICK]
    assert live["id"] == node_id_by_attr(events, "id", "hello")[0]
    assert live["box"] == pytest.approx([box["x"], box["y"], box["width"], box["height"]], abs=0.01)


def test_killed_browser_leaves_a_readable_session_up_to_the_kill(playwright, asset_server, store):
    from plumbing.browser import launch_chromium

    before = chromium_pids()
    own_browser = launch_chromium(playwright)  # not the shared one: this test kills it
    own_pids = chromium_pids() - before
    assert own_pids
    try:
        with record(asset_server.url("second.html"), store=store, browser=own_browser,
                    flush_ms=200) as session:
            session.page.click("#hello")
            session.page.wait_for_timeout(1200)
            killed_at = time.time() * 1000
            kill_processes(own_pids)
            with pytest.raises(Exception):  # noqa: B017 - whatever a dead browser raises (closed target, timeout)
                session.page.click("#hello", timeout=2000)
    finally:
        try:
            own_browser.close()
        except Exception:
            pass
    read = store.read_events(session.id)
    assert read.complete, read.problems
    events = read.events
    assert EventType.META in types(events) and EventType.FULL_SNAPSHOT in types(events)
    assert len(clicks(events)) == 1
    assert events[-1]["timestamp"] <= killed_at
    assert events[-1]["timestamp"] >= killed_at - 1000, "at most a flush interval or so is lost"
    assert store.get_session(session.id)["n_events"] == len(events)


def test_record_refuses_non_http_urls(store):
    with pytest.raises(ValueError, match="http"):
        with record("about:blank", store=store):
            pass
