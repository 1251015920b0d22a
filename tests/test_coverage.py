"""The coverage map: elements visitors click, ranked, and whether a test clicked them too."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import cv2
from click.testing import CliRunner
from conftest import AssetServer

from plumbing.store import SessionStore
from plumbing.vocabulary import PROP_TEST, PROP_TEST_OUTCOME

from heatmap import index_sessions
from heatmap.coverage import build_coverage
from recorder import record
from sessionheat.cli import main

PAGE = """<!doctype html><html><head><style>
body { margin: 0; font: 16px sans-serif; } button { display: block; margin: 40px; width: 200px; height: 60px; }
</style></head><body>
<button id="a">Add to cart</button><button id="b">Compare plans</button><button id="c">Gift wrap</button>
</body></html>"""

# Visitors click B most, then C, then A; the suite's one test clicks A only.
VISITS = [["b", "c"], ["b", "a"], ["b", "c"]]


def record_sessions(store: SessionStore, browser, url: str) -> None:
    for clicks in VISITS:
        with record(url, store=store, browser=browser) as session:
            for target in clicks:
                session.page.click(f"#{target}")
    with record(url, store=store, browser=browser,
                properties={PROP_TEST: "tests/test_shop.py::test_add_to_cart", PROP_TEST_OUTCOME: "passed"}) as session:
        session.page.click("#a")
    index_sessions(store, browser=browser)


def test_untested_elements_come_in_visitor_click_order_and_fail_under_exits_1(browser, store, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "shop.html").write_text(PAGE)
    server = AssetServer(tmp_path / "site")
    try:
        record_sessions(store, browser, server.url("shop.html"))
        result = build_coverage(store, "/shop.html", browser=browser)
        assert [(e.label, e.visitor_clicks, e.tested) for e in result.elements] == [
            ("Compare plans", 3, False), ("Gift wrap", 2, False), ("Add to cart", 1, True)]
        assert [e.label for e in result.untested] == ["Compare plans", "Gift wrap"]
        assert result.elements[2].tests == ["tests/test_shop.py::test_add_to_cart"]
        assert (result.n_visitor_sessions, result.n_test_sessions) == (3, 1)
        assert round(result.percent, 1) == 16.7  # 1 of 6 visitors' clicks

        png, report = tmp_path / "coverage.png", tmp_path / "coverage.json"
        args = ["coverage", "--db", str(store.path), "--url", "/shop.html", "--out", str(png), "--json", str(report)]
        passed = cli([*args, "--fail-under", "10"])
        assert passed.exit_code == 0, passed.output
        failed = cli([*args, "--fail-under", "50", "--tests", "test_outcome=passed"])
        assert failed.exit_code == 1
        assert "16.7% of visitors' clicks" in failed.output and "under --fail-under 50%" in failed.output
    finally:
        server.close()
    written = json.loads(report.read_text())
    labels = {e["element_key"]: e["label"] for e in written["elements"]}
    assert [labels[key] for key in written["untested"]] == ["Compare plans", "Gift wrap"]
    assert written["percent"] == 16.67 and written["n_untested"] == 2
    image = cv2.imread(str(png))
    assert image is not None and image.shape[1] >= 1280  # the reference layout, drawn on
    assert all(e["box"] for e in written["elements"])  # each element found on it, to outline


def test_no_visitor_sessions_is_a_clear_error(store):
    result = cli(["coverage", "--db", str(store.path), "--url", "/shop.html"])
    assert result.exit_code == 1 and "no visitor's pageview" in result.output


def cli(args: list[str]):
    """CliRunner in a thread of its own: the test's sync Playwright owns this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main, args).result()
