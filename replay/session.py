"""`open_session`: one recorded session, rebuilt in a headless Chromium page, asked about any moment.

Times are ms since the session's first event. Node ids are rrweb's, which restart at each page load,
so a node id means something only together with a moment of the session.
"""

from __future__ import annotations

import base64
import json
import secrets
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plumbing import json_text
from plumbing.addresses import vouched_origins
from plumbing.browser import chromium, host_resolver_rule
from plumbing.store import SessionEvents, SessionStore, origin_of
from plumbing.vocabulary import DEFAULT_VIEWPORT, Box

from replay.fetch import asset_origins
from replay.host import FETCH_TIMEOUT_MS, HOST_URL, AssetCache, NetworkGuard, host_page_response
from replay.timeline import LiveClick, PointerAction, Timeline

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Request, Route


class ReplayError(RuntimeError):
    """The session cannot be replayed at all (nothing readable, no full snapshot)."""


@dataclass(frozen=True)
class Pageview:
    index: int
    url: str
    t_start: int
    t_end: int
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Resolved:
    """Where element `node_id` was at moment `t`, and the layout around it."""

    t: int
    node_id: int
    box: Box | None
    tag: str | None
    doc_size: tuple[float, float]
    viewport: tuple[int, int]
    scroll: tuple[float, float]
    problem: str | None = None  # why the box is missing or not to be trusted


@dataclass
class Replay:
    """A session loaded into a replay page. Use through `open_session` (a context manager)."""

    session_id: str
    page: "Page"
    timeline: Timeline
    guard: NetworkGuard
    pageviews: list[Pageview]
    problems: list[str] = field(default_factory=list)  # damage that cut the session short
    t: int = 0
    _cut: int = -1
    _painting: int = 0  # depth of `painting()` blocks
    _on_release: Callable[[], None] | None = None  # tells the page's owner a call took it down
    _released: bool = False

    # -- moments ----------------------------------------------------------------------------------

    @property
    def duration(self) -> int:
        """ms from the first to the last readable event."""
        return self.timeline.duration

    @property
    def complete(self) -> bool:
        """False when a missing or corrupt chunk cut the session short (see `problems`)."""
        return not self.problems

    def pageview_at(self, t: float) -> Pageview | None:
        current = None
        for pv in self.pageviews:
            if pv.t_start <= t:
                current = pv
        return current

    def seek(self, t_ms: float) -> "Replay":
        """Show the page as it was `t_ms` after the session's first event (after every event up to
        and including that moment). Forward seeks apply only the events in between."""
        cut = self.timeline.cut_at(t_ms)
        self._run("(d, a) => d.seek(a.cut, a)", {"cut": cut, "t": float(t_ms)})  # t: animations' moment
        self._cut, self.t = cut, int(t_ms)
        return self

    def element_box(self, node_id: int) -> Box | None:
        """The node's box at the current moment, or None if it is not in the page then."""
        found = self._run("(d, a) => d.box(a.id)", {"id": node_id})
        return Box(*found["box"]) if found["box"] else None

    def element_problem(self, node_id: int) -> str | None:
        """Why the node's box at the current moment is not faithful (canvas, cross-origin frame,
        image that did not load...), or None."""
        return self._run("(d, a) => d.box(a.id)", {"id": node_id})["problem"]

    def element_at(self, x: float, y: float) -> int | None:
        """rrweb node id of the deepest element at document point (x, y) at the current moment."""
        return self._run("(d, a) => d.elementAt(a.x, a.y)", {"x": x, "y": y})

    def document_size(self) -> tuple[float, float]:
        w, h = self._run("(d) => d.layout().doc")
        return float(w), float(h)

    def viewport(self) -> tuple[int, int]:
        w, h = self._run("(d) => d.layout().viewport")
        return int(w), int(h)

    def scroll(self) -> tuple[float, float]:
        x, y = self._run("(d) => d.layout().scroll")
        return float(x), float(y)

    def unfaithful(self) -> list[dict[str, Any]]:
        """What the current moment cannot show as the visitor saw it: canvases, iframes whose
        content was not recorded, images that did not load; plus requests the guard refused."""
        found = list(self._run("(d) => d.unfaithful()"))
        found += [{"kind": "blocked", "id": None, "detail": f"{n} request(s) to {origin} blocked"}
                  for origin, n in sorted(self.guard.blocked.items())]
        found += [{"kind": "missing", "id": None, "detail": f"{url}: {why}"}
                  for url, why in sorted(self.guard.missing.items())]
        return found

    # -- many moments at once ---------------------------------------------------------------------

    def resolve(self, queries: Iterable[tuple[float, int]], *, naive: bool = False,
                skip_fixes: Sequence[str] = ()) -> list[Resolved]:
        """Boxes for many (t, node_id) pairs in one pass through the events.

        Queries are answered in time order (forward seeks only apply what lies between them) and
        returned in the order given. `naive=True` rebuilds from the page's full snapshot for every
        query instead: the approach this exists to beat, kept for benchmarks. `skip_fixes` leaves
        out fidelity fixes ("scroll", "hover", "animations", "resources", "scroll_hints") to
        measure what each is worth.
        """
        asked = [(float(t), int(node)) for t, node in queries]
        cuts = [self.timeline.cut_for(t, node) for t, node in asked]
        plan = sorted(range(len(asked)), key=lambda k: (cuts[k], k))
        payload: list[dict[str, Any]] = []
        for k in plan:
            hints = {} if "scroll_hints" in skip_fixes else self.timeline.scroll_hints(cuts[k])
            payload.append({"cut": cuts[k], "id": asked[k][1], "scroll": hints})
        raw = self._run("(d, a) => d.resolve(a.queries, {naive: a.naive, skip: a.skip})",
                        {"queries": payload, "naive": naive, "skip": list(skip_fixes)}) if payload else []
        out: list[Resolved | None] = [None] * len(asked)
        for k, r, q in zip(plan, raw, payload):
            t, node = asked[k]
            out[k] = Resolved(
                t=int(t), node_id=node, box=Box(*r["box"]) if r["box"] else None, tag=r["tag"],
                doc_size=(float(r["doc"][0]), float(r["doc"][1])),
                viewport=(int(r["viewport"][0]), int(r["viewport"][1])),
                scroll=(float(r["scroll"][0]), float(r["scroll"][1])),
                problem=r["problem"] or (None if r["complete"] else "assets still loading"),
            )
            self._cut = q["cut"]
        if payload:
            self.t = int(asked[plan[-1]][0])
        return [r for r in out if r is not None]

    def probe(self, queries: Iterable[tuple[float, int | None, tuple[float, float] | None]], probe_js: str,
              *, last: bool = False) -> list[tuple[Any, tuple[float, float]]]:
        """Ask `probe_js` — `(node, query, document) => value` — about many moments in one pass.

        Each query is (t, node_id or None, document point or None); the probe gets the node (or
        None) and `query.point`. Returns (probe value, document size) per query, in the order given.
        The heatmap index uses this to name elements and anchor scroll positions where they were.
        `last`: nothing more will be asked, so the same page call takes the replay down (a page
        taking session after session saves the round trip of unloading it); the replay cannot be
        used afterwards.
        """
        asked = [(float(t), None if node is None else int(node), point) for t, node, point in queries]
        cuts = [self.timeline.cut_for(t, node) for t, node, _ in asked]
        plan = sorted(range(len(asked)), key=lambda k: (cuts[k], k))
        payload: list[dict[str, Any]] = []
        for k in plan:
            point = asked[k][2]
            payload.append({"cut": cuts[k], "id": asked[k][1], "point": list(point) if point else None,
                            "scroll": self.timeline.scroll_hints(cuts[k])})
        if not payload:
            if last:
                self._run("() => null", last=True)
            return []
        raw = self._run(f"(d, a) => d.resolve(a.queries, {{probe: {probe_js}}})", {"queries": payload}, last=last)
        out: list[Any] = [None] * len(asked)
        for k, r in zip(plan, raw):
            out[k] = (r.get("probe"), (float(r["doc"][0]), float(r["doc"][1])))
        self._cut = payload[-1]["cut"]
        self.t = int(asked[plan[-1]][0])
        return out

    def evaluate_in_document(self, fn_js: str, arg: Any = None) -> Any:
        """Run `fn_js` — `(document, arg) => value` — on the replayed document at this moment."""
        return self.page.evaluate(f"(a) => ({fn_js})(window.__shDriver.document(), a)", arg)

    def interactions(self) -> list[PointerAction]:
        """Clicks, double clicks, context menus and taps, with their node ids and times."""
        return self.timeline.interactions()

    def live_clicks(self) -> list[LiveClick]:
        """Click evidence stored by `record(..., evidence=True)`: live boxes to compare against."""
        return self.timeline.live_clicks()

    # -- pictures ---------------------------------------------------------------------------------

    @contextmanager
    def painting(self) -> Iterator[None]:
        """Paint the replay while inside (screenshots and video frames do this themselves).

        The host page keeps the replay unpainted otherwise: measuring needs layout only, and a
        page repainting after every change spent more time on frames than on layout.
        """
        if not self._painting:
            self.page.evaluate("() => document.body.classList.add('painting')")
        self._painting += 1
        try:
            yield
        finally:
            self._painting -= 1
            if not self._painting:
                self.page.evaluate("() => document.body.classList.remove('painting')")

    def screenshot(self, path: str | Path | None = None, *, full_page: bool = False,
                   region: tuple[int, int, int, int] | None = None) -> bytes:
        """A PNG of the current moment: the visitor's viewport, or the whole document; `region`
        (x, y, w, h in document px, with full_page): only that part of the whole-document photo."""
        width, height = self.viewport()
        with self.painting():
            if not full_page:
                return self.page.screenshot(path=path, clip={"x": 0, "y": 0, "width": width, "height": height},
                                            animations="disabled")
            doc_w, doc_h = self.document_size()
            full_w, full_h = max(width, int(doc_w)), max(height, int(doc_h))
            try:
                self.page.set_viewport_size({"width": full_w, "height": full_h})
                self._run("(d, a) => d.setFrameSize(a.w, a.h)", {"w": full_w, "h": full_h})
                x, y, w, h = region if region else (0, 0, full_w, full_h)
                return self.page.screenshot(path=path, clip={"x": x, "y": y, "width": w, "height": h},
                                            animations="disabled")
            finally:
                self._run("(d, a) => d.setFrameSize(a.w, a.h)", {"w": width, "h": height})
                self.page.set_viewport_size({"width": width, "height": height})
                self._run("(d) => d.restoreScrolls()")

    def frame_png(self) -> bytes:
        """The current viewport as PNG bytes, cheaply (for video frames: see `painting`)."""
        width, height = self.viewport()
        with self.painting():
            return self.page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": height},
                                        animations="disabled", caret="initial")

    # -- plumbing ---------------------------------------------------------------------------------

    def _run(self, fn: str, arg: Any = None, *, last: bool = False) -> Any:
        """Call `fn(driver, arg)` in the page; one round trip that also reports the frame's size.
        `last`: then take the replay down in the same call (see `probe`).

        Argument and answer travel as JSON strings: Playwright's own serialization of nested values
        costs more than the replay work for a batch of queries.
        """
        if self._released:
            raise ReplayError(f"the replay of session {self.session_id} was taken down by its last call")
        call = f"(a) => window.__shCalls.run({fn}, a, {'true' if last else 'false'})"  # replay/host_calls.js
        answer = self.page.evaluate(call, json.dumps(arg, separators=(",", ":")))
        if last:  # (had the call failed, unloading on the way out would still take the replay down)
            self._released = True
            if self._on_release:
                self._on_release()
        result, size = json.loads(answer)
        if not last:
            self._fit_viewport(size)
        return result

    def _fit_viewport(self, size: list[int] | None = None) -> None:
        """Keep the replayed viewport (the frame, which follows resizes) wholly inside the host page."""
        if size is None:
            size = self.page.evaluate("() => window.__shCalls.frameSize()")
        if size[0] and size[1]:
            fit_host_viewport(self.page, (int(size[0]), int(size[1])))


class ReplayPage:
    """One replay host page that takes session after session: what the heatmap index runs on.

    A fresh page per session costs a context, a navigation, parsing rrweb and the driver (0.5-0.9 s,
    more than replaying a whole demo session). Here a session switch only empties the frame of
    the one rrweb Replayer the page keeps and resets what it holds per recording (node-id mirror,
    style sheets, scroll, hover, focus, loads in flight: nothing carried over), grows the
    page if the session's first viewport does not fit (see `fit_host_viewport`) and swaps the
    network guard (building the new replay and seeking to its start take one page call): requests
    are checked against the origins of the session being replayed, and ones still arriving from
    the previous session are refused uncounted. Use as a context manager, one session at a time.
    """

    def __init__(self, browser: "Browser", *, assets: AssetCache | None = None) -> None:
        self.assets = assets or AssetCache()
        self.nonce = secrets.token_urlsafe(16)
        self.guard: NetworkGuard | None = None
        self.sessions = 0  # how many sessions this page has replayed
        self._live = False  # a session's replay is up in the page (not yet unloaded)
        self.context: BrowserContext = browser.new_context(
            viewport={"width": DEFAULT_VIEWPORT[0], "height": DEFAULT_VIEWPORT[1]},
            device_scale_factor=1, service_workers="block", accept_downloads=False,
        )
        try:
            self.context.route("**/*", self._route)
            self.page: Page = self.context.new_page()
            self.page.goto(HOST_URL)
        except BaseException:
            _close_quietly(self.context)
            raise

    def _route(self, route: "Route", request: "Request") -> None:
        guard = self.guard
        if guard is not None:
            guard.handle(route, request)
        elif request.url == HOST_URL:
            route.fulfill(**host_page_response(self.nonce))
        else:  # between sessions: a straggler of the previous one
            route.abort("blockedbyclient")

    def load(self, events: list[dict[str, Any]], origins: frozenset[str],
             viewport: tuple[int, int], *, seek_cut: int | None = None, site: str = "",
             vouched: frozenset[str] = frozenset()) -> tuple[NetworkGuard, Any]:
        """Replace whatever the page replayed before with a driver over `events`, and with
        `seek_cut`, seek to that event: one page call per session switch, not three (take the old
        replay down, build the new one, show its first moment), each a round trip through CDP.
        Assets come from `origins`, and from inside the network only for `vouched` ones; they are
        cached as the `site`'s (see `NetworkGuard`).

        Returns the guard and, with `seek_cut`, the seek's answer as `Replay._run` gets it.
        """
        if self.guard is not None:
            raise RuntimeError("this ReplayPage is still replaying another session")
        if self._live:  # the last session's replay was not taken down: do it before the new guard
            self.unload()
        fit_host_viewport(self.page, viewport)
        self.guard = NetworkGuard(origins, cache=self.assets, nonce=self.nonce, vouched_origins=vouched,
                                  site=site)
        self._live = True
        try:
            answer = self._build(events, seek_cut)
        except BaseException:  # half built or not at all: nothing of it may stay up
            self.unload_quietly()
            raise
        self.sessions += 1
        return self.guard, None if answer is None else json.loads(answer)

    def _build(self, events: list[dict[str, Any]], seek_cut: int | None) -> str | None:
        """Release any driver, make one over `events`, seek: one evaluate. Everything goes as one
        packed string (see `packed`): Playwright's own argument serialization walks every node of
        every snapshot, and took longer than replaying the session."""
        return self.page.evaluate(
            "(a) => window.__shCalls.build(a)",  # replay/host_calls.js
            packed({"events": events, "timeout": FETCH_TIMEOUT_MS + 2000, "cut": seek_cut}),
        )

    def unload(self) -> None:
        """Take the current session's replay down; its late requests are refused uncounted."""
        self.guard = None
        if self._live:
            self.page.evaluate("() => window.__shCalls.release()")
        self._live = False

    def released(self) -> None:
        """The page took the current replay down itself, in a last call (`Replay.probe(last=True)`):
        from now on its late requests are refused uncounted, as after `unload`."""
        self.guard = None
        self._live = False

    def unload_quietly(self) -> None:
        """`unload`, when the page may be gone already (closed, crashed): the guard still goes."""
        try:
            self.unload()
        except Exception:
            self.guard = None

    def close(self) -> None:
        _close_quietly(self.context)

    def __enter__(self) -> "ReplayPage":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def open_session(
    store: SessionStore,
    session_id: str,
    *,
    browser: "Browser | None" = None,
    allow_origins: Sequence[str] = (),
    assets: AssetCache | None = None,
    page: ReplayPage | None = None,
    read: SessionEvents | None = None,
    at_start: bool = True,
) -> Iterator[Replay]:
    """Load a session into a headless replay page; everything is torn down on exit.

    Reads up to the first missing or corrupt chunk (`Replay.problems` says where). Pass `browser` to
    reuse a Chromium; otherwise one is launched through `plumbing.browser`, unable to resolve any
    host the session did not record. Pass `page` (a `ReplayPage`) to replay on a page that takes one
    session after another instead of a fresh one, and `read` if the events are already read. Only
    the recorded pages' origins, those they loaded assets from (`replay.fetch.asset_origins`), and
    `allow_origins` are reachable from the replay; every other
    request is blocked and counted; and of those origins, only the ones the session vouches for
    (`plumbing.addresses.vouched_origins`: a trusted path, or a collector site that lists them)
    may lead inside the network. `at_start=False` leaves the session's first moment unbuilt
    until a call asks about a moment (`resolve`, `probe`, `seek`): for a caller that only asks
    about later moments, it saves laying out one that nobody looks at.
    """
    read = read or store.read_events(session_id)
    timeline = Timeline(read.events)
    problems = [p.reason for p in read.problems]
    if not timeline.replayable():
        raise ReplayError(f"session {session_id} has no readable full snapshot"
                          + (f" ({'; '.join(problems)})" if problems else ""))
    extra = {origin_of(o) for o in allow_origins}  # the caller's own choice: vouched for
    recorded = timeline.page_origins() | asset_origins(read.events)  # the pages and what they loaded
    origins = recorded | extra
    session = store.get_session(session_id)
    site = session.site if session else ""
    vouched = vouched_origins(site, store.site_origins(), recorded) | extra
    pageviews = [Pageview(p["index"], p["url"], p["t_start"], p["t_end"], p["width"], p["height"])
                 for p in store.pageviews(session_id)]
    first = next((e["data"] for e in read.events if e["type"] == 4),
                 {"width": DEFAULT_VIEWPORT[0], "height": DEFAULT_VIEWPORT[1]})
    with ExitStack() as stack:
        if page is None:
            if browser is None:
                hosts = sorted({o.split("://", 1)[1].rsplit(":", 1)[0] for o in origins})
                browser = stack.enter_context(chromium(extra_args=[host_resolver_rule(hosts)]))
            page = stack.enter_context(ReplayPage(browser, assets=assets or AssetCache.for_store(store)))
        cut = timeline.cut_at(0) if at_start else -1
        guard, answer = page.load(read.events, frozenset(origins),
                                  (int(first["width"]), int(first["height"])),
                                  seek_cut=cut if at_start else None, site=site, vouched=vouched)
        stack.callback(page.unload_quietly)
        replay = Replay(session_id, page.page, timeline, guard, pageviews, problems, t=0, _cut=cut,
                        _on_release=page.released)
        if answer is not None:
            replay._fit_viewport(answer[1])  # as after replay.seek(0), which the load above did
        yield replay


def fit_host_viewport(page: "Page", size: tuple[int, int]) -> None:
    """Grow the host page until the replay frame (`size`, the recorded viewport) fits in it; never
    shrink it. The frame has its own width and height, so what is replayed inside (media queries,
    layout, scroll limits, lazy images, which the frame clips) does not depend on the host being
    any larger; and resizing the host costs a round trip that waits for a new frame (~20-40 ms),
    paid at almost every session switch when sessions alternate between viewports."""
    current = page.viewport_size
    width, height = (current["width"], current["height"]) if current else (0, 0)
    if size[0] > width or size[1] > height:
        page.set_viewport_size({"width": max(width, size[0]), "height": max(height, size[1])})


def packed(value: Any) -> str:
    """`value` as JSON, deflated and in base64: what `unpack.js` in the host page takes."""
    return base64.b64encode(zlib.compress(json_text.dumps(value), 1)).decode("ascii")


def _close_quietly(context: "BrowserContext") -> None:
    try:
        context.close()
    except Exception:
        pass
