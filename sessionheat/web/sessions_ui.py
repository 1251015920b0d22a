"""Session list and session page (player + timeline).

    GET /sessions                     the list: a GET form of filters, sorting, keyset pages
    GET /sessions/{id}[?t=MS]         the session page, its player opened at `t`
    GET /sessions/{id}/player[?t=MS]  the player document (shown in a sandboxed iframe)
    GET /sessions/{id}/events.json    the rrweb events, byte for byte what `sessionheat export` writes

Every handler is a plain `def`: Starlette runs it in its thread pool, so a slow SQLite read (a
writer holding the lock, a session of tens of MB) never holds up the event loop, which also serves
the health check, the snippet and the collector. Large JSON is written in pieces (`events_text`).

Recorded HTML never runs, and is not shown in the UI's origin. rrweb's Replayer rebuilds the
recording inside an iframe sandboxed *without* `allow-scripts`, and that iframe inherits the player
document's CSP, which runs only our nonce-tagged scripts and lets nothing connect anywhere. The
player document itself is served from an origin of its own (`player_origin`): on a loopback UI
(127.0.0.1, localhost) that is `http://sessionheat-player.localhost:PORT`, which browsers resolve to
the loopback without DNS and which shares no cookies or DOM with the UI; elsewhere set
`SESSIONHEAT_PLAYER_ORIGIN` to a second host name that reaches the same server (or to `self` to
keep the player in the UI's origin). Without one, the player falls back to the UI's origin (the
no-script sandbox and the CSP are then the boundary).
The session page embeds it in an `<iframe sandbox="allow-scripts allow-same-origin">` (no forms,
popups or top-level navigation) and drives it by postMessage only, checking origins both ways.

Why not an opaque origin (a CSP `sandbox` without `allow-same-origin`): such a document gives every
iframe it creates another opaque origin, so rrweb's Replayer cannot reach its own replay iframe
(`contentDocument` is null) and nothing replays.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import chain
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from plumbing.addresses import reachable_origins, vouched_origins
from plumbing.assets import amd_safe, vendor_text
from plumbing.devices import DEVICES
from plumbing.events import EventType
from plumbing.store import (
    SESSION_SORTS,
    ListedSession,
    SessionFilter,
    SessionRow,
    SessionStore,
    StoreError,
    day_ms,
    origin_of,
)
from plumbing.user_input import (
    InputError,
    parse_choice,
    parse_day,
    parse_pair,
    parse_seconds,
    parse_size,
)
from plumbing.vocabulary import MAX_VIEWPORT_PX, SESSION_ID_RE, TAG_ANNOTATION

from sessionheat.web.access import LOOPBACK_NAMES, PLAYER_LOCAL_HOST, PLAYER_ORIGIN_ENV
from sessionheat.web.events_text import gc_paused, json_pieces, pack_for_player, release, script_safe
from sessionheat.web.pages import SECURITY_HEADERS, page, templates
from sessionheat.web.session_timeline import build_timeline, format_clock

PAGE_SIZE = 50
COUNT_CAP = 10_000  # the list counts matches up to here ("more than 10,000 sessions")
COUNT_BUDGET_MS = 60  # and for no longer than this ("at least 2,345 sessions")
MAX_PROPERTY_FILTERS = 20  # property=value filters one list may combine
MAX_FILTER_CHARS = 200  # a property filter, a viewport, a date or a number is no longer than this
MAX_CURSOR_CHARS = 400  # a page cursor is a short base64 of [sort value, session id]
FILTER_FIELDS = ("url", "since", "until", "device", "viewport", "property", "rage", "dead",
                 "min_duration", "sort", "order")


VIEWPORT_COUNTS_TTL_S = 30.0  # how old the viewport choices' session counts may be


class ViewportChoices:
    """The list's viewport choices (the common viewports with their session counts), counted again
    at most every `ttl` seconds, in a thread, while the page shows the previous count.

    Counting groups every session: at 1,000,000 sessions it took 300 ms in PostgreSQL and 80 ms in
    SQLite, on every /sessions page, more than the page's own query (bench/bench_store_scale.py).
    A count up to `ttl` seconds old is fine beside the page; only the first page waits for one.
    """

    def __init__(self, store: SessionStore, *, ttl: float = VIEWPORT_COUNTS_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.ttl, self.clock = store, ttl, clock
        self._counts: list[tuple[int, int, int]] | None = None
        self._counted_at = 0.0
        self._lock = threading.Lock()
        self.refresh: threading.Thread | None = None  # the count under way, if any (tests join it)

    def get(self) -> list[tuple[int, int, int]]:
        with self._lock:
            counts, stale = self._counts, self.clock() - self._counted_at > self.ttl
            if counts is not None and stale and (self.refresh is None or not self.refresh.is_alive()):
                self.refresh = threading.Thread(target=self._count_again, name="sessionheat-viewports",
                                                daemon=True)
                self.refresh.start()
        return counts if counts is not None else self._count()

    def _count(self) -> list[tuple[int, int, int]]:
        started = self.clock()
        counts = self.store.session_viewports()
        with self._lock:
            self._counts, self._counted_at = counts, started
        return counts

    def _count_again(self) -> None:
        try:
            self._count()
        except Exception:  # the store went away meanwhile (the app is stopping): keep the last count
            pass


@dataclass
class ListQuery:
    """The session list's query string, parsed; `errors` say what could not be understood."""

    filters: SessionFilter = field(default_factory=SessionFilter)
    sort: str = "started"
    descending: bool = True
    after: str | None = None
    before: str | None = None
    form: dict[str, Any] = field(default_factory=dict)  # what to show back in the form
    errors: list[str] = field(default_factory=list)


def parse_list_query(params: Any) -> ListQuery:
    """Read the filter form (a multi-dict of GET parameters) into a store filter."""
    q = ListQuery()
    f = q.filters
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    q.form = {name: get(name) for name in FILTER_FIELDS if name != "property"}
    if q.form["url"]:
        f.url = q.form["url"][:2000]

    def read(parse: Any, text: str, name: str, *args: Any, **options: Any) -> Any:
        """What `parse` makes of a field, or None when it was empty or not understood (said in errors)."""
        if not text:
            return None
        try:
            return parse(text, name, *args, **options)
        except InputError as exc:
            q.errors.append(str(exc))
            return None

    for name, end in (("since", False), ("until", True)):
        day = read(parse_day, q.form[name], name)
        if day is not None:
            setattr(f, f"{name}_ms", day_ms(day, end=end))
    f.device = read(parse_choice, q.form["device"], "device", DEVICES)
    f.viewport = read(parse_size, q.form["viewport"], "viewport", most=MAX_VIEWPORT_PX)
    pairs = [p.strip() for p in params.getlist("property") if p.strip()]
    q.form["properties"] = pairs[:MAX_PROPERTY_FILTERS]
    if len(pairs) > MAX_PROPERTY_FILTERS:
        q.errors.append(f"Properties: combine at most {MAX_PROPERTY_FILTERS} property filters.")
        pairs = []
    if any(len(pair) > MAX_FILTER_CHARS for pair in pairs):
        q.errors.append(f"Properties: a key=value filter is at most {MAX_FILTER_CHARS} characters.")
        pairs = []
    for pair in pairs:
        key_value = read(parse_pair, pair, "property")
        if key_value is not None:
            f.properties[key_value[0]] = key_value[1]
    f.rage = q.form["rage"] in ("1", "on", "yes")
    f.dead = q.form["dead"] in ("1", "on", "yes")
    seconds = read(parse_seconds, q.form["min_duration"], "min_duration")
    if seconds is not None:
        f.min_duration_ms = int(seconds * 1000)
    read(parse_choice, q.form["sort"], "sort", SESSION_SORTS)
    q.sort = q.form["sort"] if q.form["sort"] in SESSION_SORTS else "started"
    q.descending = q.form["order"] != "asc"
    q.after = params.get("after") or None
    q.before = params.get("before") or None
    if len(q.after or q.before or "") > MAX_CURSOR_CHARS:
        q.errors.append("Page: that is not a page of this list; start again from the first page.")
        q.after = q.before = None
    return q


def _page_link(params: Any, **cursor: str) -> str:
    """This list's URL with the same filters, on the page a cursor names."""
    kept = [(k, v) for k, v in params.multi_items() if k in FILTER_FIELDS and v != ""]
    return "?" + urlencode(kept + list(cursor.items()))


def format_duration(ms: int | None) -> str:
    if (ms or 0) < 10_000:  # scripted and bounced visits are short: "0 s" would say nothing
        return f"{(ms or 0) / 1000:.1f} s"
    seconds = int((ms or 0) / 1000)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_started(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def _index_state(row: ListedSession) -> str:
    """indexed / stale / none: rage and dead clicks are known only for indexed sessions."""
    if row.indexed_events is None:
        return "none"
    return "stale" if row.indexed_events < row.n_events else "indexed"


@cache
def _player_js() -> str:
    return "window.shPlayerLib = {};\n" + amd_safe(vendor_text("rrweb-player.js"), "window.shPlayerLib")


def _origin(url: str) -> str | None:
    origin = origin_of(url)
    return origin if origin.startswith(("http://", "https://")) else None


UI_ORIGIN_ENV = "SESSIONHEAT_UI_ORIGIN"  # the UI's own origin(s) beside a configured player origin


def request_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _configured_origins(*names: str) -> set[str]:
    return {o for name in names for o in map(_origin, os.environ.get(name, "").split(",")) if o}


def _loopback_origins(request: Request) -> set[str]:
    """This server's loopback origins: the request's scheme and port on each loopback name."""
    suffix = f":{request.url.port}" if request.url.port else ""
    return {f"{request.url.scheme}://{f'[{host}]' if ':' in host else host}{suffix}" for host in LOOPBACK_NAMES}


def ui_origins(request: Request) -> set[str]:
    """The origins a player served to this request may be framed and driven by: its own, this
    server's loopback origins, and the configured UI and player origins. Anything else in `?ui=`
    would let another site frame the player and read what it replays."""
    return {request_origin(request), *_loopback_origins(request),
            *_configured_origins(UI_ORIGIN_ENV, PLAYER_ORIGIN_ENV)}


def player_origin(request: Request) -> str | None:
    """The origin to serve this UI page's player from, when it can have one apart from the UI:
    the configured one (when the player there will accept this UI's origin), or
    `sessionheat-player.localhost` on the same port for a loopback UI."""
    setting = os.environ.get(PLAYER_ORIGIN_ENV, "").strip()
    if setting == "self":  # a browser that does not resolve *.localhost: keep it in the UI's origin
        return None
    configured = _origin(setting)
    if configured:
        own = request_origin(request)
        accepted = _loopback_origins(request) | _configured_origins(UI_ORIGIN_ENV)
        return configured if configured != own and own in accepted else None
    if request.url.hostname in LOOPBACK_NAMES:
        port = f":{request.url.port}" if request.url.port else ""
        return f"{request.url.scheme}://{PLAYER_LOCAL_HOST}{port}"
    return None


def player_policy(own_origin: str, ui_origin: str, nonce: str, recorded_origins: list[str]) -> str:
    """The player document's CSP, inherited by the replay iframe inside it: only our nonce-tagged
    scripts (a recorded script has no nonce), the recorded page's assets only from the origins it
    was recorded on, no connections, no forms, and framing by the UI only."""
    assets = " ".join(recorded_origins)
    ancestors = "'self'" if ui_origin == own_origin else ui_origin
    return "; ".join([
        "default-src 'none'",
        f"script-src 'nonce-{nonce}'",
        f"style-src 'unsafe-inline' {own_origin} {assets}".rstrip(),
        f"img-src data: blob: {assets}".rstrip(),
        f"font-src data: blob: {assets}".rstrip(),
        f"media-src data: blob: {assets}".rstrip(),
        "connect-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        f"frame-ancestors {ancestors}",
    ])


def _json_for_script(value: Any) -> str:
    """JSON safe inside <script type="application/json">: recorded text cannot close the tag."""
    return script_safe(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()).decode()


def _moment(request: Request, duration: int) -> int:
    """`?t=MS` as a moment inside the session (0 when absent or not a number; `1e400` is the end)."""
    try:
        t = float(request.query_params.get("t", "0")[:40])
    except ValueError:
        return 0
    if t != t:  # NaN
        return 0
    return int(max(0.0, min(t, float(duration))))


def _viewport_options(viewports: ViewportChoices, q: ListQuery) -> list[tuple[str, str]]:
    """(value, label) of the viewport choices: the common ones, and the one chosen if rarer."""
    options = [(f"{w}x{h}", f"{w}×{h} ({n:,} sessions)") for w, h, n in viewports.get()]
    if q.filters.viewport and q.form["viewport"] not in {v for v, _ in options}:
        w, h = q.filters.viewport
        options.append((q.form["viewport"], f"{w}×{h}"))
    return options


def _player_src(request: Request, session_id: str, t: int) -> str:
    """The player document's URL: on the player's own origin when there is one."""
    path = request.url_for("session_player", session_id=session_id).path
    separate = player_origin(request)
    if separate:  # the login cookie does not reach that origin: a grant for this session does
        grant = request.app.state.auth.player_grant(session_id)
        return f"{separate}{path}?" + urlencode({"t": t, "ui": request_origin(request), "grant": grant})
    return f"{path}?" + urlencode({"t": t})


def routes(store: SessionStore) -> list[BaseRoute]:
    """The session list, the session page, its player document and its JSON download."""
    viewports = ViewportChoices(store)

    def sessions(request: Request) -> Response:
        q = parse_list_query(request.query_params)
        result = None
        total, exact = 0, True
        if not q.errors:
            try:
                result = store.query_sessions(q.filters, sort=q.sort, descending=q.descending,
                                              after=q.after, before=q.before, limit=PAGE_SIZE)
                total, exact = store.count_sessions(q.filters, cap=COUNT_CAP, budget_ms=COUNT_BUDGET_MS)
            except StoreError as exc:
                q.errors.append(str(exc))
        rows = [{**row, "index_state": _index_state(row), "started": format_started(row.started_at),
                 "duration": format_duration(row.duration_ms)} for row in (result.sessions if result else [])]
        return page(
            request, "sessions.html", status_code=400 if q.errors else 200,
            title="Sessions", area="sessions", q=q, rows=rows, total=total, exact=exact,
            devices=DEVICES, viewport_options=_viewport_options(viewports, q), sorts=list(SESSION_SORTS),
            next_link=_page_link(request.query_params, after=result.next_cursor)
            if result and result.next_cursor else None,
            prev_link=_page_link(request.query_params, before=result.prev_cursor)
            if result and result.prev_cursor else None,
            first_link=_page_link(request.query_params) if (q.after or q.before) else None,
        )

    def _session_or_404(request: Request) -> SessionRow | None:
        session_id = request.path_params["session_id"]
        if not SESSION_ID_RE.match(session_id):
            return None
        return store.get_session(session_id)

    def _not_found(request: Request) -> Response:
        return page(request, "session_missing.html", status_code=404, title="No such session",
                    area="sessions", session_id=request.path_params["session_id"][:80])

    def _from_events(session_id: str) -> dict[str, Any]:
        """What the session page shows from the events: its timeline, duration and damage. The
        events are read with the garbage collector paused and freed in steps before it resumes
        (see `events_text.gc_paused`), in this worker thread, never where the server drops them."""
        with gc_paused():
            read = store.read_events(session_id)
            events = read.events
            try:
                damage = "; ".join(p.reason for p in read.problems) or None
                flags = store.session_flags(session_id)
                converted = store.conversion(session_id)
                return {
                    "duration": int(events[-1]["timestamp"] - events[0]["timestamp"]) if events else 0,
                    "damage": damage, "flags": flags, "n_events_readable": len(events),
                    "entries": build_timeline(events, store.pageviews(session_id),
                                              flags["clicks"] if flags["indexed"] else None, damage,
                                              (converted[0], str(converted[1])) if converted else None),
                    "replayable": any(e["type"] == EventType.FULL_SNAPSHOT for e in events),
                }
            finally:
                release(events)

    def session_page(request: Request) -> Response:
        session = _session_or_404(request)
        if session is None:
            return _not_found(request)
        view = _from_events(session["id"])
        duration, flags = view["duration"], view["flags"]
        t = _moment(request, duration)
        n_rage: int | None
        n_dead: int | None
        if flags["indexed"]:
            n_rage = sum(1 for c in flags["clicks"] if c["rage"])
            n_dead = sum(1 for c in flags["clicks"] if c["dead"])
        else:
            n_rage = n_dead = None
        response = page(
            request, "session.html", title=f"Session {session['id']}", area="sessions",
            s=session, t=t, clock=format_clock(t), duration_text=format_duration(duration),
            clock_end=format_clock(duration), recorded_duration_text=format_duration(session.get("duration_ms")),
            n_rage=n_rage, n_dead=n_dead, **view,
            started=format_started(session.get("started_at")),
            player_src=_player_src(request, session["id"], t),
            player_origin=player_origin(request) or request_origin(request),
        )
        separate = player_origin(request)
        if separate:  # the UI's CSP lets it frame that origin too
            csp = response.headers["Content-Security-Policy"]
            response.headers["Content-Security-Policy"] = csp.replace(
                "frame-src 'self'", f"frame-src 'self' {separate}")
        return response

    def player_document(request: Request) -> Response:
        own = request_origin(request)
        asked = request.query_params.get("ui", "")
        ui_origin = _origin(asked[:300]) if asked else own  # who may frame and drive it
        if ui_origin not in ui_origins(request):
            return PlainTextResponse(f"ui={asked[:80]!r} is not an origin of this server's UI",
                                     status_code=400)
        session = _session_or_404(request)
        if session is None:
            return PlainTextResponse("no such session", status_code=404)
        packed = pack_for_player(store.event_chunks(session["id"], []))
        events, duration = packed.metas, packed.duration  # only the Meta events: the rest is packed
        origins = sorted({o for e in events if e["type"] == EventType.META
                          for o in [_origin(str((e.get("data") or {}).get("href", "")))] if o})
        origins = reachable_origins(origins, vouched_origins(session["site"], store.site_origins(), origins))
        nonce = secrets.token_urlsafe(16)
        config = {"uiOrigin": ui_origin, "startAt": _moment(request, duration), "duration": duration,
                  "annotationTag": TAG_ANNOTATION}
        marker = f"<!--events-{nonce}-->"
        shell = templates.get_template("session_player.html").render({
            "request": request, "nonce": nonce, "config_json": _json_for_script(config),
            "events_json": marker, "session_id": session["id"]})
        head, _, tail = shell.partition(marker)
        body = chain([head.encode()], packed.json_array(), [tail.encode()])
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-store",
                   "Content-Security-Policy": player_policy(own, ui_origin, nonce, origins)}
        return StreamingResponse(body, media_type="text/html; charset=utf-8", headers=headers)

    def events_json(request: Request) -> Response:
        session = _session_or_404(request)
        if session is None:
            return PlainTextResponse("no such session", status_code=404)
        with gc_paused():  # as the session page: see `_from_events`
            events = store.read_events(session["id"]).events
            pieces = list(json_pieces(events))
            release(events)
        return StreamingResponse(iter(pieces), media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="session-{session["id"]}.json"',
            "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})

    def player_js(request: Request) -> Response:
        return Response(_player_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400",
                                 "X-Content-Type-Options": "nosniff"})

    def player_css(request: Request) -> Response:
        return Response(vendor_text("rrweb-player.css"), media_type="text/css",
                        headers={"Cache-Control": "public, max-age=86400",
                                 "X-Content-Type-Options": "nosniff"})

    return [
        Route("/sessions", sessions, name="sessions"),
        Route("/sessions/player-assets/rrweb-player.js", player_js, name="rrweb_player_js"),
        Route("/sessions/player-assets/rrweb-player.css", player_css, name="rrweb_player_css"),
        Route("/sessions/{session_id}", session_page, name="session"),
        Route("/sessions/{session_id}/player", player_document, name="session_player"),
        Route("/sessions/{session_id}/events.json", events_json, name="session_events"),
    ]


__all__ = ["ListQuery", "parse_list_query", "player_policy", "routes"]
