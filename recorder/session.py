"""Record a Playwright-driven browser session into the store.

The page buffers rrweb events and hands them to Python in batches through one binding, and each
batch is written as a chunk the moment it arrives: a browser killed mid-session leaves everything it
had flushed (at most `flush_ms` behind) readable in the store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from plumbing import json_text
from plumbing.assets import amd_safe, package_text, page_script, rrweb_for_recording
from plumbing.browser import chromium
from plumbing.events import EventType
from plumbing.store import SessionStore, new_session_id
from plumbing.vocabulary import DEFAULT_VIEWPORT, TAG_ANNOTATION

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

BINDING = "__sessionheatSend"
AGENT_NOTE = "sessionheat:agent:"  # what a page sends ahead of its first batch, then its user agent
VISITOR_NOTE = "sessionheat:visitor"  # record()'s visitor note in localStorage (the snippet's is per site key)
RETURNING_AFTER_DAYS = 7  # when record(returning=True) says the visitor was first seen


def canvas_config(canvas: bool | int) -> dict[str, Any] | bool:
    """record.js's `canvas` setting: False (off), or how often a canvas drawn on is photographed
    (True: every second; an int: every that many ms), besides at each pointerdown and click."""
    if canvas is False or canvas is None:
        return False
    return {"intervalMs": 1000 if canvas is True else int(canvas)}


def recorder_init_script(*, mask_inputs: bool = True, flush_ms: int = 500, max_batch: int = 2000,
                         evidence: bool = False, canvas: bool | int = True) -> str:
    """The init script that records a page: vendored rrweb + record.js + the binding transport."""
    config = {"binding": BINDING, "agentNote": AGENT_NOTE, "visitNote": VISITOR_NOTE,
              "maskInputs": mask_inputs, "flushMs": flush_ms, "maxBatch": max_batch, "evidence": evidence,
              "leaveEvents": ["beforeunload", "pagehide"], "canvas": canvas_config(canvas)}
    boot = package_text("recorder", "playwright_boot.js")
    # rrweb goes in last, so its own text is never searched for placeholders.
    return (
        boot.replace("/*@CONFIG@*/", json.dumps(config))
        .replace("/*@RECORD@*/", page_script("recorder", "record.js"))
        .replace("/*@RRWEB@*/", amd_safe(rrweb_for_recording(), "holder"))
    )


@dataclass
class RecordedSession:
    """A session being recorded: drive `.page` as any Playwright page."""

    id: str
    page: "Page"
    store: SessionStore
    n_chunks: int = 0
    n_events: int = 0
    errors: list[str] = field(default_factory=list)

    def _receive(self, payload: str, events: Any = None) -> None:
        """Store one batch; `events`: the payload parsed already, if the caller has it."""
        try:
            events = json_text.loads(payload) if events is None else events
            if self.store.append_chunk(self.id, self.n_chunks, events, raw_json=payload):
                self.n_chunks += 1
                self.n_events += len(events)
        except Exception as exc:  # a bad batch is reported, never allowed to kill the page
            self.errors.append(f"batch {self.n_chunks}: {exc}")

    def flush(self) -> None:
        """Hand everything the page has buffered to the store now."""
        self.page.evaluate("() => window.__sessionheatRecorder && window.__sessionheatRecorder.flush()")

    def annotate(self, name: str, data: dict[str, Any] | None = None, *, at_ms: float | None = None) -> None:
        """Mark this moment (or `at_ms`, epoch ms, a moment just past) on the session's timeline: a
        deploy, a step of the journey, a test's failure..."""
        try:
            if not self.page.is_closed():
                self.flush()  # keep chunk order = time order
        except Exception:
            pass
        self._receive(json.dumps([annotation_event(name, data, at_ms=at_ms)]))


def annotation_event(name: str, data: dict[str, Any] | None = None, *, at_ms: float | None = None
                     ) -> dict[str, Any]:
    """The event that marks a moment (now, or `at_ms` epoch ms) on a session's timeline."""
    stamp = time.time() * 1000 if at_ms is None else at_ms
    return {"type": int(EventType.CUSTOM), "timestamp": int(stamp),
            "data": {"tag": TAG_ANNOTATION, "payload": {"name": name, "data": data or {}}}}


# Stop after one zero-delay timer turn: rrweb notes some things a timer turn after they happen (a
# font added through `document.fonts.add`), and a journey that ends right after such a step
# would otherwise stop the recorder before that event exists.
STOP_EXPRESSION = ("new Promise((done) => setTimeout(done, 0)).then(() =>"
                   " window.__sessionheatRecorder && window.__sessionheatRecorder.stop())")
_STOP_JS = "() => " + STOP_EXPRESSION


def open_transport(context: "BrowserContext", page: "Page", receive: Callable[[str], None],
                   agent: Callable[[str], None] | None = None) -> "CDPSession":
    """Hand every batch the recorder in `page` sends (the JSON text of a list of events) to `receive`,
    and the user agent each document notes ahead of its first batch to `agent`.

    A raw CDP binding, not page.expose_binding: Playwright drops binding calls whose document is
    already unloading, and the batch flushed on leaving a page is exactly such a call. A page that
    runs before the binding is there (a popup) holds its batches until it is (playwright_boot.js).
    """

    def called(event: dict[str, Any]) -> None:
        if event.get("name") != BINDING:
            return
        payload = event["payload"]
        if not payload.startswith(AGENT_NOTE):
            receive(payload)
        elif agent is not None:
            agent(payload[len(AGENT_NOTE):])

    cdp = context.new_cdp_session(page)
    cdp.on("Runtime.bindingCalled", called)
    cdp.send("Runtime.enable")  # Runtime.bindingCalled is only reported with the domain on
    cdp.send("Runtime.addBinding", {"name": BINDING})
    return cdp


def stop_recording(page: "Page") -> None:
    """Hand over the page's last batch and stop its recorder; quietly nothing when the page is gone
    (crashed, killed, closed by a person)."""
    try:
        if not page.is_closed():
            page.evaluate(_STOP_JS)
    except Exception:
        pass


def stop_recording_through(cdp: "CDPSession", page: "Page") -> None:
    """`stop_recording` through the page's own transport (`open_transport`'s CDP session): a page
    the test never evaluated in would otherwise first have Playwright set up its evaluation
    helpers there (~13 ms), only to be stopped. The last batch still arrives before this returns."""
    try:
        if not page.is_closed():
            cdp.send("Runtime.evaluate", {"expression": STOP_EXPRESSION, "awaitPromise": True})
    except Exception:
        pass


@contextmanager
def record(
    url: str,
    *,
    store: SessionStore,
    viewport: tuple[int, int] = DEFAULT_VIEWPORT,
    properties: dict[str, Any] | None = None,
    mask_inputs: bool = True,
    session_id: str | None = None,
    browser: "Browser | None" = None,
    headless: bool = True,
    evidence: bool = False,
    flush_ms: int = 500,
    user_agent: str | None = None,
    canvas: bool | int = True,
    referrer: str | None = None,
    returning: bool | datetime = False,
) -> Iterator[RecordedSession]:
    """Open `url` in a recorded browser page; the session spans every navigation of that page.

    Pass `browser` to reuse one Chromium across many sessions (each gets a fresh context, so no
    cookies or storage leak between visitors). `evidence=True` also records what each click hit and
    its live box, for accuracy tests and benchmarks. `canvas=False` leaves canvas drawings
    unrecorded (the replay then says so); an int sets how often, in ms, a canvas drawn on is
    photographed besides at each pointerdown and click (default 1000).

    The visit is played for real: `referrer` is sent with the first navigation, so the page's
    `document.referrer` is that URL (the session's referrer_host, channel); `returning=True` (or
    the moment the visitor was first seen) leaves a visitor note before the page loads, so the
    page reports a returning visitor; without it, every session is a new one. UTM tags go in `url`.
    """
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"can only record http(s) pages, not {url!r}")
    with ExitStack() as stack:
        if browser is None:
            browser = stack.enter_context(chromium(headless=headless))
        context: BrowserContext = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            user_agent=user_agent or None,  # None: the browser's own
        )
        stack.callback(_close_quietly, context)
        page = context.new_page()
        session = RecordedSession(id=session_id or new_session_id(), page=page, store=store)
        ua = page.evaluate("() => navigator.userAgent")
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        store.create_session(session.id, site=origin, user_agent=ua, viewport=viewport,
                             properties=properties)
        open_transport(context, page, session._receive)
        if returning:
            first_seen = returning if isinstance(returning, datetime) else \
                datetime.now(tz=UTC) - timedelta(days=RETURNING_AFTER_DAYS)
            page.add_init_script(script=visitor_note_script(first_seen))
        page.add_init_script(script=recorder_init_script(
            mask_inputs=mask_inputs, flush_ms=flush_ms, evidence=evidence, canvas=canvas))
        page.goto(url, referer=referrer)
        try:
            yield session
        finally:
            stop_recording(page)


def visitor_note_script(first_seen: datetime) -> str:
    """An init script that leaves a visitor note first seen at `first_seen` (unless the page's
    origin has one already): the recorded page then finds a returning visitor, as it would."""
    note = json.dumps(json.dumps({"first_seen": int(first_seen.timestamp() * 1000)}))
    return (f"try {{ if (!localStorage.getItem({json.dumps(VISITOR_NOTE)})) "
            f"localStorage.setItem({json.dumps(VISITOR_NOTE)}, {note}); }} catch (e) {{}}")


def _close_quietly(context: "BrowserContext") -> None:
    try:
        context.close()
    except Exception:
        pass
