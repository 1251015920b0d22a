"""The replay host page and the network guard around it.

Recorded pages are someone else's HTML. The host page lives at an origin of its own that nothing
else uses (`HOST_ORIGIN`, answered by Playwright's router, never by a server), so nothing recorded
is rendered in an origin the product serves pages from. rrweb rebuilds the recording inside a
sandboxed iframe without `allow-scripts`, and the host's Content-Security-Policy (inherited by that
iframe) forbids scripts other than ours, connections and forms. Every request the page makes goes
through `NetworkGuard`: only GET/HEAD to origins the session recorded pass; everything else is
blocked and counted.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sessionheat.assets import amd_safe, package_text, vendor_text

if TYPE_CHECKING:
    from playwright.sync_api import Request, Route

HOST_ORIGIN = "http://replay.sessionheat.invalid"
FETCH_TIMEOUT_MS = 10_000  # the guard gives up on a recorded asset after this; the page waits longer
HOST_URL = f"{HOST_ORIGIN}/"

# Response headers that must not follow a recorded asset into the replay page.
_DROP_HEADERS = {"set-cookie", "content-security-policy", "content-security-policy-report-only",
                 "access-control-allow-origin", "access-control-allow-credentials", "cache-control",
                 "content-encoding", "content-length", "transfer-encoding", "x-frame-options"}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def host_page(nonce: str) -> str:
    """The host document: rrweb's Replayer and our driver, nothing recorded yet."""
    css = vendor_text("rrweb.css")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>sessionheat replay</title>"
        f"<style>{css}\nhtml,body{{margin:0;padding:0;overflow:hidden;background:#fff}}"
        # Unpainted until a picture is taken (see Replay.painting): measuring needs layout only,
        # and painting every change made a replay page spend more on frames than on layout.
        ".replayer-wrapper{position:absolute;left:0;top:0;visibility:hidden}"
        "body.painting .replayer-wrapper{visibility:visible}"
        ".replayer-wrapper iframe{border:0;display:block;background:#fff}"
        ".replayer-mouse{display:none}</style>"
        f"<script nonce='{nonce}'>window.__shLib = {{}};\n{amd_safe(vendor_text('rrweb.js'), 'window.__shLib')}"
        f"\nwindow.__shMakeDriver = {package_text('replay', 'driver.js').rstrip().rstrip(';')};"
        f"\nwindow.__shUnpack = {package_text('replay', 'unpack.js').rstrip().rstrip(';')};</script>"
        "</head><body><div id='root'></div></body></html>"
    )


def content_security_policy(nonce: str, origins: list[str] | None) -> str:
    """Scripts: ours only. Assets: the recorded origins. Nothing may connect, post or navigate.

    `origins=None` leaves assets to the router (`NetworkGuard`), which blocks *and counts*; a CSP
    block is silent, so only the offline player, which has no router, lists the origins here.
    """
    sources = "*" if origins is None else " ".join(origins)
    return "; ".join([
        "default-src 'none'",
        f"script-src 'nonce-{nonce}'",
        f"style-src 'unsafe-inline' {sources}",
        f"img-src data: blob: {sources}",
        f"font-src data: blob: {sources}",
        f"media-src data: blob: {sources}",
        "connect-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ])


def host_page_response(nonce: str) -> dict[str, Any]:
    """`route.fulfill` arguments for the host page, with its script-free CSP."""
    return {"status": 200, "body": host_page(nonce), "headers": {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": content_security_policy(nonce, None),
    }}


@dataclass
class AssetCache:
    """Recorded assets fetched once per process and served from memory to every replay.

    Sites often forbid caching (the demo sends `no-store`), and each rebuild of a page asks again.
    """

    responses: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class NetworkGuard:
    """Routes every request of one replay page: host page, allowed assets, everything else blocked."""

    allowed_origins: frozenset[str]
    cache: AssetCache = field(default_factory=AssetCache)
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    blocked: Counter = field(default_factory=Counter)  # origin -> requests refused
    missing: dict[str, str] = field(default_factory=dict)  # url -> why it could not be fetched
    fetched: int = 0

    def handle(self, route: "Route", request: "Request") -> None:
        url = request.url
        if url == HOST_URL:
            route.fulfill(**host_page_response(self.nonce))
            return
        origin = origin_of(url)
        if origin not in self.allowed_origins or request.method not in ("GET", "HEAD"):
            self.blocked[origin] += 1
            route.abort("blockedbyclient")
            return
        cached = self.cache.responses.get(url)
        if cached is None:
            failure = self.cache.failures.get(url)
            if failure is None:
                cached, failure = self._fetch(route, url)
            if cached is None:
                self.missing[url] = failure or "failed"
                route.abort("failed")
                return
        status, headers, body = cached
        route.fulfill(status=status, headers=headers, body=body)

    def _fetch(self, route: "Route", url: str) -> tuple[Any, str | None]:
        try:
            response = route.fetch(timeout=FETCH_TIMEOUT_MS, max_redirects=5)
            body = response.body()
        except Exception as exc:  # unreachable host, refused, timed out
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            with self.cache.lock:
                self.cache.failures[url] = reason
            return None, reason
        headers = {k: v for k, v in response.headers.items() if k.lower() not in _DROP_HEADERS}
        headers["access-control-allow-origin"] = "*"  # fonts load cross-origin in the replay
        cached = (response.status, headers, body)
        if response.status >= 400:
            self.missing[url] = f"HTTP {response.status}"
        with self.cache.lock:
            self.cache.responses[url] = cached
        self.fetched += 1
        return cached, None
