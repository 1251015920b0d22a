"""The coverage map in the heatmap explorer: the elements of a page that visitors click, ranked by
their clicks, whether some test clicked each, and the map with the untested hot ones outlined.

    GET /heatmaps/coverage?url=…&tests=k=v&visitors=k=v&viewport=…&device=…&since=…&until=…
                                               the page (202-free: it shows the drawing's progress)
    GET /heatmaps/coverage.png?<same>, /heatmaps/coverage.json?<same>
                                               the current map and its JSON (the JSON is what
                                               `sessionheat coverage --json` writes), 202 while drawn

The selection, the ranking and the picture are heatmap.coverage's, as for the CLI: this module
only parses the query, files the result in the explorer's map cache and shows it. Drawing replays
the reference layout, so it runs in the explorer's background worker; a map draws the sessions
indexed already and says how many are not. `tests` and `visitors` take what the CLI's options take
(session properties, and url/device/viewport/since/until); the viewport, device and date controls
narrow the visitors.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from plumbing.devices import DEVICES, TYPICAL_WIDTHS
from plumbing.store import SessionStore, page_path
from plumbing.user_input import InputError, parse_choice, parse_day, parse_pairs
from plumbing.vocabulary import (
    PROP_BROWSER,
    PROP_GIT_BRANCH,
    PROP_GIT_COMMIT,
    PROP_TEST,
    PROP_TEST_OUTCOME,
    PROP_TEST_RETRY,
    PROP_XDIST_WORKER,
)

from sessionheat.web.heatmap_worker import JobStatus, QueueFull
from sessionheat.web.pages import page

COVERAGE_FORMAT = 1  # bump when what a cached coverage map holds changes
MAP_FILE, JSON_FILE = "map.png", "map.json"  # names the explorer's cache serves (MapCache.file)
# Properties the pytest plugin gives test sessions: offered as filters for the tests, not visitors.
TEST_PROPERTIES = frozenset({PROP_TEST, PROP_TEST_OUTCOME, PROP_TEST_RETRY, PROP_XDIST_WORKER, PROP_BROWSER,
                             PROP_GIT_COMMIT, PROP_GIT_BRANCH})


def _pairs(name: str, values: list[str]) -> tuple[str, ...]:
    pairs = [f"{key}={value}" for key, value in parse_pairs(values, name, value_required=True)]
    return tuple(sorted(dict.fromkeys(pairs)))


@dataclass(frozen=True)
class CoverageRequest:
    """One coverage map the explorer was asked for."""

    url: str = ""
    tests: tuple[str, ...] = ()  # k=v: which test sessions
    visitors: tuple[str, ...] = ()  # k=v: which visitors' sessions
    viewport: str = ""  # the visitors': "" or a bucket name
    device: str = ""
    since: str = ""
    until: str = ""
    errors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: Any) -> "CoverageRequest":
        """Parse Starlette QueryParams; never raises: what cannot be understood is in `errors`."""
        def one(name: str) -> str:
            values = query.getlist(name)
            return str(values[-1]).strip() if values else ""

        errors: list[str] = []
        fields: dict[str, Any] = {"url": one("url")}
        for name, parse in (
            ("tests", lambda: _pairs("tests", query.getlist("tests"))),
            ("visitors", lambda: _pairs("visitors", query.getlist("visitors"))),
            ("viewport", lambda: parse_choice(one("viewport").lower(), "viewport", list(TYPICAL_WIDTHS))
             if one("viewport") else ""),
            ("device", lambda: parse_choice(one("device").lower(), "device", DEVICES) if one("device") else ""),
            ("since", lambda: parse_day(one("since"), "since") if one("since") else ""),
            ("until", lambda: parse_day(one("until"), "until") if one("until") else ""),
        ):
            try:
                fields[name] = parse()
            except InputError as exc:
                errors.append(str(exc))
        if not fields["url"]:
            errors.append("say which page: url=…")
        request = cls(**fields, errors=tuple(errors))
        if not errors:  # what only the segment parser knows (a bad device=, viewport=... pair)
            try:
                request.segments()
            except InputError as exc:
                request = cls(**fields, errors=(str(exc),))
        return request

    def segments(self) -> tuple[Any, Any]:
        """(tests, visitors) as heatmap Segments; raises heatmap.SegmentError on a bad filter."""
        from heatmap import Segment

        tests = Segment.parse(list(self.tests))
        visitors = Segment.parse(list(self.visitors), device=self.device or None,
                                 viewport_w=TYPICAL_WIDTHS.get(self.viewport), since=self.since or None,
                                 until=self.until or None)
        return tests, visitors

    def canonical(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("errors")
        data["url"] = page_path(self.url) if self.url else ""
        return data

    def request_id(self) -> str:
        blob = json.dumps({"coverage": COVERAGE_FORMAT, "request": self.canonical()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def cache_key(self, fingerprint: Any) -> str:
        blob = json.dumps({"coverage": COVERAGE_FORMAT, "request": self.canonical(), "selection": fingerprint},
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def query(self, **changes: Any) -> str:
        """This request as a query string (with `changes`), for links and forms."""
        data = {**asdict(self), **changes}
        data.pop("errors")
        items: list[tuple[str, str]] = []
        for name, value in data.items():
            if isinstance(value, (tuple, list)):
                items += [(name, str(v)) for v in value]
            elif value:
                items.append((name, str(value)))
        return urlencode(items)

    def element_query(self, element_key: str) -> str:
        """The explorer's "who clicked this element" for the visitors' selection."""
        items = [("url", self.url), *[("segment", p) for p in self.visitors]]
        items += [(name, value) for name, value in (("viewport", self.viewport), ("device", self.device),
                                                     ("since", self.since), ("until", self.until)) if value]
        return urlencode([*items, ("element", element_key)])


def fingerprint(store: SessionStore, req: CoverageRequest) -> dict[str, Any]:
    """What the selection holds: the pageviews both segments match (every site's: a superset of
    what is drawn) and how far each of their sessions is indexed. A new session or a new
    indexing changes it, so the map is drawn again; nothing else does."""
    tests, visitors = req.segments()
    tests.url = visitors.url = req.url
    rows = [*tests.select(store), *visitors.select(store)]
    sessions = sorted({r["session_id"] for r in rows})
    marks = store.index_marks(sessions)
    return {"pageviews": sorted({f"{r['session_id']}:{r['index']}" for r in rows}),
            "indexed": [[sid, *marks[sid]] for sid in sessions if sid in marks],
            "unindexed": [sid for sid in sessions if sid not in marks]}


class CoveragePages:
    """The coverage routes of one explorer (heatmaps_ui.Explorer, which makes this: its store, map
    cache, background worker, page lists and job statuses)."""

    def __init__(self, explorer: Any):
        self.explorer = explorer
        self.store = explorer.store

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/heatmaps/coverage", self.show, name="heatmap_coverage"),
            Route("/heatmaps/coverage.{ext:str}", self.current_file, name="heatmap_coverage_file"),
        ]

    def submit(self, req: CoverageRequest, key: str) -> JobStatus:
        """Draw the map in the background with heatmap.coverage, as `sessionheat coverage` does."""
        from heatmap import LEGEND_HEIGHT
        from heatmap.coverage import build_coverage

        store, cache = self.store, self.explorer.cache

        def work(browser: Any, progress: Any) -> None:
            progress("replaying the reference layout and drawing the map")
            fresh = req.cache_key(fingerprint(store, req))
            if cache.summary(fresh) is not None:
                return
            started = time.perf_counter()
            tests, visitors = req.segments()
            result = build_coverage(store, req.url, tests=tests, visitors=visitors, browser=browser,
                                    indexed_only=True)

            def write(folder: Any) -> dict[str, Any]:
                result.write(folder / MAP_FILE, folder / JSON_FILE)
                height, width = result.image.shape[:2]
                return {"kind": "coverage", "request": req.canonical(), "coverage": result.to_json(),
                        "n_unindexed": result.n_unindexed, "legend_height": LEGEND_HEIGHT,
                        "image": {"width": int(width), "height": int(height)},
                        "rendered_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                        "render_seconds": round(time.perf_counter() - started, 2)}

            cache.put(fresh, write, request_id=req.request_id())

        return self.explorer.worker.submit(key, f"coverage map of {req.url}", work,
                                           max_queued=self.explorer.max_queued_maps)

    def _state(self, req: CoverageRequest, retry: bool) -> tuple[str, dict[str, Any] | None, JobStatus | None, int]:
        """(cache key, summary when drawn, the drawing's job otherwise, sessions not indexed);
        raises QueueFull when too many maps wait to be drawn."""
        selection = fingerprint(self.store, req)
        key = req.cache_key(selection)
        summary = self.explorer.cache.summary(key)
        status = None
        if summary is None:
            status = self.explorer.worker.status(key)
            if status is None or (not status.active and (status.state == "done" or retry)):
                status = self.submit(req, key)
        return key, summary, status, len(selection["unindexed"])

    def show(self, request: Request) -> Response:
        """The coverage page: the form, then the ranked table and the map, or the drawing's progress."""
        req = CoverageRequest.from_query(request.query_params)
        has_query = bool(request.query_params)
        errors = list(req.errors) if has_query else []
        pairs = self.explorer.segment_pairs()
        context: dict[str, Any] = {
            "req": req, "errors": errors, "pages": self.explorer.pages(), "devices": DEVICES,
            "current_path": page_path(req.url) if req.url else "", "summary": None, "job": None,
            "n_unindexed": 0, "index_job": self.explorer.index_job_json(),
            "test_pairs": [(p, n) for p, n in pairs if p.split("=", 1)[0] in TEST_PROPERTIES],
            "visitor_pairs": [(p, n) for p, n in pairs if p.split("=", 1)[0] not in TEST_PROPERTIES],
            "session_href": self.explorer.session_href,
        }
        busy = False
        if not req.errors:
            try:
                key, summary, status, context["n_unindexed"] = self._state(req, "retry" in request.query_params)
            except QueueFull:
                errors.append(f"{self.explorer.max_queued_maps} maps are waiting to be drawn already: "
                              "reload this page in a minute to draw this one.")
                busy = True
            else:
                context["summary"] = summary
                context["job"] = self.explorer.job_json(status) if status is not None else None
                context["files"] = f"/heatmaps/maps/{key}/"
        title = f"Test coverage of {page_path(req.url)} · Heatmaps" if req.url else "Test coverage · Heatmaps"
        response = page(request, "heatmaps_coverage.html", area="heatmaps", title=title,
                        status_code=429 if busy else 400 if errors else 200, **context)
        if busy:
            response.headers["Retry-After"] = "30"
        return response

    def current_file(self, request: Request) -> Response:
        """The map (png) or its JSON for these parameters: the file once drawn, 202 and the job's
        status while it is drawn, 422 with the reason when it cannot be drawn."""
        ext = request.path_params["ext"]
        if ext not in ("png", "json"):
            return JSONResponse({"error": "coverage.png or coverage.json"}, status_code=404)
        req = CoverageRequest.from_query(request.query_params)
        if req.errors:
            return JSONResponse({"error": "; ".join(req.errors)}, status_code=400)
        try:
            key, summary, status, unindexed = self._state(req, "retry" in request.query_params)
        except QueueFull:
            return JSONResponse({"error": "too many maps are waiting to be drawn; ask again later"},
                                status_code=429, headers={"Retry-After": "30"})
        if summary is None:
            assert status is not None
            if status.state == "failed":
                return JSONResponse({"error": status.error or "the map could not be drawn",
                                     "not_indexed": unindexed}, status_code=422)
            return JSONResponse({**self.explorer.job_json(status), "not_indexed": unindexed}, status_code=202,
                                headers={"Retry-After": "2"})
        return self.explorer.cached_file(key, MAP_FILE if ext == "png" else JSON_FILE)
