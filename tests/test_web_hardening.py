"""What an attacker's trial against a running `sessionheat serve` found (issue 18), kept fixed:
nothing a request does stalls the others, and hostile input is a 4xx with a reason, never a 500.

Real parts: `sessionheat serve` in a child process or uvicorn in a thread, real SQLite files.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.large_session import store_large_session
from collector_helpers import ServeProcess, ThreadServer, free_port, page_events
from sessionheat.store import SessionStore
from sessionheat.web import create_app

LARGE_ID = "large-session-0001"
PROMPT_S = 0.75  # before the fix: 1.5-2 s here (3.5-4.9 s in the trial); now tens of ms


@pytest.fixture(scope="module")
def large_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one large session (about 30 MB of events) and a small one."""
    db = tmp_path_factory.mktemp("hardening") / "large.db"
    with SessionStore(db) as store:
        store_large_session(store, LARGE_ID, target_bytes=30_000_000)
        store.append_chunk("small-session-1", 0, page_events())
    return db


@pytest.fixture(scope="module")
def served(large_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(large_db, free_port(), tmp_path_factory.mktemp("log") / "serve.log").start()
    try:
        yield server
    finally:
        server.stop()


def _hold_write_lock(db: Path, seconds: float, held: threading.Event) -> None:
    con = sqlite3.connect(str(db), isolation_level=None, timeout=30)
    try:
        con.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        con.execute("ROLLBACK")
    finally:
        con.close()


def test_a_locked_database_and_a_large_session_do_not_stall_other_requests(
        served: ServeProcess, large_db: Path) -> None:
    held = threading.Event()
    locker = threading.Thread(target=_hold_write_lock, args=(large_db, 4.0, held))
    locker.start()
    held.wait(10)
    stop = threading.Event()

    def open_large_session() -> None:
        with httpx.Client(base_url=served.url, timeout=60) as client:
            while not stop.is_set():
                assert client.get(f"/sessions/{LARGE_ID}").status_code == 200
                with client.stream("GET", f"/sessions/{LARGE_ID}/player") as player:
                    assert player.status_code == 200
                    for _ in player.iter_raw():
                        pass

    opener = threading.Thread(target=open_large_session)
    opener.start()
    slowest: dict[str, float] = {}
    try:
        time.sleep(0.3)  # the first session page is being read
        with httpx.Client(base_url=served.url, timeout=30) as client:
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                for path in ("/api/v1/health", "/snippet.js", "/static/ui.css"):
                    started = time.perf_counter()
                    assert client.get(path).status_code == 200
                    slowest[path] = max(slowest.get(path, 0.0), time.perf_counter() - started)
                time.sleep(0.05)
    finally:
        stop.set()
        opener.join(60)
        locker.join(10)
    assert max(slowest.values()) < PROMPT_S, slowest
