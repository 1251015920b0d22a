"""`GET /snippet.js`: vendored rrweb + the shared recorder core (recorder/record.js) + our transport.

Built once per process from the files beside the code, compacted, gzipped ahead of time, and served
with an ETag so browsers revalidate cheaply. The Playwright recorder and the snippet share
record.js, so both record the same way.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache

from starlette.requests import Request
from starlette.responses import Response

from plumbing.assets import RRWEB_VERSION, amd_safe, package_text, page_script, rrweb_for_recording

from sessionheat import __version__

SNIPPET_VERSION = f"{__version__}+rrweb{RRWEB_VERSION}"
CACHE_CONTROL = "public, max-age=300"  # short: a new version reaches visitors within minutes


@dataclass(frozen=True)
class SnippetAsset:
    body: bytes
    gzipped: bytes
    etag: str


def compact_js(source: str) -> str:
    """Drop whole-line comments, indentation and blank lines: safe for our own hand-written JS."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


def build_snippet() -> str:
    """The snippet's JavaScript text."""
    transport = compact_js(package_text("sessionheat.web", "snippet.js"))
    record = compact_js(page_script("recorder", "record.js"))
    # rrweb goes in last, so its own text is never searched for placeholders.
    return (
        transport.replace("/*@VERSION@*/", SNIPPET_VERSION)
        .replace("/*@RECORD@*/", record)
        .replace("/*@RRWEB@*/", amd_safe(rrweb_for_recording(), "holder"))
    )


@cache
def snippet_asset() -> SnippetAsset:
    body = build_snippet().encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return SnippetAsset(body, gzip.compress(body, 9, mtime=0), etag)


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        name, _, params = part.partition(";")
        if name.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            try:
                return not params.strip() or float(quality) > 0
            except ValueError:
                return False
    return False


async def snippet_js(request: Request) -> Response:
    asset = snippet_asset()
    headers = {"ETag": asset.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding",
               "X-Content-Type-Options": "nosniff"}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if _accepts_gzip(request):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)
