"""Heatmap accuracy (ours vs the raw x/y peers draw) and speed (index, build).

ACCURACY. Demo visitors whose layouts differ (A/B variant, banner height, promo, three viewports,
late images) are recorded with click evidence and indexed. For each page and viewport bucket the
default reference layout is chosen, as `sessionheat heatmap` would. For every click the live page
recorded (what it really hit -> the nearest `data-demo-id` element, see bench/ground_truth.py) we
ask: is the point drawn on the reference inside that same element's box there? "There" is the
reference's photograph: the moment it was taken at, the geometry it was taken in (document at the
top, so a sticky header is at y 0), and only elements it shows (hit testing: not a closed
drawer's links, not the page under an open dialog).
  - ours: the point placed through the element key + relative offset (Heatmap.placement);
  - naive (PostHog / Hotjar / Clarity style): the click's raw document x/y, grouped by URL and
    viewport-width bucket, drawn as is on the same reference.
Clicks whose aimed element the reference does not show (a promo on a no-promo layout, an open
modal, a form replaced by its "thanks" state) are counted apart: ours should say "not on this
layout"; naive draws them anyway, on whatever is there, which counts as a miss.

SPEED. `index_sessions` over the recorded sessions: one worker on a warm browser, one worker with
its own browser, two worker processes (each with its own browser), as multiples of real time
(recorded session-seconds per wall-second), each worker on one reused replay page; where a
worker's time goes per session; and `build_heatmap` for one URL with and without the reference
replay.

Set BENCH_HEATMAP_DB=/some/path.db to keep the recorded, indexed store for a closer look (replays
need the demo server on the port it was recorded from: `serve_demo(port=...)`).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plumbing.browser import chromium

from bench import Figure, timed
from bench.ground_truth import inside, truth_clicks
from demo import serve_demo
from demo.job import plan_demo_visitors
from heatmap import Segment, build_heatmap, index_sessions, place_hits, render_point_map
from heatmap.build import HIT_KINDS
from heatmap.reference import choose_reference, load_reference
from heatmap.segments import viewport_bucket
from recorder import SessionStore, record_journeys

AREA = "heatmap"
ON_STATE = "ours on its state's photograph"  # tallies: drawn on a photograph of a page state
ABSENT_ON_STATE = "absent, ours on its state's photograph"


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `fn` in a thread of its own: this thread's sync Playwright already owns its event loop,
    and `fn` starts another (as a fresh `sessionheat index` process would)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def _page(url: str) -> str:
    """The page a URL is, as a heatmap's --url selects it: path only, `/` is `/index.html`."""
    path = urlsplit(url).path
    if path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return path.rstrip("/") or "/"


class Tally:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.misses: list[str] = []

    def add(self, what: str, detail: str = "") -> None:
        self.counts[what] += 1
        if detail:
            self.misses.append(detail)


# (document, null) => {demo id: [x, y, w, h]} for every `data-demo-id` element the reference's
# full-page photograph shows, in that photograph's geometry. The photograph is taken with the frame
# as tall as the document, so the document is at the top: a sticky header is at y 0, not where the
# visitor had scrolled. "Shows" is decided by hit testing, independently of heatmap/locate_keys.js:
# the element is scrolled to the middle of the viewport and must be what a point at its centre hits
# (not hidden, not under a modal dialog or a drawer's backdrop).
PHOTO_BOXES_JS = """(doc) => {
  const view = doc.defaultView, out = {};
  const sx = view.scrollX, sy = view.scrollY;
  const go = (x, y) => view.scrollTo({left: x, top: y, behavior: "instant"});
  const shown = [];
  for (const el of doc.querySelectorAll('[data-demo-id]')) {
    const id = el.getAttribute('data-demo-id');
    let r = el.getBoundingClientRect();
    if ((!r.width && !r.height) || id in out) continue;
    go(sx + r.left + r.width / 2 - view.innerWidth / 2, sy + r.top + r.height / 2 - view.innerHeight / 2);
    r = el.getBoundingClientRect();
    const cx = Math.min(Math.max(r.left + r.width / 2, 0), view.innerWidth - 1);
    const cy = Math.min(Math.max(r.top + r.height / 2, 0), view.innerHeight - 1);
    const hit = doc.elementFromPoint(cx, cy);
    go(sx, sy);
    if (hit && el.contains(hit)) { out[id] = null; shown.push([id, el]); }
  }
  go(0, 0);
  for (const [id, el] of shown) {
    const r = el.getBoundingClientRect();
    out[id] = [r.left, r.top, r.width, r.height];
  }
  go(sx, sy);
  return out;
}"""


def _photo_boxes(store: SessionStore, session_id: str, t: int, *, browser: Any) -> dict[str, tuple]:
    """Ground truth on a reference: boxes of the `data-demo-id` elements its photograph shows."""
    from replay import open_session

    with open_session(store, session_id, browser=browser) as rp:
        rp.seek(t)
        return {k: tuple(v) for k, v in rp.evaluate_in_document(PHOTO_BOXES_JS).items()}


def _accuracy(store: SessionStore, browser: Any) -> tuple[Tally, int]:
    """Score every evidence click, page by page and viewport bucket by bucket."""
    tally = Tally()
    groups: dict[tuple[str, str], int] = {}
    for pv in store.find_pageviews():
        groups.setdefault((_page(pv["url"]), viewport_bucket(pv["width"])[0]),
                          pv["width"])
    truth_by_pv: dict[tuple[str, int], list] = defaultdict(list)
    for session in store.list_sessions():
        for click in truth_clicks(store, session["id"]):
            truth_by_pv[(click.session_id, click.pageview)].append(click)
    n_groups = 0
    for (path, bucket), width in sorted(groups.items()):
        segment = Segment(url=path, viewport_w=width)
        pageviews = segment.select(store)
        truths = [c for p in pageviews for c in truth_by_pv.get((p["session_id"], p["index"]), [])]
        if not truths:
            continue
        n_groups += 1
        hm = build_heatmap(store, segment, "click", browser=browser)
        ref = hm.reference
        tally.add("reference at its end" if ref.moment == "end of pageview" else "reference before its end")
        gt_boxes = _photo_boxes(store, ref.session_id, ref.t, browser=browser)
        hits = store.hits([(p["session_id"], p["index"]) for p in pageviews], kinds=HIT_KINDS["click"])
        placed = {(p.session_id, p.t): p for p in hm.placement.points}
        missing = {e.element_key for e in hm.placement.not_on_layout}
        # Drawn on a photograph of the state they were made in (an open drawer, a scrolled list):
        # placed inside their element there, which tests/test_heatmap_states.py checks.
        on_state = {(p.session_id, p.t) for s in hm.states if s.placement for p in s.placement.points}
        by_node: dict[tuple[str, int, int], list[dict]] = defaultdict(list)
        for h in hits:
            by_node[(h["session_id"], h["pageview"], h["node_id"])].append(h)
        for c in truths:
            where = f"{path} [{bucket}] {c.session_id}@{c.t} {c.demo_id}"
            if c.demo_id is None:
                tally.add("no ground truth", f"no data-demo-id: {where}")
                continue
            candidates = [h for h in by_node[(c.session_id, c.pageview, c.node_id)] if abs(h["t"] - c.t) <= 50]
            hit = min(candidates, key=lambda h: abs(h["t"] - c.t)) if candidates else None
            point = placed.get((hit["session_id"], hit["t"])) if hit else None
            gt = gt_boxes.get(c.demo_id)
            if gt is None:  # the aimed element is not on the reference layout
                tally.add("absent")
                tally.add(f"absent: {c.demo_id}")
                if hit is not None and hit["element_key"] in missing:
                    tally.add("absent, ours not on this layout")
                elif hit is not None and (hit["session_id"], hit["t"]) in on_state:
                    tally.add(ABSENT_ON_STATE)
                else:
                    tally.add("absent, ours drawn", f"absent but drawn ({hit and hit['element_key']}): {where}")
                continue
            tally.add("present")
            tally.add("naive inside" if inside(gt, c.x, c.y) else "naive outside")
            if hit is not None and (hit["session_id"], hit["t"]) in on_state:
                tally.add(ON_STATE)
                continue
            if hit is None:
                tally.add("ours unresolved", f"no hit row: {where}")
            elif point is None:
                tally.add("ours not on this layout",
                          f"said not on layout ({hit['element_key']}) but reference has it: {where}")
            elif inside(gt, point.x, point.y):
                tally.add("ours inside")
            else:
                tally.add("ours outside", f"placed at ({point.x:.0f},{point.y:.0f}) outside {gt} "
                                          f"via {hit['element_key']}: {where}")
    return tally, n_groups


def _build_times(store: SessionStore, browser: Any, url: str, width: int, repeats: int = 3
                 ) -> tuple[float, float, float]:
    """Median (total, reference replay, everything else) seconds for one click map."""
    import numpy as np

    segment = Segment(url=url, viewport_w=width)
    totals, replays, rests = [], [], []
    for _ in range(repeats):
        _, total = timed(build_heatmap, store, segment, "click", browser=browser)
        start = time.perf_counter()
        pageviews = segment.select(store)
        pairs = [(p["session_id"], p["index"]) for p in pageviews]
        hits = store.hits(pairs, kinds=HIT_KINDS["click"])
        ref_id, ref_pv = choose_reference(pageviews, store.hits(pairs))
        choose = time.perf_counter() - start
        ref, replay = timed(load_reference, store, ref_id, ref_pv, hits, browser=browser)
        start = time.perf_counter()
        placement = place_hits(hits, ref.boxes)
        points = np.array([(p.x, p.y) for p in placement.points], dtype=np.float64).reshape(-1, 2)
        render_point_map(ref.image, points)
        totals.append(total)
        replays.append(replay)
        rests.append(choose + time.perf_counter() - start)
    return statistics.median(totals), statistics.median(replays), statistics.median(rests)


def _warm_worker(session_id: str) -> int:
    """Index one session, then hold the worker a moment, so that each worker of a fresh pool
    takes one: its replay page has then replayed a session, as in any long queue."""
    from heatmap.index_workers import _index_in_worker

    _index_in_worker(session_id)
    time.sleep(1.0)
    return os.getpid()


def _started_workers(store: SessionStore, workers: int, rounds: int) -> tuple[int, int, float]:
    """(sessions, interactions, median wall s of `rounds` runs) of `index_sessions`' worker pool
    once every worker has its Chromium and a replay page that has taken a session: the throughput
    a long queue sees, without the start-up (launching Chromium and Playwright, about a second per
    worker) that a couple of dozen short demo sessions cannot amortize."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from heatmap.index_workers import _index_in_worker, _start_worker

    todo = [s["id"] for s in store.list_sessions()]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(str(store.path),)) as pool:
        pids = set(pool.map(_warm_worker, todo[:workers]))
        if len(pids) != workers:
            _log(f"only {len(pids)} of {workers} workers warmed up")
        walls = []
        for _ in range(rounds):
            results, wall = timed(lambda: list(pool.map(_index_in_worker, todo)))
            walls.append(wall)
    return len(results), sum(r.n_hits + r.n_unresolved for r in results), statistics.median(walls)


def _replay_costs(store: SessionStore, browser: Any) -> dict[str, float]:
    """Where an index worker's time goes, median ms per session, on one reused replay page:
    loading the session into the page, then the one resolving pass split into the driver's own
    work (applying events incl. rrweb's rebuilds, settling: scrolls, resources, hover, animations,
    and measuring with the probes) and the rest (Python, CDP round trips, asset routing). Also
    what a fresh page per session (the old way) cost to open."""
    from heatmap.index import node_interactions
    from heatmap.interactions import extract_interactions
    from heatmap.keys import element_key_js
    from replay import AssetCache, ReplayPage, open_session

    parts: dict[str, list[float]] = defaultdict(list)
    with ReplayPage(browser, assets=AssetCache.for_store(store)) as page:
        for session in store.list_sessions():
            read = store.read_events(session["id"])
            items = node_interactions(extract_interactions(read.events))
            start = time.perf_counter()
            with open_session(store, session["id"], page=page, read=read) as rp:
                opened = time.perf_counter()
                rp.page.evaluate("() => { const s = window.__shDriver.state;"
                                 " s.ms.apply = s.ms.settle = s.ms.measure = 0; }")
                rp.probe([(i.t, i.node_id, None) for i in items],
                         f"(node) => node ? ({element_key_js()})(node) : null")
                probed = time.perf_counter()
                ms = rp.page.evaluate("() => window.__shDriver.state.ms")
            parts["load"].append(1000 * (opened - start))
            for k in ("apply", "settle", "measure"):
                parts[k].append(ms[k])
            parts["rest"].append(1000 * (probed - opened) - sum(ms.values()))
            parts["interactions"].append(len(items))
    for session in store.list_sessions()[:5]:
        start = time.perf_counter()
        with open_session(store, session["id"], browser=browser):
            parts["fresh"].append(1000 * (time.perf_counter() - start))
    return {k: statistics.median(v) for k, v in parts.items()}


def run(quick: bool = False) -> list[Figure]:
    n_sessions = 6 if quick else 24
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp, serve_demo() as server, chromium() as browser:
        keep = os.environ.get("BENCH_HEATMAP_DB")
        store = SessionStore(Path(keep) if keep else Path(tmp) / "heatmap.db")
        plans = plan_demo_visitors(server.url, n_sessions, seed=1)
        runs, rec_s = timed(record_journeys, plans, None, store=store, seed=1, evidence=True, browser=browser)
        failed = [r for r in runs if r.error]
        for r in failed:
            _log(f"journey failed: {r.session_id}: {r.error}")
        sessions = store.list_sessions()
        session_s = sum(s["duration_ms"] for s in sessions) / 1000
        _log(f"recorded {len(sessions)} sessions ({session_s:.0f} session-s) in {rec_s:.0f} s")

        # -- speed: index ---------------------------------------------------------------------
        speed = []
        # The first run fetches every asset from the demo site, which delays images on purpose;
        # the runs after it find them in the store's asset cache, as any later indexing does.
        for label, kwargs in (("1 worker, own browser, assets fetched cold", {"workers": 1}),
                              ("2 workers (processes)", {"workers": 2, "rebuild": True}),
                              ("1 worker, warm browser", {"browser": browser, "rebuild": True})):
            results, wall = _in_thread(timed, index_sessions, store, **kwargs) if "browser" not in kwargs \
                else timed(index_sessions, store, **kwargs)
            n_inter = sum(r.n_hits + r.n_unresolved for r in results)
            problems = [r for r in results if r.problem]
            for r in problems:
                _log(f"index problem: {r.session_id}: {r.problem}")
            speed.append((label, len(results), n_inter, wall))
        rounds = 1 if quick else 5
        speed.append((f"2 workers, started (steady state, median of {rounds} runs)",
                      *_started_workers(store, 2, rounds)))
        costs = _replay_costs(store, browser)
        for label, n, n_inter, wall in speed:
            figures.append(Figure(AREA, f"index, {label}", session_s / wall, "x real time", ">= 200",
                                  note=f"{n / wall:.2f} sessions/s, {n_inter / wall:,.0f} interactions/s, "
                                       f"{n} sessions in {wall:.1f} s"))

        figures += [
            Figure(AREA, "index: load a session into the reused replay page", costs["load"], "ms",
                   note=f"median per session; a fresh page per session took {costs['fresh']:.0f} ms"),
            Figure(AREA, "index: resolve a session's interactions, in the page", costs["apply"] + costs["settle"]
                   + costs["measure"], "ms", note=f"median per session ({costs['interactions']:.0f} "
                   f"interactions): apply events + rebuilds {costs['apply']:.1f}, settle {costs['settle']:.1f}, "
                   f"probe {costs['measure']:.1f}"),
            Figure(AREA, "index: resolve, outside the page", costs["rest"], "ms",
                   note="median per session: Python, CDP round trips, asset routing, waits for tasks"),
        ]

        # -- accuracy -------------------------------------------------------------------------
        (tally, n_groups), acc_s = timed(_accuracy, store, browser)
        c = tally.counts
        present = c["present"] - c[ON_STATE]  # scored on the base photograph
        for line in tally.misses[:40]:
            _log(line)
        ours = 100 * c["ours inside"] / present if present else 0.0
        naive = 100 * c["naive inside"] / present if present else 0.0
        base = f"{present} clicks of {len(sessions)} sessions, {n_groups} page x viewport groups"
        figures += [
            Figure(AREA, "clicks on the aimed element, ours", ours, "%", ">= 99.5",
                   note=f"{base}; outside {c['ours outside']}, said not on layout "
                        f"{c['ours not on this layout']}, unresolved {c['ours unresolved']}; "
                        f"{c[ON_STATE]} more drawn on their state's photograph "
                        "(a scrolled container's content), not scored here"),
            Figure(AREA, "clicks on the aimed element, naive x/y", naive, "%",
                   note=f"same {present} clicks, raw document x/y per URL + viewport bucket"),
        ]
        absent = c["absent"]
        why = Counter({k.split(": ")[1]: n for k, n in c.items() if k.startswith("absent: ")})
        figures += [
            Figure(AREA, "clicks whose aimed element the reference lacks", 100 * absent / max(1, absent + present),
                   "%", note=f"{absent} clicks: " + ", ".join(f"{k} {n}" for k, n in why.most_common())
                   + f"; {c['reference before its end']} of {n_groups} references photographed before their "
                     f"pageview's end (the moment showing most clicked elements)"),
            Figure(AREA, "  of those, ours lists as not on this layout",
                   100 * (c["absent, ours not on this layout"] + c[ABSENT_ON_STATE])
                   / absent if absent else 100.0, "%", "100",
                   note=f"never drawn on the base photograph: {c[ABSENT_ON_STATE]} "
                        f"drawn on a photograph of their state (an open dialog or drawer), the rest listed; "
                        f"naive draws all {absent} on whatever is there (a miss); "
                        f"{c['no ground truth']} clicks without ground truth skipped"),
        ]
        _log(f"accuracy scored in {acc_s:.0f} s")

        # -- speed: build ---------------------------------------------------------------------
        total, replay, rest = _build_times(store, browser, "/index.html", 1280)
        figures += [
            Figure(AREA, "build_heatmap /index.html desktop, total", total * 1000, "ms",
                   note="select + reference replay & screenshot + place + render; median of 3"),
            Figure(AREA, "  of which reference replay", replay * 1000, "ms"),
            Figure(AREA, "  excluding reference replay", rest * 1000, "ms",
                   note="choose reference + select hits + place + render"),
        ]
        store.close()
    return figures
