"""The coverage map in the heatmap explorer, driven as a person would: real Chromium, real uvicorn on
127.0.0.1, a real SQLite store of recorded sessions.

The shop page of tests/test_coverage.py: visitors click "Compare plans" (B) three times, "Gift
wrap" (C) twice, "Add to cart" (A) once; the suite's one test clicks A only. The PNG and a
screenshot go to tests/artifacts/ui/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import html
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from collector_helpers import TEAM, ThreadServer, team_get
from conftest import AssetServer
from test_coverage import PAGE, record_sessions

from plumbing.store import SessionStore

from sessionheat.cli import main
from sessionheat.web import create_app

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "ui"
MAP_READY = "() => { const i = document.querySelector('img.hm-map'); return !!i && i.complete && i.naturalWidth > 0; }"
RENDER_TIMEOUT_MS = 180_000  # a first drawing replays the reference layout; the machine is shared
UNTESTED = ["Compare plans", "Gift wrap"]


@pytest.fixture(scope="module")
def ui(browser, tmp_path_factory):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    folder = tmp_path_factory.mktemp("ui-coverage")
    (folder / "site").mkdir()
    (folder / "site" / "shop.html").write_text(PAGE)
    site = AssetServer(folder / "site")
    store = SessionStore(folder / "ui.db")
    try:
        record_sessions(store, browser, site.url("shop.html"))
        with ThreadServer(create_app(store)) as server:
            yield server.url, store
    finally:
        site.close()
        store.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(extra_http_headers=TEAM, viewport={"width": 1440, "height": 1000})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield p
    context.close()
    assert not errors, errors  # no script errors, no CSP violations


def rows(page: Any) -> list[list[str]]:
    """(label, visitor clicks, tested) of each row of the element table, in its order."""
    return page.eval_on_selector_all(
        "table.cov-elements tbody tr",
        "trs => trs.map(tr => [tr.querySelector('a.hm-element').textContent.trim(),"
        " tr.children[2].textContent.trim(), tr.dataset.tested])")


def test_the_explorer_lists_untested_elements_in_visitor_click_order_with_the_clis_json(ui, page, tmp_path):
    origin, store = ui
    page.goto(f"{origin}/heatmaps")
    page.locator(".hm-coverage-link").first.click()  # from the explorer's page list
    page.wait_for_url(lambda address: "/heatmaps/coverage?url=" in address)
    page.select_option("#cov-url", "/shop.html")
    page.fill("#cov-tests", "test_outcome=passed")
    page.click("#cov-show")
    page.wait_for_function(MAP_READY, timeout=RENDER_TIMEOUT_MS)  # the page follows the drawing, then reloads
    assert rows(page) == [["Compare plans", "3", "no"], ["Gift wrap", "2", "no"], ["Add to cart", "1", "yes"]]
    assert "16.7%" in page.locator("#cov-percent").inner_text()
    page.screenshot(path=str(ARTIFACTS / "heatmaps-coverage.png"), full_page=True)

    # Choosing an untested element outlines it on the map and lists the visitors who clicked it.
    page.locator("tr[data-tested=no] a.hm-element").first.click()
    page.wait_for_selector("#hm-sessions .hm-who li", timeout=30_000)
    assert page.locator(".hm-canvas .hm-mark:not([hidden])").count() == 1

    # The JSON link is what `sessionheat coverage --json` writes, byte for byte.
    json_href = page.locator("#cov-json").get_attribute("href")
    served = team_get(origin + json_href)
    assert served.status_code == 200 and served.headers["content-type"] == "application/json"
    written = tmp_path / "cli.json"
    done = cli(["coverage", "--db", str(store.path), "--url", "/shop.html", "--tests", "test_outcome=passed",
                "--json", str(written)])
    assert done.exit_code == 0, done.output
    assert served.text == written.read_text()
    report = json.loads(served.text)
    labels = {e["element_key"]: e["label"] for e in report["elements"]}
    assert [labels[k] for k in report["untested"]] == UNTESTED and report["percent"] == 16.67

    # The PNG: the reference layout with the untested elements outlined.
    png = team_get(origin + page.locator("#hm-map-map").get_attribute("src"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    (ARTIFACTS / "coverage-map.png").write_bytes(png.content)
    image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[1] >= 1280

    # The same selection's stable addresses, for scripts: the drawn files, not a new drawing.
    query = "url=/shop.html&tests=test_outcome%3Dpassed"
    assert team_get(f"{origin}/heatmaps/coverage.json?{query}").text == served.text
    assert team_get(f"{origin}/heatmaps/coverage.png?{query}").content == png.content


def test_reading_needs_a_login_and_a_malformed_query_is_a_4xx_with_its_reason(ui):
    origin, _ = ui
    for path in ("/heatmaps/coverage?url=/shop.html", "/heatmaps/coverage.json?url=/shop.html",
                 "/heatmaps/coverage.png?url=/shop.html"):
        anonymous = httpx.get(origin + path)
        assert anonymous.status_code == 401 and "log in first" in anonymous.json()["error"]
    browser_like = httpx.get(f"{origin}/heatmaps/coverage?url=/shop.html", headers={"Accept": "text/html"})
    assert browser_like.status_code == 303 and browser_like.headers["location"].startswith("/login?")

    r = team_get(f"{origin}/heatmaps/coverage?url=/shop.html&tests=test_outcome&since=yesterday")
    assert r.status_code == 400
    text = html.unescape(r.text)
    assert "key=value" in text and "YYYY-MM-DD" in text
    for query, words in (("url=/shop.html&viewport=huge", "viewport"), ("tests=test_outcome=passed", "url="),
                         ("url=/shop.html&visitors=device=toaster", "device")):
        r = team_get(f"{origin}/heatmaps/coverage.json?{query}")
        assert r.status_code == 400 and words in r.json()["error"], (query, r.text)
    assert team_get(f"{origin}/heatmaps/coverage.gif?url=/shop.html").status_code == 404
    # A page nobody visited: the drawing fails, and says why, as the CLI does.
    r = team_get(f"{origin}/heatmaps/coverage.json?url=/nowhere.html")
    assert r.status_code == 202
    for _ in range(900):  # the worker's turn comes within minutes on a shared machine
        if (r := team_get(f"{origin}/heatmaps/coverage.json?url=/nowhere.html")).status_code != 202:
            break
        time.sleep(0.2)
    assert r.status_code == 422 and "no visitor's pageview" in r.json()["error"]


def cli(args: list[str]):
    """CliRunner in a thread of its own: the test's sync Playwright owns this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main, args).result()
