"""Session list speed: `/sessions` over 100 000 synthetic sessions, server time per page.

The sessions are written straight into the store (`SessionStore.load_session_summaries`: session
rows, pageviews, rage / dead hits, index marks, no events), which takes seconds instead of the hours
recording would; the page is then requested through the real app (routing, `query_sessions`,
`count_sessions`, the viewport choices, template rendering), in process, so the time is the
server's alone. `python3 -m bench.bench_ui_sessions` prints the same figures on their own.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import Figure, team_headers

N_SESSIONS = 100_000
T_START = 1_780_000_000_000  # 2026-05-28
PAGES = ["/", "/index.html?variant=A", "/index.html?variant=B", "/product.html", "/pricing.html",
         "/signup.html", "/docs/getting-started.html", "/blog/launch.html"]
VIEWPORTS = [(1280, 800), (1440, 900), (1920, 1080), (820, 1180), (390, 844), (412, 915)]
DEVICES = {1280: "desktop", 1440: "desktop", 1920: "desktop", 820: "tablet", 390: "mobile", 412: "mobile"}


def synthetic_store(path: Path, n: int = N_SESSIONS, seed: int = 1) -> dict[str, int]:
    """Fill a store with `n` sessions spread over 90 days; returns how many of each were made."""
    from plumbing.store import SessionStore

    rng = random.Random(seed)
    sessions: list[dict[str, Any]] = []
    pageviews: list[dict[str, Any]] = []
    hits: list[dict[str, Any]] = []
    indexed: list[str] = []
    counts = {"sessions": n, "pageviews": 0, "rage_sessions": 0, "dead_sessions": 0}
    for i in range(n):
        sid = f"bench-{i:07d}-{rng.randrange(16**6):06x}"
        first = T_START + int(i * 90 * 86_400_000 / n) + rng.randrange(60_000)
        duration = int(rng.lognormvariate(11, 1.2))  # median ~ 1 min, long tail
        w, h = rng.choice(VIEWPORTS)
        urls = [rng.choice(PAGES) for _ in range(rng.randint(1, 5))]
        sessions.append({
            "id": sid, "site": "bench", "first_ts": first, "last_ts": first + duration,
            "duration_ms": duration, "device": DEVICES[w], "viewport_w": w, "viewport_h": h,
            "entry_url": "https://staging.test" + urls[0], "n_events": rng.randint(20, 5000),
            "n_chunks": 1, "properties": {"variant": rng.choice("AB"),
                                          "plan": rng.choices(["free", "pro", "enterprise"], [70, 28, 2])[0],
                                          "country": rng.choice(["fr", "de", "us", "jp", "br"])},
        })
        step = max(1, duration // len(urls))
        for k, url in enumerate(urls):
            pageviews.append({"session_id": sid, "index": k, "url": "https://staging.test" + url,
                              "ts_start": first + k * step, "t_start": k * step,
                              "t_end": (k + 1) * step, "width": w, "height": h})
        counts["pageviews"] += len(urls)
        if rng.random() < 0.8:
            indexed.append(sid)
            roll = rng.random()
            if roll < 0.05:
                counts["rage_sessions"] += 1
                hits += [{"session_id": sid, "pageview": 0, "t": 1000 + j * 150, "kind": "click",
                          "rage": True} for j in range(3)]
            elif roll < 0.13:
                counts["dead_sessions"] += 1
                hits.append({"session_id": sid, "pageview": 0, "t": 1000, "kind": "click", "dead": True})
    with SessionStore(path) as store:
        store.load_session_summaries(sessions, pageviews, hits, indexed)
        store.db.conn.execute("ANALYZE")
    return counts


def _deep_cursor(store: Any, rows: int) -> str:
    """The cursor of the page that starts after `rows` sessions (walked, as a person paging would)."""
    cursor = None
    for _ in range(rows // 500):
        cursor = store.query_sessions(after=cursor, limit=500).next_cursor
    assert cursor is not None
    return cursor


async def _timed(app: Any, paths: list[str], rounds: int, headers: dict[str, str]) -> list[list[float]]:
    """Milliseconds per request for each path, the app called in process (no network)."""
    import httpx

    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1",
                                 headers=headers) as client:
        await client.get("/sessions")  # warm: templates compiled, SQLite pages cached
        for path in paths:
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                response = await client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, response.status_code, response.text[:500])
            out.append(sorted(times))
    return out


def run(quick: bool = False) -> list[Figure]:
    from plumbing.store import SessionStore

    from sessionheat.web import create_app

    rounds = 5 if quick else 20
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        start = time.perf_counter()
        counts = synthetic_store(path)
        load_s = time.perf_counter() - start
        figures.append(Figure("ui_sessions", f"load {counts['sessions']:,} synthetic sessions "
                              f"({counts['pageviews']:,} pageviews)", load_s, "s",
                              note="straight into SQLite, not recorded"))
        store = SessionStore(path)
        deep = _deep_cursor(store, 50_000)
        cases = [
            ("first page, no filter", "/sessions"),
            ("first page, property variant=B", "/sessions?property=variant%3DB"),
            ("first page, rare property plan=enterprise (2 %)", "/sessions?property=plan%3Denterprise"),
            ("first page, URL filter pricing.html", "/sessions?url=pricing.html"),
            ("first page, URL filter that matches nothing", "/sessions?url=no-such-page"),
            ("first page, has rage clicks", "/sessions?rage=1"),
            ("first page, mobile, min 60 s, sorted by duration",
             "/sessions?device=mobile&min_duration=60&sort=duration"),
            ("deep page (after 50 000 sessions)", f"/sessions?after={deep}"),
        ]
        measured = asyncio.run(_timed(create_app(store), [url for _, url in cases], rounds,
                                  team_headers(store)))
        for (name, _), times in zip(cases, measured):
            figures.append(Figure("ui_sessions", f"/sessions {name}", statistics.median(times), "ms",
                                  target="< 200", note=f"server time, median of {rounds}; "
                                  f"max {times[-1]:.0f} ms"))
        start = time.perf_counter()
        for _ in range(rounds):
            store.query_sessions(limit=50)
        figures.append(Figure("ui_sessions", "query_sessions alone, first page, no filter",
                              (time.perf_counter() - start) * 1000 / rounds, "ms"))
        store.close()
    return figures


if __name__ == "__main__":
    for figure in run():
        print(f"{figure.name:70s} {figure.value:10.1f} {figure.unit:3s} {figure.target:6s} {figure.note}")
