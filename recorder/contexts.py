"""Record every page of a Playwright browser context that someone else drives (a test suite's).

`record()` opens its own page and drives it; here the context belongs to the caller (a pytest
fixture made it), and each page it opens, popups included, becomes a session of its own from its
first http(s) navigation, with the same init script, masking, transport and store as `record()`.

What the caller knows about the run (its phases, a failure, its outcome) is noted as it happens
and written once, when the run is over (`finish`): a test suite pays no round trip to its pages,
and no extra write, per mark. Writes go through a thread of their own, in order: the thread that
drives Playwright (the test's) never waits for the store's fsync while a page loads.
"""

from __future__ import annotations

import functools
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plumbing import json_text
from plumbing.events import EventType
from plumbing.store import SessionStore, new_session_id, origin_of
from plumbing.vocabulary import TAG_SET_PROPERTIES

from recorder.session import (
    RecordedSession,
    annotation_event,
    open_transport,
    recorder_init_script,
    stop_recording,
    stop_recording_through,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, CDPSession, Page


def first_page(events: Any) -> tuple[str, int]:
    """(the address of the page a recorder batch came from, the batch's first timestamp), or ('', 0)."""
    events = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
    stamps = [e["timestamp"] for e in events if isinstance(e.get("timestamp"), (int, float))]
    for event in events:
        if event.get("type") == EventType.META:
            href = (event.get("data") or {}).get("href")
            return (href if isinstance(href, str) else ""), int(min(stamps, default=0))
    return "", int(min(stamps, default=0))


@dataclass
class ContextRecording:
    """Records each page `context` opens from now on. `properties` tag every session it makes.

    A session's row is written when its page sends the first batch, so a page that never leaves
    about:blank leaves nothing behind, and the session's site is the origin it was recorded on.
    """

    context: "BrowserContext"
    store: SessionStore
    properties: dict[str, Any] = field(default_factory=dict)
    mask_inputs: bool = True
    flush_ms: int = 500
    canvas: bool | int = True
    sessions: list[RecordedSession] = field(default_factory=list)  # every page watched, in order opened
    started: dict[str, int] = field(default_factory=dict)  # session id -> its first event's epoch ms
    marks: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)  # (epoch ms, name, data)
    writes: "queue.Queue[Callable[[], object] | None]" = field(default_factory=queue.Queue)
    transports: dict[str, "CDPSession"] = field(default_factory=dict)  # session id -> its page's CDP

    def __post_init__(self) -> None:
        self.script = recorder_init_script(mask_inputs=self.mask_inputs, flush_ms=self.flush_ms,
                                           canvas=self.canvas)
        self.context.add_init_script(script=self.script)
        self.context.on("page", self._watch)
        self.writer = threading.Thread(target=self._write_in_order, name="sessionheat-writer", daemon=True)
        self.writer.start()

    def _write_in_order(self) -> None:
        while True:
            write = self.writes.get()
            try:
                if write is None:
                    return
                write()
            except Exception:  # a session's own errors are kept on it; nothing may stop the others
                pass
            finally:
                self.writes.task_done()

    def _watch(self, page: "Page") -> None:
        """Called by Playwright as the page opens, while the test goes on: the page may already be
        navigating, and holds its batches until the binding is there (playwright_boot.js)."""
        session = RecordedSession(id=new_session_id(), page=page, store=self.store)
        self.sessions.append(session)
        viewport = page.viewport_size
        size = (viewport["width"], viewport["height"]) if viewport else None
        agent: list[str] = []  # the user agent the page notes ahead of its batches (open_transport)

        def receive(payload: str) -> None:  # called on the thread driving Playwright: the test waits
            if session.id not in self.started:  # the first batch (a full snapshot) is parsed by the writer
                self.started[session.id] = 0  # its first timestamp, set by the writer before any later task
                self.writes.put(functools.partial(
                    self._start_session, session, payload, user_agent=agent[0] if agent else "",
                    viewport=size, properties=dict(self.properties)))
            else:
                self.writes.put(functools.partial(session._receive, payload))

        cdp = open_transport(self.context, page, receive, agent=agent.append)  # every document's; [0] is used
        self.transports[session.id] = cdp
        try:
            if page.opener() is not None:
                self._record_popup(page, cdp)
        except Exception:  # closed already
            pass

    def _start_session(self, session: RecordedSession, payload: str, **known: Any) -> None:
        """On the writer: the session's row (its site the origin its first batch was recorded on),
        then that batch, parsed once for both."""
        try:
            events = json_text.loads(payload)
        except ValueError:
            events = None  # stored as nothing, reported by _receive
        url, self.started[session.id] = first_page(events)
        self.store.create_session(session.id, site=origin_of(url) if url else "", **known)
        session._receive(payload, events)

    def _record_popup(self, page: "Page", cdp: "CDPSession") -> None:
        """A popup's first page can load without the context's init script (Chromium has navigated it
        before Playwright attached): once it has an http(s) document, start the recorder there if it
        is missing. It then records from that moment, its full snapshot included.

        Watched, not waited for: a popup may never leave about:blank (a window a script writes
        into), and waiting here held the test's own wait for that popup until it timed out."""

        def loaded(_: object = None) -> None:
            if not page.url.startswith(("http://", "https://")):
                return
            page.remove_listener("domcontentloaded", loaded)
            try:
                cdp.send("Runtime.evaluate", {"expression": self.script})  # a no-op where it runs already
            except Exception:  # closed meanwhile
                pass

        page.on("domcontentloaded", loaded)
        loaded()

    @property
    def recorded(self) -> list[RecordedSession]:
        """The sessions that hold something: pages that were recorded."""
        return [s for s in self.sessions if s.id in self.started]

    def open_pages(self) -> list["Page"]:
        """The pages open now that have been on an http(s) address."""
        return [s.page for s in self.sessions
                if not s.page.is_closed() and s.page.url.startswith(("http://", "https://"))]

    def mark(self, name: str, data: dict[str, Any] | None = None, *, at_ms: float | None = None) -> None:
        """Note a moment (now, or `at_ms`) for every session's timeline; written by `finish`."""
        self.marks.append((time.time() * 1000 if at_ms is None else at_ms, name, data or {}))

    def stop(self) -> None:
        """Hand over each open page's last batch and stop its recorder (before the context closes)."""
        for session in self.sessions:
            cdp = self.transports.get(session.id)
            if cdp is None:  # the page went before its transport was there
                stop_recording(session.page)
            else:
                stop_recording_through(cdp, session.page)

    def finish(self, properties: dict[str, Any] | None = None) -> None:
        """Write the marks and `properties` (what is known only at the end: an outcome) into every
        recorded session, one chunk each, and end the writer (`wait` for it to be done). A mark
        from before a session's first event is not its. Call it after `stop`, once."""
        properties = properties or {}
        self.properties.update(properties)
        # On the writer, after the first batches it parses (which say where each session starts).
        self.writes.put(functools.partial(self._write_marks, self.recorded, list(self.marks), properties))
        self.marks.clear()
        self.writes.put(None)  # the run is over: the writer ends once all is written

    def _write_marks(self, sessions: list[RecordedSession], marks: list[tuple[float, str, dict[str, Any]]],
                     properties: dict[str, Any]) -> None:
        for session in sessions:
            start = self.started[session.id]
            events = [annotation_event(name, data, at_ms=at) for at, name, data in marks if at >= start]
            if properties:
                end = max([start, *(e["timestamp"] for e in events)])
                events.append({"type": int(EventType.CUSTOM), "timestamp": end,
                               "data": {"tag": TAG_SET_PROPERTIES, "payload": properties}})
            if events:
                session._receive(json.dumps(events))

    def wait(self) -> None:
        """Until everything received (and, after `finish`, written by it) is in the store."""
        self.writes.join()
