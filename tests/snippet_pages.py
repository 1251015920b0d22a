"""Putting the snippet's script tag into pages a test loads, without editing those pages.

`SnippetSite` serves a folder of pages with the tag added exactly as a site owner would paste it,
before `</head>`.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from conftest import AssetServer, _AssetHandler


def snippet_tag(collector_url: str, key: str, **options: str) -> str:
    extra = "".join(f' data-{name.replace("_", "-")}="{value}"' for name, value in options.items())
    return f'<script src="{collector_url}/snippet.js" data-site="{key}"{extra} async></script>'


class SnippetSite(AssetServer):
    """Serves a folder of pages (the demo site, tests/assets) on 127.0.0.1 with `tag` in each head.

    A real server rather than Playwright's route.fulfill: Chromium treats a fulfilled document as
    public and then refuses its requests to a loopback collector (local network access checks).
    """

    def __init__(self, folder: Path):
        self.tag = ""
        site = self

        class Handler(_AssetHandler):
            def send_head(self) -> Any:
                path = Path(self.translate_path(self.path))
                if path.is_dir():
                    path = path / "index.html"
                if path.suffix != ".html" or not path.is_file():
                    return super().send_head()
                body = path.read_bytes().replace(b"</head>", site.tag.encode() + b"</head>", 1)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return io.BytesIO(body)

        super().__init__(folder, Handler)

    def __enter__(self) -> "SnippetSite":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until_sent(page: Any, timeout: float = 15.0) -> None:
    """Flush the page's recorder and wait until the collector has acknowledged every chunk."""
    page.wait_for_function("() => window.sessionheat && window.sessionheat.sessionId")
    page.evaluate("() => window.sessionheat.flush()")
    deadline = time.monotonic() + timeout
    while page.evaluate("() => window.sessionheat.pending()") > 0:
        if time.monotonic() > deadline:
            raise AssertionError("the page still holds unacknowledged chunks")
        page.wait_for_timeout(100)
