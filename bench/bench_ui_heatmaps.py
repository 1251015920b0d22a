"""Heatmap explorer speed: the page (and its map PNG) served from cache, and a map's first render.

Demo visitors (A/B variants, banners, promo, three viewports) are recorded and indexed into a
fresh store; `create_app` is served by uvicorn on 127.0.0.1. Then:
  - first render: from the first GET of the home page's click map (a cache miss, which starts the
    background job) until its status says done, as a person waiting on the page sees it;
  - from cache: the explorer page, the map PNG by key and the map PNG by parameters, each asked
    many times; server time is the page's own `Server-Timing` figure (parse, select, fingerprint,
    render the HTML) and, for PNGs, the loopback round trip (an upper bound of server time).
The store is then padded with synthetic sessions on other pages and the cached page asked again,
both while the store is quiet (the page remembers its cache key until the store changes) and
right after a write (the selection is read again, by the indexed page path, to recompute the key).
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import Figure, team_headers

AREA = "ui heatmaps"
TARGET_MS = 200
QUERY = "url=/&kind=click&viewport=desktop"


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


class _Server:
    """uvicorn on an ephemeral 127.0.0.1 port, in a thread; always shut down."""

    def __init__(self, app: Any):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def _server_ms(response: httpx.Response) -> float:
    match = re.search(r"dur=([0-9.]+)", response.headers.get("server-timing", ""))
    return float(match.group(1)) if match else float("nan")


def _timed_gets(client: httpx.Client, url: str, rounds: int) -> tuple[list[float], list[float]]:
    """(server ms, round-trip ms) per request, every one of which must be a cache hit."""
    server, wall = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        r = client.get(url)
        wall.append((time.perf_counter() - start) * 1000)
        if r.status_code != 200 or r.headers.get("x-heatmap-cache") != "hit":
            raise RuntimeError(f"not served from cache: {r.status_code} {r.headers.get('x-heatmap-cache')}")
        server.append(_server_ms(r))
    return server, wall


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def _pad(store: Any, n: int) -> None:
    """n synthetic sessions on another page: a Meta, a tiny snapshot and a click each."""
    t0 = int(time.time() * 1000) - 86_400_000
    for i in range(n):
        t = t0 + i * 10
        events = [
            {"type": 4, "timestamp": t, "data": {"href": f"http://127.0.0.1:9/other/{i % 50}", "width": 1280,
                                                "height": 800}},
            {"type": 2, "timestamp": t + 1, "data": {"node": {"type": 0, "id": 1, "childNodes": []},
                                                     "initialOffset": {"left": 0, "top": 0}}},
            {"type": 3, "timestamp": t + 2, "data": {"source": 2, "type": 2, "id": 1, "x": 5, "y": 5}},
        ]
        store.append_chunk(f"bench-pad-{i:07d}", 0, events)


def run(quick: bool = False) -> list[Figure]:
    from plumbing.browser import chromium

    from demo import serve_demo
    from demo.job import plan_demo_visitors
    from heatmap import index_sessions
    from recorder import SessionStore, record_journeys
    from sessionheat.web import create_app

    n_visitors = 9 if quick else 18
    rounds = 20 if quick else 60
    n_pad = 2_000 if quick else 100_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp, serve_demo() as demo:
        store = SessionStore(Path(tmp) / "bench.db")
        with chromium() as browser:
            _log(f"recording {n_visitors} demo visitors")
            record_journeys(plan_demo_visitors(demo.url, n_visitors, seed=7), None, store=store, seed=7,
                            browser=browser)
            _log("indexing")
            index_sessions(store, browser=browser)
        with _Server(create_app(store)) as origin, httpx.Client(
                base_url=origin, timeout=60, headers=team_headers(store)) as client:
            page = f"/heatmaps?{QUERY}"
            start = time.perf_counter()
            first = client.get(page)
            job = re.search(r'data-status-url="([^"]+)"', first.text)
            if first.headers.get("x-heatmap-cache") != "miss" or not job:
                raise RuntimeError("the first request should start drawing the map")
            while True:
                status = client.get(job.group(1)).json()
                if status["state"] in ("done", "failed"):
                    break
                time.sleep(0.05)
            first_render = time.perf_counter() - start
            if status["state"] != "done":
                raise RuntimeError(f"first render failed: {status['error']}")
            html = client.get(page)
            key = re.search(r"/heatmaps/maps/([0-9a-f]+)/map\.png", html.text).group(1)
            n_sessions = re.search(r"<strong>(\d+)</strong> sessions?", html.text).group(1)
            figures.append(Figure(AREA, "first render of a click map (request to ready)", first_render, "s",
                                  "", f"home page, desktop, {n_sessions} sessions; replays the reference"
                                  " layout in the worker's Chromium (started on demand)"))

            server, wall = _timed_gets(client, page, rounds)
            figures.append(Figure(AREA, "heatmap page from cache, server time, median", statistics.median(server),
                                  "ms", f"< {TARGET_MS}", f"{rounds} requests; p95 {_p95(server):.1f} ms"))
            figures.append(Figure(AREA, "heatmap page from cache, round trip, median", statistics.median(wall),
                                  "ms", f"< {TARGET_MS}", f"loopback HTTP; p95 {_p95(wall):.1f} ms"))
            _, wall_png = _timed_gets(client, f"/heatmaps/maps/{key}/map.png", rounds)
            figures.append(Figure(AREA, "map PNG by key from cache, round trip, median",
                                  statistics.median(wall_png), "ms", f"< {TARGET_MS}",
                                  f"p95 {_p95(wall_png):.1f} ms; {len(client.get(f'/heatmaps/maps/{key}/map.png').content) // 1024} KiB"))
            _, wall_cur = _timed_gets(client, f"/heatmaps/map.png?{QUERY}", rounds)
            figures.append(Figure(AREA, "map PNG by parameters from cache, round trip, median",
                                  statistics.median(wall_cur), "ms", f"< {TARGET_MS}",
                                  f"p95 {_p95(wall_cur):.1f} ms; same cache-key lookup as the page"))

            _log(f"padding the store with {n_pad} synthetic sessions on other pages")
            _pad(store, n_pad)
            n_store = n_pad + n_visitors
            server_big, wall_big = _timed_gets(client, page, rounds)
            figures.append(Figure(AREA, f"heatmap page from cache, {n_store} sessions in store, "
                                  "server time, median", statistics.median(server_big), "ms", f"< {TARGET_MS}",
                                  f"p95 {_p95(server_big):.1f} ms; round trip median {statistics.median(wall_big):.1f} ms"))
            # Right after any write the page selects again (that is how it notices new hits):
            # change the store before every request, as a busy collector would.
            server_changed = []
            for i in range(max(5, rounds // 4)):
                store.set_properties(f"bench-pad-{i:07d}", {"touched": i})
                server_changed += _timed_gets(client, page, 1)[0]
            figures.append(Figure(AREA, f"heatmap page from cache just after a write, {n_store} sessions, "
                                  "server time, median", statistics.median(server_changed), "ms",
                                  f"< {TARGET_MS}", f"p95 {_p95(server_changed):.1f} ms; re-reads the selection"
                                  " (the page's pageviews, by the indexed page path) to recompute the key"))
        store.close()
    return figures
