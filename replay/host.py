"""The replay host page and the network guard around it.

Recorded pages are someone else's HTML. The host page lives at an origin of its own that nothing
else uses (`HOST_ORIGIN`, answered by Playwright's router, never by a server), so nothing recorded
is rendered in an origin the product serves pages from. rrweb rebuilds the recording inside a
sandboxed iframe without `allow-scripts`, and the host's Content-Security-Policy (inherited by that
iframe) forbids scripts other than ours, connections and forms. Every request the page makes goes
through `NetworkGuard`: only GET/HEAD to origins the session recorded pass, fetched by us (see
`replay.fetch`) from an address checked not to be inside the network unless the origin is vouched
for; everything else is blocked and counted.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plumbing.assets import amd_safe, page_script, vendor_text
from plumbing.store import origin_of

from replay.fetch import Blocked, FetchFailed, Reach, fetch

if TYPE_CHECKING:
    from playwright.sync_api import Request, Route

HOST_ORIGIN = "http://replay.sessionheat.invalid"
FETCH_TIMEOUT_MS = 10_000  # the guard gives up on a recorded asset after this; the page waits longer
HOST_URL = f"{HOST_ORIGIN}/"

# Response headers that must not follow a recorded asset into the replay page.
_DROP_HEADERS = {"set-cookie", "content-security-policy", "content-security-policy-report-only",
                 "access-control-allow-origin", "access-control-allow-credentials", "cache-control",
                 "content-encoding", "content-length", "transfer-encoding", "x-frame-options"}


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
        f"\nwindow.__shCanvasReplay = {page_script('replay', 'canvas.js')};"
        f"\nwindow.__shMoments = {page_script('replay', 'moments.js')};"
        f"\nwindow.__shMakeDriver = {page_script('replay', 'driver.js')};"
        f"\nwindow.__shUnpack = {page_script('replay', 'unpack.js')};"
        f"\nwindow.__shCalls = ({page_script('replay', 'host_calls.js')})();</script>"
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


AssetResponse = tuple[int, dict[str, str], bytes]  # status, headers, body


@dataclass
class AssetCache:
    """Recorded assets fetched once and served from memory to every replay after that, each site's
    apart: a response fetched for one site's session is never served to another site's.

    Sites often forbid caching (the demo sends `no-store`), and each rebuild of a page asks again.
    With a `store` (see `for_store`), what was fetched is also kept in the session store itself
    (plumbing/store/replay_assets.py, by content) for every process, every machine and every
    later run: index workers stop fetching the same images one by one each, and a replay keeps
    the assets it first had when the site changes or goes away. A `directory` does the same on a
    disk. Only answers below 400 are kept; a failure may be passing. Keys are (site, url), `site`
    being the sessions' `site` column; each site's answers are kept apart.
    """

    responses: dict[tuple[str, str], AssetResponse] = field(default_factory=dict)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    directory: Path | None = None
    store: Any = None  # a SessionStore: replay_asset / keep_replay_asset
    read_from_disk: int = 0  # answers that came from `store` or `directory`, not from the site

    @classmethod
    def for_store(cls, store: Any) -> "AssetCache":
        """The asset cache of a SessionStore (kept in it); given a path (as before the store kept
        them), the folder `<db>.assets/` beside it."""
        if hasattr(store, "keep_replay_asset"):
            return cls(store=store)
        path = Path(store)
        return cls(directory=path.parent / (path.name + ".assets"))

    def get(self, url: str, site: str = "") -> AssetResponse | None:
        found = self.responses.get((site, url))
        if found is None and (self.directory is not None or self.store is not None):
            found = self._read(site, url)
            if found is not None:
                with self.lock:
                    self.responses[(site, url)] = found
                    self.read_from_disk += 1
        return found

    def put(self, url: str, response: AssetResponse, site: str = "") -> None:
        with self.lock:
            self.responses[(site, url)] = response
        if (self.directory is not None or self.store is not None) and response[0] < 400:
            self._write(site, url, response)

    def _files(self, site: str, url: str) -> tuple[Path, Path]:
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()
        folder = self.directory / site_folder(site) / name[:2]  # type: ignore[operator]
        return folder / f"{name}.json", folder / f"{name}.body"

    def _read(self, site: str, url: str) -> AssetResponse | None:
        if self.store is not None:
            try:
                found: AssetResponse | None = self.store.replay_asset(site, url)
                return found
            except Exception:  # a store gone away costs the cache, never the replay
                return None
        meta_path, body_path = self._files(site, url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
            if meta["url"] != url or meta["site"] != site or meta["size"] != len(body):  # not this, or torn
                return None
            return int(meta["status"]), dict(meta["headers"]), body
        except (OSError, ValueError, KeyError, TypeError):  # missing, or not ours
            return None

    def _write(self, site: str, url: str, response: AssetResponse) -> None:
        """Body first, then the description that names it: a reader never sees half an asset;
        each file is written aside and renamed, so processes writing the same asset agree."""
        if self.store is not None:
            try:
                self.store.keep_replay_asset(site, url, *response)
            except Exception:  # a busy or full store costs the cache, never the replay
                pass
            return
        meta_path, body_path = self._files(site, url)
        status, headers, body = response
        meta = json.dumps({"url": url, "site": site, "status": status, "headers": headers, "size": len(body)})
        try:
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            for path, data in ((body_path, body), (meta_path, meta.encode("utf-8"))):
                part = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
                part.write_bytes(data)
                os.replace(part, path)
        except OSError:  # a full or read-only disk costs the cache, never the replay
            pass


def site_folder(site: str) -> str:
    """The folder of a site's assets on disk: a hash, since a site is any text (an origin too)."""
    return "site-" + hashlib.sha256(site.encode("utf-8")).hexdigest()[:16]


@dataclass
class NetworkGuard:
    """Routes every request of one replay page: host page, allowed assets, everything else blocked.

    `allowed_origins` are what the session recorded; of those, only `vouched_origins` may lead
    inside the network (a name, or an address it resolves to when fetched). `site` is the session's
    site, whose part of `cache` it reads and fills.
    """

    allowed_origins: frozenset[str]
    cache: AssetCache = field(default_factory=AssetCache)
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    vouched_origins: frozenset[str] = frozenset()
    site: str = ""
    blocked: Counter[str] = field(default_factory=Counter)  # origin -> requests refused
    missing: dict[str, str] = field(default_factory=dict)  # url -> why it could not be fetched
    fetched: int = 0

    def __post_init__(self) -> None:
        self.reach = Reach(frozenset(self.allowed_origins), frozenset(self.vouched_origins))

    def handle(self, route: "Route", request: "Request") -> None:
        url = request.url
        if url == HOST_URL:
            route.fulfill(**host_page_response(self.nonce))
            return
        origin = origin_of(url)
        if request.method not in ("GET", "HEAD") or self.reach.refusal(origin):
            self._block(route, origin)
            return
        try:
            cached = self._cached_or_fetched(url, request.headers)
        except Blocked as exc:  # resolved inside, or redirected out of reach
            self._block(route, exc.origin)
            return
        if cached is None:
            route.abort("failed")
            return
        status, headers, body = cached
        route.fulfill(status=status, headers=headers, body=body)

    def asset(self, url: str) -> AssetResponse | None:
        """What a replay page asking for `url` would be answered, or None where it would be refused
        or fail (counted like a replay's): for an offline player's inlined assets."""
        origin = origin_of(url)
        if self.reach.refusal(origin):
            with self.cache.lock:
                self.blocked[origin] += 1
            return None
        try:
            return self._cached_or_fetched(url, {})
        except Blocked as exc:
            with self.cache.lock:
                self.blocked[exc.origin] += 1
            return None

    def _cached_or_fetched(self, url: str, request_headers: dict[str, str]) -> AssetResponse | None:
        cached = self.cache.get(url, self.site)
        if cached is not None:
            return cached
        failure = self.cache.failures.get((self.site, url))
        if failure is None:
            try:
                cached, failure = self._fetch(url, request_headers)
            except Blocked as exc:
                self.missing[url] = str(exc)
                raise
        if cached is None:
            self.missing[url] = failure or "failed"
        return cached

    def _block(self, route: "Route", origin: str) -> None:
        self.blocked[origin] += 1
        route.abort("blockedbyclient")

    def _fetch(self, url: str, request_headers: dict[str, str]) -> tuple[Any, str | None]:
        """GET the asset (a HEAD is answered from the GET: one cached answer per URL)."""
        try:
            response = fetch(url, self.reach, timeout_s=FETCH_TIMEOUT_MS / 1000, headers=request_headers)
        except FetchFailed as exc:  # unresolvable, refused, timed out, too large
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            with self.cache.lock:
                self.cache.failures[(self.site, url)] = reason
            return None, reason
        headers = {k: v for k, v in response.headers.items() if k not in _DROP_HEADERS}
        headers["access-control-allow-origin"] = "*"  # fonts load cross-origin in the replay
        cached = (response.status, headers, response.body)
        if response.status >= 400:
            self.missing[url] = f"HTTP {response.status}"
        self.cache.put(url, cached, self.site)
        self.fetched += 1
        return cached, None
