"""Offline HTTP server for the demo staging site (stdlib only).

Benchmarks and tests record real browser sessions against this site, so the
server must be deterministic, quiet, never cached, and able to slow images
down on request (``?delay=MS``) to provoke realistic layout shifts.
"""
from __future__ import annotations

import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

SITE_DIR: Path = Path(__file__).resolve().parent / "site"

MAX_DELAY_MS = 5000
IMAGE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp")


class DemoRequestHandler(SimpleHTTPRequestHandler):
    """Static file handler: explicit content types, no caching, no logging."""

    extensions_map = {
        "": "application/octet-stream",
        ".html": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".ico": "image/x-icon",
    }

    def do_GET(self) -> None:
        """Serve a file, first sleeping if an image asks for ``?delay=MS``."""
        parts = urlsplit(self.path)
        if parts.path.lower().endswith(IMAGE_SUFFIXES):
            time.sleep(_delay_ms(parts.query) / 1000)
        if parts.path == "/favicon.ico":  # browsers ask for it; avoid a 404
            self.path = "/img/favicon.svg"
        super().do_GET()

    def end_headers(self) -> None:
        """Forbid caching so every recorded visit really fetches each asset."""
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def list_directory(self, path: Any) -> None:
        """No directory listings: a real site would answer 404."""
        self.send_error(404, "Not found")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        """Stay silent: per-request lines would drown benchmark output."""


def _delay_ms(query: str) -> int:
    """Parse ``delay`` from a query string, clamped to 0..MAX_DELAY_MS."""
    try:
        value = int(parse_qs(query).get("delay", ["0"])[0])
    except ValueError:
        return 0
    return max(0, min(value, MAX_DELAY_MS))


class _QuietServer(ThreadingHTTPServer):
    """Threaded server that ignores clients hanging up mid-response.

    Navigating away while a delayed image is pending is normal here, and the
    default handler would print a traceback for each such broken pipe.
    """

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class DemoServer:
    """A running demo server; use as a context manager to always stop it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 site_dir: Path | str = SITE_DIR) -> None:
        handler = partial(DemoRequestHandler, directory=str(site_dir))
        self.httpd = _QuietServer((host, port), handler)
        self.host: str = host
        self.port: int = self.httpd.server_address[1]
        self.url: str = f"http://{host}:{self.port}/"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"demo-server-{self.port}", daemon=True)
        self._thread.start()

    def url_for(self, path: str = "", **query: Any) -> str:
        """Absolute URL of a site page, e.g. ``url_for(variant="B")``."""
        qs = urlencode({k: v for k, v in query.items() if v is not None})
        return self.url + path.lstrip("/") + (f"?{qs}" if qs else "")

    def close(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()

    def __enter__(self) -> "DemoServer":
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def serve_demo(host: str = "127.0.0.1", port: int = 0,
               site_dir: Path | str = SITE_DIR) -> DemoServer:
    """Start the demo site in a daemon thread; port 0 picks a free port."""
    return DemoServer(host, port, site_dir)
