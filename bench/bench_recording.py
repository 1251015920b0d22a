"""Recording overhead on a mutation-heavy page, and stored bytes per event.

Three ways of loading the same page in the same run, interleaved so machine noise hits all alike:
no recording; rrweb into an in-page array (rrweb's own floor); our recorder with its transport to
the store. The page times its own mutation rounds (performance.now), so browser start-up and
navigation are not part of the figure.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from plumbing.browser import chromium

from bench import Figure
from bench.page_timing import Workload, time_three_ways
from demo import serve_demo
from demo.job import plan_demo_visitors
from recorder import SessionStore, record_journeys


def run(quick: bool = False) -> list[Figure]:
    repeats = 3 if quick else 9
    query = "?rounds=40&nodes=300" if quick else "?rounds=80&nodes=400"
    with tempfile.TemporaryDirectory() as tmp, serve_demo() as server, chromium() as browser:
        store = SessionStore(Path(tmp) / "bench.db")
        mutations = Workload(server.url + "mutations.html" + query, "() => window.startMutations()")
        med = time_three_ways(mutations, browser, store, repeats)
        mutation_stats = store.storage_stats()
        store.close()
        visitors = SessionStore(Path(tmp) / "visitors.db")
        n_visitors = 3 if quick else 12
        record_journeys(plan_demo_visitors(server.url, n_visitors), None, store=visitors,
                        browser=browser)
        visitor_stats = visitors.storage_stats()
        visitors.close()
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
