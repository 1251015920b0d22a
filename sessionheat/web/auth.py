"""Who may read recordings: users, passwords, logins, API tokens, the SSO proxy, CSRF tokens.

Recordings hold what visitors saw and typed, so every route that reads them needs an identity:
a login cookie (from the login page, or the one-time link `serve` prints while no user exists),
an API token (`Authorization: Bearer`, for scripts), or a user name from an SSO proxy at an address
named with `serve --trusted-proxy`. The guard itself is in `sessionheat.web.access`.

Secrets are never stored: passwords as argon2id hashes (argon2-cffi), API tokens and login ids as
SHA-256 (they are 192 random bits; a slow hash buys nothing there). A login cookie carries a random
login id signed with the store's secret, so a forged or guessed cookie costs one HMAC, not a query;
the login itself lives in the store, so logging out, a new password or removing a user ends it at
once, in every process on that store.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from plumbing.store import SessionStore, StoreError

ROLES = ("viewer", "admin")  # viewers read; admins also index and manage users and sites
LOGIN_COOKIE = "sessionheat_login"
LOGIN_TTL_S = 7 * 24 * 3600  # a login lasts a week, then the login page asks again
LOGIN_CHECK_S = 5.0  # a process re-reads a login from the store at least this often (logout elsewhere)
PLAYER_GRANT_TTL_S = 15 * 60  # the player document, on its own origin, is opened with a grant this fresh
TOKEN_PREFIX = "sht_"
USER_NAME_CHARS = 64
FAILURES_ALLOWED = 5  # failed logins per account, and per client address, ...
FAILURE_WINDOW_S = 15 * 60  # ... within this window; then 429 until the oldest ages out
SECRET_SETTING = "auth_secret"

_hasher_lock = threading.Lock()
_hasher: Any = None


def _password_hasher() -> Any:
    global _hasher
    with _hasher_lock:
        if _hasher is None:
            from argon2 import PasswordHasher

            _hasher = PasswordHasher()  # argon2id, the library's maintained defaults
        return _hasher


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("a password cannot be empty")
    return str(_password_hasher().hash(password))


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists: an unknown name is checked against a dummy."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _password_hasher()
    try:
        return bool(hasher.verify(stored_hash or _dummy_hash(), password)) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY[0]


def check_user_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > USER_NAME_CHARS or not name.isprintable():
        raise ValueError(f"a user name is 1 to {USER_NAME_CHARS} printable characters")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"a role is one of {', '.join(ROLES)}")
    return role


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- the library calls behind `sessionheat users ...` ---------------------------------------------

def add_user(store: SessionStore, name: str, role: str = "viewer", password: str | None = None) -> None:
    """A user who logs in with `password`, or (None) only through the SSO proxy."""
    store.add_user(check_user_name(name), check_role(role),
                   hash_password(password) if password is not None else None)


def set_password(store: SessionStore, name: str, password: str) -> None:
    store.update_user(name, password_hash=hash_password(password))


def new_api_token(store: SessionStore, name: str, label: str = "") -> str:
    """A new token for scripts; only its hash is kept, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.add_api_token(name, _sha256(token), label[:100])
    return token


# -- identities ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """Who a request is from: `via` is login, token or proxy (CSRF applies to login and proxy,
    whose credentials a browser sends by itself); `session_key` ties CSRF tokens to it."""

    name: str
    role: str
    via: str
    session_key: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


class Authenticator:
    """Signs and checks login cookies, API tokens, CSRF tokens and player grants over one store."""

    def __init__(self, store: SessionStore):
        self.store = store
        self._secret = base64.urlsafe_b64decode(
            store.setting(SECRET_SETTING, lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()))
        self._logins: dict[str, tuple[float, Identity | None]] = {}  # login hash -> (checked, who)
        self._tokens: dict[str, tuple[float, Identity | None]] = {}
        self.throttle = LoginThrottle()

    # signatures
    def sign(self, text: str) -> str:
        mac = hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def _signed(self, text: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(text), signature)

    # logins (cookies)
    def start_login(self, user: str) -> str:
        """A new login for `user` ('' for the one-time link's admin): the cookie's value."""
        login_id = secrets.token_urlsafe(24)
        self.store.add_login(_sha256(login_id), user, int(time.time()) + LOGIN_TTL_S)
        return f"{login_id}.{self.sign('login:' + login_id)}"

    def end_login(self, cookie: str) -> None:
        login_id = self._login_id(cookie)
        if login_id:
            self.store.end_login(_sha256(login_id))
            self._logins.pop(_sha256(login_id), None)

    def _login_id(self, cookie: str) -> str | None:
        login_id, _, signature = cookie.partition(".")
        if not login_id or len(cookie) > 200 or not self._signed("login:" + login_id, signature):
            return None
        return login_id

    def from_cookie(self, cookie: str) -> Identity | None:
        """Blocking (reads the store): call it off the event loop."""
        login_id = self._login_id(cookie)
        if login_id is None:
            return None
        digest = _sha256(login_id)

        def read() -> Identity | None:
            row = self.store.login(digest)
            if row is None:
                return None
            return Identity(row["user"] or "local admin", row["role"], "login", "login:" + login_id)

        return self._cached(self._logins, digest, read)

    def from_token(self, token: str) -> Identity | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = _sha256(token)

        def read() -> Identity | None:
            row = self.store.user_for_api_token(digest)
            return Identity(row["name"], row["role"], "token", "token:" + digest) if row else None

        return self._cached(self._tokens, digest, read)

    def from_proxy(self, name: str) -> Identity | None:
        """A name the trusted SSO proxy vouches for: a known user keeps its role; anyone else the
        proxy let through reads (an admin is made with `sessionheat users add NAME --role admin`)."""
        try:
            name = check_user_name(name)
        except ValueError:
            return None
        user = self.store.get_user(name)
        return Identity(name, user["role"] if user else "viewer", "proxy", "proxy:" + name)

    @staticmethod
    def _cached(cache: dict[str, tuple[float, Identity | None]], key: str, read: Any) -> Identity | None:
        now = time.monotonic()
        hit = cache.get(key)
        if hit is not None and now - hit[0] < LOGIN_CHECK_S:
            return hit[1]
        who = read()
        if len(cache) > 10_000:  # random cookies and tokens cannot grow it without end
            cache.clear()
        cache[key] = (now, who)
        return who

    async def identify(self, *, cookie: str | None, bearer: str | None,
                       proxy_user: str | None) -> Identity | None:
        if bearer:
            return await asyncio.to_thread(self.from_token, bearer)
        if proxy_user:
            return await asyncio.to_thread(self.from_proxy, proxy_user)
        if cookie:
            return await asyncio.to_thread(self.from_cookie, cookie)
        return None

    # CSRF and player grants
    def csrf_token(self, identity: Identity) -> str:
        return self.sign("csrf:" + identity.session_key)

    def csrf_ok(self, identity: Identity, token: str | None) -> bool:
        return bool(token) and self._signed("csrf:" + identity.session_key, token or "")

    def player_grant(self, session_id: str, now: float | None = None) -> str:
        """Lets the player document, served from an origin of its own that the login cookie does
        not reach, open this one session for a while."""
        expires = int((now or time.time()) + PLAYER_GRANT_TTL_S)
        return f"{expires}.{self.sign(f'player:{session_id}:{expires}')}"

    def player_grant_ok(self, session_id: str, grant: str) -> bool:
        expires, _, signature = grant.partition(".")
        if not expires.isdigit() or len(expires) > 12 or int(expires) < time.time():
            return False
        return self._signed(f"player:{session_id}:{expires}", signature)

    # passwords
    def check_password(self, name: str, password: str) -> Identity | None:
        """Blocking (argon2 takes ~0.1 s by design): call it off the event loop."""
        user = self.store.get_user(name) if name else None
        if not password_matches(user["password_hash"] if user else None, password):
            return None
        assert user is not None
        return Identity(user["name"], user["role"], "login", "")


class LoginThrottle:
    """Failed logins counted per account and per client address: past `FAILURES_ALLOWED` within
    `FAILURE_WINDOW_S`, both wait (429) until the oldest failure ages out. Guessing a password
    then takes years; a person who mistyped waits minutes."""

    def __init__(self, allowed: int = FAILURES_ALLOWED, window_s: float = FAILURE_WINDOW_S):
        self.allowed, self.window_s = allowed, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> float:
        """Seconds before another try is heard (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._failures.get(key)
                while times and now - times[0] > self.window_s:
                    times.popleft()
                if times and len(times) >= self.allowed:
                    wait = max(wait, self.window_s - (now - times[0]))
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, account_key: str) -> None:
        with self._lock:
            self._failures.pop(account_key, None)


class LocalLink:
    """The one-time login link `serve` prints on loopback while no user exists (as Jupyter does):
    whoever can read the terminal that started the server gets in, nobody else on the machine."""

    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(24)
        self.used = False

    def redeem(self, token: str) -> bool:
        if self.used or not hmac.compare_digest(token.encode(), self.token.encode()):
            return False
        self.used = True
        return True


__all__ = ["Authenticator", "Identity", "LOGIN_COOKIE", "LocalLink", "LoginThrottle", "ROLES",
           "StoreError", "add_user", "check_role", "check_user_name", "hash_password",
           "new_api_token", "set_password"]
