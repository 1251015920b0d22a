"""Recorded pages are someone else's HTML: a replay never runs their scripts nor lets them call out."""

from __future__ import annotations

from recorder import record
from replay import open_session
from replay.host import HOST_ORIGIN, origin_of


def test_recorded_scripts_neither_change_the_dom_nor_call_out(asset_server, browser, store):
    with record(asset_server.url("untrusted.html"), store=store, browser=browser) as session:
        session.page.click("#go")
        session.page.wait_for_timeout(300)
        live_marks = session.page.locator(".ran").count()
    assert live_marks >= 3  # inline, added, click handler (+ onerror): all recorded as DOM changes

    with open_session(store, session.id, browser=browser) as rp:
        requests = []
        rp.page.on("request", lambda r: requests.append(r.url))
        for t in (0, rp.duration / 2, rp.duration, 0, rp.duration):  # rebuilds too
            rp.seek(t)
        rp.page.wait_for_timeout(500)  # time for any timer or load handler that might have run
        frame = "window.__shDriver.replayer.iframe"
        marks = rp.page.evaluate(f"() => {frame}.contentDocument.querySelectorAll('.ran').length")
        sandbox = rp.page.evaluate(f"() => {frame}.getAttribute('sandbox')")
        replay_origin = rp.page.evaluate(f"() => {frame}.contentWindow.origin")
        scripts = rp.page.evaluate(f"() => {frame}.contentDocument.querySelectorAll('script').length")
        # The image whose onerror handler would add a marker did fail again in the replay.
        failed = rp.page.evaluate(f"() => {{ const i = {frame}.contentDocument.getElementById('broken');"
                                  " return i.complete && i.naturalWidth === 0; }")
        blocked = dict(rp.guard.blocked)
        problems = [u["kind"] for u in rp.unfaithful()]

    assert marks == live_marks, "the replay shows what was recorded, and nothing a script added again"
    assert sandbox == "allow-same-origin"
    assert scripts == 0 and failed
    assert not any("beacon.invalid" in url for url in requests), "a recorded script reached out"
    assert blocked.get("http://images.invalid", 0) >= 1, "a recorded asset on another host is blocked"
    assert "blocked" in problems
    assert replay_origin == HOST_ORIGIN != origin_of(asset_server.origin)
