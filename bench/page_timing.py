"""Time one in-page workload three ways in the same run: no recording, bare rrweb into an in-page
array (rrweb's own floor), and our recorder with its transport to the store.

The workload times itself (performance.now) and returns `{ms}`, so browser start-up and navigation
are not part of the figure; the three ways are interleaved so machine noise hits all alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from plumbing.assets import amd_safe, page_script, vendor_text
from plumbing.store import SessionStore

from recorder import record
from recorder.session import DEFAULT_VIEWPORT


def rrweb_floor_script() -> str:
    """An init script that runs rrweb's record() into an array and nothing else."""
    floor = page_script("bench", "rrweb_floor.js")
    return f"(function(){{var holder={{}};{amd_safe(vendor_text('rrweb.js'), 'holder')}\n({floor})(holder.rrweb);}})();"


@dataclass(frozen=True)
class Workload:
    url: str
    run: str  # a page function of `arg` resolving to {ms}
    arg: Any = None
    ready: str | None = None  # a page function that turns truthy once the page can take the workload
    settle_ms: int = 200  # then wait this long, for late layout and fonts

    def _time(self, page: Any) -> float:
        if self.ready:
            page.wait_for_function(self.ready)
        page.wait_for_timeout(self.settle_ms)
        return float(page.evaluate(f"(arg) => ({self.run})(arg)", self.arg)["ms"])

    def unrecorded(self, browser: Any, init_script: str | None = None) -> float:
        w, h = DEFAULT_VIEWPORT
        context = browser.new_context(viewport={"width": w, "height": h})
        try:
            page = context.new_page()
            if init_script:
                page.add_init_script(script=init_script)
            page.goto(self.url)
            return self._time(page)
        finally:
            context.close()

    def recorded(self, browser: Any, store: SessionStore) -> float:
        with record(self.url, store=store, browser=browser) as session:
            return self._time(session.page)


def time_three_ways(workload: Workload, browser: Any, store: SessionStore, repeats: int) -> dict[str, float]:
    """Median ms of `none`, `rrweb` and `ours`, after one warm-up round (caches, JIT)."""
    floor = rrweb_floor_script()
    ways: dict[str, Callable[[], float]] = {
        "none": lambda: workload.unrecorded(browser),
        "rrweb": lambda: workload.unrecorded(browser, floor),
        "ours": lambda: workload.recorded(browser, store),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for way in ways.values():
        way()
    for _ in range(repeats):
        for name, way in ways.items():
            times[name].append(way())
    return {name: statistics.median(v) for name, v in times.items()}
