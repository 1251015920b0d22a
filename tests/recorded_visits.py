"""Scripted visits recorded into one store and indexed: the module fixture the key and state tests share.

Each visit is a real recording in a real Chromium; a recorder error or an index problem fails the
fixture, so no test reads hits from a half-made store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import heatmap
from recorder import SessionStore, record


@dataclass(frozen=True)
class Visit:
    url: str
    act: Callable[[Any], None]  # given the recorded Playwright page, once it has loaded
    viewport: tuple[int, int] = (1280, 800)
    properties: dict[str, Any] = field(default_factory=dict)
    evidence: bool = False
    settle_ms: int = 0  # wait this long after `act`, before the recording stops


def record_visits(store: SessionStore, browser: Any, visits: Mapping[str, Visit]) -> dict[str, str]:
    """Record each visit in turn, index them all, and return the session ids by visit name."""
    ids = {}
    for name, visit in visits.items():
        with record(visit.url, store=store, browser=browser, viewport=visit.viewport,
                    properties=visit.properties or None, evidence=visit.evidence) as session:
            session.page.wait_for_load_state()
            visit.act(session.page)
            if visit.settle_ms:
                session.page.wait_for_timeout(visit.settle_ms)
        assert not session.errors, session.errors
        ids[name] = session.id
    results = heatmap.index_sessions(store, browser=browser)
    assert not [r for r in results if r.problem], [r.as_json() for r in results]
    return ids
