"""`open_session`: one recorded session, rebuilt in a headless Chromium page, asked about any moment.

Times are ms since the session's first event. Node ids are rrweb's, which restart at each page load,
so a node id means something only together with a moment of the session.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionheat.browser import chromium, host_resolver_rule
from sessionheat.store import SessionStore

from replay.host import HOST_URL, AssetCache, NetworkGuard, origin_of
from replay.timeline import Interaction, LiveClick, Timeline

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


class ReplayError(RuntimeError):
    """The session cannot be replayed at all (nothing readable, no full snapshot)."""


@dataclass(frozen=True)
class Box:
    """An element's box in document px: the live page's getBoundingClientRect() plus its scroll."""

    x: float
    y: float
    w: float
    h: float

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x + self.w and self.y <= y <= self.y + self.h


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
        self._run("(d, a) => d.seek(a.cut, a)", {"cut": cut})
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
        plan = sorted(range(len(asked)), key=lambda k: (self.timeline.cut_for(*asked[k]), k))
        payload = []
        for k in plan:
            t, node = asked[k]
            cut = self.timeline.cut_for(t, node)
            hints = {} if "scroll_hints" in skip_fixes else self.timeline.scroll_hints(cut)
            payload.append({"cut": cut, "id": node, "scroll": hints})
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

    def probe(self, queries: Iterable[tuple[float, int | None, tuple[float, float] | None]], probe_js: str
              ) -> list[tuple[Any, tuple[float, float]]]:
        """Ask `probe_js` — `(node, query, document) => value` — about many moments in one pass.

        Each query is (t, node_id or None, document point or None); the probe gets the node (or
        None) and `query.point`. Returns (probe value, document size) per query, in the order given.
        The heatmap index uses this to name elements and anchor scroll positions where they were.
        """
        asked = [(float(t), None if node is None else int(node), point) for t, node, point in queries]
        plan = sorted(range(len(asked)), key=lambda k: (self.timeline.cut_for(asked[k][0], asked[k][1]), k))
        payload = []
        for k in plan:
            t, node, point = asked[k]
            cut = self.timeline.cut_for(t, node)
            payload.append({"cut": cut, "id": node, "point": list(point) if point else None,
                            "scroll": self.timeline.scroll_hints(cut)})
        if not payload:
            return []
        raw = self.page.evaluate(
            f"(a) => window.__shDriver.resolve(a.queries, {{probe: {probe_js}}})", {"queries": payload})
        self._fit_viewport()
        out: list[Any] = [None] * len(asked)
        for k, r in zip(plan, raw):
            out[k] = (r.get("probe"), (float(r["doc"][0]), float(r["doc"][1])))
        self._cut = payload[-1]["cut"]
        self.t = int(asked[plan[-1]][0])
        return out

    def evaluate_in_document(self, fn_js: str, arg: Any = None) -> Any:
        """Run `fn_js` — `(document, arg) => value` — on the replayed document at this moment."""
        return self.page.evaluate(f"(a) => ({fn_js})(window.__shDriver.document(), a)", arg)

    def interactions(self) -> list[Interaction]:
        """Clicks, double clicks, context menus and taps, with their node ids and times."""
        return self.timeline.interactions()

    def live_clicks(self) -> list[LiveClick]:
        """Click evidence stored by `record(..., evidence=True)`: live boxes to compare against."""
        return self.timeline.live_clicks()

    # -- pictures ---------------------------------------------------------------------------------

    def screenshot(self, path: str | Path | None = None, *, full_page: bool = False) -> bytes:
        """A PNG of the current moment: the visitor's viewport, or the whole document."""
        width, height = self.viewport()
        if not full_page:
            return self.page.screenshot(path=path, clip={"x": 0, "y": 0, "width": width, "height": height},
                                        animations="disabled")
        doc_w, doc_h = self.document_size()
        full_w, full_h = max(width, int(doc_w)), max(height, int(doc_h))
        try:
            self.page.set_viewport_size({"width": full_w, "height": full_h})
            self._run("(d, a) => d.setFrameSize(a.w, a.h)", {"w": full_w, "h": full_h})
            return self.page.screenshot(path=path, clip={"x": 0, "y": 0, "width": full_w, "height": full_h},
                                        animations="disabled")
        finally:
            self._run("(d, a) => d.setFrameSize(a.w, a.h)", {"w": width, "h": height})
            self.page.set_viewport_size({"width": width, "height": height})
            self._run("(d) => d.restoreScrolls()")

    def frame_png(self) -> bytes:
        """The current viewport as PNG bytes, cheaply (for video frames)."""
        width, height = self.viewport()
        return self.page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": height},
                                    animations="disabled", caret="initial")

    # -- plumbing ---------------------------------------------------------------------------------

    def _run(self, fn: str, arg: Any = None) -> Any:
        wrapped = f"(a) => {{ const f = {fn}; return f(window.__shDriver, a); }}"
        result = self.page.evaluate(wrapped, arg)
        self._fit_viewport()
        return result

    def _fit_viewport(self) -> None:
        """Keep the host page exactly as large as the replayed viewport (it follows resizes)."""
        size = self.page.evaluate("() => { const f = window.__shDriver.replayer.iframe;"
                                  " return [+f.getAttribute('width') || 0, +f.getAttribute('height') || 0]; }")
        current = self.page.viewport_size or {}
        if size[0] and size[1] and (current.get("width"), current.get("height")) != tuple(size):
            self.page.set_viewport_size({"width": int(size[0]), "height": int(size[1])})


@contextmanager
def open_session(
    store: SessionStore,
    session_id: str,
    *,
    browser: "Browser | None" = None,
    allow_origins: Sequence[str] = (),
    assets: AssetCache | None = None,
) -> Iterator[Replay]:
    """Load a session into a fresh headless replay page; everything is torn down on exit.

    Reads up to the first missing or corrupt chunk (`Replay.problems` says where). Pass `browser` to
    reuse a Chromium; otherwise one is launched through `sessionheat.browser`, unable to resolve any
    host the session did not record. Only the recorded pages' origins (and `allow_origins`) are
    reachable from the replay; every other request is blocked and counted.
    """
    read = store.read_events(session_id)
    timeline = Timeline(read.events)
    problems = [p.reason for p in read.problems]
    if not timeline.replayable():
        raise ReplayError(f"session {session_id} has no readable full snapshot"
                          + (f" ({'; '.join(problems)})" if problems else ""))
    origins = {origin_of(u) for u in timeline.page_urls() if u.startswith(("http:", "https:"))}
    origins |= {origin_of(o) for o in allow_origins}
    guard = NetworkGuard(frozenset(origins), cache=assets or AssetCache())
    pageviews = [Pageview(p["index"], p["url"], p["t_start"], p["t_end"], p["width"], p["height"])
                 for p in store.pageviews(session_id)]
    first = next((e["data"] for e in read.events if e["type"] == 4), {"width": 1280, "height": 800})
    with ExitStack() as stack:
        if browser is None:
            hosts = sorted({o.split("://", 1)[1].rsplit(":", 1)[0] for o in origins})
            browser = stack.enter_context(chromium(extra_args=[host_resolver_rule(hosts)]))
        context: BrowserContext = browser.new_context(
            viewport={"width": int(first["width"]), "height": int(first["height"])},
            device_scale_factor=1, service_workers="block", accept_downloads=False,
        )
        stack.callback(_close_quietly, context)
        context.route("**/*", guard.handle)
        page = context.new_page()
        page.goto(HOST_URL)
        page.evaluate(
            "(a) => { window.__shDriver = window.__shMakeDriver(window.__shLib.rrweb,"
            " document.getElementById('root'), a.events, {}); }",
            {"events": read.events},
        )
        replay = Replay(session_id, page, timeline, guard, pageviews, problems)
        replay.seek(0)
        yield replay


def _close_quietly(context: "BrowserContext") -> None:
    try:
        context.close()
    except Exception:
        pass


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """(result, seconds): a tiny helper the benchmarks and the CLI share."""
    start = time.perf_counter()
    return fn(*args, **kwargs), time.perf_counter() - start
