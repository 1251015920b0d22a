"""The demo job behind `sessionheat demo`: a staging site, varied visitors, and what came of it.

Visitors differ the way real ones do (variant, cookie banner, promo, screen size), so every later
stage is exercised on layouts that disagree with each other.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from recorder import JourneyPlan, JourneyRun, SessionStore, record_journeys

from demo import load_journey, serve_demo
VIEWPORTS: dict[str, tuple[int, int]] = {
    "desktop": (1280, 800),
    "tablet": (820, 1180),
    "phone": (390, 844),
}
BANNERS = ("none", "short", "medium", "tall")


@dataclass
class DemoResult:
    db_path: Path
    out_dir: Path
    runs: list[JourneyRun] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        failed = [r for r in self.runs if r.error]
        lines = [f"recorded {len(self.runs)} sessions into {self.db_path}"]
        lines += [f"  failed: {r.session_id}: {r.error}" for r in failed]
        lines.append(f"list them:   sessionheat sessions --db {self.db_path}")
        if self.runs:
            lines.append(f"export one:  sessionheat export {self.runs[0].session_id} --db {self.db_path}")
        return lines


def plan_demo_visitors(base_url: str, n_sessions: int, seed: int = 0) -> list[JourneyPlan]:
    """Visitors spread over viewports and variants; banner, promo and image delay drawn at random.

    Every sixth visitor is an impatient one (rage clicks on something that is not a control).
    """
    rng = random.Random(f"demo-plan:{seed}")
    visitor, rage = load_journey("visitor"), load_journey("rage")
    names = list(VIEWPORTS)
    plans = []
    for i in range(n_sessions):
        profile = {
            "variant": "AB"[(i // len(names)) % 2],
            "banner": rng.choice(BANNERS),
            "promo": rng.choice("01"),
        }
        query = urlencode({**profile, "imgdelay": rng.choice((0, 150, 400, 900))})
        is_rage = i % 6 == 5
        plans.append(JourneyPlan(
            url=f"{base_url}?{query}",
            viewport=VIEWPORTS[names[i % len(names)]],
            properties={**profile, "journey": "rage" if is_rage else "visitor"},
            journey=rage if is_rage else visitor,
        ))
    return plans


def run_demo_job(
    store: SessionStore,
    *,
    out_dir: Path,
    n_sessions: int = 12,
    seed: int = 0,
    progress: Callable[[JourneyRun], None] | None = None,
) -> DemoResult:
    """Serve the demo site on 127.0.0.1, record `n_sessions` varied visitors, report where."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = DemoResult(db_path=store.path, out_dir=out_dir)
    with serve_demo() as server:
        plans = plan_demo_visitors(server.url, n_sessions, seed)
        result.runs = record_journeys(plans, None, store=store, seed=seed, evidence=True,
                                      progress=progress)
    return result
