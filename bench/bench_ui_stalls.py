"""The health check while the UI is busy: its p50 / p99 while one client opens the largest session
page (and its player document) over and over and another SQLite connection holds the write lock
for 5 s. The server is `sessionheat serve` in a process of its own, the opener another process,
so none of them shares a GIL with the clock. `python3 -m bench.bench_ui_stalls` runs it alone.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench import Figure
from bench.large_session import store_large_session

SESSION_ID = "large-session-0001"
LOCK_S = 5.0
TARGET_MS = 50


def _open_over_and_over(url: str, stop: object, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
        while not stop.is_set():  # type: ignore[attr-defined]
            client.get(f"/sessions/{SESSION_ID}")
            with client.stream("GET", f"/sessions/{SESSION_ID}/player") as player:
                for _ in player.iter_raw():
                    pass


def _hold_write_lock(db: Path, seconds: float) -> None:
    con = sqlite3.connect(str(db), isolation_level=None, timeout=30)
    con.execute("BEGIN IMMEDIATE")
    time.sleep(seconds)
    con.execute("ROLLBACK")
    con.close()


def one_round(db: Path, log: Path) -> list[float]:
    """Health check latencies (s) over the 5 s the lock is held, the opener busy throughout."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from collector_helpers import TEAM, ServeProcess, free_port

    server = ServeProcess(db, free_port(), log).start()
    stop = multiprocessing.Event()
    opener = multiprocessing.Process(target=_open_over_and_over, args=(server.url, stop, TEAM))
    latencies: list[float] = []
    try:
        opener.start()
        time.sleep(0.5)
        locker = threading.Thread(target=_hold_write_lock, args=(db, LOCK_S))
        locker.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while locker.is_alive():
                started = time.perf_counter()
                client.get("/api/v1/health")
                latencies.append(time.perf_counter() - started)
                time.sleep(0.01)
        locker.join()
    finally:
        stop.set()
        opener.join(120)
        server.stop()
    return latencies


def run(quick: bool = False) -> list[Figure]:
    rounds = 2 if quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "large.db"
        from plumbing.store import SessionStore

        with SessionStore(db) as store:
            size = store_large_session(store, SESSION_ID, target_bytes=30_000_000)
        p50s, p99s = [], []
        for _ in range(rounds):
            lat = sorted(one_round(db, Path(tmp) / "serve.log"))
            p50s.append(lat[len(lat) // 2] * 1000)
            p99s.append(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000)
    spread = lambda xs: f"{min(xs):.1f}-{max(xs):.1f} over {len(xs)} runs"  # noqa: E731
    note = f"session of {size / 1e6:.1f} MB of events; write lock held {LOCK_S:.0f} s"
    return [Figure("ui", "health p50 while a large session opens, db locked", statistics.median(p50s), "ms",
                   "", f"median; {spread(p50s)}; {note}"),
            Figure("ui", "health p99 while a large session opens, db locked", statistics.median(p99s), "ms",
                   f"< {TARGET_MS}", f"median; {spread(p99s)} (3.5-4.9 s in the trial)")]


if __name__ == "__main__":
    for figure in run():
        print(figure)
