"""The web app `sessionheat serve` runs: the recording snippet, the collector and the UI.

    from sessionheat.web import create_app
    app = create_app("sessionheat.db")        # any ASGI server; `sessionheat serve` uses uvicorn

HTTP:
    GET  /snippet.js                                  the recording snippet (gzip, ETag)
    POST /api/v1/sessions/{session_id}/chunks/{seq}   a chunk of rrweb events; 202 once durable,
                                                      4xx {"error": reason} when refused
    GET  /api/v1/health                               {"ok": true}
    GET  /, /sessions, /sessions/{id}, /heatmaps      the UI (see sessionheat/web/ui.py), after
    GET  /login, POST /logout                         logging in (sessionheat/web/access.py)

`role` splits the two audiences: "collector" serves only what visitors' browsers need (the
snippet, the chunk endpoint, the health check) and nothing that reads; "ui" serves the team's
pages and no collector; "all" (the default) both.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from plumbing.store import SessionStore

from sessionheat.web import login_ui
from sessionheat.web.access import AccessPolicy, HostCheck, guard_routes
from sessionheat.web.auth import Authenticator
from sessionheat.web.collector import SITE_KEYS_TTL_S, Collector, normalize_origin
from sessionheat.web.heatmaps_ui import stop_background_work
from sessionheat.web.payload import Limits
from sessionheat.web.snippet import SNIPPET_VERSION, snippet_js
from sessionheat.web.ui import ui_routes

__all__ = ["AccessPolicy", "Limits", "ROLES", "SITE_KEYS_TTL_S", "SNIPPET_VERSION", "add_site",
           "create_app", "normalize_origin"]

ROLES = ("all", "collector", "ui")  # what one `serve` process answers: see the module docstring


def add_site(store: SessionStore, name: str, origins: Iterable[str], **policy: Any) -> str:
    """Register a site that may send sessions from `origins` (`*` for any); returns its new key.
    `policy`: `record_inputs`, `max_session_events`, `max_session_bytes` (see `SessionStore.set_site`)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a site name is 1 to 100 characters")
    normalized = [normalize_origin(origin) for origin in origins]
    if not normalized:
        raise ValueError("give at least one origin the site's pages are served from")
    return store.add_site(name, normalized, **policy)


def _tune_gc() -> None:
    """Freeze what startup allocated, and collect the young generations less often.

    Every chunk parses into thousands of short-lived dicts and lists; with the defaults, full
    collections walked every module and class loaded at startup each time, and stalled all
    requests for up to 75 ms, which is most of the p99 latency.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, "snippet": SNIPPET_VERSION})


def create_app(store_or_path: SessionStore | str | Path, *, limits: Limits | None = None,
               own_process: bool = False, role: str = "all",
               access: AccessPolicy | None = None, cluster: str | None = None) -> Starlette:
    """The ASGI app over a store (or a SQLite path, opened here and closed at shutdown).

    `access` says which host names are answered and which SSO proxy is trusted (default: loopback
    names only); every route but the public ones needs a login. `own_process=True` (what
    `sessionheat serve` passes) also tunes the garbage collector for a process that only serves
    this app: see `_tune_gc`. `cluster`, a Dask scheduler's address (tcp://HOST:8786): the
    background indexer indexes there (see `heatmap.index_cluster`) instead of in this process.
    """
    if role not in ROLES:
        raise ValueError(f"role is one of {', '.join(ROLES)}")
    owned = not isinstance(store_or_path, SessionStore)
    store = store_or_path if isinstance(store_or_path, SessionStore) else SessionStore(store_or_path)
    access = access or AccessPolicy()
    auth = Authenticator(store)
    collector = Collector(store, limits=limits) if role != "ui" else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if collector is not None:
            collector.start()
        if own_process:
            _tune_gc()
        try:
            yield
        finally:
            stop_background_work(store)  # the heatmap explorer's worker and its Chromium
            if collector is not None:
                collector.close()  # every chunk already accepted is committed before we stop
            if owned:
                store.close()

    routes: list[BaseRoute] = [Route("/api/v1/health", _health, name="health")]
    if collector is not None:
        routes += [Route("/snippet.js", snippet_js, methods=["GET", "HEAD"], name="snippet"),
                   *collector.routes()]
    if role != "collector":
        routes += [*login_ui.routes(auth), *ui_routes(store, cluster=cluster)]
    app = Starlette(routes=guard_routes(routes, auth, access), lifespan=lifespan)
    app.add_middleware(HostCheck, policy=access)
    app.state.store = store
    app.state.collector = collector
    app.state.auth = auth
    app.state.access = access
    app.state.role = role
    return app
