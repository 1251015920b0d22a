"""Heatmap explorer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sessionheat.store import SessionStore
from sessionheat.web.ui import page


def routes(store: SessionStore) -> list[BaseRoute]:
    async def heatmaps(request: Request) -> Response:
        return page(request, "heatmaps.html", title="Heatmaps")

    return [Route("/heatmaps", heatmaps, name="heatmaps")]
