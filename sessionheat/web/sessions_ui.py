"""Session list and session page (player + timeline)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionheat.store import SessionStore
from sessionheat.web.ui import page


def routes(store: SessionStore) -> list[BaseRoute]:
    async def sessions(request: Request) -> Response:
        rows = store.list_sessions(limit=50)
        return page(request, "sessions.html", title="Sessions", sessions=rows)

    return [Route("/sessions", sessions, name="sessions")]
