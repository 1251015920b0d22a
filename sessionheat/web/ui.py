"""The pages people look at, served by the same app as the collector: every UI route in one list.

Each area of the UI is a module exposing `routes(store) -> list[BaseRoute]`: `sessions_ui` (session
list, session page, player) and `heatmaps_ui` (heatmap explorer). They render through `pages`
(templates, security headers), which imports none of them, so no area imports this module back.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from plumbing.store import SessionStore

from sessionheat.web import heatmaps_ui, sessions_ui
from sessionheat.web.pages import SECURITY_HEADERS, WEB_DIR


def ui_routes(store: SessionStore, *, cluster: str | None = None) -> list[BaseRoute]:
    """Every UI route: the home redirect, static files, and each area's pages (`cluster`: the
    Dask scheduler the heatmap explorer indexes new sessions on)."""

    async def home(request: Request) -> Response:
        return RedirectResponse(request.url_for("sessions"), status_code=303)

    async def favicon(request: Request) -> Response:
        # Browsers ask for /favicon.ico whatever the page links: answer rather than log a 404.
        return FileResponse(WEB_DIR / "static" / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400", **SECURITY_HEADERS})

    return [
        Route("/", home, name="home"),
        Route("/favicon.ico", favicon, name="favicon"),
        Mount("/static", app=StaticFiles(directory=str(WEB_DIR / "static")), name="static"),
        *sessions_ui.routes(store),
        *heatmaps_ui.routes(store, cluster=cluster),
    ]
