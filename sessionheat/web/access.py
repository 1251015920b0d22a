"""The gate in front of every route: which Host names are answered, which routes are public, and
who may read or change the rest.

Every route needs an identity (see `sessionheat.web.auth`) unless it is named in `PUBLIC_ROUTES`;
a route added later is protected by default, and `tests/test_access.py` walks `app.routes` to keep
it so. Admin-only routes are in `ADMIN_ROUTES`. A state-changing request made with credentials a
browser sends by itself (a login cookie, an SSO proxy's session) must carry the CSRF token of that
identity and must not come from another site.

The Host allowlist stops DNS rebinding: a page on attacker.example whose name is re-pointed at
127.0.0.1 reaches the server with `Host: attacker.example`, and is refused before any route runs.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from starlette.routing import BaseRoute, Mount, Route

from sessionheat.web.auth import LOGIN_COOKIE, Authenticator, Identity, LocalLink

Scope = MutableMapping[str, Any]  # as in starlette.types
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Routes anyone may reach: what visitors' browsers need to record (the snippet, the chunk
# endpoint, which checks its own site key), a health check, the login pages, and static files.
PUBLIC_ROUTES = frozenset({
    "snippet", "health", "collector_chunk", "collector_preflight", "static", "favicon",
    "rrweb_player_js", "rrweb_player_css", "login", "login_link",
})
# Routes that change what the server does for everyone, or start work: admins only.
ADMIN_ROUTES = frozenset({"heatmap_index"})
# The player document is served from an origin of its own, which the login cookie does not
# reach: it is opened with a short-lived grant for one session, made by the session page.
GRANT_ROUTES = frozenset({"session_player"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 4096  # a UI form (login, index, logout) is a few short fields; more is refused
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
PLAYER_LOCAL_HOST = "sessionheat-player.localhost"  # *.localhost is the loopback, no DNS involved
PLAYER_ORIGIN_ENV = "SESSIONHEAT_PLAYER_ORIGIN"  # the player's own origin, when the UI is not on loopback
DEFAULT_PROXY_HEADER = "x-forwarded-user"


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a Host header, lowercased, without its port (IPv6 keeps no brackets)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


@dataclass
class AccessPolicy:
    """How `serve` is reached: the host names it answers (`None`: any), the SSO proxies it trusts
    to name the user, and the one-time local link while no user exists."""

    allowed_hosts: frozenset[str] | None = field(
        default_factory=lambda: LOOPBACK_NAMES | {PLAYER_LOCAL_HOST})
    trusted_proxies: frozenset[str] = frozenset()
    proxy_user_header: str = DEFAULT_PROXY_HEADER
    local_link: LocalLink | None = None

    @classmethod
    def for_listener(cls, bind_host: str, extra_hosts: Iterable[str] = (), **kwargs: Any) -> "AccessPolicy":
        """Loopback names and the player's, the address bound (unless a wildcard), and `extra_hosts`
        (`*.example.com` matches its subdomains; `*` alone answers any name)."""
        hosts = set(LOOPBACK_NAMES | {PLAYER_LOCAL_HOST})
        player = urlsplit(os.environ.get(PLAYER_ORIGIN_ENV, "")).hostname
        if player:
            hosts.add(player)
        if bind_host not in ("0.0.0.0", "::", ""):
            hosts.add(host_name(bind_host) if not bind_host.startswith("[") else bind_host.strip("[]"))
        extra = {h.strip().lower() for h in extra_hosts if h.strip()}
        return cls(allowed_hosts=None if "*" in extra else frozenset(hosts | extra), **kwargs)

    def host_allowed(self, name: str) -> bool:
        if self.allowed_hosts is None:
            return True
        if name in self.allowed_hosts:
            return True
        return any(h.startswith("*.") and name.endswith(h[1:]) for h in self.allowed_hosts)


async def _answer(send: Send, status: int, body: dict[str, Any] | None = None,
                  headers: Iterable[tuple[str, str]] = ()) -> None:
    data = json.dumps(body).encode() if body is not None else b""
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
           (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class HostCheck:
    """Refuses requests for host names the server was not told to answer (DNS rebinding)."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy):
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.policy.allowed_hosts is not None:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if not self.policy.host_allowed(host_name(host)):
                await _answer(send, 421 if host else 400, {
                    "error": f"this server does not answer for host {host[:100]!r}; start it with "
                             "`sessionheat serve --allowed-host NAME` to add a name"})
                return
        await self.app(scope, receive, send)


def headers_of(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def cookie_value(headers: dict[str, str], name: str = LOGIN_COOKIE) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is no login, not an error
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def from_another_site(headers: dict[str, str]) -> bool:
    """Whether a browser says this request was started by a page of another site. Browsers send
    Sec-Fetch-Site; older ones only Origin (our pages send no referrer, so theirs is "null" only
    when `Sec-Fetch-Site` is there to say same-origin)."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or origin.split("://", 1)[-1] != headers.get("host", "")


async def identify(scope: Scope, auth: Authenticator, policy: AccessPolicy) -> Identity | None:
    """The identity a request carries, or None. Blocking lookups run in threads."""
    if "sessionheat_identity" in scope:
        return scope["sessionheat_identity"]
    headers = headers_of(scope)
    authorization = headers.get("authorization", "")
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    proxy_user = None
    client = (scope.get("client") or ("", 0))[0]
    if policy.trusted_proxies and client in policy.trusted_proxies:
        proxy_user = headers.get(policy.proxy_user_header) or None
    identity = await auth.identify(cookie=cookie_value(headers), bearer=bearer, proxy_user=proxy_user)
    scope["sessionheat_identity"] = identity
    state = scope.setdefault("state", {})
    state["identity"] = identity
    state["csrf_token"] = auth.csrf_token(identity) if identity else ""
    return identity


async def read_form(headers: dict[str, str], receive: Receive) -> bytes | None:
    """The body of a small form, or None past `MAX_FORM_BYTES`: refused on its declared length
    before reading, and never buffered beyond the limit when it is sent without one."""
    declared = headers.get("content-length", "")
    if declared.isdecimal() and int(declared[:20]) > MAX_FORM_BYTES:
        return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return bytes(body)
        body += message.get("body", b"")
        if len(body) > MAX_FORM_BYTES:
            return None
        if not message.get("more_body"):
            return bytes(body)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class Guard:
    """Wraps one route's app: lets the request through only with the identity the route needs."""

    def __init__(self, app: ASGIApp, name: str, auth: Authenticator, policy: AccessPolicy):
        self.app, self.name, self.auth, self.policy = app, name, auth, policy
        self.admin = name in ADMIN_ROUTES
        self.grant = name in GRANT_ROUTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        identity = await identify(scope, self.auth, self.policy)
        if identity is None and self.grant and self._granted(scope):
            await self.app(scope, receive, send)
            return
        if identity is None:
            await self._refuse_anonymous(scope, send)
            return
        if self.admin and not identity.admin:
            await _answer(send, 403, {"error": f"{identity.name} is a viewer; this needs an admin"})
            return
        if scope["method"] not in SAFE_METHODS:  # every form: from our pages, small, and ...
            headers = headers_of(scope)
            if from_another_site(headers):
                await _answer(send, 403, {"error": "a page of another site cannot do this here"})
                return
            body = await read_form(headers, receive)
            if body is None:
                await _answer(send, 413, {"error": f"a form here is at most {MAX_FORM_BYTES} bytes"})
                return
            # ... with the CSRF token of credentials a browser sends by itself (a token it never does)
            token = headers.get("x-csrf-token") or dict(
                parse_qsl(body.decode("utf-8", "replace"))).get("csrf_token")
            if identity.via != "token" and not self.auth.csrf_ok(identity, token):
                await _answer(send, 403, {"error": "the form's CSRF token is missing or stale; "
                                          "reload the page and try again"})
                return
            receive = _replay(body)
        await self.app(scope, receive, send)

    def _granted(self, scope: Scope) -> bool:
        params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        session_id = (scope.get("path_params") or {}).get("session_id", "")
        return bool(session_id) and self.auth.player_grant_ok(session_id, params.get("grant", ""))

    async def _refuse_anonymous(self, scope: Scope, send: Send) -> None:
        headers = headers_of(scope)
        if scope["method"] == "GET" and "text/html" in headers.get("accept", ""):
            path = scope.get("path", "/")
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            location = "/login?" + urlencode({"next": target})
            await _answer(send, 303, None, [("location", location)])
            return
        await _answer(send, 401, {"error": "log in first: a login cookie (/login), or an API token "
                                  "as `Authorization: Bearer …` (sessionheat users token NAME)"},
                      [("www-authenticate", 'Bearer realm="sessionheat"')])


def guard_routes(routes: list[BaseRoute], auth: Authenticator, policy: AccessPolicy) -> list[BaseRoute]:
    """Every route not named in `PUBLIC_ROUTES` gets a `Guard`; a route without a name cannot be
    public, so forgetting to name one protects it rather than opening it."""
    for route in routes:
        name = getattr(route, "name", None)
        if name in PUBLIC_ROUTES:
            continue
        if isinstance(route, (Route, Mount)):
            route.app = Guard(route.app, name or "", auth, policy)
        else:  # pragma: no cover - no other kinds of route here
            raise TypeError(f"cannot guard {route!r}")
    return routes


def login_location(next_path: str | None) -> str:
    """Where to go after logging in: a path on this server, never another site."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return "/sessions"
    return quote(next_path, safe="/?&=%:+,;@!$'()*~.-_")


__all__ = ["ADMIN_ROUTES", "AccessPolicy", "GRANT_ROUTES", "Guard", "HostCheck", "PUBLIC_ROUTES",
           "from_another_site", "guard_routes", "identify", "is_loopback", "login_location", "read_form"]
