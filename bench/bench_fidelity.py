"""Fidelity on real third-party front ends (issue 17), ours against plain rrweb's Replayer, and
recording overhead on the web-components page against rrweb's own floor.

For each front end of bench/frontends.py, one visit is recorded with click evidence and live
screenshots; then both replays are asked about the same recording: the share of clicked elements
whose replayed box is within 1 px of the live box (ours: `resolve`; plain rrweb: `Replayer.pause(t)`
and measure at once), and the share of pixels that differ from the live screenshot at each marked
moment (the worst moment is reported; a pixel differs past PIXEL_TOLERANCE on a channel).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from plumbing.assets import page_script
from plumbing.browser import chromium

from bench import Figure
from bench.bench_replay import _offset, plain_rrweb
from bench.frontends import (
    FRONTENDS,
    MAX_DIFFERING_SHARE,
    FrontendRun,
    check_clicks,
    check_shots,
    differing_share,
    installed,
    record_frontend,
    serve_frontends,
    shot_moments,
)
from bench.page_timing import Workload, time_three_ways
from recorder import SessionStore
from replay import AssetCache, open_session

AREA = "fidelity"


def plain_shots(rp: Any, live_shots: list[bytes]) -> list[float]:
    """Differing share of plain rrweb's picture at each marked moment (pause(t), then a picture)."""
    script = page_script("bench", "frontends_plain.js")
    width, height = rp.viewport()
    rp.page.evaluate(f"(events) => ({script})(window.__shLib.rrweb, events)", rp.timeline.events)
    shares = []
    try:
        with rp.painting():
            for t, live in zip(shot_moments(rp.timeline.events), live_shots):
                rp.page.evaluate("(t) => window.__plainReplayer.pause(t)", t)
                rp.page.wait_for_timeout(100)  # its style sheets and images, as a player would show them
                picture = rp.page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": height},
                                             animations="disabled")
                shares.append(differing_share(live, picture))
    finally:
        rp.page.evaluate(f"() => ({script})(window.__shLib.rrweb, null)")
    return shares


def compare(store: SessionStore, run: FrontendRun, browser: Any, assets: AssetCache) -> dict[str, Any]:
    with open_session(store, run.session_id, browser=browser, assets=assets) as rp:
        ours = check_clicks(rp)
        theirs = plain_rrweb(rp, rp.live_clicks())["boxes"]
        shots = [share for _, share, _ in check_shots(rp, run.shots)]
        plain = plain_shots(rp, run.shots)
    worst = max(ours, key=lambda c: c.offset, default=None)
    return {
        "n": len(ours), "ours": sum(c.offset <= 1 for c in ours),
        "plain": sum(_offset(c.live, box) <= 1 for c, box in zip(ours, theirs)),
        "worst": worst, "shots": shots, "plain_shots": plain,
    }


def overhead(servers: Any, browser: Any, tmp: Path, quick: bool) -> dict[str, float]:
    """Median ms of the Shoelace workload: no recording, rrweb into an array, ours to the store."""
    repeats, rounds = (3, 40) if quick else (7, 120)
    workload = Workload(servers.url("shoelace.html"), page_script("bench", "frontends_workload.js"), rounds,
                        ready="() => customElements.get('sl-tab-group')", settle_ms=300)
    store = SessionStore(tmp / "overhead.db")
    try:
        medians = time_three_ways(workload, browser, store, repeats)
    finally:
        store.close()
    return medians | {"repeats": repeats, "rounds": rounds}


def run(quick: bool = False) -> list[Figure]:
    if not installed():
        return [Figure(AREA, "front ends not installed (run scripts/setup.sh)", 0, "", "")]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp, serve_frontends() as servers, chromium() as browser:
        store = SessionStore(Path(tmp) / "fidelity.db")
        assets = AssetCache()
        for frontend in FRONTENDS:
            run_ = record_frontend(frontend, servers, store, browser)
            if run_.error:
                figures.append(Figure(AREA, f"{frontend.name}: journey failed", 0, "", "", run_.error[:120]))
                continue
            r = compare(store, run_, browser, assets)
            worst = r["worst"]
            worst_note = (f"; worst {worst.offset:.1f} px <{worst.tag}> at t={worst.t}"
                          if worst is not None and worst.offset > 1 else "")
            figures.append(Figure(
                AREA, f"{frontend.name}: clicks within 1 px, ours", 100 * r["ours"] / max(r["n"], 1), "%", "100",
                f"{r['ours']}/{r['n']} (plain rrweb {r['plain']}/{r['n']}); pixels differing at the worst of "
                f"{len(r['shots'])} moments: ours {100 * max(r['shots'], default=0):.2f} %, plain rrweb "
                f"{100 * max(r['plain_shots'], default=0):.2f} % (target <= {100 * MAX_DIFFERING_SHARE:.1f} %)"
                + worst_note))
        store.close()
        o = overhead(servers, browser, Path(tmp), quick)
    note = f"median of {o['repeats']}, {o['rounds']} rounds of Shoelace components made, restyled, removed"
    figures += [
        Figure(AREA, "web components page: workload, no recording", o["none"], "ms", note=note),
        Figure(AREA, "web components page: rrweb into an in-page array (floor)", o["rrweb"], "ms",
               note=f"{o['rrweb'] / o['none']:.2f}x no recording"),
        Figure(AREA, "web components page: ours, to the store", o["ours"], "ms",
               note=f"{o['ours'] / o['none']:.2f}x no recording"),
        Figure(AREA, "web components page: ours / rrweb floor", o["ours"] / o["rrweb"], "x", "<= 1.10"),
    ]
    return figures

