"""What the tests of the sessions area share: a store of recorded and synthetic visits served by the
real app, synthetic sessions, and a few page helpers.

Screenshots of each screen land in tests/artifacts/ui/ (not committed), to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from collector_helpers import ThreadServer, click, meta, snapshot

from plumbing.store import SessionStore
from plumbing.vocabulary import TAG_ANNOTATION

from recorder import record
from sessionheat.web import AccessPolicy, create_app

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "ui"
T0 = 1_790_000_000_000  # 2026-09-21, a fixed start for synthetic sessions
SECRET_NAME = "Ada Secretname"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def synthetic(t0: int, *, href: str = "http://shop.test/", clicks: int = 1, length_ms: int = 1000,
              annotation: str | None = None) -> list[dict]:
    """A tiny but replayable session: a page, some clicks, an optional annotation."""
    events = [meta(t0, href=href), snapshot(t0 + 1)]
    for i in range(clicks):
        events.append(click(t0 + 10 + i * 100))
    if annotation:
        events.append({"type": 5, "timestamp": t0 + 500,
                       "data": {"tag": TAG_ANNOTATION, "payload": {"name": annotation, "data": {}}}})
    events.append(click(t0 + length_ms))
    return events


@contextmanager
def serve_recorded_visits(folder: Path, browser: Any, demo_server: Any,
                          asset_server: Any) -> Iterator[dict[str, Any]]:
    """A store with two recorded visits and some synthetic sessions, served by the real app:
    {"store", "ids" (desktop, phone, rage, dead, plain), "url"}."""
    store = SessionStore(folder / "sessions.db")
    ids: dict[str, str] = {}
    with record(demo_server.url_for("index.html", variant="B", banner="none", promo="0"), store=store,
                browser=browser, viewport=(1280, 800), properties={"variant": "B", "plan": "pro"}) as s:
        p = s.page
        p.wait_for_timeout(700)
        p.click('[data-demo-id="nav-pricing"]')
        p.wait_for_url("**/pricing.html*")
        p.wait_for_timeout(700)
        p.click('[data-demo-id="billing-yearly"]')
        p.wait_for_timeout(500)
        s.annotate("checkout-started", {"step": 1})
        p.goto(demo_server.url_for("signup.html"))
        p.fill('[data-demo-id="signup-name"]', SECRET_NAME)
        p.wait_for_timeout(700)
    ids["desktop"] = s.id
    with record(asset_server.url("form.html"), store=store, browser=browser, viewport=(390, 844),
                properties={"variant": "A"}) as s:
        s.page.fill("#email", "someone@example.test")
        s.page.click("#next")
        s.page.wait_for_url("**/second.html")
        s.page.wait_for_timeout(300)
    ids["phone"] = s.id
    # Synthetic sessions: one indexed with a rage click, one indexed with a dead click, one not.
    ids["rage"], _ = store.import_events(synthetic(T0, clicks=4, length_ms=40_000), session_id="synthetic-rage",
                                         properties={"variant": "A", "plan": "free"})
    ids["dead"], _ = store.import_events(synthetic(T0 + 60_000, href="http://shop.test/cart", length_ms=5000),
                                         session_id="synthetic-dead", properties={"variant": "B"})
    ids["plain"], _ = store.import_events(synthetic(T0 + 120_000, annotation="deploy"),
                                          session_id="synthetic-plain", properties={"variant": "C"})
    base = {"pageview": 0, "kind": "click", "node_id": 1, "label": "Buy", "selector": "#buy"}
    store.replace_hits("synthetic-rage", [{**base, "t": 10 + i * 100, "rage": i < 3} for i in range(4)],
                       n_events=store.get_session("synthetic-rage")["n_events"])
    store.replace_hits("synthetic-dead", [{**base, "t": 10, "dead": True}],
                       n_events=store.get_session("synthetic-dead")["n_events"])
    # tools.example: a UI reached by a name other than the loopback (the player-origin test)
    app = create_app(store, access=AccessPolicy.for_listener("127.0.0.1", ["tools.example"]))
    with ThreadServer(app) as server:
        yield {"store": store, "ids": ids, "url": server.url}
    store.close()


def listed_ids(page: Any) -> list[str]:
    return page.locator("table.sessions tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.sessionId)")


def apply_filters(page: Any, in_url: str) -> list[str]:
    """Submit the filter form, wait for the list whose URL carries `in_url`, say what it lists."""
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(f"**{in_url}**")
    return listed_ids(page)
