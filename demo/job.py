"""The demo job behind `sessionheat demo`: a staging site, varied visitors, and what came of it.

Visitors differ the way real ones do (variant, cookie banner, promo, screen size), so every later
stage is exercised on layouts that disagree with each other; and the way their visits do: some
come from a newsletter's campaign link, a search or a social site, some have been here before,
and some sign up (the demo's goal, `event:signup`) while others only look around.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Protocol
from pathlib import Path
from urllib.parse import urlencode

from recorder import JourneyPlan, JourneyRun, SessionStore, record_journeys
from plumbing.browser import chromium
from plumbing.conversions import Goal
from plumbing.store import origin_of

from demo import load_journey, serve_demo
VIEWPORTS: dict[str, tuple[int, int]] = {
    "desktop": (1280, 800),
    "tablet": (820, 1180),
    "phone": (390, 844),
}
BANNERS = ("none", "short", "medium", "tall")
GOAL = Goal("event", "signup")  # site.js fires it when the sign-up form goes through
# Where visitors come from, in turn: (UTM tags of the landing link, referrer)
SOURCES: tuple[tuple[dict[str, str], str | None], ...] = (
    ({}, None),  # direct
    ({"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "launch"}, None),
    ({}, "https://www.google.com/"),
    ({}, "https://news.ycombinator.com/"),
)


class Steps(Protocol):
    """Where the job reports progress (the CLI draws it as bars)."""

    def stage(self, name: str, total: int) -> None: ...
    def advance(self) -> None: ...


class _Quiet:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


# The maps the demo draws: (title, url, kind, segment pairs)
DEMO_MAPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Home, clicks (desktop)", "/", "click", ("viewport=1280x800",)),
    ("Home, clicks (phone)", "/", "click", ("viewport=390x844",)),
    ("Home, clicks, variant B only (desktop)", "/", "click", ("viewport=1280x800", "variant=B")),
    ("Home, scroll depth (desktop)", "/", "scroll", ("viewport=1280x800",)),
    ("Home, attention (desktop)", "/", "attention", ("viewport=1280x800",)),
    ("Home, mouse movement (desktop)", "/", "move", ("viewport=1280x800",)),
    ("Home, rage clicks (all screens on one layout)", "/", "rage", ()),
    ("Pricing, clicks (desktop)", "/pricing.html", "click", ("viewport=1280x800",)),
    ("Product, clicks (tablet)", "/product.html", "click", ("viewport=820x1180",)),
    ("Sign-up, clicks (phone)", "/signup.html", "click", ("viewport=390x844",)),
    ("Home, dead clicks (all screens on one layout)", "/", "dead", ()),
)
# Variant compares: (title, url, kind, segment A pairs, segment B pairs); one reference, A - B
DEMO_COMPARES: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Home, clicks, variant A vs B (desktop)", "/", "click", ("viewport=1280x800", "variant=A"),
     ("viewport=1280x800", "variant=B")),
    ("Home, clicks, converted vs not (all screens on one layout)", "/", "click", ("converted=yes",),
     ("converted=no",)),
)


@dataclass
class DemoResult:
    db_path: Path
    out_dir: Path
    runs: list[JourneyRun] = field(default_factory=list)
    n_hits: int = 0
    maps: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    report: Path | None = None
    player: Path | None = None

    def summary_lines(self) -> list[str]:
        failed = [r for r in self.runs if r.error]
        lines = [f"recorded {len(self.runs)} sessions into {self.db_path}"]
        lines += [f"  failed: {r.session_id}: {r.error}" for r in failed]
        lines.append(f"indexed {self.n_hits} hits; drew {len(self.maps)} heatmaps into {self.out_dir}/")
        lines += [f"  skipped: {s}" for s in self.skipped]
        if self.report:
            lines.append(f"report:      {self.report}")
        if self.player:
            lines.append(f"a replay:    {self.player}")
        lines.append(f"list them:   sessionheat sessions --db {self.db_path}")
        if self.runs:
            lines.append(f"replay one:  sessionheat replay {self.runs[0].session_id} --html replay.html"
                         f" --db {self.db_path}")
        lines.append(f"web UI:      sessionheat serve --db {self.db_path}   (it prints a one-time login "
                     "link; for a lasting login first run")
        lines.append(f"             sessionheat users add NAME --role admin --db {self.db_path})")
        return lines


def plan_demo_visitors(base_url: str, n_sessions: int, seed: int = 0, run: str = "") -> list[JourneyPlan]:
    """Visitors spread over viewports and variants; banner, promo and image delay drawn at random.

    Every sixth visitor is an impatient one (rage clicks on something that is not a control), and
    every fourth only browses (neither signs up); the others sign up. They come in turn directly,
    from a newsletter's campaign link, a search and a social site (SOURCES); every third has been
    here before.
    """
    rng = random.Random(f"demo-plan:{seed}")
    visitor, rage, browse = load_journey("visitor"), load_journey("rage"), load_journey("browse")
    names = list(VIEWPORTS)
    plans = []
    for i in range(n_sessions):
        profile = {
            "variant": "AB"[(i // len(names)) % 2],
            "banner": rng.choice(BANNERS),
            "promo": rng.choice("01"),
        }
        utm, referrer = SOURCES[i % len(SOURCES)]
        query = urlencode({**profile, "imgdelay": rng.choice((0, 150, 400, 900)), **utm})
        name = "rage" if i % 6 == 5 else "browse" if i % 4 == 3 else "visitor"
        plans.append(JourneyPlan(
            url=f"{base_url}?{query}",
            viewport=VIEWPORTS[names[i % len(names)]],
            properties={**profile, "journey": name, **({"demo_run": run} if run else {})},
            journey={"rage": rage, "browse": browse, "visitor": visitor}[name],
            referrer=referrer,
            returning=i % 3 == 1,
        ))
    return plans


def run_demo_job(
    store: SessionStore,
    *,
    out_dir: Path,
    n_sessions: int = 12,
    seed: int = 0,
    steps: Steps | None = None,
) -> DemoResult:
    """Serve the demo site on 127.0.0.1, record `n_sessions` varied visitors, index them, and
    draw heatmaps, a report and an offline replay into `out_dir` — while the site is still up, so
    replays load the recorded pages' images from where they came from."""
    from heatmap import HeatmapError, Segment, build_compare, build_heatmap, index_sessions, write_compare
    from heatmap.report import ReportEntry, write_report
    from replay import write_player_html

    steps = steps or _Quiet()
    out_dir.mkdir(parents=True, exist_ok=True)
    result = DemoResult(db_path=store.path, out_dir=out_dir)
    run = time.strftime("%Y%m%dT%H%M%S")  # this run's maps draw this run's visitors only
    with serve_demo() as server, chromium() as browser:
        plans = plan_demo_visitors(server.url, n_sessions, seed, run)
        store.set_goals(origin_of(server.url), [GOAL])  # record() names a session's site by its origin
        steps.stage("recording visitors", len(plans))
        result.runs = record_journeys(plans, None, store=store, seed=seed, evidence=True,
                                      browser=browser, progress=lambda run: steps.advance())
        steps.stage("indexing interactions", len(store.sessions_to_index()))
        indexed = index_sessions(store, browser=browser, progress=lambda r: steps.advance())
        result.n_hits = sum(r.n_hits for r in indexed)
        steps.stage("drawing heatmaps", len(DEMO_MAPS) + len(DEMO_COMPARES))
        entries = []
        for i, (title, url, kind, pairs) in enumerate(DEMO_MAPS):
            try:
                segment = Segment.parse([*pairs, f"demo_run={run}"], url=url)
                heatmap = build_heatmap(store, segment, kind, browser=browser)
            except HeatmapError as exc:
                result.skipped.append(f"{title}: {exc}")
            else:
                png, js = Path(f"map-{i:02d}-{kind}.png"), Path(f"map-{i:02d}-{kind}.json")
                heatmap.write(out_dir / png, out_dir / js)
                result.maps.append(out_dir / png)
                entries.append(ReportEntry(title, png, heatmap, js))
            steps.advance()
        for i, (title, url, kind, pairs_a, pairs_b) in enumerate(DEMO_COMPARES):
            try:
                seg_a = Segment.parse([*pairs_a, f"demo_run={run}"], url=url)
                seg_b = Segment.parse([*pairs_b, f"demo_run={run}"], url=url)
                a, b, diff = build_compare(store, seg_a, seg_b, kind, browser=browser)
            except HeatmapError as exc:
                result.skipped.append(f"{title}: {exc}")
            else:
                stem = f"compare-{i:02d}-{kind}"
                written = write_compare(out_dir / f"{stem}.png", a, b, diff, out_dir / f"{stem}.json")
                result.maps.append(written[0])
                names = [Path(p.name) for p in written]
                entries.append(ReportEntry(f"{title}: difference, A - B", names[0], None, names[3]))
                entries.append(ReportEntry(f"{title}: A ({a.segment.label()})", names[1], a))
                entries.append(ReportEntry(f"{title}: B ({b.segment.label()})", names[2], b))
            steps.advance()
        result.report = write_report(
            out_dir / "report.html", entries, title="sessionheat demo",
            intro=f"{len(result.runs)} scripted visitors on the demo site; every interaction placed "
                  f"through the element it hit, on one reference layout per map.")
        if result.runs:
            result.player = write_player_html(store, result.runs[0].session_id, out_dir / "replay.html")
    return result
