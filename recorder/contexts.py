"""Record every page of a Playwright browser context that someone else drives (a test suite's).

`record()` opens its own page and drives it; here the context belongs to the caller (a pytest
fixture made it), and each page it opens, popups included, becomes a session of its own from its
first http(s) navigation, with the same init script, masking, transport and store as `record()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plumbing import json_text
from plumbing.events import EventType
from plumbing.store import SessionStore, new_session_id, origin_of

from recorder.session import RecordedSession, open_transport, recorder_init_script, stop_recording

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


def first_page_url(payload: str) -> str:
    """The address of the page a recorder batch came from (its Meta event), or ''."""
    try:
        events = json_text.loads(payload)
    except ValueError:
        return ""
    for event in events if isinstance(events, list) else ():
        if isinstance(event, dict) and event.get("type") == EventType.META:
            href = (event.get("data") or {}).get("href")
            return href if isinstance(href, str) else ""
    return ""


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
    started: set[str] = field(default_factory=set)  # ids of the sessions that have a row

    def __post_init__(self) -> None:
        self.context.add_init_script(script=recorder_init_script(
            mask_inputs=self.mask_inputs, flush_ms=self.flush_ms, canvas=self.canvas))
        self.context.on("page", self._watch)

    def _watch(self, page: "Page") -> None:
        """Called by Playwright as the page opens, while the test goes on: the page may already be
        navigating, and holds its batches until the binding is there (playwright_boot.js)."""
        session = RecordedSession(id=new_session_id(), page=page, store=self.store)
        self.sessions.append(session)
        viewport = page.viewport_size
        size = (viewport["width"], viewport["height"]) if viewport else None
        try:  # asked first: sent before the test's next step (a goto) can take about:blank away
            user_agent = page.evaluate("() => navigator.userAgent")
        except Exception:  # gone already: the session has no user agent
            user_agent = ""

        def receive(payload: str) -> None:  # called on the thread driving Playwright
            if session.id not in self.started:
                url = first_page_url(payload)
                self.store.create_session(session.id, site=origin_of(url) if url else "",
                                          user_agent=user_agent, viewport=size,
                                          properties=self.properties)
                self.started.add(session.id)
            session._receive(payload)

        open_transport(self.context, page, receive)

    @property
    def recorded(self) -> list[RecordedSession]:
        """The sessions that hold something: pages that were recorded."""
        return [s for s in self.sessions if s.id in self.started]

    def open_pages(self) -> list[RecordedSession]:
        return [s for s in self.recorded if not s.page.is_closed()]

    def flush(self) -> None:
        """Hand everything the open pages have buffered to the store now: a page that has not sent
        its first batch yet (batches leave every `flush_ms`) becomes a recorded session."""
        for session in self.sessions:
            try:
                if not session.page.is_closed():
                    session.flush()
            except Exception:  # navigating, crashed: its batches come with the next flush
                pass

    def annotate(self, name: str, data: dict[str, Any] | None = None, *, at_ms: float | None = None) -> None:
        """Mark the moment on every session being recorded (a page not recorded yet gets no mark:
        it would come before its first event)."""
        self.flush()
        for session in self.recorded:
            session.annotate(name, data, at_ms=at_ms)

    def set_properties(self, properties: dict[str, Any]) -> None:
        """Add to every recorded session's properties (what is known only at the end, an outcome)."""
        self.properties.update(properties)
        for session in self.recorded:
            self.store.set_properties(session.id, properties)

    def stop(self) -> None:
        """Hand over each open page's last batch and stop its recorder (before the context closes)."""
        for session in self.sessions:
            stop_recording(session.page)
