"""Fetching a recorded asset for a replay, pinned to an address that was checked.

Chromium's own fetch (`route.fetch`) resolves the host again after any check of ours, so a name
that answered with a public address for the check could answer 127.0.0.1 for the fetch (DNS
rebinding), and it follows redirects wherever they point. Here the host is resolved once, every
address it gave is judged by `plumbing.addresses`, and the connection goes to that very address
(the `Host` header, and for https the SNI name and certificate check, still use the host name).
Redirects are followed by hand, at most `MAX_REDIRECTS`, each hop judged like the first.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from plumbing.addresses import IPAddress, host_is_internal, ip_is_internal, origin_host_port, resolve_host
from plumbing.store import origin_of

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 32 * 1024 * 1024  # a hostile origin cannot fill the indexer's memory past this
_REDIRECTS = {301, 302, 303, 307, 308}
_FORWARDED = ("user-agent", "accept", "accept-language")  # what the replay page's request passes on
_READ_BYTES = 64 * 1024


class Blocked(Exception):
    """The asset, or a redirect on the way to it, leads somewhere the replay may not reach."""

    def __init__(self, origin: str, why: str) -> None:
        super().__init__(f"{origin or 'a non-http(s) URL'} blocked: {why}")
        self.origin = origin


class FetchFailed(Exception):
    """No usable answer: unresolvable, refused, timed out, too large, too many redirects."""


@dataclass(frozen=True)
class Reach:
    """Where one replay may fetch from: `allowed` origins (what the session recorded); of those,
    only `vouched` ones may lead inside the network (see `plumbing.addresses.vouched_origins`)."""

    allowed: frozenset[str]
    vouched: frozenset[str] = field(default_factory=frozenset)

    def refusal(self, origin: str) -> str | None:
        """Why `origin` is out of reach by its name alone, or None (its addresses are judged later)."""
        if origin not in self.allowed:
            return "not an origin the session recorded"
        where = origin_host_port(origin)
        if where is None:
            return "not http(s)"
        if origin not in self.vouched and host_is_internal(where[0]):
            return "an internal address"
        return None

    def address(self, origin: str) -> tuple[IPAddress, str, int]:
        """(address to connect to, host name, port) for a reachable origin; `Blocked` or `FetchFailed`."""
        why = self.refusal(origin)
        if why:
            raise Blocked(origin, why)
        host, port = origin_host_port(origin)  # type: ignore[misc]  # refusal checked it
        addresses = resolve_host(host, port)
        if not addresses:
            raise FetchFailed(f"{host} does not resolve")
        if origin not in self.vouched and any(ip_is_internal(ip) for ip in addresses):
            raise Blocked(origin, "resolves to an internal address")
        return addresses[0], host, port


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()  # certificates verified, host names checked


def fetch(url: str, reach: Reach, *, timeout_s: float, headers: dict[str, str] | None = None,
          max_bytes: int = MAX_BODY_BYTES) -> Fetched:
    """GET `url` the way a replay may: each hop's origin judged by `reach`, connected to the address
    that was checked. Raises `Blocked` (count it) or `FetchFailed`."""
    deadline = time.monotonic() + timeout_s
    sent = {k: v for k, v in (headers or {}).items() if k.lower() in _FORWARDED}
    for _hop in range(MAX_REDIRECTS + 1):
        ip, host, port = reach.address(origin_of(url))
        answer = _get_once(url, ip, host, port, sent, deadline, max_bytes)
        location = answer.headers.get("location")
        if answer.status not in _REDIRECTS or not location:
            return answer
        url = urljoin(url, location).split("#", 1)[0]
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")


def _get_once(url: str, ip: IPAddress, host: str, port: int, headers: dict[str, str], deadline: float,
              max_bytes: int) -> Fetched:
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(host, port, timeout=_left(deadline))
    try:
        sock = socket.create_connection((str(ip), port), timeout=_left(deadline))
        if parts.scheme == "https":
            sock = _tls().wrap_socket(sock, server_hostname=host)
        conn.sock = sock  # http.client uses the pinned socket and never resolves `host` itself
        conn.request("GET", path, headers={**headers, "Host": parts.netloc.rpartition("@")[2],
                                           "Accept-Encoding": "identity", "Connection": "close"})
        response = conn.getresponse()
        found: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            found[name] = f"{found[name]}, {value}" if name in found else value
        body = _read_bounded(response, deadline, max_bytes)
        return Fetched(response.status, found, _decoded(body, found.get("content-encoding", ""), max_bytes))
    except (OSError, http.client.HTTPException, ssl.CertificateError) as exc:
        raise FetchFailed(str(exc) or type(exc).__name__) from exc
    finally:
        conn.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed("timed out")
    return left


def _read_bounded(response: http.client.HTTPResponse, deadline: float, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        _left(deadline)  # a server trickling bytes still runs out of time
        chunk = response.read(_READ_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchFailed(f"larger than {max_bytes} bytes")
        chunks.append(chunk)


def _decoded(body: bytes, encoding: str, max_bytes: int) -> bytes:
    """The body as the page may read it: `content-encoding` does not follow it into the replay, so
    a server that compressed anyway (we asked for identity) is decoded here, within the bound."""
    encoding = encoding.strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return body
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    try:
        out = decoder.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise FetchFailed(f"bad {encoding} body") from exc
    if len(out) > max_bytes:
        raise FetchFailed(f"larger than {max_bytes} bytes decoded")
    return out


# --- the origins a recording loads style sheets and fonts from ----------------------------------
# A page's style sheets and fonts often come from another origin (a CDN, a font service): rrweb
# records the <link> of a sheet it cannot read (rrweb #1219) and absolute url()s in the CSS it
# inlines, and the replay must fetch them from there (#1304: fonts missing). Only what CSS loads
# counts: <link rel=stylesheet/preload> addresses and url()/@import in recorded CSS (fonts, and the
# images CSS draws); an <img> from another host stays out of reach, as before.
_LOADING_LINK = re.compile(r"(^|\s)(stylesheet|preload)(\s|$)", re.I)
_CSS_URL = re.compile(r"""url\(\s*['"]?(https?://[^'")\s]+)|@import\s+['"](https?://[^'"]+)""", re.I)


def asset_origins(events: Iterable[dict[str, Any]]) -> set[str]:
    """http(s) origins the recorded pages load style sheets, fonts and CSS images from: linked
    sheets, url() and @import in recorded CSS (inlined, constructed, inline styles), and fonts
    added from script."""
    found: set[str] = set()

    def add(url: str) -> None:
        origin = origin_of(url) if url.startswith(("http://", "https://")) else ""
        if origin:
            found.add(origin)

    def css(text: Any) -> None:
        if isinstance(text, str) and "://" in text:
            for match in _CSS_URL.finditer(text):
                add(match.group(1) or match.group(2))

    def attributes(tag: str, attrs: dict[str, Any]) -> None:
        css(attrs.get("_cssText"))
        css(attrs.get("style"))
        href = attrs.get("href")
        if tag == "link" and isinstance(href, str) and _LOADING_LINK.search(str(attrs.get("rel", ""))):
            add(href)

    def node(n: dict[str, Any]) -> None:
        stack = [n]
        while stack:
            item = stack.pop()
            if item.get("type") == 2:
                attributes(str(item.get("tagName", "")), item.get("attributes") or {})
            elif item.get("type") == 3 and item.get("isStyle"):
                css(item.get("textContent"))
            stack.extend(item.get("childNodes") or ())

    for event in events:
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        if event.get("type") == 2 and isinstance(data.get("node"), dict):
            node(data["node"])
        elif event.get("type") == 3:
            source = data.get("source")
            if source == 0:
                for added in data.get("adds") or ():
                    if isinstance(added, dict) and isinstance(added.get("node"), dict):
                        node(added["node"])
                for change in data.get("attributes") or ():
                    if isinstance(change, dict) and isinstance(change.get("attributes"), dict):
                        attributes("", change["attributes"])  # a late _cssText, a changed inline style
                for text in data.get("texts") or ():
                    if isinstance(text, dict):
                        css(text.get("value"))  # a style's new text (other text rarely holds url(http)
            elif source == 8:  # a style sheet rule: insertRule, replace, replaceSync
                for rule in data.get("adds") or ():
                    if isinstance(rule, dict):
                        css(rule.get("rule"))
                css(data.get("replace"))
                css(data.get("replaceSync"))
            elif source == 15:  # adopted style sheets
                for style in data.get("styles") or ():
                    for rule in (style.get("rules") or ()) if isinstance(style, dict) else ():
                        if isinstance(rule, dict):
                            css(rule.get("rule"))
            elif source == 10:  # a font added from script: fontSource is `url(...)` or data
                css(data.get("fontSource"))
    return found
