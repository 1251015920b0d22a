"""Scripted journeys: a Python file defining `journey(page, rng)`, replayed as many visitors.

Randomness comes only from `rng`, seeded per session, so the same seed records the same visits.
"""

from __future__ import annotations

import importlib.util
import random
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumbing.browser import chromium
from plumbing.store import SessionStore

from recorder.session import record

Journey = Callable[[Any, random.Random], None]


@dataclass
class JourneyRun:
    session_id: str
    viewport: tuple[int, int]
    url: str
    error: str | None = None


@dataclass
class JourneyPlan:
    """One visitor to record: where they land (UTM tags in `url`), from where (`referrer`), whether
    they were here before (`returning`), what screen they have, how they are tagged."""

    url: str
    viewport: tuple[int, int]
    properties: dict[str, Any] = field(default_factory=dict)
    journey: Journey | None = None  # overrides the journey given to record_journeys
    referrer: str | None = None  # see record()
    returning: bool = False


def load_journey(path: str | Path) -> Journey:
    """Import a journey file and return its `journey(page, rng)` function."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"journey file not found: {path}")
    spec = importlib.util.spec_from_file_location(f"sessionheat_journey_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    journey = getattr(module, "journey", None)
    if not callable(journey):
        raise ValueError(f"{path} must define a function journey(page, rng)")
    return journey


def record_journeys(
    plans: Sequence[JourneyPlan],
    journey: Journey | None,
    *,
    store: SessionStore,
    seed: int = 0,
    headless: bool = True,
    mask_inputs: bool = True,
    evidence: bool = False,
    progress: Callable[[JourneyRun], None] | None = None,
    browser: Any = None,
) -> list[JourneyRun]:
    """Record one session per plan with one shared Chromium (`browser`, or one started here); a
    failing journey is reported, and what it recorded up to the failure stays in the store."""
    runs: list[JourneyRun] = []
    with ExitStack() as stack:
        if browser is None:
            browser = stack.enter_context(chromium(headless=headless))
        for i, plan in enumerate(plans):
            rng = random.Random(f"{seed}:{i}")
            error = None
            with record(plan.url, store=store, viewport=plan.viewport, properties=plan.properties,
                        browser=browser, mask_inputs=mask_inputs, evidence=evidence,
                        referrer=plan.referrer, returning=plan.returning) as session:
                try:
                    run_journey = plan.journey or journey
                    if run_journey is None:
                        raise ValueError("no journey for this plan")
                    run_journey(session.page, rng)
                    session.page.wait_for_timeout(100)  # let the last events reach the buffer
                except Exception as exc:
                    error = "".join(traceback.format_exception_only(exc)).strip()
            run = JourneyRun(session.id, plan.viewport, plan.url, error)
            if session.errors:
                run.error = "; ".join(filter(None, [run.error, *session.errors]))
            runs.append(run)
            if progress:
                progress(run)
    return runs
