"""Running the collector for tests: uvicorn in a thread, or `sessionheat serve` in a process to kill.

Both bind 127.0.0.1 only, wait until the server answers, say what went wrong if it never does, and
always shut down.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
T_NOW = int(time.time() * 1000)


# Every test server's store gets one admin, "tester", holding this API token: tests of what the UI
# shows use it (`team_get`, `team_page`); tests of logging in itself are in tests/test_access.py.
TEAM_TOKEN = "sht_" + "test-token-of-the-tester-admin-0123456789"
TEAM = {"Authorization": f"Bearer {TEAM_TOKEN}"}


def enroll_team(store: Any) -> None:
    """Give `store` the tester admin and its token (idempotent)."""
    import hashlib

    if store.get_user("tester") is None:
        store.add_user("tester", "admin", None)
        store.add_api_token("tester", hashlib.sha256(TEAM_TOKEN.encode()).hexdigest(), "tests")


def team_get(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.get` as the tester admin."""
    return httpx.get(url, headers={**TEAM, **kwargs.pop("headers", {})}, **kwargs)


def team_cookies(store: Any) -> dict[str, str]:
    """A login cookie of the tester admin, as the login form would set it (for what a token
    cannot show: downloads, forms a browser posts with its cookies)."""
    from sessionheat.web.auth import LOGIN_COOKIE, Authenticator

    enroll_team(store)
    return {LOGIN_COOKIE: Authenticator(store).start_login("tester")}


def team_page(browser: Any, **kwargs: Any) -> Any:
    """A new browser page whose requests carry the tester admin's token."""
    page = browser.new_page(**kwargs)
    page.set_extra_http_headers(TEAM)
    return page


class ThreadServer:
    """An ASGI app served by uvicorn on an ephemeral loopback port, in a daemon thread. An app of
    ours gets the tester admin in its store (see `enroll_team`)."""

    def __init__(self, app: Any):
        import uvicorn

        if hasattr(app, "state") and hasattr(app.state, "auth"):
            enroll_team(app.state.store)

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start (see the log above)")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> "ThreadServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen[bytes], timeout: float = 20) -> bool:
    """Whether `proc`'s app at `url` answers its health check before `timeout` s (False if it exits)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return False


class ServeProcess:
    """`python -m sessionheat serve` as a child process, so a test can SIGKILL it like a crash."""

    def __init__(self, db: Path | str, port: int, log: Path, *extra_args: str, team: bool = True):
        """`db`: a SQLite file or a PostgreSQL URL. `team`: give the store the tester admin first
        (see `enroll_team`)."""
        self.db, self.port, self.log_path = db, port, log
        self.team = team
        self.extra_args = extra_args
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "ServeProcess":
        if self.team:
            from plumbing.store import SessionStore

            with SessionStore(self.db) as store:
                enroll_team(store)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sessionheat", "serve", "--db", str(self.db),
             "--host", "127.0.0.1", "--port", str(self.port), *self.extra_args],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if not wait_until_serving(self.url, self.proc):
            self.stop()
            raise RuntimeError(f"sessionheat serve did not start:\n{self.log_path.read_text()}")
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown code runs."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def meta(t: int = T_NOW, href: str = "http://127.0.0.1:1/a", w: int = 1280, h: int = 800) -> dict:
    return {"type": 4, "data": {"href": href, "width": w, "height": h}, "timestamp": t}


def snapshot(t: int = T_NOW) -> dict:
    return {"type": 2, "timestamp": t,
            "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset": {"left": 0, "top": 0}}}


def click(t: int = T_NOW, node: int = 1) -> dict:
    return {"type": 3, "timestamp": t, "data": {"source": 2, "type": 2, "id": node, "x": 10, "y": 20}}


def page_events(t: int = T_NOW, href: str = "http://127.0.0.1:1/a") -> list[dict]:
    """A page's first events; `href` must be on the receiving site's origins for a collector."""
    return [meta(t, href), snapshot(t + 1), click(t + 2)]
