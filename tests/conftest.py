"""Shared fixtures: one real Chromium, one loopback test server for tests/assets, real SQLite files,
and a real PostgreSQL server (tests/postgres_server.py) with a fresh database per test."""

from __future__ import annotations

import functools
import os
import signal
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ASSETS = Path(__file__).resolve().parent / "assets"


class _AssetHandler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class AssetServer:
    """Serves tests/assets (or `directory`) on 127.0.0.1 at an ephemeral port; `url(path)` builds
    page URLs."""

    def __init__(self, directory: Path = ASSETS, handler_class: type = _AssetHandler) -> None:
        handler = functools.partial(handler_class, directory=str(directory))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.origin = f"http://127.0.0.1:{self.httpd.server_port}"

    def url(self, path: str = "") -> str:
        return f"{self.origin}/{path.lstrip('/')}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def asset_server() -> Iterator[AssetServer]:
    server = AssetServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def demo_server() -> Iterator[Any]:
    from demo import serve_demo

    with serve_demo() as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """One real Chromium for the whole run, launched through the product's own launcher."""
    from plumbing.browser import launch_chromium

    b = launch_chromium(playwright)
    yield b
    b.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    from plumbing.store import SessionStore

    s = SessionStore(tmp_path / "sessions.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One real PostgreSQL server per test process (so one per pytest-xdist worker), on 127.0.0.1
    at a free port, its data in a temp folder; stopped at the end of the run. Missing server
    binaries fail the test with what to install: CI installs them (scripts/setup.sh)."""
    from postgres_server import PostgresNotFound, PostgresServer

    try:
        server = PostgresServer().start()
    except PostgresNotFound as e:
        pytest.fail(str(e), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives, once per backend: a SQLite file path, or a PostgreSQL URL (a fresh
    database). What `SessionStore(...)` and `--db` take; the PostgreSQL server starts only for the
    tests that ask for it."""
    if request.param == "sqlite":
        return str(tmp_path / "sessions.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def backend_store(store_location: str) -> Iterator[Any]:
    """`SessionStore(store_location)`: the same tests on SQLite and on PostgreSQL."""
    from plumbing.store import SessionStore

    s = SessionStore(store_location)
    yield s
    s.close()


def pytest_report_header(config: pytest.Config) -> str:
    return "store backends: sqlite, postgresql"


def chromium_pids() -> set[int]:
    """Pids of every Chromium process started (through Playwright's driver) by this test process."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1: stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        names[int(entry.name)] = name
    stack, found = [os.getpid()], set()
    while stack:
        pid = stack.pop()
        for child in children.get(pid, []):
            if "chrom" in names.get(child, ""):
                found.add(child)
            stack.append(child)
    return found


def kill_processes(pids: set[int]) -> None:
    """SIGKILL, as a crash or the OOM killer would."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
