"""Recording overhead on a mutation-heavy page, and stored bytes per event.

Three ways of loading the same page in the same run, interleaved so machine noise hits all alike:
no recording; rrweb into an in-page array (rrweb's own floor); our recorder with its transport to
the store. The page times its own mutation rounds (performance.now), so browser start-up and
navigation are not part of the figure.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import Figure
from demo import serve_demo
from demo.job import plan_demo_visitors
from recorder import SessionStore, record, record_journeys
from plumbing.assets import amd_safe, page_script, vendor_text
from plumbing.browser import chromium

START = "() => window.startMutations()"


def _floor_script() -> str:
    floor = page_script("bench", "rrweb_floor.js")
    return f"(function(){{var holder={{}};{amd_safe(vendor_text('rrweb.js'), 'holder')}\n({floor})(holder.rrweb);}})();"


def _time_plain(browser: Any, url: str, init_script: str | None) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        if init_script:
            page.add_init_script(script=init_script)
        page.goto(url)
        page.wait_for_timeout(200)
        return float(page.evaluate(START)["ms"])
    finally:
        context.close()


def _time_ours(browser: Any, url: str, store: SessionStore) -> float:
    with record(url, store=store, browser=browser) as session:
        session.page.wait_for_timeout(200)
        return float(session.page.evaluate(START)["ms"])


def run(quick: bool = False) -> list[Figure]:
    repeats = 3 if quick else 9
    query = "?rounds=40&nodes=300" if quick else "?rounds=80&nodes=400"
    floor = _floor_script()
    times: dict[str, list[float]] = {"none": [], "rrweb": [], "ours": []}
    with tempfile.TemporaryDirectory() as tmp, serve_demo() as server, chromium() as browser:
        store = SessionStore(Path(tmp) / "bench.db")
        url = server.url + "mutations.html" + query
        ways: dict[str, Callable[[], float]] = {
            "none": lambda: _time_plain(browser, url, None),
            "rrweb": lambda: _time_plain(browser, url, floor),
            "ours": lambda: _time_ours(browser, url, store),
        }
        for way in ways.values():  # warm-up: caches, JIT
            way()
        for _ in range(repeats):
            for name, way in ways.items():
                times[name].append(way())
        mutation_stats = store.storage_stats()
        store.close()
        visitors = SessionStore(Path(tmp) / "visitors.db")
        n_visitors = 3 if quick else 12
        record_journeys(plan_demo_visitors(server.url, n_visitors), None, store=visitors,
                        browser=browser)
        visitor_stats = visitors.storage_stats()
        visitors.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    note = f"median of {repeats}, page {query[1:]}"
    return [
        Figure("recording", "mutation rounds, no recording", med["none"], "ms", note=note),
        Figure("recording", "rrweb into in-page array (floor)", med["rrweb"], "ms",
               note=f"{med['rrweb'] / med['none']:.2f}x no recording"),
        Figure("recording", "ours, to the store", med["ours"], "ms",
               note=f"{med['ours'] / med['none']:.2f}x no recording"),
        Figure("recording", "ours / rrweb floor", med["ours"] / med["rrweb"], "x", "<= 1.10"),
        _storage_figure("mutation page", mutation_stats),
        _storage_figure(f"{n_visitors} demo visitors", visitor_stats),
    ]


def _storage_figure(what: str, stats: dict[str, int]) -> Figure:
    ratio = 100 * stats["stored_bytes"] / stats["raw_bytes"]
    return Figure("storage", f"stored / raw JSON bytes, {what}", ratio, "%", "<= 15",
                  note=f"{stats['events']:,} events, {stats['stored_bytes'] / stats['events']:.0f} B/event"
                       f" stored vs {stats['raw_bytes'] / stats['events']:.0f} raw")
