"""How every UI page is rendered: the Jinja2 templates with their filters and globals, and the
security headers each page carries.

Below every area of the UI (`sessions_ui`, `heatmaps_ui`, `login_ui`) and below `ui`, which gathers
their routes, so imports run one way: areas -> pages, ui -> areas. Server-rendered HTML with a
little plain JS from `static/`; no build step, no CDN. Every page carries a strict
Content-Security-Policy: the UI's own origin runs only our own scripts, and recorded HTML is shown
only inside the player, a sandboxed iframe served from an origin of its own (see `sessions_ui`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from plumbing.devices import VIEWPORT_BUCKETS
from plumbing.user_input import property_text
from plumbing.vocabulary import MAX_VIEWPORT_PX

WEB_DIR = Path(__file__).resolve().parent

templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

URL_SHOWN_CHARS = 140  # past this a URL is cut with "…" (the whole of it stays in a title)
_URL_BREAKS = re.compile(r"(?=[/?&#])")


def url_breaks(url: Any, limit: int = URL_SHOWN_CHARS) -> Markup:
    """A URL as HTML that wraps before its / ? & # rather than at any letter.

    `word-break: break-all` on a squeezed table column broke entry URLs one character per line;
    break opportunities (<wbr>) at the URL's own separators let it wrap where a person would.
    """
    text = "" if url is None else str(url)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    scheme, sep, rest = text.partition("://")
    head, tail = (scheme + sep, rest) if sep else ("", text)
    host, slash, path = tail.partition("/")
    pieces = [head + host, *(_URL_BREAKS.split(slash + path) if slash else [])]
    return Markup("<wbr>").join(escape(p) for p in pieces if p)


templates.env.filters["url_breaks"] = url_breaks
templates.env.filters["property_text"] = property_text  # as a filter writes it: true, not True


def identity(request: Request) -> Any:
    """Who is looking (None on public pages), for the header's name and logout button."""
    return getattr(request.state, "identity", None)


def csrf_input(request: Request) -> Markup:
    """The hidden field every state-changing form carries (see sessionheat.web.access)."""
    token = getattr(request.state, "csrf_token", "")
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


def _viewport_classes() -> list[tuple[str, str]]:
    """(name, title) of each viewport class, widest first, for the explorer's pickers."""
    def title(name: str, low: int, high: int) -> str:
        span = (f"under {high + 1} px" if low == 0 else f"{low} px and wider" if high == MAX_VIEWPORT_PX
                else f"{low}–{high} px")
        return f"{name.capitalize()} ({span})"
    return [(name, title(name, low, high)) for name, low, high in reversed(VIEWPORT_BUCKETS)]


templates.env.globals.update(identity=identity, csrf_input=csrf_input, viewport_classes=_viewport_classes())

# The UI's own pages: only our scripts and styles, images from us or data:, frames only from us.
UI_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          "frame-ancestors 'self'")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render a UI page with the security headers every page must carry."""
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = UI_CSP
    response.headers.update(SECURITY_HEADERS)
    return response
