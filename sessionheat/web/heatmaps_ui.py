"""Heatmap explorer: pick a page, a kind and a segment, see the map on one reference layout with
its ranked element table, and go from a hot element to the sessions that clicked it.

    GET  /heatmaps?url=…&kind=…&viewport=…&device=…&segment=k=v&since=…&until=…&reference=…
                  [&compare=1&vs_segment=k=v&vs_since=…&vs_until=…]     the explorer page
    GET  /heatmaps/element?<same>&element=KEY[&fragment=1]  who clicked that element, and when
    GET  /heatmaps/map.png?<same>[&image=a|b|diff], /heatmaps/map.json?<same>
                                                  the current map (202 + job status while drawing)
    GET  /heatmaps/maps/{key}/{file}               a drawn map's PNG / JSON (immutable)
    GET  /heatmaps/jobs/{job}                      a background job's status, polled by the page
    GET  /heatmaps/coverage?url=…&tests=k=v&visitors=k=v, /heatmaps/coverage.{png,json}?<same>
                                                  which elements visitors click that no test
                                                  clicks (coverage_ui)
    POST /heatmaps/index                           index sessions not yet indexed, in the background

Drawing a map replays its reference layout in Chromium, and indexing replays every new session:
both run in the background worker (`heatmap_worker`), never on the event loop; the page shows
their progress and reloads when they finish. Maps are cached on disk (`heatmap_cache`).

A GET never indexes: a map draws the sessions of its selection that are indexed already, and says
how many are not (only `POST /heatmaps/index`, which the access guard keeps to admins' forms
from our own pages, indexes them). Maps a
GET asks for are drawn once per key, and at most `MAX_QUEUED_MAPS` wait at a time: beyond that the
answer is 429, so a page of `<img src=".../map.png?since=…">` cannot queue work without end.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from plumbing.devices import DEVICES, TYPICAL_WIDTHS
from plumbing.store import SessionStore
from plumbing.user_input import property_text

from sessionheat.web.coverage_ui import CoveragePages
from sessionheat.web.heatmap_cache import MapCache, Selection, render_map, select
from sessionheat.web.heatmap_request import KINDS, MapRequest, page_path
from sessionheat.web.heatmap_worker import HeatmapWorker, JobStatus, QueueFull
from sessionheat.web.pages import page
from sessionheat.web.session_timeline import format_clock

INDEX_JOB = "index"
MAX_QUEUED_MAPS = 4  # maps waiting to be drawn; more requests get 429 until some are done
QUEUE_FULL_RETRY_S = 30
ELEMENT_SESSIONS_SHOWN = 200
QUICK_FILTERS = 16  # property=value pairs offered as one-click segment filters
LIST_REFRESH_S = 5.0  # how stale the page list may be while the store keeps changing
RECENT_SESSIONS_FOR_FILTERS = 2000  # ... taken from this many of the newest sessions
RESOLVED_KEPT = 256  # requests whose cache key is remembered until the store changes
RECENT_JOB_SECONDS = 600  # a finished indexing job is still mentioned on the page this long
KIND_TITLES = {"click": "Clicks", "move": "Mouse movement", "scroll": "Scroll depth",
               "attention": "Attention", "rage": "Rage clicks", "dead": "Dead clicks"}
IMMUTABLE = "public, max-age=31536000, immutable"

_explorers: "weakref.WeakKeyDictionary[SessionStore, list[Explorer]]" = weakref.WeakKeyDictionary()


def routes(store: SessionStore, *, cluster: str | None = None) -> list[BaseRoute]:
    """The explorer's routes over `store`; its background worker stops in `stop_background_work`.
    `cluster`: the Dask scheduler new sessions are indexed on (None: on this machine)."""
    explorer = Explorer(store, cluster=cluster)
    _explorers.setdefault(store, []).append(explorer)
    return explorer.routes()


def stop_background_work(store: SessionStore) -> None:
    """Stop the explorers' workers over `store` (the app's shutdown calls this)."""
    for explorer in _explorers.pop(store, []):
        explorer.worker.stop()


def session_href(session_id: str, t_ms: int | float) -> str:
    """The session page at a moment: the contract with the sessions area."""
    return f"/sessions/{quote(session_id, safe='')}?t={int(t_ms)}"


@dataclass(frozen=True)
class Resolved:
    """What a request selects, as far as the page needs it: the map's cache key (None when the
    selection is empty), how many of its sessions are not indexed, and why it is empty."""

    key: str | None
    n_unindexed: int = 0
    empty: str | None = None


class Explorer:
    """The explorer's pages over one store, with its map cache and background worker."""

    def __init__(self, store: SessionStore, *, cluster: str | None = None):
        self.store = store
        self.cluster = cluster  # a Dask scheduler's address: index there, not in our worker
        self.cache = MapCache.beside(store)
        self.worker = HeatmapWorker()
        self._pages: tuple[tuple[int, int] | None, list[tuple[str, int]]] = (None, [])
        self._pages_read = 0.0
        self._pairs: tuple[tuple[int, int] | None, list[tuple[str, int]]] = (None, [])
        self._lock = threading.Lock()
        # request id -> (store change marker, Resolved): re-select only once the store changed
        self._resolved: OrderedDict[str, tuple[tuple[int, int], Resolved]] = OrderedDict()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/heatmaps", self.explore, name="heatmaps"),
            Route("/heatmaps/element", self.element, name="heatmap_element"),
            Route("/heatmaps/map.{ext:str}", self.current_map, name="heatmap_current"),
            Route("/heatmaps/maps/{key:str}/{name:str}", self.map_file, name="heatmap_file"),
            Route("/heatmaps/jobs/{job:str}", self.job, name="heatmap_job"),
            Route("/heatmaps/index", self.index, methods=["POST"], name="heatmap_index"),
            *CoveragePages(self).routes(),
        ]

    # -- data -------------------------------------------------------------------------------

    def pages(self) -> list[tuple[str, int]]:
        """Pages with pageviews, most viewed first (URLs grouped by path, query ignored)."""
        marker = self.store.change_marker()
        at, pages = self._pages
        if at == marker or (pages and time.monotonic() - self._pages_read < LIST_REFRESH_S):
            return pages  # a busy collector writes all the time: a new page may show up late
        pages = sorted(self.store.page_counts(), key=lambda kv: (-kv[1], kv[0]))
        self._pages = (marker, pages)
        self._pages_read = time.monotonic()
        return pages

    def segment_pairs(self) -> list[tuple[str, int]]:
        """The commonest property=value pairs of recent sessions, offered as one-click filters."""
        marker = self.store.change_marker()
        at, pairs = self._pairs
        if at == marker:
            return pairs
        counts: Counter[str] = Counter()
        for props in self.store.recent_properties(RECENT_SESSIONS_FOR_FILTERS):
            for key, value in props.items():
                # (an empty value, as `referrer_host` of a direct visit, is no filter the form takes)
                if isinstance(value, (str, int, float, bool)) and 0 < len(str(value)) <= 40:
                    counts[f"{key}={property_text(value)}"] += 1
        pairs = sorted(counts.most_common(QUICK_FILTERS), key=lambda kv: kv[0])
        self._pairs = (marker, pairs)
        return pairs

    def submit_map(self, req: MapRequest, key: str) -> JobStatus:
        """Draw the map in the background from the sessions indexed already (indexing is for the
        POST alone), filed under the key of what the selection holds when it is drawn. Raises
        QueueFull when MAX_QUEUED_MAPS maps are waiting already."""
        def work(browser: Any, progress: Any) -> None:
            progress("looking at the selection")
            fresh = req.cache_key(select(self.store, req).fingerprint)
            if self.cache.summary(fresh) is None:
                progress("replaying the reference layout and drawing the map")
                self.cache.put(fresh, lambda folder: render_map(self.store, req, folder, browser),
                               request_id=req.request_id())

        return self.worker.submit(key, f"{req.kind} map of {req.url}", work, max_queued=MAX_QUEUED_MAPS)

    def submit_index(self) -> JobStatus:
        """Index every session not yet indexed, in the background, counting as it goes."""
        def work(browser: Any, progress: Any) -> None:
            from heatmap import index_sessions

            total = len(self.store.sessions_to_index())
            done = 0
            progress("indexing sessions", 0, total)

            def one(result: Any) -> None:
                nonlocal done
                done += 1
                progress("indexing sessions", done, total)

            if self.cluster is not None:
                index_sessions(self.store, cluster=self.cluster, progress=one)
            else:
                index_sessions(self.store, browser=browser, progress=one)
            progress(f"indexed {done} session{'s' * (done != 1)}", done, total)

        # On a cluster, the workers hold the browsers: this server starts none for the job.
        return self.worker.submit(INDEX_JOB, "Index new sessions", work, browser=self.cluster is None)

    max_queued_maps = MAX_QUEUED_MAPS
    session_href = staticmethod(session_href)

    def job_json(self, status: JobStatus) -> dict[str, Any]:
        """A job's status as the pages poll it."""
        return self._job_json(status)

    def index_job_json(self) -> dict[str, Any] | None:
        """The indexing job, while it runs and a while after."""
        return self._index_job()

    def cached_file(self, key: str, name: str) -> Response:
        """A drawn map's file for a stable address (not kept by browsers: the address's map changes)."""
        return self._file(key, name, cache_state="hit", immutable=False)

    def _job_json(self, status: JobStatus) -> dict[str, Any]:
        return {**status.as_json(self.worker.ahead_of(status.job_id)),
                "status_url": f"/heatmaps/jobs/{status.job_id}"}

    def _index_job(self) -> dict[str, Any] | None:
        status = self.worker.status(INDEX_JOB)
        if status is None or (not status.active and time.time() - (status.finished_at or 0) > RECENT_JOB_SECONDS):
            return None
        return self._job_json(status)

    def _selection(self, req: MapRequest, errors: list[str]) -> Selection | None:
        from heatmap import SegmentError

        if not req.url or req.errors:
            return None
        try:
            selection = select(self.store, req)
        except SegmentError as exc:
            errors.append(str(exc))
            return None
        return selection

    def resolve(self, req: MapRequest, errors: list[str]) -> Resolved | None:
        """The request's cache key. Selecting reads every matching pageview, so the answer is
        kept until anything in the store changes (new chunks, new hits, new properties)."""
        if not req.url or req.errors:
            return None
        marker = self.store.change_marker()
        rid = req.request_id()
        with self._lock:
            memo = self._resolved.get(rid)
        if memo is not None and memo[0] == marker:
            return memo[1]
        selection = self._selection(req, errors)
        if selection is None:
            return None
        if not selection.a or selection.b == []:
            side = "the first segment" if not selection.a else "the second segment"
            resolved = Resolved(None, empty=f"No pageviews of {req.url} match {side}.")
        else:
            resolved = Resolved(req.cache_key(selection.fingerprint), selection.n_unindexed)
        with self._lock:
            self._resolved[rid] = (marker, resolved)
            self._resolved.move_to_end(rid)
            while len(self._resolved) > RESOLVED_KEPT:
                self._resolved.popitem(last=False)
        return resolved

    # -- pages ------------------------------------------------------------------------------

    def explore(self, request: Request) -> Response:
        """The explorer: the form, then the map (cached), or the progress of drawing it."""
        started = time.perf_counter()
        req = MapRequest.from_query(request.query_params)
        errors = list(req.errors)
        context: dict[str, Any] = {
            "req": req, "errors": errors, "pages": self.pages(), "pairs": self.segment_pairs() if req.url else [], "kinds": KINDS, "devices": DEVICES,
            "buckets": list(TYPICAL_WIDTHS), "kind_titles": KIND_TITLES, "current_path":
            page_path(req.url) if req.url else "", "index_job": self._index_job(), "summary": None,
            "job": None, "stale": None, "empty": None, "resolved": None, "key": None,
            "session_href": session_href,
        }
        cache_state = "none"
        resolved = self.resolve(req, errors)
        if resolved is not None:
            context["resolved"] = resolved
            context["empty"] = resolved.empty
            key = resolved.key
            if key is not None:
                context["key"] = key
                summary = self.cache.summary(key)
                if summary is not None:
                    context["summary"], cache_state = summary, "hit"
                else:
                    cache_state = "miss"
                    status = self.worker.status(key)
                    try:
                        if status is None or (not status.active and (
                                status.state == "done" or "retry" in request.query_params)):
                            status = self.submit_map(req, key)
                    except QueueFull:
                        errors.append(f"{MAX_QUEUED_MAPS} maps are waiting to be drawn already: "
                                      "reload this page in a minute to draw this one.")
                        status = None
                    context["job"] = self._job_json(status) if status is not None else None
                    context["stale"] = self.cache.latest(req.request_id())
        title = "Heatmaps"
        if req.url:
            title = f"{KIND_TITLES[req.kind]} on {page_path(req.url)} · Heatmaps"
        busy = context["resolved"] is not None and context["job"] is None and cache_state == "miss"
        response = page(request, "heatmaps.html", area="heatmaps", title=title,
                        status_code=429 if busy else 400 if errors else 200, **context)
        if busy:
            response.headers["Retry-After"] = str(QUEUE_FULL_RETRY_S)
        response.headers["X-Heatmap-Cache"] = cache_state
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    def element(self, request: Request) -> Response:
        """Who clicked one element of the map, each click a link to its session at that moment."""
        from heatmap.build import HIT_KINDS
        from heatmap.keys import element_hits

        req = MapRequest.from_query(request.query_params)
        element_key = request.query_params.get("element", "")
        errors = list(req.errors)
        if not element_key:
            errors.append("say which element: element=KEY")
        if not req.url:
            errors.append("say which page: url=…")
        selection = None if errors else self._selection(req, errors)
        kind = req.kind if req.kind in ("move", "rage", "dead") else "click"
        hits: list[dict[str, Any]] = []
        if selection is not None:
            # as the map keyed them: an id the data shows regenerated is set aside (heatmap.keys)
            hits = element_hits(self.store, [*selection.a, *(selection.b or [])], element_key, HIT_KINDS[kind])
            if kind in ("rage", "dead"):
                hits = [h for h in hits if h[kind]]
        side_of: dict[tuple[str, int], str] = {}
        if selection is not None and selection.b is not None:
            for name, rows in (("B", selection.b), ("A", selection.a)):
                for r in rows:
                    pv = (r["session_id"], int(r["index"]))
                    side_of[pv] = "A+B" if side_of.get(pv, name) != name else name
        sessions: dict[str, dict[str, Any]] = {}
        for hit in hits:
            entry = sessions.get(hit["session_id"])
            if entry is None:
                if len(sessions) >= ELEMENT_SESSIONS_SHOWN:
                    continue
                entry = sessions[hit["session_id"]] = {
                    "id": hit["session_id"], "info": self.store.get_session(hit["session_id"]) or {},
                    "hits": [], "side": side_of.get((hit["session_id"], hit["pageview"]), "")}
            entry["hits"].append({**hit, "href": session_href(hit["session_id"], hit["t"]),
                                  "clock": format_clock(int(hit["t"]))})
        label = next((h["label"] for h in hits if h.get("label")), "")
        context = {
            "req": req, "errors": errors, "element_key": element_key, "label": label,
            "sessions": list(sessions.values()), "n_sessions": len({h["session_id"] for h in hits}),
            "n_hits": len(hits), "kind": kind, "kind_titles": KIND_TITLES,
            "back": "/heatmaps?" + req.query(),
        }
        fragment = request.query_params.get("fragment") == "1"
        template = "heatmaps_element_list.html" if fragment else "heatmaps_element.html"
        return page(request, template, area="heatmaps", title=f"Who clicked {label or element_key}",
                    status_code=400 if errors else 200, **context)

    def current_map(self, request: Request) -> Response:
        """The map for these parameters as a file, or 202 and the job's status while it is drawn:
        a stable address for scripts and bookmarks."""
        ext = request.path_params["ext"]
        image = request.query_params.get("image", "")
        if ext not in ("png", "json"):
            return JSONResponse({"error": "map.png or map.json"}, status_code=404)
        req = MapRequest.from_query(request.query_params)
        errors = list(req.errors) + ([] if req.url else ["say which page: url=…"])
        resolved = None if errors else self.resolve(req, errors)
        if resolved is None or resolved.key is None:
            reason = "; ".join(errors) or (resolved.empty if resolved else "") or "no pageviews match"
            return JSONResponse({"error": reason}, status_code=400)
        key = resolved.key
        if self.cache.summary(key) is None:
            status = self.worker.status(key)
            try:
                if status is None or not status.active:
                    status = self.submit_map(req, key)
            except QueueFull:
                return JSONResponse(
                    {"error": f"{MAX_QUEUED_MAPS} maps are waiting to be drawn already; ask again later",
                     "not_indexed": resolved.n_unindexed},
                    status_code=429, headers={"Retry-After": str(QUEUE_FULL_RETRY_S)})
            return JSONResponse({**self._job_json(status), "not_indexed": resolved.n_unindexed},
                                status_code=202, headers={"Retry-After": "2", "X-Heatmap-Cache": "miss"})
        name = (image or ("diff" if req.compare else "map")) if ext == "png" else (image or ("a" if req.compare else "map"))
        return self._file(key, f"{name}.{ext}", cache_state="hit", immutable=False)

    def map_file(self, request: Request) -> Response:
        """A drawn map's file by key: it never changes, so browsers keep it."""
        return self._file(request.path_params["key"], request.path_params["name"], cache_state="hit",
                          immutable=True)

    def _file(self, key: str, name: str, *, cache_state: str, immutable: bool) -> Response:
        path = self.cache.file(key, name)
        if path is None:
            return JSONResponse({"error": f"no map file {name} under {key}"}, status_code=404)
        media = "image/png" if name.endswith(".png") else "application/json"
        headers = {"X-Heatmap-Cache": cache_state, "X-Content-Type-Options": "nosniff",
                   "Cache-Control": IMMUTABLE if immutable else "no-cache"}
        return FileResponse(path, media_type=media, headers=headers)

    def job(self, request: Request) -> Response:
        """A background job's status, for the page to poll."""
        status = self.worker.status(request.path_params["job"])
        if status is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        return JSONResponse(self._job_json(status), headers={"Cache-Control": "no-store"})

    async def index(self, request: Request) -> Response:
        """Start indexing new sessions and go back to where the button was."""
        body = await request.body()  # from our own pages and small: the access guard saw to both
        back = (parse_qs(body.decode("utf-8", "replace")).get("next") or ["/heatmaps"])[-1]
        if not back.startswith("/heatmaps") or back.startswith("//"):
            back = "/heatmaps"
        self.submit_index()
        return RedirectResponse(back, status_code=303)
